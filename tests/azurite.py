"""Azurite, Microsoft's Azure Storage emulator, for the upload tests: start it, make a container and a SAS.

``make test`` installs the npm package into ``.azurite/`` when Node is present (``.ci/run`` installs Node).
Without Node the Azurite tests are skipped locally, with the reason; in CI (``CI=true``) they fail instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ACCOUNT = "devstoreaccount1"
#: The well-known development key every Azurite install uses (public, documented by Microsoft).
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CONTAINER = "dlz-user-container"


#: Where a copy of the tests outside the checkout (the version matrix's stage) finds the checkout's Azurite.
AZURITE_ENV = "ZOHO_AEP_AZURITE_BLOB"


def azurite_command() -> str | None:
    local = REPO / ".azurite" / "node_modules" / ".bin" / "azurite-blob"
    given = os.environ.get(AZURITE_ENV)
    for candidate in (Path(given) if given else None, local):
        if candidate is not None and candidate.exists() and shutil.which("node"):
            return str(candidate)
    return shutil.which("azurite-blob")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Azurite:
    """A running Azurite blob service on loopback."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def account_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    def container_url(self, container: str = CONTAINER) -> str:
        return f"{self.account_url}/{container}"

    def service(self):  # type: ignore[no-untyped-def]
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient(self.account_url, credential={"account_name": ACCOUNT, "account_key": ACCOUNT_KEY})

    def make_container(self, container: str = CONTAINER) -> None:
        from azure.core.exceptions import ResourceExistsError

        with contextlib.suppress(ResourceExistsError):
            self.service().create_container(container)

    def sas_token(self, container: str = CONTAINER, *, expires_in: timedelta = timedelta(hours=1),
                  start: datetime | None = None) -> str:
        """A container SAS (``sr=c``) with the landing zone's permissions (racwdl)."""
        from azure.storage.blob import ContainerSasPermissions, generate_container_sas

        return generate_container_sas(
            ACCOUNT, container, account_key=ACCOUNT_KEY,
            permission=ContainerSasPermissions(read=True, add=True, create=True, write=True, delete=True, list=True),
            expiry=datetime.now(timezone.utc) + expires_in,
            start=start,
        )

    def credentials_body(self, container: str = CONTAINER, **kwargs: object) -> dict[str, str]:
        """What ``GET …/landingzone/credentials`` answers, pointing at this Azurite."""
        token = self.sas_token(container, **kwargs)  # type: ignore[arg-type]
        return {
            "containerName": container,
            "SASToken": token,
            "storageAccountName": ACCOUNT,
            "SASUri": f"{self.container_url(container)}?{token}",
            "expiryDate": (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat(),
        }


def start_azurite() -> Iterator[Azurite]:
    command = azurite_command()
    if command is None:
        reason = ("Azurite is not installed: install Node.js and run `make test` (it installs the npm package "
                  "azurite into .azurite/)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI must run the Azurite tests", pytrace=False)
        pytest.skip(reason)
    for _ in range(3):  # the port may be taken between the probe and Azurite's bind
        port = free_port()
        process = subprocess.Popen(
            [command, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
             "--skipApiVersionCheck", "--loose", "--silent"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        if process.poll() is None:
            try:
                yield Azurite(port, process)
            finally:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
            return
    raise RuntimeError("Azurite did not start: " + (process.stderr.read() or b"").decode(errors="replace")[-500:])
