"""``Emulator``: the object tests, the demo and benchmarks hold. Starts the server; exposes its switches.

The same switches answer over HTTP under ``/__emulator__/`` (the control API, no auth), for scripts and
benchmarks in another process: GET health, GET/DELETE requests, GET tokens (every token minted), POST/DELETE
faults, POST reset, POST config, GET datasets/<id> (landed batches with their rows); Zoho CRM data: POST
crm/config (data set and Bulk Read settings), POST crm/modify (a user edits a record), GET
crm/count?module=&start=&end= (records modified in the half-open window), GET crm/credits.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import Any

from .blob_store import BlobStore
from .config import EmulatorCredentials, is_loopback
from .crm_data import CrmDataSet
from .faults import DEFAULT_RATE_LIMIT_PATHS, Fault, FaultList, RateLimiter
from .landing_zone import batches
from .messages import Request, Response, empty_response, json_response
from .request_log import RecordedRequest, RequestLog
from .routes import dispatch
from .server import EmulatorHTTPServer
from .state import Store, check_token_format
from .zoho_crm import ZohoCrm


class Emulator:
    """Local stand-in for Adobe IMS, AEP Flow Service and Zoho accounts/CRM, served on loopback.

    :param state_file: keep resources in this JSON file: loaded at start, written at stop (the demo uses it so
        a second ``make demo`` finds what the first one created)
    :param crm_data: Zoho CRM's records (default: ``CrmDataSet()``, 2,000 records per module over a week)
    :param crm_settings: Bulk Read settings, the keyword arguments of :class:`~emulator.zoho_crm.ZohoCrm`
        (``job_seconds``, ``comparators``, ``concurrency``, ``downloads_per_minute``, ``credit_limit``, ...)
    :param token_format: ``"jwt"`` (default): tokens shaped like the real ones (IMS ``eyJ…``, Zoho
        ``1000.…``); ``"opaque"``: no recognisable shape, for secret scans (Airflow's log processors rewrite
        ``eyJ…`` on their own, which would hide a token the provider forgot to mask)

    >>> with Emulator() as emu:  # port 0: a free port
    ...     token_url = f"{emu.url}/ims/token/v3"
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: EmulatorCredentials | None = None,
        run_duration: float = 2.0,
        ims_token_ttl: int = 86399,
        zoho_token_ttl: int = 3600,
        verbose: bool = False,
        state_file: str | None = None,
        crm_data: CrmDataSet | None = None,
        crm_settings: dict[str, object] | None = None,
        token_format: str = "jwt",
    ):
        if not is_loopback(host):
            raise ValueError(f"The emulator only binds to loopback addresses, not {host!r}.")
        self.host = host
        self.credentials = credentials or EmulatorCredentials()
        self.verbose = verbose
        self.state_file = state_file
        self.store = Store(run_duration, ims_token_ttl, zoho_token_ttl, token_format)
        self.faults = FaultList()
        self.rate_limiter = RateLimiter()
        self.log = RequestLog()
        self._crm_data = crm_data
        self._crm_settings = dict(crm_settings or {})
        self.crm = ZohoCrm(crm_data, **self._crm_settings)  # type: ignore[arg-type]
        self.store.crm_data_source = lambda: self.crm.data  # runs count the records Zoho CRM serves
        self._port = port
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- life cycle ---------------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread. Returns self."""
        if self._server is not None:
            return self
        if self.state_file:
            self.store.load(self.state_file)
        self._server = EmulatorHTTPServer(self.host, self._port, self._answer, self.verbose)
        self.store.base_url = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="aep-emulator", daemon=True
        )
        self._thread.start()
        return self

    def _answer(self, req: Request) -> Response | None:
        if req.path.startswith(CONTROL_PREFIX):
            return _control(self, req)  # never faulted, limited or recorded
        return dispatch(req, self.store, self.credentials, self.crm, self.faults, self.rate_limiter, self.log)

    def stop(self) -> None:
        """Stop serving and close every open connection."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join()
        self._server = self._thread = None
        self.crm.close()
        if self.state_file:
            self.store.save(self.state_file)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1]) if self._server is not None else self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def reset(self) -> None:
        """Forget resources, tokens, faults, the request log; switches back to the constructor values."""
        self.store.reset()
        self.faults.clear()
        self.log.clear()
        self.rate_limiter.configure(None)
        with self.store.lock:
            self.crm.close()
            d = self._crm_data or CrmDataSet()  # a new data set: modifications are forgotten too
            fresh = CrmDataSet(d.seed, d.records_per_module, d.start, d.span, d.tz)
            self.crm = ZohoCrm(fresh, **self._crm_settings)  # type: ignore[arg-type]

    # ---- request log, faults, rate limit -------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request served so far, in order (a copy)."""
        return self.log.snapshot()

    def clear_requests(self) -> None:
        self.log.clear()

    def add_fault(self, fault: Fault) -> None:
        self.faults.add(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_rate_limit(
        self, rate_per_second: float | None, burst: int = 1, paths: str = DEFAULT_RATE_LIMIT_PATHS
    ) -> None:
        """A token bucket over paths matching ``paths``; ``None`` turns it off."""
        self.rate_limiter.configure(rate_per_second, burst, paths)

    # ---- Zoho CRM data -------------------------------------------------------------------------------

    def configure_crm(self, **settings: object) -> None:
        """Change Zoho CRM's data set or Bulk Read settings (see :meth:`ZohoCrm.configure`)."""
        with self.store.lock:
            self.crm.configure(**settings)

    def modify_record(
        self, module: str, record_id: str, changes: dict[str, str], modified_time: datetime | None = None
    ) -> dict[str, str]:
        """A CRM user edits a record now (or at ``modified_time``); returns the record as it is now."""
        return self.crm.data.modify(module, record_id, changes, modified_time)
    # ---- tokens ------------------------------------------------------------------------------------

    def minted_tokens(self) -> dict[str, list[str]]:
        """Every IMS and Zoho access token minted since start (a reset does not forget them), oldest first."""
        with self.store.lock:
            minted = list(self.store.minted)
        return {kind: [token for k, token in minted if k == kind] for kind in ("ims", "zoho")}

    @property
    def token_format(self) -> str:
        """``jwt`` or ``opaque``: the shape of tokens minted from now on."""
        return self.store.token_format

    @token_format.setter
    def token_format(self, value: str) -> None:
        self.store.token_format = check_token_format(value)

    # ---- switches ------------------------------------------------------------------------------------

    def expire_ims_tokens(self) -> None:
        """Every IMS token issued so far becomes invalid (401013)."""
        with self.store.lock:
            self.store.ims_tokens.clear()

    def expire_zoho_tokens(self) -> None:
        """Every Zoho access token issued so far becomes invalid (INVALID_TOKEN)."""
        with self.store.lock:
            self.store.zoho_tokens.clear()

    def retire_connection_spec(self, spec_id: str) -> None:
        """The spec disappears, as Adobe's Zoho CRM source did in June 2025."""
        with self.store.lock:
            self.store.retired_specs.add(spec_id)

    @property
    def run_duration(self) -> float:
        """Seconds a run created from now on takes from queued to its end."""
        return self.store.run_duration

    @run_duration.setter
    def run_duration(self, seconds: float) -> None:
        self.store.run_duration = seconds

    @property
    def fail_runs(self) -> bool:
        """Runs created from now on end ``Failed`` with errors."""
        return self.store.fail_runs

    @fail_runs.setter
    def fail_runs(self, value: bool) -> None:
        self.store.fail_runs = value

    # ---- the Data Landing Zone -------------------------------------------------------------------------

    @property
    def blob_store(self) -> BlobStore:
        """The landing zone's container (blobs, staged blocks, SAS tokens)."""
        return self.store.dlz.blobs

    def expire_sas_tokens(self, after_blocks: int = 0) -> None:
        """Every SAS the landing zone issued so far stops working (403 AuthenticationFailed): now, or once
        ``after_blocks`` more blocks have been staged (a token expiring in the middle of an upload)."""
        with self.store.lock:
            if after_blocks > 0:
                self.store.dlz.blobs.expire_after_blocks = after_blocks
            else:
                self.store.dlz.blobs.expire_tokens()

    def set_landing_zone_credentials(self, answer: dict[str, Any] | None) -> None:
        """Answer ``GET …/landingzone/credentials`` with ``answer`` (e.g. pointing at Azurite); None: our own."""
        with self.store.lock:
            self.store.dlz.credentials_override = answer

    def set_landing_zone_provider(self, provider: str) -> None:
        """``Azure`` (default) or ``Amazon S3`` (an AWS-hosted organization)."""
        with self.store.lock:
            self.store.dlz.provider = provider

    def inject_mapping_errors(self, runs: int = 1) -> None:
        """The next ``runs`` runs of file flows fail with a mapping error (``MAPPER-3700-400``)."""
        with self.store.lock:
            self.store.dlz.mapping_errors = runs

    def dataset_batches(self, dataset_id: str) -> list[dict[str, Any]]:
        """The batches landed in ``dataset_id`` by runs that have ended: ``batchId, runId, flowId, files,
        recordCount, rows``, oldest first."""
        with self.store.lock:
            return batches(self.store, dataset_id)

    def dataset_rows(self, dataset_id: str) -> list[dict[str, Any]]:
        """Every row landed in ``dataset_id``, in landing order."""
        return [row for batch in self.dataset_batches(dataset_id) for row in batch["rows"]]

    @property
    def zoho_throttled(self) -> bool:
        """Zoho's token endpoint answers "Access Denied" (too many requests)."""
        return self.store.zoho_throttled

    @zoho_throttled.setter
    def zoho_throttled(self, value: bool) -> None:
        self.store.zoho_throttled = value


# ---- the control API ---------------------------------------------------------------------------------

CONTROL_PREFIX = "/__emulator__/"
_FAULT_FIELDS = {f.name for f in dataclasses.fields(Fault) if f.init}
_CONFIG_KEYS = {
    "run_duration",
    "fail_runs",
    "rate_limit",
    "zoho_throttled",
    "retire_connection_spec",
    "expire_ims_tokens",
    "expire_zoho_tokens",
    "token_format",
    "expire_sas_tokens",
    "landing_zone_credentials",
    "landing_zone_provider",
    "mapping_errors",
}


def _control(app: Emulator, req: Request) -> Response:
    """Answer a request to the control API (see the module's docstring)."""
    route = req.path[len(CONTROL_PREFIX) :].strip("/")
    try:
        match req.method, route:
            case "GET", "health":
                return json_response(200, {"status": "ok", "url": app.url})
            case "GET", "requests":
                return json_response(
                    200,
                    [{"method": r.method, "path": r.path, "query": r.query, "status": r.status} for r in app.requests],
                )
            case "GET", "tokens":
                return json_response(200, app.minted_tokens())
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
    if "token_format" in body:
        app.token_format = body["token_format"]
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
