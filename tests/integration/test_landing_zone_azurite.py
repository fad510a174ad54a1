"""The upload path against Azurite, Microsoft's Azure Storage emulator: the real Azure API surface.

Upload and verification, overwrite semantics, a concurrent writer, a connection cut in the middle of a block, a SAS
that expires during the upload, a store that refuses the SAS, and the SDK's request log. Azurite is started by the
``azurite`` fixture (tests/azurite.py).
"""

from __future__ import annotations

import hashlib
import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from airflow_provider_zoho_aep.client.azure_blob_upload import AzureBlobUploader
from airflow_provider_zoho_aep.client.landing_zone import LandingZoneCredentials, LandingZoneError
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from emulator import Emulator
from tests.azurite import ACCOUNT, Azurite
from tests.integration.test_data_landing_zone import RECORDS, WINDOW_END, WINDOW_START, write_csv
from tests.tcp_proxy import TcpProxy

BLOCK = 64 * 1024


class Credentials:
    """A credentials source handing out SAS tokens for Azurite (through a proxy port when given)."""

    def __init__(self, azurite: Azurite, *, port: int | None = None, expires_in: timedelta = timedelta(hours=1),
                 bad: bool = False) -> None:
        self.azurite, self.port, self.expires_in, self.bad = azurite, port or azurite.port, expires_in, bad
        self.refusals: list[LandingZoneCredentials] = []
        self.issued: list[LandingZoneCredentials] = []

    def __call__(self, *, after_refusal: LandingZoneCredentials | None = None) -> LandingZoneCredentials:
        if after_refusal is not None:
            self.refusals.append(after_refusal)
            self.expires_in = timedelta(hours=1)  # the fresh token lives long
        token = self.azurite.sas_token(expires_in=self.expires_in)
        if self.bad:  # signed with another key: the store refuses it
            token = token.rsplit("sig=", 1)[0] + "sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D"
        uri = f"http://127.0.0.1:{self.port}/{ACCOUNT}/dlz-user-container?{token}"
        if not self.issued or not self.bad:
            self.issued.append(LandingZoneCredentials("dlz-user-container", ACCOUNT, uri, token))
        return self.issued[-1]


@pytest.fixture
def store(azurite: Azurite) -> Azurite:
    azurite.make_container()
    container = azurite.service().get_container_client("dlz-user-container")
    for blob in container.list_blobs():
        container.delete_blob(blob.name)
    return azurite


def big_file(tmp_path: Path, size: int = 10 * BLOCK + 123) -> Path:
    path = tmp_path / "big.csv"
    path.write_bytes(os.urandom(size))
    return path


def stored(azurite: Azurite, name: str) -> tuple[bytes, Any]:
    blob = azurite.service().get_blob_client("dlz-user-container", name)
    return blob.download_blob().readall(), blob.get_blob_properties()


def test_upload_and_verify(store: Azurite, tmp_path: Path) -> None:
    path = big_file(tmp_path)
    result = AzureBlobUploader(Credentials(store), block_size=BLOCK).upload(path, "zoho/Leads/f/a_part-0001.csv")
    data, props = stored(store, result.blob_name)
    assert data == path.read_bytes()
    assert bytes(props.content_settings.content_md5) == hashlib.md5(data).digest()
    assert (result.size, result.md5, result.uploaded) == (len(data), hashlib.md5(data).hexdigest(), True)
    assert result.last_modified == props.last_modified


def test_overwrite_semantics(store: Azurite, tmp_path: Path) -> None:
    uploader = AzureBlobUploader(Credentials(store), block_size=BLOCK)
    path = big_file(tmp_path, 3 * BLOCK)
    first = uploader.upload(path, "zoho/Leads/f/w_part-0001.csv")
    same = uploader.upload(path, "zoho/Leads/f/w_part-0001.csv")
    assert not same.uploaded and same.last_modified == first.last_modified  # a re-run does not touch it
    path.write_bytes(b"id\n1\n")
    other = uploader.upload(path, "zoho/Leads/f/w_part-0001.csv")
    assert other.uploaded and other.replaced
    assert stored(store, other.blob_name)[0] == b"id\n1\n"


