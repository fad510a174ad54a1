"""Uploads to an Azure-hosted Data Landing Zone with Microsoft's SDK (``azure-storage-blob``, the ``dlz`` extra).

:meth:`AzureBlobUploader.upload` of one file: a blob already there with the same size and MD5 is the file itself
(a retry after a success) and is not sent again, so its Last-Modified stamp, which the run window selects on,
stays. Else **one** ``upload_blob`` with the file's Content-MD5 and ``validate_content=True``, on a condition: a
new blob must not exist yet (If-None-Match ``*``), a replacement must still be the blob looked at (If-Match its
etag); only the commit makes the blob visible. Then Get Blob Properties must show the file's size and MD5.

The SDK retries each request. A 403 (the SAS expired or was revoked) gets fresh credentials and the file is sent
again whole (a file is at most one Bulk Read page). No SDK error text leaves this module (it can quote the
request): errors are rebuilt from status and code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

from airflow_provider_zoho_aep.client.errors import redact
from airflow_provider_zoho_aep.client.landing_zone import (
    SERVICE,
    LandingZoneCredentials,
    LandingZoneError,
    StoredFile,
    UploadedFile,
    file_md5,
)

log = logging.getLogger(__name__)
#: Credential rounds per file: the first credentials, then fresh ones after each refusal.
MAX_CREDENTIAL_ROUNDS = 3
T = TypeVar("T")


def _sdk() -> Any:
    """The SDK, imported at first use (a DAG parse never pays for it)."""
    try:
        from azure.core import MatchConditions, exceptions
        from azure.storage.blob import ContainerClient, ContentSettings, LinearRetry
    except ImportError:
        raise ImportError("Uploading to the Data Landing Zone needs Microsoft's azure-storage-blob: "
                          "pip install airflow-provider-zoho-aep[dlz]") from None
    return SimpleNamespace(ContainerClient=ContainerClient, ContentSettings=ContentSettings, LinearRetry=LinearRetry,
                           MatchConditions=MatchConditions, exceptions=exceptions)


class _Refused(Exception):
    """The store refused the credentials (403)."""


class AzureBlobUploader:
    """A :class:`~airflow_provider_zoho_aep.client.landing_zone.LandingZoneUploader` for Azure Blob Storage.

    :param credentials: gives SAS credentials; called again with ``after_refusal=<the refused ones>`` after a 403
    :param max_concurrency: the SDK's ``max_concurrency``: blocks in flight at once
    :param block_size: bytes per block; a file of at most one block goes in one Put Blob
    :param timeout: seconds for connecting and for each read
    :param sdk_retries: retries of the SDK's retry policy per request
    :param sdk_backoff: seconds between the SDK's retries
    """

    def __init__(
        self,
        credentials: Callable[..., LandingZoneCredentials],
        *,
        max_concurrency: int = 4,
        block_size: int = 4 * 1024 * 1024,
        timeout: float = 60.0,
        sdk_retries: int = 3,
        sdk_backoff: float = 0.5,
    ) -> None:
        if max_concurrency < 1 or block_size < 1:
            raise ValueError("max_concurrency and block_size must be at least 1")
        self.sdk = _sdk()
        self.credentials = credentials
        self.max_concurrency = max_concurrency
        self.client_options: dict[str, Any] = {
            "max_block_size": block_size, "max_single_put_size": block_size,
            "connection_timeout": timeout, "read_timeout": timeout,
            "retry_policy": self.sdk.LinearRetry(backoff=sdk_backoff, random_jitter_range=0, retry_total=sdk_retries),
            # The SDK's request log already redacts the SAS; DEBUG keeps its lines out of the task log for these
            # clients only, leaving its logger's level alone for the rest of the process.
            "http_logging_level": logging.DEBUG,
        }
        self._secrets: set[str] = set()

    def upload(self, local_path: str | Path, blob_name: str, *, md5: str | None = None) -> UploadedFile:
        """Upload one file to ``blob_name`` and verify it (see the module docstring).

        :param local_path: the file
        :param blob_name: its name in the container
        :param md5: the file's hex MD5 if already known (else it is computed, streaming)
        """
        path = Path(local_path)
        size = path.stat().st_size
        if size == 0:  # the landing zone's runs fail on empty files
            raise LandingZoneError(f"{SERVICE}: {blob_name} would be an empty file; empty files are not uploaded",
                                   service=SERVICE)
        digest = md5 or file_md5(path)
        return self._with_credentials(lambda c: self._upload_once(c, path, blob_name, size, digest), blob_name)

    def list_files(self, prefix: str) -> list[StoredFile]:
        """The committed blobs whose names start with ``prefix``, with their sizes and Last-Modified stamps."""

        def listing(credentials: LandingZoneCredentials) -> list[StoredFile]:
            blobs = self._call(lambda: list(self._container(credentials).list_blobs(name_starts_with=prefix)),
                               prefix, "listing")
            return [StoredFile(b.name, int(b.size), b.last_modified) for b in blobs]

        return self._with_credentials(listing, prefix)

    def _with_credentials(self, action: Callable[[LandingZoneCredentials], T], name: str) -> T:
        credentials = self.credentials()
        for _round in range(MAX_CREDENTIAL_ROUNDS):
            self._secrets.update(credentials.secrets)
            try:
                return action(credentials)
            except _Refused:
                log.warning("The landing zone refused the SAS credentials for %s; starting it again, whole, with "
                            "fresh credentials", name)
                credentials = self.credentials(after_refusal=credentials)
        raise LandingZoneError(f"{SERVICE}: the store refused {name} with fresh credentials too (403); check that "
                               "the integration has the Manage Sources permission", status=403, service=SERVICE)

    def _container(self, credentials: LandingZoneCredentials) -> Any:
        return self.sdk.ContainerClient.from_container_url(credentials.sas_uri, **self.client_options)

    def _upload_once(self, credentials: LandingZoneCredentials, path: Path, name: str, size: int,
                     md5: str) -> UploadedFile:
        blob = self._container(credentials).get_blob_client(name)
        existing = self._properties(blob, name)
        if existing is not None and _same(existing, size, md5):
            log.info("%s is already in the landing zone with the same size and MD5; not sent again", name)
            return _result(name, existing, md5, uploaded=False)
        if existing is None:
            condition: dict[str, Any] = {"overwrite": False}
        else:
            log.warning("%s exists in the landing zone with other content; replacing it (a run ingests it again)",
                        name)
            condition = {"overwrite": True, "etag": existing.etag,
                         "match_condition": self.sdk.MatchConditions.IfNotModified}
        settings = self.sdk.ContentSettings(content_type="text/csv", content_md5=bytearray(bytes.fromhex(md5)))
        try:
            with path.open("rb") as handle:
                self._call(lambda: blob.upload_blob(handle, length=size, content_settings=settings,
                                                    validate_content=True, max_concurrency=self.max_concurrency,
                                                    **condition), name, "upload")
        except LandingZoneError as err:
            if err.status not in (409, 412):
                raise
            # Someone else wrote the name since the look-up, or the SDK retried a write whose first attempt was
            # applied: accepted only when the stored blob is this very file.
            now = self._properties(blob, name)
            if now is not None and _same(now, size, md5):
                return _result(name, now, md5, uploaded=False)
            raise err.restated(f"{SERVICE}: {name} was written by someone else during the upload",
                               LandingZoneError) from None
        verified = self._properties(blob, name)
        if verified is None or not _same(verified, size, md5):
            got = "no blob" if verified is None else f"{verified.size} bytes, MD5 {_md5_hex(verified) or 'none'}"
            raise LandingZoneError(f"{SERVICE}: verification of {name} failed: expected {size} bytes with MD5 {md5}, "
                                   f"the store has {got}", service=SERVICE)
        log.info("Uploaded %s (%d bytes, MD5 %s) and verified it", name, size, md5)
        return _result(name, verified, md5, uploaded=True, replaced=existing is not None)

    def _properties(self, blob: Any, name: str) -> Any | None:
        try:
            return self._call(blob.get_blob_properties, name, "properties")
        except LandingZoneError as err:
            if err.status == 404:
                return None
            raise

    def _call(self, action: Callable[[], T], name: str, what: str) -> T:
        """Run one SDK call; its errors become :class:`LandingZoneError` (or :class:`_Refused` for a 403)."""
        errors = self.sdk.exceptions
        try:
            return action()
        except errors.HttpResponseError as exc:
            if exc.status_code == 403:
                raise _Refused() from None
            code = redact(str(exc.error_code), self._secrets) if exc.error_code else None
            raise LandingZoneError(f"{SERVICE}: {what} of {name} failed", status=exc.status_code, code=code,
                                   service=SERVICE) from None
        except errors.AzureError as exc:
            network = isinstance(exc, (errors.ServiceRequestError, errors.ServiceResponseError))
            reason = "the connection failed, the SDK's retries included" if network else type(exc).__name__
            raise LandingZoneError(f"{SERVICE}: {what} of {name} failed ({reason})", service=SERVICE) from None


def _md5_hex(props: Any) -> str | None:
    value = props.content_settings.content_md5  # the SDK's bytearray, or None when the blob has no MD5
    return bytes(value).hex() if value else None


def _same(props: Any, size: int, md5: str) -> bool:
    return props.size == size and _md5_hex(props) == md5


def _result(name: str, props: Any, md5: str, *, uploaded: bool, replaced: bool = False) -> UploadedFile:
    return UploadedFile(name, int(props.size), md5, props.last_modified, uploaded=uploaded, replaced=replaced)
