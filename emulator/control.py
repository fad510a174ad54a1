"""The ``/__emulator__/`` control API for scripts and benchmarks in another process (no auth).

GET health, GET/DELETE requests, POST/DELETE faults, POST reset, POST config, GET datasets/<id> (landed
batches with their rows); Zoho CRM data: POST crm/config (data set and Bulk Read settings), POST crm/modify (a
user edits a record), GET crm/count?module=&start=&end= (records modified in the half-open window),
GET crm/credits.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from .faults import DEFAULT_RATE_LIMIT_PATHS, Fault
from .messages import Request, Response, empty_response, json_response

if TYPE_CHECKING:
    from .app import Emulator

PREFIX = "/__emulator__/"
_FAULT_FIELDS = {f.name for f in dataclasses.fields(Fault) if f.init}
_CONFIG_KEYS = {
    "run_duration",
    "fail_runs",
    "rate_limit",
    "zoho_throttled",
    "retire_connection_spec",
    "expire_ims_tokens",
    "expire_zoho_tokens",
    "expire_sas_tokens",
    "landing_zone_credentials",
    "landing_zone_provider",
    "mapping_errors",
}


def handle(app: Emulator, req: Request) -> Response:
    route = req.path[len(PREFIX) :].strip("/")
    try:
        match req.method, route:
            case "GET", "health":
                return json_response(200, {"status": "ok", "url": app.url})
            case "GET", "requests":
                return json_response(
                    200,
                    [{"method": r.method, "path": r.path, "query": r.query, "status": r.status} for r in app.requests],
                )
            case "DELETE", "requests":
                app.clear_requests()
                return empty_response(204)
            case "POST", "faults":
                body = _json_object(req)
                unknown = sorted(set(body) - _FAULT_FIELDS)
                if unknown:
                    raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
                app.add_fault(Fault(**body))
                return json_response(201, {"ok": True})
            case "DELETE", "faults":
                app.clear_faults()
                return empty_response(204)
            case "GET", _ if route.startswith("datasets/"):
                return json_response(200, {"batches": app.dataset_batches(route[len("datasets/"):])})
            case "POST", "reset":
                app.reset()
                return json_response(200, {"ok": True})
            case "POST", "config":
                _configure(app, _json_object(req))
                return json_response(200, {"ok": True})
            case "POST", "crm/config":
                app.configure_crm(**_crm_settings(_json_object(req)))
                return json_response(200, {"ok": True})
            case "POST", "crm/modify":
                body = _json_object(req)
                when = body.get("modified_time")
                record = app.modify_record(
                    str(body["module"]),
                    str(body["id"]),
                    dict(body.get("changes") or {}),
                    datetime.fromisoformat(when) if when else None,
                )
                return json_response(200, {"record": record})
            case "GET", "crm/count":
                module = req.query_value("module") or ""
                start, end = (datetime.fromisoformat(req.query_value(k) or "") for k in ("start", "end"))
                return json_response(200, {"count": app.crm.data.count_modified_in(module, start, end)})
            case "GET", "crm/credits":
                return json_response(200, {"used": app.crm.credits_used(), "limit": app.crm.credit_limit})
    except (ValueError, TypeError, KeyError) as err:
        return json_response(400, {"error": "bad_request", "message": str(err)})
    return json_response(404, {"error": "not_found", "message": f"No control endpoint {req.method} {req.path}"})


def _json_object(req: Request) -> dict[str, Any]:
    body = json.loads(req.body or b"{}")
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _crm_settings(body: dict[str, Any]) -> dict[str, Any]:
    """JSON to :meth:`ZohoCrm.configure` arguments: ``start`` ISO 8601, ``span_seconds``, ``tz_offset_minutes``."""
    settings = dict(body)
    if "start" in settings:
        settings["start"] = datetime.fromisoformat(settings["start"])
    if "span_seconds" in settings:
        settings["span"] = timedelta(seconds=float(settings.pop("span_seconds")))
    if "tz_offset_minutes" in settings:
        settings["tz"] = timezone(timedelta(minutes=int(settings.pop("tz_offset_minutes"))))
    return settings


def _configure(app: Emulator, body: dict[str, Any]) -> None:
    unknown = sorted(set(body) - _CONFIG_KEYS)
    if unknown:
        raise ValueError(f"unknown config key(s): {', '.join(unknown)}")
    if "run_duration" in body:
        duration = body["run_duration"]
        if not isinstance(duration, (int, float)) or isinstance(duration, bool) or duration < 0:
            raise ValueError("run_duration must be a number of seconds >= 0")
        app.run_duration = float(duration)
    for switch in ("fail_runs", "zoho_throttled"):
        if switch in body:
            if not isinstance(body[switch], bool):
                raise ValueError(f"{switch} must be true or false")
            setattr(app, switch, body[switch])
    if "rate_limit" in body:
        limit = body["rate_limit"] or {}
        app.set_rate_limit(
            limit.get("rate_per_second"), int(limit.get("burst", 1)), limit.get("paths", DEFAULT_RATE_LIMIT_PATHS)
        )
    if body.get("retire_connection_spec"):
        app.retire_connection_spec(str(body["retire_connection_spec"]))
    if body.get("expire_ims_tokens"):
        app.expire_ims_tokens()
    if body.get("expire_zoho_tokens"):
        app.expire_zoho_tokens()
    if body.get("expire_sas_tokens"):
        app.expire_sas_tokens()
    if "landing_zone_credentials" in body:
        answer = body["landing_zone_credentials"]
        if answer is not None and not isinstance(answer, dict):
            raise ValueError("landing_zone_credentials must be an object or null")
        app.set_landing_zone_credentials(answer)
    if "landing_zone_provider" in body:
        if body["landing_zone_provider"] not in ("Azure", "Amazon S3"):
            raise ValueError("landing_zone_provider must be 'Azure' or 'Amazon S3'")
        app.set_landing_zone_provider(body["landing_zone_provider"])
    if "mapping_errors" in body:
        runs = body["mapping_errors"]
        if not isinstance(runs, int) or isinstance(runs, bool) or runs < 0:
            raise ValueError("mapping_errors must be a number of runs >= 0")
        app.inject_mapping_errors(runs)
