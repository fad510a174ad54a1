"""Flow Service handlers under ``/data/foundation/flowservice``: specs, connections, flows, runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import explore, gateway, json_patch, ondemand, specs, validation
from .config import MASK, EmulatorCredentials
from .listing import list_page
from .messages import ApiError, Request, Response, bad_request, empty_response, flow_error, json_response
from .runs import last_run_details, run_view, start_run
from .state import IssuedToken, Store, now_ms

PREFIX = "/data/foundation/flowservice"
MAX_PREVIEW_ROWS = 100


@dataclass(frozen=True)
class Collection:
    """How one resource type is created, patched and deleted."""

    segment: str  # URL segment, also the error report type
    attr: str  # Store attribute
    label: str
    fields: tuple[str, ...]  # request-body fields, re-validated after a PATCH
    patchable: tuple[str, ...]  # JSON pointers a PATCH may touch (and their children)
    validate: Callable[[dict[str, Any], Store, str], dict[str, Any]]


COLLECTIONS = {
    c.segment: c
    for c in (
        Collection(
            "connections",
            "connections",
            "Connection",
            ("name", "description", "auth", "connectionSpec"),
            ("/name", "/description", "/auth/params"),
            lambda body, store, _sandbox: validation.connection_fields(body, store),
        ),
        Collection(
            "sourceConnections",
            "source_connections",
            "Source connection",
            ("name", "description", "baseConnectionId", "data", "params", "connectionSpec"),
            ("/name", "/description", "/data", "/params"),
            validation.source_connection_fields,
        ),
        Collection(
            "targetConnections",
            "target_connections",
            "Target connection",
            ("name", "description", "data", "params", "connectionSpec"),
            ("/name", "/description", "/data", "/params"),
            lambda body, store, _sandbox: validation.target_connection_fields(body, store),
        ),
        Collection(
            "flows",
            "flows",
            "Flow",
            (
                "name",
                "description",
                "flowSpec",
                "sourceConnectionIds",
                "targetConnectionIds",
                "transformations",
                "scheduleParams",
            ),
            ("/name", "/description", "/scheduleParams", "/transformations"),
            validation.flow_fields,
        ),
    )
}

_SEGMENTS = {c.attr: c.segment for c in COLLECTIONS.values()}  # Store attribute -> URL segment


@dataclass
class Call:
    """One authenticated Flow Service call."""

    store: Store
    creds: EmulatorCredentials
    req: Request
    token: IssuedToken
    body: Any

    @property
    def sandbox(self) -> str:
        return self.req.headers["x-sandbox-name"]


def handle(store: Store, creds: EmulatorCredentials, req: Request) -> Response:
    """Entry point for every path under ``PREFIX``."""
    try:
        token = gateway.authenticate(store, creds, req)
        call = Call(store, creds, req, token, gateway.json_body(req))
        return _route(call, [s for s in req.path[len(PREFIX) :].split("/") if s])
    except ApiError as err:
        return err.response(req.request_id)


def _route(call: Call, segments: list[str]) -> Response:
    method = call.req.method
    match method, segments:
        case "GET", ["connectionSpecs"]:
            return json_response(
                200, list_page(specs.connection_specs(call.store.retired_specs), call.req.query, "connectionSpecs")
            )
        case "GET", ["connectionSpecs", spec_id, "explore"] if spec_id == specs.DATA_LANDING_ZONE_SPEC_ID:
            return json_response(200, explore.landing_zone(call.store.dlz.blobs, call.req))
        case "GET", ["connectionSpecs", spec_id]:
            return _get_spec(specs.connection_spec(spec_id, call.store.retired_specs), spec_id, "connectionSpecs")
        case "GET", ["flowSpecs"]:
            return json_response(
                200, list_page(specs.flow_specs(call.store.retired_specs), call.req.query, "flowSpecs")
            )
        case "GET", ["flowSpecs", spec_id]:
            return _get_spec(specs.flow_spec(spec_id, call.store.retired_specs), spec_id, "flowSpecs")
        case "GET", ["connections", conn_id, "test"]:
            return _test_connection(call, conn_id)
        case "GET", ["connections", conn_id, "explore"]:
            return _explore(call, conn_id)
        case "POST", ["flows", flow_id, "action"]:
            return _flow_action(call, flow_id)
        case "GET", ["runs"]:
            runs = [run_view(r) for r in call.store.runs.values() if r["sandboxName"] == call.sandbox]
            return json_response(200, list_page(runs, call.req.query, "runs"))
        case "GET", ["runs", run_id]:
            return json_response(200, {"items": [run_view(_record(call, "runs", run_id))]})
        case "POST", ["runs"]:
            flow, params = validation.run_request(_object_body(call), call.store, call.sandbox)
            run = start_run(call.store, flow, params, ondemand.run_records(call.store, flow, params))
            return _created("runs", run)
        case "GET", [segment] if segment in COLLECTIONS:
            return _list(call, COLLECTIONS[segment])
        case "POST", [segment] if segment in COLLECTIONS:
            return _create(call, COLLECTIONS[segment])
        case "GET", [segment, resource_id] if segment in COLLECTIONS:
            record = _record(call, COLLECTIONS[segment].attr, resource_id)
            return json_response(200, {"items": [_render(call.store, segment, record)]})
        case "PATCH", [segment, resource_id] if segment in COLLECTIONS:
            return _patch(call, COLLECTIONS[segment], resource_id)
        case "DELETE", [segment, resource_id] if segment in COLLECTIONS:
            return _delete(call, COLLECTIONS[segment], resource_id)
    raise flow_error("1101-404", "Resource not found", f"No route for {method} {call.req.path}.")


# ---- specs ----------------------------------------------------------------------------------------


def _get_spec(spec: dict[str, Any] | None, spec_id: str, kind: str) -> Response:
    if spec is None:
        raise flow_error(
            "1101-404", "Resource not found", f"{kind} {spec_id} not found.", resource_id=spec_id, resource_type=kind
        )
    return json_response(200, {"items": [spec]})


# ---- generic collection endpoints ------------------------------------------------------------------


def _record(call: Call, attr: str, resource_id: str) -> dict[str, Any]:
    """A resource of the caller's sandbox, or 404 FLOW-1439-404."""
    record = getattr(call.store, attr).get(resource_id)
    if record is None or record["sandboxName"] != call.sandbox:
        segment = _SEGMENTS.get(attr, attr)
        raise flow_error(
            "1439-404",
            "Resource not found",
            f"{segment} {resource_id} not found.",
            resource_id=resource_id,
            resource_type=segment,
        )
    return record


