"""The Data Landing Zone side of the emulator: credentials, mapping sets, runs of file flows, the dataset.

* ``GET /data/foundation/connectors/landingzone?type=user_drop_zone`` and ``…/credentials`` (``POST
  …&action=refresh`` revokes every earlier SAS). The credentials point at the emulator's own blob endpoint
  (:mod:`emulator.blob_store`), or, when a test configured one, are a fixed answer (e.g. pointing at Azurite).
* Data Prep ``/data/foundation/conversion/mappingSets``: POST, GET by ID (``?version=``), list (``limit`` and
  ``start`` required).
* Runs of ``CloudStorageToAEP`` flows: they read the blobs under the source connection's path whose
  last-modified second falls in the run's window, parse the CSV, apply the mapping, and land the rows as one
  batch of the target dataset. The window is ``params.windowStartTime``/``windowEndTime`` of ``POST /runs``,
  read as epoch seconds, or as milliseconds when larger than 10^11 (Adobe does not say which it takes).
  A flow's first run, at creation, reads everything already there (``backfill``).
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from . import gateway
from .blob_store import ACCOUNT
from .config import EmulatorCredentials
from .messages import ApiError, Request, Response, bad_request, json_response
from .state import LandingZoneState, Store, now_ms

LANDING_ZONE_PREFIX = "/data/foundation/connectors/landingzone"
CONVERSION_PREFIX = "/data/foundation/conversion"
_MAX_EPOCH_SECONDS = 10**11


def handles(path: str) -> bool:
    return path.startswith(LANDING_ZONE_PREFIX) or path.startswith(CONVERSION_PREFIX)


def handle(store: Store, creds: EmulatorCredentials, req: Request) -> Response:
    try:
        gateway.authenticate(store, creds, req)
        if req.path.startswith(LANDING_ZONE_PREFIX):
            return _landing_zone(store, req)
        return _mapping_sets(store, req, gateway.json_body(req))
    except ApiError as err:
        return err.response(req.request_id)


# -- landing zone ------------------------------------------------------------------------------------------------


def _landing_zone(store: Store, req: Request) -> Response:
    dlz: LandingZoneState = store.dlz
    rest = req.path[len(LANDING_ZONE_PREFIX):].strip("/")
    if req.query_value("type") != "user_drop_zone":
        raise bad_request("Query parameter 'type' must be 'user_drop_zone' (or 'dlz_destination').")
    if rest == "" and req.method == "GET":
        if dlz.provider == "Amazon S3":
            return json_response(200, {"dlzPath": {"bucketName": "dlz-prod-bucket", "dlzFolder": "emulated"},
                                       "dataTTL": {"timeUnit": "days", "timeQuantity": 7},
                                       "dlzProvider": "Amazon S3"})
        return json_response(200, {"containerName": dlz.blobs.container, "containerTTL": "7"})
    if rest == "credentials":
        refresh = req.method == "POST" and req.query_value("action") == "refresh"
        if not refresh and req.method != "GET":
            raise bad_request("Use GET, or POST with action=refresh.")
        dlz.credential_calls.append("refresh" if refresh else "get")
        if dlz.provider == "Amazon S3":
            return json_response(200, {"credentials": {"clientId": "emulated", "awsAccessKeyId": "AKIAEMULATED",
                                                       "awsSecretAccessKey": "emulated-secret-key",
                                                       "awsSessionToken": "emulated-session-token"},
                                       "dlzPath": {"bucketName": "dlz-prod-bucket", "dlzFolder": "emulated"},
                                       "dlzProvider": "Amazon S3", "expiryTime": int(time.time()) + 3600})
        if dlz.credentials_override is not None:
            return json_response(200, dlz.credentials_override)
        token = dlz.blobs.refresh_token() if refresh else dlz.blobs.current_token()
        expiry = datetime.fromtimestamp(token.expires_at, timezone.utc).date().isoformat()
        return json_response(200, {
            "containerName": dlz.blobs.container,
            "SASToken": token.token,
            "storageAccountName": ACCOUNT,
            "SASUri": f"{store.base_url}/{ACCOUNT}/{dlz.blobs.container}?{token.token}",
            "expiryDate": expiry,
        })
    raise ApiError(404, {"error_code": "404", "message": f"No landing zone endpoint {req.method} {req.path}"})


# -- mapping sets ---------------------------------------------------------------------------------------------


def _dp_error(status: int, message: str) -> ApiError:
    return ApiError(status, {"type": "https://ns.adobe.com/aep/errors/DP-400", "title": "Bad request",
                             "status": status, "detail": message})


def _mapping_sets(store: Store, req: Request, body: Any) -> Response:
    dlz: LandingZoneState = store.dlz
    segments = [s for s in req.path[len(CONVERSION_PREFIX):].split("/") if s]
    sandbox = req.header("x-sandbox-name")
    match req.method, segments:
        case "POST", ["mappingSets"]:
            return json_response(200, _create_mapping_set(dlz, body, sandbox))
        case "GET", ["mappingSets"]:
            limit, start = req.query_value("limit"), req.query_value("start")
            if not (limit or "").isdigit() or not (start or "").isdigit():
                raise _dp_error(400, "Query parameters 'limit' and 'start' are required integers.")
            items = [m for m in dlz.mapping_sets.values() if m["_sandbox"] == sandbox]
            page = items[int(start): int(start) + int(limit)]
            return json_response(200, {"data": [_public(m) for m in page],
                                       "_page": {"count": len(page), "limit": int(limit), "start": int(start)}})
        case "GET", ["mappingSets", set_id]:
            item = dlz.mapping_sets.get(set_id)
            if item is None or item["_sandbox"] != sandbox:
                raise _dp_error(404, f"Mapping set {set_id} not found.")
            version = req.query_value("version")
            if version is not None and version != str(item["version"]):
                raise _dp_error(404, f"Mapping set {set_id} has no version {version}.")
            return json_response(200, _public(item))
    raise ApiError(404, {"error_code": "404", "message": f"No Data Prep endpoint {req.method} {req.path}"})


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _create_mapping_set(dlz: LandingZoneState, body: Any, sandbox: str | None) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _dp_error(400, "The request body must be a JSON object.")
    schema_id = ((body.get("outputSchema") or {}).get("schemaRef") or {}).get("id")
    if not isinstance(schema_id, str) or not schema_id.startswith("https://ns.adobe.com/"):
        raise _dp_error(400, "outputSchema.schemaRef.id must be an XDM schema URI.")
    mappings = body.get("mappings")
    if not isinstance(mappings, list) or not mappings:
        raise _dp_error(400, "mappings must be a non-empty list.")
    for entry in mappings:
        if not isinstance(entry, dict) or entry.get("sourceType") not in ("ATTRIBUTE", "EXPRESSION") or not all(
            isinstance(entry.get(k), str) and entry[k] for k in ("source", "destination")
        ):
            raise _dp_error(400, "Each mapping needs sourceType ATTRIBUTE|EXPRESSION, source and destination.")
    stamp = now_ms()
    item = {"id": uuid.uuid4().hex, "version": 0, "createdDate": stamp, "modifiedDate": stamp,
            "createdBy": "emulator", "modifiedBy": "emulator", "outputSchema": body["outputSchema"],
            "mappings": [{**m, "sourceAttribute": m["source"], "destinationXdmPath": m["destination"]}
                         for m in mappings], "_sandbox": sandbox}
    dlz.mapping_sets[item["id"]] = item
    return {k: item[k] for k in ("id", "version", "createdDate", "modifiedDate", "createdBy", "modifiedBy")}


# -- runs of file flows ---------------------------------------------------------------------------------------


def window_seconds(value: Any) -> float | None:
    """A window bound as epoch seconds; numbers above 10^11 are taken as milliseconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value / 1000 if value > _MAX_EPOCH_SECONDS else float(value)


