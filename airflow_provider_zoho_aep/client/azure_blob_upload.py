"""Uploads to an Azure-hosted Data Landing Zone with Microsoft's SDK (``azure-storage-blob``, the ``dlz`` extra).

How one file goes up (:meth:`AzureBlobUploader.upload`):

1. **Already there?** Get Blob Properties on the deterministic name. A blob with the same size and MD5 is the
   file itself (a retry after a success): nothing is sent, so its last-modified stamp stays and no run ingests
   it twice. A blob with other content is replaced (below); no blob, a new one is made.
2. **One request, or blocks.** A file no larger than one block goes up in one Put Blob carrying the file's MD5
   as Content-MD5, which the store checks against what it received and keeps as the blob's MD5 (one request,
   one MD5 pass, atomic like a commit). A larger file is cut into ``block_size`` blocks, staged (Put Block) by
   at most ``max_concurrency`` threads. A block is never read into memory whole: its body is a window on the
   file (:class:`FileSlice`) that the SDK reads twice in small pieces, once for the block's Content-MD5 and
   once to send it, so memory stays small whatever the block size and the file's. The store checks each
   block's MD5. The file's own MD5 is computed by another thread meanwhile. Block IDs are fixed for the call,
   so after a refusal the blocks the store already holds (uncommitted) are recognised and not sent again (the
   store's block list is read only then: in the first round no block of this call can be there yet).
3. **Commit.** Put Block List (or the single Put Blob) with the file's Content-MD5 and a condition:
   If-None-Match ``*`` for a new blob (a concurrent writer makes it fail, never a silent overwrite), If-Match
   the old etag for a replacement. Until the commit, readers (and runs) see no blob or the old one: never a
   partial or doubled blob.
4. **Verify.** Get Blob Properties again: size and Content-MD5 must be the file's, else the upload fails before
   any run can start.

A connection reset inside a block (or the commit) is retried by the SDK's retry policy, then up to
``block_attempts`` times here (a write whose first attempt was applied meets its condition and is accepted
only when the stored blob is this file). A 403 (the SAS expired or was revoked) asks the credentials source
for working credentials and resumes with the blocks already staged. No SDK error text leaves this module:
errors are rebuilt from status and error code, and scrubbed of the SAS token.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from airflow_provider_zoho_aep.client.errors import redact
from airflow_provider_zoho_aep.client.landing_zone import (
    SERVICE,
    CredentialsSource,
    LandingZoneCredentials,
    LandingZoneError,
    StoredFile,
    UploadedFile,
    file_md5,
)

log = logging.getLogger(__name__)
#: The SDK logs every request's headers at INFO (two dozen lines per block); one line per file from here is
#: what a task log needs. The Azure provider for Airflow quiets the same logger.
SDK_HTTP_LOGGER = "azure.core.pipeline.policies.http_logging_policy"

INSTALL_HINT = "pip install airflow-provider-zoho-aep[dlz]"
DEFAULT_BLOCK_SIZE = 4 * 1024 * 1024
#: The SDK's own single-request limit (``max_single_put_size``): above it, ``upload_blob`` would cut blocks itself.
SDK_SINGLE_PUT_LIMIT = 64 * 1024 * 1024
#: Credential rounds per file: the first credentials, then fresh ones after each refusal.
MAX_CREDENTIAL_ROUNDS = 3


def _sdk() -> Any:
    """The SDK, imported at first upload (a DAG parse never pays for it)."""
    try:
        import azure.core.exceptions as exceptions
        from azure.core import MatchConditions
        from azure.storage.blob import ContainerClient, ContentSettings, LinearRetry
    except ImportError:
        raise ImportError(
            f"Uploading to the Data Landing Zone needs Microsoft's azure-storage-blob: {INSTALL_HINT}"
        ) from None
    return _SDK(ContainerClient, ContentSettings, LinearRetry, MatchConditions, exceptions)


@dataclass(frozen=True)
class _SDK:
    ContainerClient: Any
    ContentSettings: Any
    LinearRetry: Any
    MatchConditions: Any
    exceptions: Any


class _Refused(Exception):
    """The store refused the credentials (403)."""


class AzureBlobUploader:
    """A :class:`~airflow_provider_zoho_aep.client.landing_zone.LandingZoneUploader` for Azure Blob Storage.

    :param credentials: where SAS credentials come from; called again with ``after_refusal`` after a 403
    :param max_concurrency: blocks in flight at once
    :param block_size: bytes per block
    :param block_attempts: attempts per block on a network failure, on top of the SDK's own retries
    :param timeout: seconds for connecting and for each read
    :param sdk_retries: retries of the SDK's retry policy per request
    :param sdk_backoff: seconds between the SDK's retries
    """

    def __init__(
        self,
        credentials: CredentialsSource,
        *,
        max_concurrency: int = 4,
        block_size: int = DEFAULT_BLOCK_SIZE,
        block_attempts: int = 3,
        timeout: float = 60.0,
        sdk_retries: int = 3,
        sdk_backoff: float = 0.5,
    ) -> None:
        if max_concurrency < 1 or block_size < 1 or block_attempts < 1:
            raise ValueError("max_concurrency, block_size and block_attempts must be at least 1")
        self.sdk = _sdk()
        logging.getLogger(SDK_HTTP_LOGGER).setLevel(logging.WARNING)
        self.credentials = credentials
        self.max_concurrency = max_concurrency
        self.block_size = block_size
        self.block_attempts = block_attempts
        self.timeout = timeout
        self.sdk_retries = sdk_retries
        self.sdk_backoff = sdk_backoff
        self._secrets: set[str] = set()

    # -- public -----------------------------------------------------------------------------------------------

    def upload(self, local_path: str | Path, blob_name: str, *, md5: str | None = None) -> UploadedFile:
        """Upload one file to ``blob_name`` and verify it; see the module docstring for every step.

        :param local_path: the file
        :param blob_name: its name in the container
        :param md5: the file's hex MD5 if already known (else it is computed, streaming)
        """
        size = os.path.getsize(local_path)
        if size == 0:
            # The landing zone's runs fail on empty files.
            raise LandingZoneError(f"{SERVICE}: {blob_name} would be an empty file; empty files are not uploaded",
                                   service=SERVICE)
        # The file's MD5 is computed beside the block uploads (hashlib works outside the GIL), not before them.
        digest = _Digest(Path(local_path), md5)
        # Block IDs for this call: the blocks staged before a refusal are recognised when it resumes.
        nonce = uuid.uuid4().hex[:24]
        credentials = self.credentials()
        for round_ in range(MAX_CREDENTIAL_ROUNDS):
            self._secrets.update(credentials.secrets)
            try:
                return self._upload_once(credentials, Path(local_path), blob_name, size, digest, nonce,
                                         resuming=round_ > 0)
            except _Refused:
                log.warning("The landing zone refused the SAS credentials while uploading %s; getting fresh "
                            "credentials and resuming", blob_name)
                credentials = self.credentials(after_refusal=credentials)
        raise LandingZoneError(
            f"{SERVICE}: the store refused {blob_name} with fresh credentials too (403); check that the "
            "integration has the Manage Sources permission", status=403, service=SERVICE,
        )

    def list_files(self, prefix: str) -> list[StoredFile]:
        """The committed blobs whose names start with ``prefix``, with their sizes and last-modified stamps."""
        credentials = self.credentials()
        for _round in range(MAX_CREDENTIAL_ROUNDS):
            self._secrets.update(credentials.secrets)
            listing = self._container(credentials).list_blobs
            try:
                blobs = self._call(lambda: list(listing(name_starts_with=prefix)), prefix,  # noqa: B023
                                   "listing")
            except _Refused:
                credentials = self.credentials(after_refusal=credentials)
                continue
            return [StoredFile(b.name, int(b.size), b.last_modified) for b in blobs]
        raise LandingZoneError(f"{SERVICE}: the store refused the listing of {prefix} with fresh credentials too "
                               "(403)", status=403, service=SERVICE)

    # -- one round with one set of credentials ---------------------------------------------------------------

    def _container(self, credentials: LandingZoneCredentials) -> Any:
        return self.sdk.ContainerClient.from_container_url(
            credentials.sas_uri,
            retry_policy=self.sdk.LinearRetry(backoff=self.sdk_backoff, random_jitter_range=0,
                                              retry_total=self.sdk_retries),
            connection_timeout=self.timeout,
            read_timeout=self.timeout,
        )

    def _upload_once(
        self, credentials: LandingZoneCredentials, path: Path, name: str, size: int, digest: _Digest, nonce: str,
        *, resuming: bool = False,
    ) -> UploadedFile:
        blob = self._container(credentials).get_blob_client(name)
        existing = self._properties(blob, name)
        if existing is not None and existing.size == size and _same(existing, size, digest.result()):
            md5 = digest.result()
            log.info("%s is already in the landing zone with the same size and MD5; not sent again", name)
            return _result(name, existing, md5, uploaded=False)
        if existing is not None:
            log.warning("%s exists in the landing zone with other content; replacing it (a run ingests it again)",
                        name)
        if existing is None:
            conditions: dict[str, Any] = {"match_condition": self.sdk.MatchConditions.IfMissing}
        else:
            conditions = {"etag": existing.etag, "match_condition": self.sdk.MatchConditions.IfNotModified}
        if size <= min(self.block_size, SDK_SINGLE_PUT_LIMIT):
            # One block's worth: read it once, hash it, and let the store check the MD5 of what it received.
            data = path.read_bytes()
            md5 = digest.result()
            settings = self.sdk.ContentSettings(content_type="text/csv", content_md5=bytearray(bytes.fromhex(md5)))
            write: Callable[[], Any] = lambda: blob.upload_blob(  # noqa: E731
                data, length=size, overwrite=existing is not None, content_settings=settings, validate_content=True,
                **conditions)
            what = "upload"
        else:
            digest.start()
            ids = self._stage(blob, path, name, size, nonce, resuming=resuming)
            md5 = digest.result()
            settings = self.sdk.ContentSettings(content_type="text/csv", content_md5=bytearray(bytes.fromhex(md5)))
            write = lambda: blob.commit_block_list(ids, content_settings=settings, **conditions)  # noqa: E731
            what = "commit"
        try:
            self._with_attempts(write, name, what)
        except LandingZoneError as err:
            if err.status not in (409, 412):
                raise
            # Someone else wrote the name in between (or a retried write found its own first attempt applied):
            # accept it only when it is this very file.
            now = self._properties(blob, name)
            if now is not None and _same(now, size, md5):
                return _result(name, now, md5, uploaded=False)
            raise err.restated(f"{SERVICE}: {name} was written by someone else during the upload",
                               LandingZoneError) from None
        verified = self._properties(blob, name)
        if verified is None or not _same(verified, size, md5):
            got = "no blob" if verified is None else f"{verified.size} bytes, MD5 {_md5_hex(verified) or 'none'}"
            raise LandingZoneError(
                f"{SERVICE}: verification of {name} failed: expected {size} bytes with MD5 {md5}, the store has "
                f"{got}", service=SERVICE,
            )
        log.info("Uploaded %s (%d bytes, MD5 %s) and verified it", name, size, md5)
        return _result(name, verified, md5, uploaded=True, replaced=existing is not None)

    def _stage(self, blob: Any, path: Path, name: str, size: int, nonce: str, *, resuming: bool) -> list[str]:
        """Stage every block the store does not hold yet; return the block IDs in order."""
        count = max(1, -(-size // self.block_size))
        ids = [_block_id(nonce, index) for index in range(count)]
        staged = self._staged_blocks(blob, name) if resuming else {}
        todo = [i for i in range(count) if staged.get(ids[i]) != min(self.block_size, size - i * self.block_size)]
        if len(todo) < count:
            log.info("%s: %d of %d blocks are already staged; sending the other %d", name, count - len(todo),
                     count, len(todo))
        stop = threading.Event()

        def stage(index: int) -> None:
            if stop.is_set():
                return
            offset = index * self.block_size
            length = min(self.block_size, size - offset)
            with open(path, "rb") as handle:
                # A fresh window for every attempt: a failed attempt leaves the previous one part-read.
                self._with_attempts(lambda: blob.stage_block(ids[index], FileSlice(handle, offset, length),
                                                             length=length, validate_content=True),
                                    name, f"block {index + 1}/{count}")

        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="dlz-upload") as pool:
            futures = [pool.submit(stage, i) for i in todo]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = next((f for f in done if f.exception() is not None), None)
            if failed is not None:
                stop.set()
                for future in futures:
                    future.cancel()
                wait(futures)
                raise failed.exception()  # type: ignore[misc]
        return ids

    def _staged_blocks(self, blob: Any, name: str) -> dict[str, int]:
        try:
            _committed, uncommitted = self._call(lambda: blob.get_block_list("uncommitted"), name, "block list")
        except LandingZoneError as err:
            if err.status == 404:
                return {}
            raise
        return {block.id: block.size for block in uncommitted or []}

    def _properties(self, blob: Any, name: str) -> Any | None:
        try:
            return self._call(blob.get_blob_properties, name, "properties")
        except LandingZoneError as err:
            if err.status == 404:
                return None
            raise

    # -- errors ------------------------------------------------------------------------------------------------

    def _with_attempts(self, action: Callable[[], Any], name: str, what: str) -> Any:
        errors = self.sdk.exceptions
        for attempt in range(1, self.block_attempts + 1):
            try:
                return self._call(action, name, what, reraise_network=True)
            except (errors.ServiceRequestError, errors.ServiceResponseError, errors.IncompleteReadError):
                if attempt == self.block_attempts:
                    raise LandingZoneError(
                        f"{SERVICE}: {name} {what}: the connection failed {attempt} times", service=SERVICE,
                        attempts=attempt,
                    ) from None
                log.warning("%s %s: the connection failed (attempt %d); sending the block again", name, what,
                            attempt)
        raise AssertionError("unreachable")

    def _call(self, action: Callable[[], Any], name: str, what: str, *, reraise_network: bool = False) -> Any:
        """Run one SDK call; turn its errors into :class:`LandingZoneError` (or :class:`_Refused` for a 403)."""
        errors = self.sdk.exceptions
        try:
            return action()
        except errors.HttpResponseError as exc:
            status = getattr(exc, "status_code", None)
            if status == 403:
                raise _Refused() from None
            code = getattr(exc, "error_code", None)
            code = redact(str(code), self._secrets) if code else None
            raise LandingZoneError(f"{SERVICE}: {what} of {name} failed", status=status, code=code,
                                   service=SERVICE) from None
        except (errors.ServiceRequestError, errors.ServiceResponseError, errors.IncompleteReadError):
            if reraise_network:
                raise
            raise LandingZoneError(f"{SERVICE}: {what} of {name}: the connection failed", service=SERVICE) from None
        except errors.AzureError as exc:
            raise LandingZoneError(f"{SERVICE}: {what} of {name} failed ({type(exc).__name__})",
                                   service=SERVICE) from None


class FileSlice(io.RawIOBase):
    """``length`` bytes of an open binary file from ``offset``, as a seekable stream of their own.

    Reads go through ``os.pread`` (no shared file position), so the blocks of one file can be read by several
    threads at once. The SDK reads the slice in small pieces to hash it, seeks back, and reads it again to send.
    """

    def __init__(self, handle: IO[bytes], offset: int, length: int) -> None:
        super().__init__()
        self._fd = handle.fileno()
        self._offset = offset
        self._length = length
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, position: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._length}[whence]
        self._position = min(max(0, base + position), self._length)
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        # One pread per call, straight into the bytes returned (the SDK asks for 4 KiB at a time to hash).
        left = self._length - self._position
        if size is None or size < 0:
            return self.readall()
        wanted = min(size, left)
        if wanted <= 0:
            return b""
        data = os.pread(self._fd, wanted, self._offset + self._position)
        if not data:  # the file is shorter than it was when the upload began
            raise OSError(f"the file ended {left} bytes before the block's end")
        self._position += len(data)
        return data

    def readall(self) -> bytes:
        parts = []
        while part := self.read(self._length - self._position):
            parts.append(part)
        return b"".join(parts)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def __len__(self) -> int:  # requests takes the body's length from here
        return self._length


def _block_id(nonce: str, index: int) -> str:
    """Same length for every block (the store requires it), unique per upload call and position."""
    return f"{nonce[:24]}-{index:06d}"


class _Digest:
    """The file's hex MD5: given, or computed once, in a thread of its own while the blocks go up."""

    def __init__(self, path: Path, known: str | None) -> None:
        self._path = path
        self._value = known
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            self._value = file_md5(self._path)
        except BaseException as exc:  # handed to the caller of result()
            self._error = exc

    def start(self) -> None:
        if self._value is None and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="dlz-md5", daemon=True)
            self._thread.start()

    def result(self) -> str:
        if self._value is None:
            self.start()
            assert self._thread is not None
            self._thread.join()
            if self._error is not None:
                raise self._error
        assert self._value is not None
        return self._value


def _md5_hex(props: Any) -> str | None:
    value = getattr(getattr(props, "content_settings", None), "content_md5", None)
    if not value:
        return None
    if isinstance(value, str):  # some SDK versions hand back the header's base64 text
        value = base64.b64decode(value)
    return bytes(value).hex()


def _same(props: Any, size: int, md5: str) -> bool:
    return props.size == size and _md5_hex(props) == md5


def _result(name: str, props: Any, md5: str, *, uploaded: bool, replaced: bool = False) -> UploadedFile:
    return UploadedFile(name, int(props.size), md5, props.last_modified, uploaded=uploaded, replaced=replaced)
