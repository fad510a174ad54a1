"""Which handler answers a request, after faults and the rate limit; every request recorded in the log."""

from __future__ import annotations

import sys
import time
import traceback
from urllib.parse import urlencode

from . import blob_store, flow_service, ims, landing_zone, zoho, zoho_crm
from .config import EmulatorCredentials
from .faults import Fault, FaultList, RateLimiter, retry_after_headers
from .messages import Request, Response, flow_error, injected_error, json_response, too_many_requests
from .request_log import RecordedRequest, RequestLog
from .state import Store
from .zoho_crm import ZohoCrm


def dispatch(
    req: Request,
    store: Store,
    credentials: EmulatorCredentials,
    crm: ZohoCrm,
    faults: FaultList,
    rate_limiter: RateLimiter,
    log: RequestLog,
) -> Response | None:
    """The answer to ``req``, or None when the connection must close without one."""
    received = time.time()
    fault = faults.fire(req.method, req.path, urlencode(req.query, doseq=True))
    if fault is not None and fault.delay > 0:
        time.sleep(fault.delay)

    response: Response | None
    if fault is not None and fault.kind == "reset":
        response = None
    elif fault is not None and fault.kind == "status":
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        if req.path.startswith("/crm/"):
            response = zoho_crm.injected_error(fault.status, headers)
        else:
            response = injected_error(fault.status, headers).response(req.request_id)
    else:
        wait = rate_limiter.wait_needed(req.path)
        if wait > 0:
            response = too_many_requests(retry_after_headers(wait)).response()
        else:
            response = _route(req, store, credentials, crm, fault)
        if fault is not None and fault.kind == "commit_then_drop":
            response = None  # applied, but the answer never leaves

    if response is not None and _is_flow_service(req.path):
        response.headers.setdefault("x-request-id", req.request_id)
    log.append(
        RecordedRequest(
            req.method,
            req.path,
            req.query,
            req.headers,
            req.body,
            response.status if response is not None else 0,
            received,
        )
    )
    return response


def _is_flow_service(path: str) -> bool:
    return path == flow_service.PREFIX or path.startswith(flow_service.PREFIX + "/")


def _route(
    req: Request, store: Store, creds: EmulatorCredentials, crm: ZohoCrm, fault: Fault | None = None
) -> Response:
    """Run the handler that owns ``req.path``, holding the store lock."""
    with store.lock:
        try:
            if _is_flow_service(req.path):
                return flow_service.handle(store, creds, req)
            if req.path.startswith(blob_store.PREFIX):
                return blob_store.handle(store.dlz.blobs, req)
            if landing_zone.handles(req.path):
                return landing_zone.handle(store, creds, req)
            if req.path.startswith("/ims/"):
                return ims.handle(store, creds, req)
            if req.path.rstrip("/") == zoho.TOKEN_PATH:
                return zoho.handle_token(store, creds, req)
            if zoho_crm.owns(req.path):
                return crm.handle(store, req, fault)
            if req.path.startswith("/crm/"):
                return zoho.handle_crm(store, creds, req)
            return json_response(404, {"error": "not_found", "message": f"No emulated endpoint at {req.path}"})
        except Exception:
            traceback.print_exc(file=sys.stderr)  # an emulator bug: always visible
            return flow_error("1102-500", "Internal error", "The emulator failed; see its stderr.").response(
                req.request_id
            )