def run_files(store: Store, flow: dict[str, Any], params: dict[str, Any], created_ms: int) -> dict[str, Any]:
    """What a CloudStorageToAEP run reads and lands; computed when the run starts, shown when it ends."""
    dlz: LandingZoneState = store.dlz
    start = window_seconds(params.get("windowStartTime"))
    end = window_seconds(params.get("windowEndTime"))
    if start is None:
        start = 0.0  # the first run of a flow takes every file already there (backfill)
    if end is None:
        end = created_ms / 1000
    source = store.source_connections[flow["sourceConnectionIds"][0]]
    target = store.target_connections[flow["targetConnectionIds"][0]]
    path = str(source["params"]["path"])
    container, _, folder = path.partition("/")
    prefix = folder if path.endswith("/") or source["params"].get("type") == "folder" else None
    delimiter = ((source.get("data") or {}).get("properties") or {}).get("columnDelimiter") or ","
    picked = [
        (name, blob) for name, blob in dlz.blobs.list()
        if container == dlz.blobs.container
        and (name.startswith(prefix) if prefix is not None else name == folder)
        and start <= blob.last_modified_seconds < end
    ]
    mapping = next(t for t in flow["transformations"] if t["name"] == "Mapping")["params"]
    mapping_set = dlz.mapping_sets.get(mapping["mappingId"], {})
    entries = mapping_set.get("mappings") or []
    result: dict[str, Any] = {
        "window": [int(start * 1000), int(end * 1000)], "files": [n for n, _ in picked],
        "input_bytes": sum(len(b.data) for _, b in picked), "rows": [], "input_records": 0, "errors": [],
        "dataset_id": target["params"]["dataSetId"], "batch_id": None,
    }
    if dlz.mapping_errors > 0:
        dlz.mapping_errors -= 1
        result["errors"].append({"code": "MAPPER-3700-400", "message": "Mapping failed: injected mapping error "
                                 "(emulator)", "recordCount": 0})
    with _collector_paused():
        _read_files(picked, delimiter, entries, result)
    if result["errors"]:
        result["rows"] = []
    elif result["rows"]:
        result["batch_id"] = uuid.uuid4().hex.upper()[:26]
    # Measured once, here: a run's metrics are read on every GET and every listing of runs, and measuring a
    # million rows each time made the emulator slower with every run it kept.
    result["output_records"] = len(result["rows"])
    result["output_bytes"] = sum(len(str(r)) for r in result["rows"])
    return result


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a run builds its rows: a million new dicts would set it off again and
    again over every object alive, and a run would take seconds more or less by what the process held."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_files(picked: list[tuple[str, Any]], delimiter: str, entries: list[dict[str, Any]],
                result: dict[str, Any]) -> None:
    """Parse each picked CSV file, map its rows, and add them (or the errors) to ``result``."""
    for name, blob in picked:
        try:
            reader = csv.DictReader(io.StringIO(blob.data.decode("utf-8")), delimiter=delimiter)
            rows = list(reader)
        except (UnicodeDecodeError, csv.Error) as err:
            result["errors"].append({"code": "CONNECTOR-2001-500", "message": f"{name}: unreadable ({err})"})
            continue
        result["input_records"] += len(rows)
        header = reader.fieldnames or []
        missing = [e["source"] for e in entries if e["source"] not in header]
        if missing:
            result["errors"].append({"code": "MAPPER-3700-400", "message": f"{name}: source column(s) "
                                     f"{', '.join(missing)} not found in the file header", "recordCount": len(rows)})
            continue
        for row in rows:
            record: dict[str, Any] = {}
            for entry in entries:
                _set_path(record, entry["destination"], row[entry["source"]])
            result["rows"].append(record)


