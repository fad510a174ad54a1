"""HTTP plumbing: read a request, apply faults and the rate limit, route it, record it, write the answer.

Keep-alive HTTP/1.1; every answer is written in one ``send`` with its Content-Length (204 has none).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from . import blob_store, control, flow_service, ims, landing_zone, zoho, zoho_crm
from .faults import retry_after_headers
from .messages import Request, Response, flow_error, injected_error, json_response, too_many_requests
from .request_log import RecordedRequest

if TYPE_CHECKING:
    from .app import Emulator
    from .faults import Fault


def dispatch(app: Emulator, req: Request) -> Response | None:
    """The answer to ``req``, or None when the connection must close without one."""
    if req.path.startswith(control.PREFIX):
        return control.handle(app, req)  # never faulted, limited or recorded

    received = time.time()
    fault = app.faults.fire(req.method, req.path, urlencode(req.query, doseq=True))
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
        wait = app.rate_limiter.wait_needed(req.path)
        response = too_many_requests(retry_after_headers(wait)).response() if wait > 0 else _route(app, req, fault)
        if fault is not None and fault.kind == "commit_then_drop":
            response = None  # applied, but the answer never leaves

    if response is not None and _is_flow_service(req.path):
        response.headers.setdefault("x-request-id", req.request_id)
    app.log.append(
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


def _route(app: Emulator, req: Request, fault: Fault | None = None) -> Response:
    """Run the handler that owns ``req.path``, holding the store lock."""
    store, creds = app.store, app.credentials
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
                return app.crm.handle(store, req, fault)
            if req.path.startswith("/crm/"):
                return zoho.handle_crm(store, creds, req)
            return json_response(404, {"error": "not_found", "message": f"No emulated endpoint at {req.path}"})
        except Exception:
            traceback.print_exc(file=sys.stderr)  # an emulator bug: always visible
            return flow_error("1102-500", "Internal error", "The emulator failed; see its stderr.").response(
                req.request_id
            )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "aep-emulator"
    sys_version = ""
    server: EmulatorHTTPServer

    def _serve(self) -> None:
        app = self.server.app
        try:
            req = self._read_request()
        except ValueError:
            self._write(json_response(400, {"error": "bad_request", "message": "Unreadable request body."}))
            self.close_connection = True
            return
        response = dispatch(app, req)
        if app.verbose:  # path without the query string: a misbehaving client may put secrets there
            self.log_message('"%s %s" %s', req.method, req.path, response.status if response else "dropped")
        if response is None:
            self.close_connection = True
            return
        self._write(response)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def _read_request(self) -> Request:
        parts = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked()
        else:
            body = self.rfile.read(int(headers.get("content-length") or 0))
        return Request(
            method=self.command,
            path=unquote(parts.path),
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=headers,
            body=body,
            request_id=str(uuid.uuid4()),
        )

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _write(self, response: Response) -> None:
        reason = self.responses.get(response.status, ("",))[0]
        headers = dict(response.headers)
        if response.file is not None:
            self._write_file(response, reason, headers)
            return
        if response.status != 204:
            # A HEAD answer names the length of the body it does not send.
            headers.setdefault("Content-Length", str(len(response.body)))
        if self.close_connection:
            headers["Connection"] = "close"
        head = f"HTTP/1.1 {response.status} {reason}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        try:
            self.wfile.write(head.encode("latin-1") + b"\r\n" + response.body)
        except OSError:
            self.close_connection = True  # the client went away (e.g. it timed out first)

    def _write_file(self, response: Response, reason: str, headers: dict[str, str]) -> None:
        """Stream a body from disk in chunks; with ``cut_at``, drop the connection part way through."""
        assert response.file is not None
        size = os.path.getsize(response.file)
        headers["Content-Length"] = str(size)
        head = f"HTTP/1.1 {response.status} {reason}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        left = size if response.cut_at is None else response.cut_at
        try:
            self.wfile.write(head.encode("latin-1") + b"\r\n")
            with open(response.file, "rb") as body:
                while left > 0:
                    chunk = body.read(min(left, 1 << 20))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
        if response.cut_at is not None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.app.verbose:
            super().log_message(format, *args)


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threading server that knows its open connections, so ``stop()`` can close idle keep-alives."""

    daemon_threads = True
    #: The listen backlog. socketserver's default of 5 drops the connections of a burst of clients (a triggerer
    #: opening a hundred at once), which then wait a second for the kernel to resend their SYN: a gateway does not.
    request_queue_size = 256

    def __init__(self, host: str, port: int, app: Emulator):
        self.app = app
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    def server_bind(self) -> None:
        TCPServer.server_bind(self)  # skip HTTPServer's getfqdn(): a reverse DNS look-up we do not need
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.app.verbose:
            super().handle_error(request, client_address)
