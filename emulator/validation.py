"""Body rules of the Flow Service create calls. Each function returns the fields to store or raises 400.

The same functions re-check a resource after a PATCH, so a patch cannot break a rule a create obeys.
Error messages name fields and keys, never values of secrets.
"""

from __future__ import annotations

from typing import Any

from . import explore, specs
from .config import MASK
from .messages import bad_request, flow_error
from .state import Store

SPEC_VERSION = "1.0"
FREQUENCIES = ("once", "minute", "hour", "day", "week")
_CONNECTION_KEYS = {"name", "description", "auth", "connectionSpec"}
_SCHEDULE_KEYS = {"startTime", "frequency", "interval", "backfill"}


def connection_fields(body: dict[str, Any], store: Store) -> dict[str, Any]:
    """``POST /connections``: name, auth{specName, params} checked against the spec's authSpec."""
    if "state" in body:
        raise bad_request("'state' cannot be set on a connection request.")
    unknown = sorted(set(body) - _CONNECTION_KEYS)
    if unknown:
        raise bad_request(f"Unknown field(s) in request: {', '.join(unknown)}.")
    name = _string(body, "name")
    description = _description(body)
    spec_ref = _object(body, "connectionSpec")
    spec_id = _string(spec_ref, "id", "connectionSpec.id")
    spec = specs.connection_spec(spec_id, store.retired_specs)
    if spec is None:
        raise flow_error("1413-400", "Invalid connection spec", f"Connection spec {spec_id} is not valid.")
    version = _spec_version(spec_ref)
    auth = _object(body, "auth")
    spec_name = _string(auth, "specName", "auth.specName")
    entry = specs.auth_spec(spec, spec_name)
    if entry is None:
        raise flow_error(
            "1415-400",
            "Auth spec not found",
            f"Auth spec '{spec_name}' is not defined by connection spec {spec_id}.",
        )
    params = _object(auth, "params", "auth.params")
    _check_auth_params(params, entry["spec"])
    return {
        "name": name,
        "description": description,
        "auth": {"specName": spec_name, "params": dict(params)},
        "connectionSpec": {"id": spec_id, "version": version},
    }


def source_connection_fields(body: dict[str, Any], store: Store, sandbox: str) -> dict[str, Any]:
    """``POST /sourceConnections``: a table of an existing base connection, or a landing-zone path (no base)."""
    name = _string(body, "name")
    if (body.get("connectionSpec") or {}).get("id") == specs.DATA_LANDING_ZONE_SPEC_ID:
        return _landing_zone_source(body, store, name)
    base_id = _string(body, "baseConnectionId")
    base = _find(store.connections, base_id, sandbox, "Base connection")
    spec_ref = _object(body, "connectionSpec")
    spec_id = _string(spec_ref, "id", "connectionSpec.id")
    base_spec_id = base["connectionSpec"]["id"]
    if spec_id != base_spec_id:
        raise flow_error(
            "1413-400",
            "Invalid connection spec",
            f"connectionSpec.id {spec_id} does not match the base connection's spec {base_spec_id}.",
        )
    if specs.connection_spec(spec_id, store.retired_specs) is None:
        raise flow_error("1413-400", "Invalid connection spec", f"Connection spec {spec_id} is not valid.")
    version = _spec_version(spec_ref)
    data = _object(body, "data")
    if data.get("format") != "tabular":
        raise bad_request("data.format must be 'tabular' for table-based sources.")
    params = _object(body, "params")
    table = _string(params, "tableName", "params.tableName")
    if table not in explore.table_paths(spec_id):
        raise bad_request(f"params.tableName '{table}' is not a table of the base connection (see explore).")
    return {
        "name": name,
        "description": _description(body),
        "baseConnectionId": base_id,
        "data": dict(data),
        "params": dict(params),
        "connectionSpec": {"id": spec_id, "version": version},
    }


_DLZ_FORMATS = ("delimited", "json", "parquet")
_DLZ_COMPRESSIONS = ("bzip2", "gzip", "deflate", "zipDeflate", "tarGzip", "tar")


