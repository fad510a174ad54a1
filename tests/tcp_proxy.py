"""A tiny loopback TCP proxy that can cut a connection in the middle of a request, or slow some requests down.

Used in front of Azurite to stage what a real network does to a block upload (the emulator has its own faults).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``127.0.0.1:<upstream>``.

    :param cut: called with each chunk a client sends; True cuts that connection after forwarding half the chunk
    :param delay: called with each chunk a client sends; seconds to wait before forwarding it
    """

    def __init__(self, upstream: int, *, cut: Callable[[bytes], bool] | None = None,
                 delay: Callable[[bytes], float] | None = None) -> None:
        self.upstream = upstream
        self.cut = cut
        self.delay = delay
        self.cuts = 0
        self.requests: list[bytes] = []  # first line of each chunk that starts a request
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self._stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):
            self._server.close()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            threading.Thread(target=self._client_to_upstream, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def _client_to_upstream(self, client: socket.socket, upstream: socket.socket) -> None:
        try:
            while chunk := client.recv(65536):
                if chunk[:8].split(b" ")[0] in (b"GET", b"PUT", b"HEAD", b"POST", b"DELETE"):
                    self.requests.append(chunk.split(b"\r\n", 1)[0])
                if self.delay is not None:
                    time.sleep(self.delay(chunk))
                if self.cut is not None and self.cut(chunk):
                    self.cuts += 1
                    upstream.sendall(chunk[: len(chunk) // 2])
                    break
                upstream.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                target.shutdown(socket.SHUT_RDWR)