@pytest.mark.parametrize("size", [BLOCK // 2, 10 * BLOCK + 123], ids=["one put", "blocks"])
def test_a_concurrent_writer_is_never_overwritten_silently(store: Azurite, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    from azure.storage.blob import BlobClient

    name = "zoho/Leads/f/race_part-0001.csv"
    real_upload = BlobClient.upload_blob

    def someone_else_writes_first(self: Any, *args: Any, **kwargs: Any) -> Any:
        # Between our look-up (no blob) and our write, another writer makes the blob.
        if self.blob_name == name and kwargs.get("overwrite") is not True:
            real_upload(store.service().get_blob_client("dlz-user-container", name), b"someone else", overwrite=True)
        return real_upload(self, *args, **kwargs)

    monkeypatch.setattr(BlobClient, "upload_blob", someone_else_writes_first)
    with pytest.raises(LandingZoneError, match="someone else") as caught:
        AzureBlobUploader(Credentials(store), block_size=BLOCK).upload(big_file(tmp_path, size), name)
    assert caught.value.status == 409  # the condition If-None-Match: * refused our write
    assert stored(store, name)[0] == b"someone else"


def test_a_connection_cut_in_the_middle_of_a_block_is_retried(store: Azurite, tmp_path: Path) -> None:
    path = big_file(tmp_path)

    def cut_once(chunk: bytes) -> bool:
        return proxy.cuts == 0 and b"comp=block&" in chunk

    with TcpProxy(store.port, cut=cut_once) as proxy:
        uploader = AzureBlobUploader(Credentials(store, port=proxy.port), block_size=BLOCK, sdk_backoff=0.05)
        result = uploader.upload(path, "zoho/Leads/f/cut_part-0001.csv")
    assert proxy.cuts == 1
    assert stored(store, result.blob_name)[0] == path.read_bytes()


def test_a_sas_that_expires_during_the_upload_is_replaced_and_the_file_sent_again_whole(
    store: Azurite, tmp_path: Path
) -> None:
    path = big_file(tmp_path, 12 * BLOCK)

    def slow_blocks(chunk: bytes) -> float:
        return 0.4 if b"comp=block&" in chunk else 0.0

    with TcpProxy(store.port, delay=slow_blocks) as proxy:
        credentials = Credentials(store, port=proxy.port, expires_in=timedelta(seconds=2))
        uploader = AzureBlobUploader(credentials, block_size=BLOCK, max_concurrency=1)
        result = uploader.upload(path, "zoho/Leads/f/expiry_part-0001.csv")
    assert len(credentials.refusals) == 1 and credentials.refusals[0] is credentials.issued[0]
    assert stored(store, result.blob_name)[0] == path.read_bytes()
    # Some blocks went with the first token, then all twelve again with the fresh one; one commit made the blob.
    block_requests = [line for line in proxy.requests if b"comp=block&" in line]
    assert 12 + 1 <= len(block_requests) <= 2 * 12
    assert sum(1 for line in proxy.requests if b"comp=blocklist" in line) == 1


def test_a_store_that_refuses_the_sas_fails_clearly_without_the_token(store: Azurite, tmp_path: Path) -> None:
    credentials = Credentials(store, bad=True)
    with pytest.raises(LandingZoneError, match=r"refused.*403") as caught:
        AzureBlobUploader(credentials, block_size=BLOCK).upload(write_csv(tmp_path / "a.csv", RECORDS),
                                                                "zoho/Leads/f/x_part-0001.csv")
    assert len(credentials.refusals) == 3
    token = credentials.issued[0].sas_token
    signature = token.rsplit("sig=", 1)[1]
    text = str(caught.value) + repr(caught.value)
    assert token not in text and signature not in text and caught.value.__cause__ is None


def test_the_emulator_can_point_the_landing_zone_at_azurite(store: Azurite, emulator: Emulator,
                                                           tmp_path: Path) -> None:
    emulator.set_landing_zone_credentials(store.credentials_body())
    hook = AdobeExperiencePlatformHook()
    (result,) = hook.upload_files_to_landing_zone([write_csv(tmp_path / "a.csv", RECORDS)], module="Leads",
                                                  flow_id="f", window_start=WINDOW_START, window_end=WINDOW_END)
    assert stored(store, result.blob_name)[0] == (tmp_path / "a.csv").read_bytes()
    assert emulator.blob_store.blobs == {}


def test_the_sdks_request_log_is_at_debug_and_carries_no_sas(store: Azurite, tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sdk_logger = logging.getLogger("azure.core.pipeline.policies.http_logging_policy")
    level = sdk_logger.level
    credentials = Credentials(store)
    AzureBlobUploader(credentials, block_size=BLOCK).upload(big_file(tmp_path, 3 * BLOCK),
                                                            "zoho/Leads/f/log_part-0001.csv")
    lines = [r for r in caplog.records if r.name == sdk_logger.name]
    assert lines and {r.levelno for r in lines} == {logging.DEBUG}  # out of a task log at INFO
    assert sdk_logger.level == level  # its level is not changed for the rest of the process
    signature = credentials.issued[0].sas_token.rsplit("sig=", 1)[1]
    text = "\n".join(r.getMessage() for r in lines)
    assert "sig=REDACTED" in text and not any(s in text for s in (signature, unquote(signature)))