def _set_path(record: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        record = record.setdefault(part, {})
    record[parts[-1]] = value


def land(store: Store, run: dict[str, Any], visible_at: float) -> None:
    """Record a successful file run's rows as one batch of its dataset, visible once the run has ended.

    The rows move to the dataset: the run keeps only their counts, so emptying the dataset frees them."""
    result = run["_files"]
    rows, result["rows"] = result["rows"], []
    if not result["batch_id"] or run["_fails"]:
        return
    store.dlz.datasets.setdefault(result["dataset_id"], []).append({
        "batchId": result["batch_id"], "runId": run["id"], "flowId": run["flowId"], "files": result["files"],
        "recordCount": len(rows), "rows": rows, "_visible_at": visible_at})


def batches(store: Store, dataset_id: str) -> list[dict[str, Any]]:
    """The dataset's batches whose runs have ended, oldest first (rows included)."""
    now = time.monotonic()
    return [{k: v for k, v in b.items() if not k.startswith("_")}
            for b in store.dlz.datasets.get(dataset_id, []) if b["_visible_at"] <= now]


def metrics(run: dict[str, Any], *, done: bool, fails: bool) -> dict[str, Any]:
    """Record, size and file counts and errors of a file run, from what it read and wrote."""
    result = run["_files"]
    if not done:
        return {"records": {"inputRecordCount": 0, "outputRecordCount": 0, "failedRecordCount": 0},
                "sizes": {"inputBytes": 0, "outputBytes": 0}, "files": {"inputFileCount": 0, "outputFileCount": 0},
                "errors": []}
    read, written = result["input_records"], result["output_records"]
    errors = list(result["errors"])
    if fails and not errors:
        errors = [{"code": "CONNECTOR-2001-500", "message": "Error reading files from the landing zone (emulated)."}]
        written = 0
    out_bytes = result["output_bytes"] if written else 0
    return {"records": {"inputRecordCount": read, "outputRecordCount": written, "failedRecordCount": read - written},
            "sizes": {"inputBytes": result["input_bytes"], "outputBytes": out_bytes},
            "files": {"inputFileCount": len(result["files"]), "outputFileCount": 1 if written else 0},
            "errors": errors}
