"""HTTP plumbing: read a request, hand it to the emulator, write the answer.

Keep-alive HTTP/1.1; every answer is written in one ``send`` with its Content-Length (204 has none).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .messages import Request, Response, json_response

#: What answers a request: a response, or None to close the connection without one.
Answer = Callable[[Request], Response | None]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "aep-emulator"
    sys_version = ""
    server: EmulatorHTTPServer

    def _serve(self) -> None:
        try:
            req = self._read_request()
        except ValueError:
            self._write(json_response(400, {"error": "bad_request", "message": "Unreadable request body."}))
            self.close_connection = True
            return
        response = self.server.answer(req)
        if self.server.verbose:  # path without the query string: a misbehaving client may put secrets there
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
        chunks: list[bytes] = []
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
        if self.server.verbose:
            super().log_message(format, *args)


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threading server that knows its open connections, so ``stop()`` can close idle keep-alives."""

    daemon_threads = True
    #: The listen backlog. socketserver's default of 5 drops the connections of a burst of clients (a triggerer
    #: opening a hundred at once), which then wait a second for the kernel to resend their SYN: a gateway does not.
    request_queue_size = 256

    def __init__(self, host: str, port: int, answer: Answer, verbose: bool = False):
        self.answer = answer
        self.verbose = verbose
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
        if self.verbose:
            super().handle_error(request, client_address)