def _render(store: Store, segment: str, record: dict[str, Any]) -> dict[str, Any]:
    """A record as GET shows it: secrets masked, flow run details filled in."""
    if segment == "connections":
        secrets = specs.secret_params(record["connectionSpec"]["id"], record["auth"]["specName"])
        params = {k: MASK if k in secrets else v for k, v in record["auth"]["params"].items()}
        return {**record, "auth": {**record["auth"], "params": params}}
    if segment == "flows":
        return {
            **record,
            "lastRunDetails": last_run_details(store.latest_run(record["id"])),
            "runs": f"/runs?property=flowId=={record['id']}",
        }
    return record


def _list(call: Call, collection: Collection) -> Response:
    records = [r for r in getattr(call.store, collection.attr).values() if r["sandboxName"] == call.sandbox]
    page = list_page(
        records, call.req.query, collection.segment, lambda record: _render(call.store, collection.segment, record)
    )
    return json_response(200, page)


def _object_body(call: Call) -> dict[str, Any]:
    if not isinstance(call.body, dict):
        raise bad_request("The request body must be a JSON object.")
    return call.body


def _created(segment: str, record: dict[str, Any]) -> Response:
    return json_response(
        201, {"id": record["id"], "etag": record["etag"]}, {"Location": f"{PREFIX}/{segment}/{record['id']}"}
    )


def _create(call: Call, collection: Collection) -> Response:
    fields = collection.validate(_object_body(call), call.store, call.sandbox)
    record = call.store.add(
        getattr(call.store, collection.attr),
        {**fields, "state": "enabled"},
        sandbox=call.sandbox,
        org_id=call.creds.ims_org_id,
        client_id=call.token.client_id,
    )
    if collection.segment == "flows":
        start_run(call.store, record, records=ondemand.run_records(call.store, record, None))  # a new flow runs at once
    return _created(collection.segment, record)


def _check_etag(call: Call, record: dict[str, Any]) -> None:
    if_match = call.req.header("if-match")
    if if_match is None:
        raise flow_error(
            "1403-400",
            "Missing If-Match",
            "The If-Match header with the current etag is required.",
            resource_id=record["id"],
        )
    if if_match != record["etag"]:
        raise flow_error(
            "1404-412",
            "Precondition failed",
            f"Supplied version=[{if_match}] does not match the current version on entity=[{record['id']}].",
            resource_id=record["id"],
        )


def _patch(call: Call, collection: Collection, resource_id: str) -> Response:
    record = _record(call, collection.attr, resource_id)
    _check_etag(call, record)
    operations = json_patch.validate_operations(call.body)
    for op in operations:
        path = op["path"].rstrip("/")
        if path == "/connectionSpec" or path.startswith("/connectionSpec/"):
            raise flow_error(
                "1414-400",
                "Invalid request",
                "connectionSpec cannot be changed.",
                resource_id=resource_id,
                resource_type=collection.segment,
            )
        if not any(path == p or path.startswith(p + "/") for p in collection.patchable):
            raise bad_request(f"Path {path} cannot be patched; allowed: {', '.join(collection.patchable)}.")
    current = {k: record[k] for k in collection.fields if k in record}
    fields = collection.validate(json_patch.apply(current, operations), call.store, call.sandbox)
    if collection.segment == "flows":
        _refuse_past_start_time_change(record, fields)
    record.update(fields)
    call.store.touch(record)
    return json_response(200, {"id": record["id"], "etag": record["etag"]})


