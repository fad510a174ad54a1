"""The async transport at runtime, over real loopback sockets: TLS verified, a timeout on every request, and
waits between retries that never block the event loop.

The other async-transport tests inject an httpx mock transport and a fake sleep; these use the transport
exactly as the trigger builds it (its own httpx client, the default sleep).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from airflow_provider_zoho_aep.client.errors import AEPAPIError
from airflow_provider_zoho_aep.client.http import AsyncHttpTransport, RetryPolicy
from tests.event_loop import run_beside_heartbeat

ONE_ATTEMPT = RetryPolicy(max_attempts=1)


class Answers(BaseHTTPRequestHandler):
    """Answers each GET with the next (status, headers) of ``server.answers`` (200 once they run out)."""

    def do_GET(self) -> None:
        self.server.seen += 1  # type: ignore[attr-defined]
        answers = self.server.answers  # type: ignore[attr-defined]
        status, headers = answers.pop(0) if answers else (200, {})
        body = b'{"items": []}'
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def serve(context: ssl.SSLContext | None = None, answers: list | None = None) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    server.answers = list(answers or [])  # type: ignore[attr-defined]
    server.seen = 0  # type: ignore[attr-defined]
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    scheme = "https" if context is not None else "http"
    return server, f"{scheme}://127.0.0.1:{server.server_address[1]}/data/foundation/flowservice/runs"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key (what a man in the middle would present)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[ThreadingHTTPServer, str, Path]]:
    cert_file, key_file = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server, url = serve(context)
    yield server, url, cert_file
    server.shutdown()
    server.server_close()


async def test_a_self_signed_certificate_is_refused(https_server) -> None:
    server, url, cert_file = https_server
    # The server works for a client that trusts its certificate...
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=str(cert_file))) as trusting:
        assert (await trusting.get(url)).status_code == 200
    assert server.seen == 1
    # ...and the provider's transport, which trusts only real CAs, refuses it before sending anything.
    async with AsyncHttpTransport(timeout=5, retry=ONE_ATTEMPT) as transport:
        with pytest.raises(AEPAPIError, match="could not connect"):
            await transport.request("GET", url, service="Flow Service")
    assert server.seen == 1


async def test_a_server_that_never_answers_times_out_within_the_timeout() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # connections complete in the backlog; nothing ever reads or answers them
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/data/foundation/flowservice/runs"
    try:
        async with AsyncHttpTransport(timeout=0.5, retry=ONE_ATTEMPT) as transport:
            start = time.monotonic()
            with pytest.raises(AEPAPIError, match="timed out"):
                # The outer bound only keeps a broken transport from hanging the suite.
                await asyncio.wait_for(transport.request("GET", url, service="Flow Service"), 5)
            elapsed = time.monotonic() - start
    finally:
        listener.close()
    assert 0.4 <= elapsed < 2.0, elapsed


async def test_the_default_wait_between_retries_never_blocks_the_event_loop() -> None:
    server, url = serve(answers=[(503, {"Retry-After": "1"})])
    try:
        async with AsyncHttpTransport(timeout=5) as transport:  # its own default sleep, nothing injected
            start = time.monotonic()
            response, stall, beats = await run_beside_heartbeat(
                transport.request("GET", url, service="Flow Service"))
            elapsed = time.monotonic() - start
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 200 and server.seen == 2
    assert elapsed >= 1.0  # it did wait out the Retry-After
    # A blocking wait would hold the loop for the whole Retry-After (1 s); a loaded machine may pause this process
    # for a tenth of a second now and then, which says nothing about the transport.
    assert beats > 20 and stall < 0.5, f"the event loop was blocked for {stall:.2f} s"
