"""What ``GET /connections/{id}/explore`` shows: tables per connection spec, their columns, fake rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from .specs import GENERIC_REST_SPEC_ID, ZOHO_CRM_SPEC_ID

# column type -> (explore "type", xdm block, meta.originalType or None)
_TYPES: dict[str, tuple[str, dict[str, str], str | None]] = {
    "id": ("string", {"type": "string"}, None),
    "text": ("string", {"type": "string"}, None),
    "email": ("string", {"type": "string"}, "email"),
    "datetime": ("string", {"type": "string", "format": "date-time"}, "datetime"),
    "date": ("string", {"type": "string", "format": "date"}, "date"),
    "double": ("double", {"type": "number"}, None),
    "boolean": ("boolean", {"type": "boolean"}, None),
}

_COMMON = [("id", "id"), ("Created_Time", "datetime"), ("Modified_Time", "datetime")]

TABLES: dict[str, dict[str, list[tuple[str, str]]]] = {
    ZOHO_CRM_SPEC_ID: {
        "Leads": [
            *_COMMON,
            ("First_Name", "text"),
            ("Last_Name", "text"),
            ("Email", "email"),
            ("Company", "text"),
            ("Lead_Status", "text"),
        ],
        "Contacts": [
            *_COMMON,
            ("First_Name", "text"),
            ("Last_Name", "text"),
            ("Email", "email"),
            ("Account_Name", "text"),
        ],
        "Accounts": [*_COMMON, ("Account_Name", "text"), ("Industry", "text"), ("Annual_Revenue", "double")],
        "Deals": [
            *_COMMON,
            ("Deal_Name", "text"),
            ("Stage", "text"),
            ("Amount", "double"),
            ("Closing_Date", "date"),
            ("Is_Won", "boolean"),
        ],
    },
    GENERIC_REST_SPEC_ID: {
        "items": [*_COMMON, ("title", "text"), ("price", "double")],
    },
}

_EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)


def table_paths(spec_id: str) -> list[str]:
    return list(TABLES.get(spec_id, {}))


def root_listing(spec_id: str) -> list[dict[str, Any]]:
    return [
        {"type": "table", "name": name, "path": name, "canPreview": True, "canFetchSchema": True}
        for name in TABLES.get(spec_id, {})
    ]


def table_schema(spec_id: str, path: str) -> dict[str, Any] | None:
    """``{"format": "flat", "schema": {"columns": [...]}}`` or None for an unknown table."""
    columns = TABLES.get(spec_id, {}).get(path)
    if columns is None:
        return None
    out = []
    for name, kind in columns:
        col_type, xdm, original = _TYPES[kind]
        column: dict[str, Any] = {"name": name, "type": col_type}
        if original:
            column["meta"] = {"originalType": original}
        column["xdm"] = dict(xdm)
        out.append(column)
    return {"format": "flat", "schema": {"columns": out}}


def preview_rows(spec_id: str, path: str, count: int) -> list[dict[str, Any]]:
    """``count`` deterministic fake rows of a table."""
    columns = TABLES[spec_id][path]
    return [{name: _value(path, name, kind, i) for name, kind in columns} for i in range(count)]


def _value(table: str, column: str, kind: str, i: int) -> Any:
    when = _EPOCH + timedelta(hours=i)
    if kind == "id":
        return str(5_000_000_000 + i)
    if kind == "datetime":
        return when.isoformat()
    if kind == "date":
        return when.date().isoformat()
    if kind == "email":
        return f"person{i}@example.com"
    if kind == "double":
        return round(1000.0 + 12.5 * i, 2)
    if kind == "boolean":
        return i % 2 == 0
    return f"{table} {column} {i}"


def landing_zone(blobs: Any, req: Any) -> Any:
    """``GET /connectionSpecs/<landing zone>/explore``: ``root`` and ``folder`` listings, ``file`` preview."""
    import csv
    import io
    import itertools

    from .messages import bad_request

    object_type = (req.query_value("objectType") or "").lower()
    container = blobs.container
    if object_type in ("root", "folder"):
        folder = "" if object_type == "root" else (req.query_value("object") or "")
        if object_type == "folder":
            if not folder.startswith(container + "/") and folder != container:
                raise bad_request(f"'object' must be a path in the container '{container}'.")
            folder = folder[len(container):].strip("/")
        prefix = f"{folder}/" if folder else ""
        seen: dict[str, dict[str, Any]] = {}
        for name, _blob in blobs.list(prefix):
            head, sep, _ = name[len(prefix):].partition("/")
            kind = "folder" if sep else "file"
            seen.setdefault(head, {"type": kind, "name": head, "path": f"{container}/{prefix}{head}" + (
                "/" if sep else ""), "canPreview": kind == "file", "canFetchSchema": kind == "file"})
        return list(seen.values())
    if object_type != "file":
        raise bad_request("Query parameter 'objectType' must be 'root', 'folder' or 'file'.")
    path = req.query_value("object") or ""
    if (req.query_value("fileType") is None) == (req.query_value("determineProperties") is None):
        raise bad_request("Give either fileType (with its properties) or determineProperties=true, not both.")
    blob = blobs.blobs.get(path[len(container) + 1:]) if path.startswith(container + "/") else None
    if blob is None:
        raise bad_request(f"File '{path}' not found in the landing zone.")
    delimiter = req.query_value("columnDelimiter") or ","
    reader = csv.DictReader(io.StringIO(blob.data.decode("utf-8")), delimiter=delimiter)
    rows = list(itertools.islice(reader, 10))
    answer: dict[str, Any] = {
        "format": "flat",
        "schema": {"columns": [{"name": n, "type": "string", "xdm": {"type": "string"}}
                               for n in reader.fieldnames or []]},
        "data": rows if (req.query_value("preview") or "").lower() == "true" else [],
    }
    if req.query_value("determineProperties"):
        answer["properties"] = {"fileType": "delimited", "compressionType": "none", "columnDelimiter": delimiter}
    return answer