def _refuse_past_start_time_change(record: dict[str, Any], fields: dict[str, Any]) -> None:
    """Adobe: "You cannot update the startTime of a dataflow if the initially scheduled startTime has already
    occurred"."""
    old = validation.epoch_seconds((record.get("scheduleParams") or {}).get("startTime"))
    new = validation.epoch_seconds((fields.get("scheduleParams") or {}).get("startTime"))
    if new != old and old <= now_ms() // 1000:
        raise bad_request(
            "You cannot update the startTime of a dataflow if the initially scheduled startTime has already "
            f"occurred (it was {old}).",
        )


def _delete(call: Call, collection: Collection, resource_id: str) -> Response:
    store = call.store
    _record(call, collection.attr, resource_id)  # 404 when missing
    users = _flows_using(store, collection.segment, resource_id)
    if users:
        raise flow_error(
            "1418-400",
            "Resource in use",
            f"{collection.label} {resource_id} is used by flow(s) {', '.join(users)}; delete them first.",
            resource_id=resource_id,
            resource_type=collection.segment,
        )
    del getattr(store, collection.attr)[resource_id]
    if collection.segment == "flows":
        store.last_run_ids.pop(resource_id, None)
        for run_id in [r["id"] for r in store.runs.values() if r["flowId"] == resource_id]:
            del store.runs[run_id]
    return empty_response(204)


def _flows_using(store: Store, segment: str, resource_id: str) -> list[str]:
    if segment == "connections":
        sources = {s["id"] for s in store.source_connections.values() if s.get("baseConnectionId") == resource_id}
        return [f["id"] for f in store.flows.values() if sources & set(f["sourceConnectionIds"])]
    if segment == "sourceConnections":
        return [f["id"] for f in store.flows.values() if resource_id in f["sourceConnectionIds"]]
    if segment == "targetConnections":
        return [f["id"] for f in store.flows.values() if resource_id in f["targetConnectionIds"]]
    return []


def _flow_action(call: Call, flow_id: str) -> Response:
    """``POST /flows/{id}/action?op=ENABLE|DISABLE``."""
    flow = _record(call, "flows", flow_id)
    op = (call.req.query_value("op") or "").upper()
    if op not in ("ENABLE", "DISABLE"):
        raise bad_request("Query parameter 'op' must be ENABLE or DISABLE.")
    flow["state"] = "enabled" if op == "ENABLE" else "disabled"
    call.store.touch(flow)
    return json_response(200, {"id": flow["id"], "etag": flow["etag"]})


# ---- connection test and explore -------------------------------------------------------------------


def _test_connection(call: Call, conn_id: str) -> Response:
    """``{"result": true}`` when a Zoho connection holds the emulator's Zoho credentials."""
    conn = _record(call, "connections", conn_id)
    if conn["connectionSpec"]["id"] != specs.ZOHO_CRM_SPEC_ID:
        return json_response(200, {"result": True})
    params, creds = conn["auth"]["params"], call.creds
    ok = (
        params.get("clientId") == creds.zoho_client_id
        and params.get("clientSecret") == creds.zoho_client_secret
        and params.get("refreshToken") == creds.zoho_refresh_token
    )
    return json_response(200, {"result": ok})


def _explore(call: Call, conn_id: str) -> Response:
    conn = _record(call, "connections", conn_id)
    spec_id = conn["connectionSpec"]["id"]
    object_type = (call.req.query_value("objectType") or "").lower()
    if object_type == "root":
        return json_response(200, explore.root_listing(spec_id))
    if object_type != "table":
        raise bad_request("Query parameter 'objectType' must be 'root' or 'table'.")
    path = call.req.query_value("object") or ""
    answer = explore.table_schema(spec_id, path)
    if answer is None:
        raise flow_error(
            "1101-404",
            "Resource not found",
            f"Object '{path}' not found.",
            resource_id=conn_id,
            resource_type="explore",
        )
    if (call.req.query_value("preview") or "").lower() == "true":
        raw = call.req.query_value("previewCount") or "10"
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_PREVIEW_ROWS:
            raise bad_request(f"'previewCount' must be an integer from 1 to {MAX_PREVIEW_ROWS}.")
        answer["data"] = explore.preview_rows(spec_id, path, int(raw))
    return json_response(200, answer)