def _landing_zone_source(body: dict[str, Any], store: Store, name: str) -> dict[str, Any]:
    if body.get("baseConnectionId"):
        raise bad_request("A Data Landing Zone source connection takes no baseConnectionId.")
    version = _spec_version(_object(body, "connectionSpec"))
    data = _object(body, "data")
    if data.get("format") not in _DLZ_FORMATS:
        raise bad_request(f"data.format must be one of {', '.join(_DLZ_FORMATS)} for the Data Landing Zone.")
    properties = data.get("properties") or {}
    if not isinstance(properties, dict):
        raise bad_request("data.properties must be an object.")
    delimiter = properties.get("columnDelimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise bad_request("data.properties.columnDelimiter must be one character.")
    if properties.get("compressionType") not in (None, *_DLZ_COMPRESSIONS):
        raise bad_request(f"data.properties.compressionType must be one of {', '.join(_DLZ_COMPRESSIONS)}.")
    if properties.get("encoding") not in (None, "UTF-8", "ISO-8859-1"):
        raise bad_request("data.properties.encoding must be UTF-8 or ISO-8859-1.")
    params = _object(body, "params")
    path = _string(params, "path", "params.path")
    container = store.dlz.blobs.container
    if not path.startswith(container + "/"):
        raise bad_request(f"params.path must start with the landing zone's container '{container}/'.")
    if params.get("type") not in (None, "file", "folder") or not isinstance(params.get("recursive", False), bool):
        raise bad_request("params.type must be 'file' or 'folder' and params.recursive a boolean.")
    return {
        "name": name,
        "description": _description(body),
        "data": dict(data),
        "params": dict(params),
        "connectionSpec": {"id": specs.DATA_LANDING_ZONE_SPEC_ID, "version": version},
    }


def target_connection_fields(body: dict[str, Any], store: Store) -> dict[str, Any]:
    """``POST /targetConnections``: a Data Lake dataset with an XDM schema."""
    name = _string(body, "name")
    spec_ref = _object(body, "connectionSpec")
    spec_id = _string(spec_ref, "id", "connectionSpec.id")
    if spec_id != specs.DATA_LAKE_SPEC_ID or specs.connection_spec(spec_id, store.retired_specs) is None:
        raise flow_error(
            "1413-400",
            "Invalid connection spec",
            f"Connection spec {spec_id} is not a target spec (use Data Lake {specs.DATA_LAKE_SPEC_ID}).",
        )
    version = _spec_version(spec_ref)
    data = _object(body, "data")
    schema = _object(data, "schema", "data.schema")
    schema_id = _string(schema, "id", "data.schema.id")
    if not schema_id.startswith("https://ns.adobe.com/"):
        raise bad_request("data.schema.id must be a schema URI starting with 'https://ns.adobe.com/'.")
    _string(schema, "version", "data.schema.version")
    params = _object(body, "params")
    dataset_id = _string(params, "dataSetId", "params.dataSetId")
    if dataset_id.startswith("invalid"):
        raise bad_request(f"Dataset {dataset_id} not found.", title="Dataset not found")
    return {
        "name": name,
        "description": _description(body),
        "data": dict(data),
        "params": dict(params),
        "connectionSpec": {"id": spec_id, "version": version},
    }


def flow_fields(body: dict[str, Any], store: Store, sandbox: str) -> dict[str, Any]:
    """``POST /flows``: one source, one target, Copy (+ optional Mapping), a periodic schedule."""
    if "state" in body:
        raise flow_error(
            "1410-400",
            "Invalid request",
            "'state' cannot be set when creating a flow; use POST /flows/{id}/action?op=ENABLE|DISABLE.",
        )
    name = _string(body, "name")
    spec_ref = _object(body, "flowSpec")
    spec_id = _string(spec_ref, "id", "flowSpec.id")
    flow_spec = specs.flow_spec(spec_id, store.retired_specs)
    if flow_spec is None:
        raise flow_error("1439-400", "Referenced resource not found", f"Flow spec {spec_id} not found.")
    version = _spec_version(spec_ref, "flowSpec.version")
    source_id = _single_id(body, "sourceConnectionIds")
    target_id = _single_id(body, "targetConnectionIds")
    source = _find(store.source_connections, source_id, sandbox, "Source connection")
    target = _find(store.target_connections, target_id, sandbox, "Target connection")
    if source["connectionSpec"]["id"] not in flow_spec["sourceConnectionSpecIds"]:
        raise bad_request(
            f"Flow spec {flow_spec['name']} does not support source connection spec {source['connectionSpec']['id']}."
        )
    if target["connectionSpec"]["id"] not in flow_spec["targetConnectionSpecIds"]:
        raise bad_request(
            f"Flow spec {flow_spec['name']} does not support target connection spec {target['connectionSpec']['id']}."
        )
    return {
        "name": name,
        "description": _description(body),
        "flowSpec": {"id": spec_id, "version": version},
        "sourceConnectionIds": [source_id],
        "targetConnectionIds": [target_id],
        "transformations": _transformations(body.get("transformations"), flow_spec, store, sandbox),
        "scheduleParams": _schedule(body.get("scheduleParams")),
    }


def run_request(body: dict[str, Any], store: Store, sandbox: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``POST /runs``: the flow to run and the run params."""
    flow = _find(store.flows, _string(body, "flowId"), sandbox, "Flow")
    params = body.get("params", {})
    if not isinstance(params, dict):
        raise bad_request("'params' must be an object.")
    return flow, params


# ---- helpers --------------------------------------------------------------------------------------


def _string(obj: dict[str, Any], key: str, where: str | None = None) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"'{where or key}' is required and must be a non-empty string.")
    return value


def _object(obj: dict[str, Any], key: str, where: str | None = None) -> dict[str, Any]:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise bad_request(f"'{where or key}' is required and must be an object.")
    return value


def _description(body: dict[str, Any]) -> str | None:
    value = body.get("description")
    if value is not None and not isinstance(value, str):
        raise bad_request("'description' must be a string.")
    return value


def _spec_version(spec_ref: dict[str, Any], where: str = "connectionSpec.version") -> str:
    """Omitted means the latest, which is the only one: 1.0."""
    version = spec_ref.get("version", SPEC_VERSION)
    if version != SPEC_VERSION:
        raise bad_request(f"'{where}' must be '{SPEC_VERSION}'.")
    return version


def _find(collection: dict[str, dict[str, Any]], resource_id: str, sandbox: str, label: str) -> dict[str, Any]:
    record = collection.get(resource_id)
    if record is None or record["sandboxName"] != sandbox:
        raise flow_error(
            "1439-400",
            "Referenced resource not found",
            f"{label} {resource_id} not found.",
            resource_id=resource_id,
        )
    return record


def _single_id(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], str) or not value[0]:
        raise bad_request(f"'{key}' must be a list with exactly one ID.")
    return value[0]


def _check_auth_params(params: dict[str, Any], schema: dict[str, Any]) -> None:
    """Required keys present, every value a string, no unknown key, no masked placeholder sent back."""
    missing = [key for key in schema.get("required", []) if key not in params]
    if missing:
        raise bad_request(f"Invalid auth params: missing {', '.join(missing)}.")
    known = schema.get("properties", {})
    if schema.get("additionalProperties") is False:
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise bad_request(f"Invalid auth params: unknown key(s) {', '.join(unknown)}.")
    for key, value in params.items():
        if not isinstance(value, str) or (key in schema.get("required", []) and not value):
            raise bad_request(f"Invalid auth params: '{key}' must be a non-empty string.")
        if value == MASK:
            raise bad_request(
                f"Invalid auth params: '{key}' holds the masked placeholder from a GET; send the real value."
            )


def _transformations(value: Any, flow_spec: dict[str, Any], store: Store, sandbox: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise bad_request("'transformations' must be a list of {name, params} objects.")
    by_name: dict[str, dict[str, Any]] = {}
    for item in value:
        name = item.get("name")
        if name not in ("Copy", "Mapping"):
            raise bad_request("Transformation names must be 'Copy' or 'Mapping'.")
        if name in by_name:
            raise bad_request(f"Transformation '{name}' is given twice.")
        params = item.get("params")
        if not isinstance(params, dict):
            raise bad_request(f"Transformation '{name}' needs a 'params' object.")
        by_name[name] = params
    if flow_spec["id"] == specs.CLOUD_STORAGE_FLOW_SPEC_ID:
        return _file_transformations(value, by_name, store, sandbox)
    copy_params = by_name.get("Copy")
    if copy_params is None:
        raise bad_request("A 'Copy' transformation with params.deltaColumn.name is required for CRM sources.")
    delta = copy_params.get("deltaColumn")
    if not isinstance(delta, dict) or not isinstance(delta.get("name"), str) or not delta["name"]:
        raise bad_request("Copy transformation: params.deltaColumn.name is required.")
    mapping = by_name.get("Mapping")
    if mapping is not None:
        if not isinstance(mapping.get("mappingId"), str) or not mapping["mappingId"]:
            raise bad_request("Mapping transformation: params.mappingId is required.")
        version = mapping.get("mappingVersion")
        if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
            raise bad_request("Mapping transformation: params.mappingVersion must be an integer.")
    return [dict(t) for t in value]


def _schedule(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request("'scheduleParams' is required and must be an object.")
    unknown = sorted(set(value) - _SCHEDULE_KEYS)
    if unknown:
        raise bad_request(f"Unknown scheduleParams field(s): {', '.join(unknown)}.")
    start = value.get("startTime")
    if not _is_int(start):
        raise bad_request("scheduleParams.startTime must be an integer (epoch seconds).")
    if start < 0 or start >= 10**11:
        raise bad_request(f"scheduleParams.startTime {start} is not epoch seconds (a 13-digit value is milliseconds).")
    frequency = value.get("frequency")
    if frequency not in FREQUENCIES:
        raise bad_request(f"scheduleParams.frequency must be one of {', '.join(FREQUENCIES)}.")
    if frequency == "once":
        if "interval" in value or "backfill" in value:
            raise bad_request("scheduleParams.interval and backfill are not allowed with frequency 'once'.")
    else:
        interval = value.get("interval")
        minimum = 15 if frequency == "minute" else 1
        if not _is_int(interval) or interval < minimum:
            raise bad_request(f"scheduleParams.interval must be an integer >= {minimum} for frequency '{frequency}'.")
    if "backfill" in value and not isinstance(value["backfill"], bool):
        raise bad_request("scheduleParams.backfill must be a boolean.")
    return dict(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _file_transformations(value: list[dict[str, Any]], by_name: dict[str, dict[str, Any]], store: Store,
                          sandbox: str) -> list[dict[str, Any]]:
    """CloudStorageToAEP: a Mapping and nothing else; the mapping set must exist in the sandbox."""
    if "Copy" in by_name:
        raise bad_request("CloudStorageToAEP takes no 'Copy' transformation (files are picked by last-modified "
                          "time; there is no delta column).")
    mapping = by_name.get("Mapping")
    if mapping is None:
        raise bad_request("CloudStorageToAEP needs a 'Mapping' transformation with params.mappingId.")
    mapping_set = store.dlz.mapping_sets.get(str(mapping.get("mappingId")))
    if mapping_set is None or mapping_set["_sandbox"] != sandbox:
        raise flow_error("1439-400", "Referenced resource not found",
                         f"Mapping set {mapping.get('mappingId')} not found.")
    version = mapping.get("mappingVersion")
    if version is not None and (not _is_int(version) or version != mapping_set["version"]):
        raise bad_request(f"Mapping transformation: mappingVersion must be the set's version {mapping_set['version']}.")
    return [dict(t) for t in value]
