"""Export one window of one Zoho CRM module with the Bulk Read API v8, streamed to plain CSV files.

The protocol: ``POST /crm/bulk/v8/read`` adds a job; ``GET /crm/bulk/v8/read/{id}`` until it is ``COMPLETED``;
``GET {download_url}`` gives a zip holding one CSV of up to 200,000 records; ``more_records`` means a new job
with ``page_token = next_page_token`` reads the next 200,000.

What a careful client does here, and this one does:

* **Exact windows.** Records whose ``Modified_Time`` is in ``[window_start, window_end)``, each window's
  boundary record in exactly one window. Zoho does not document whether its comparators include the bound,
  so the criteria ask for a window one second wider on each side than needed (``greater_equal start - 1 s``,
  ``less_equal ceil(end)``): whether Zoho reads them as ``>=``/``<=`` or as ``>``/``<``, every record of the
  window is in the answer. Each row's ``Modified_Time`` is then parsed (it carries the user's offset) and
  compared in UTC against the exact half-open window; the extra rows are dropped. The same check drops a row
  that a job selected but rendered after the record was modified into another window.
* **Streaming.** The zip is downloaded in chunks to a temporary file (kept in memory while it is at most
  1 MiB, a page of some 40,000 records: a small page never touches the disk); the CSV is read block by block
  from it and written block by block; byte count and SHA-256 are computed as the bytes are written. Memory
  does not grow with the record count.
* **Never a truncated or doubled file.** A page is written to ``<name>.partial`` and renamed only once the
  whole zip was read (the zip's CRC is checked); a failed download is retried from scratch.
* **Limits.** 429 (concurrency, the 10-downloads-a-minute limit) waits ``Retry-After`` or backs off, within a
  time budget; exhausted API credits (``LIMIT_EXCEEDED``) raise at once with the reset time (retrying only
  burns what is left); a job ending in ``FAILURE`` gets one new job; an expired download link is re-read from
  the job; a 401 ``INVALID_TOKEN`` mints one new access token (Zoho allows 10 a 10 minutes).
"""

from __future__ import annotations

import logging
import math
import os
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import IO, Any

import requests

from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError, redact
from airflow_provider_zoho_aep.client.http import HttpTransport, parse_retry_after
from airflow_provider_zoho_aep.client.windows import Window
from airflow_provider_zoho_aep.client.zoho import CRM_API_VERSION, ZohoClient
from airflow_provider_zoho_aep.client.zoho_csv import DownloadBroken, PageFile, WindowFilter, write_page

log = logging.getLogger(__name__)

BULK_READ_PATH = f"/crm/bulk/{CRM_API_VERSION}/read"
FIELDS_PATH = f"/crm/{CRM_API_VERSION}/settings/fields"
#: Columns every export file has, whatever ``fields`` asks: the key of a record and of its version.
KEY_FIELDS = ("id", "Modified_Time")
_TOKEN_CODES = frozenset({"INVALID_TOKEN", "INVALID_OAUTHTOKEN", "AUTHENTICATION_FAILURE"})
_EXPIRED_LINK_CODES = frozenset({"DOWNLOAD_URL_EXPIRED", "INVALID_URL", "RESOURCE_NOT_FOUND", "FILE_NOT_FOUND"})
_SERVICE = "Zoho CRM"
#: A downloaded zip up to this size stays in memory; a larger one goes on to an unnamed temporary file.
ZIP_IN_MEMORY = 1 << 20


class ZohoCreditsExhaustedError(AEPAPIError):
    """Zoho's API credits for the rolling 24 hours are used up; ``reset_time`` says when they come back."""

    def __init__(self, message: str, *, reset_time: str | None = None, **fields: Any) -> None:
        self.reset_time = reset_time
        super().__init__(message, **fields)


class BulkReadJobFailedError(AEPAPIError):
    """A Bulk Read job ended in ``FAILURE`` twice in a row (or never finished)."""


def zoho_datetime(when: datetime) -> str:
    """Zoho's datetime format: ISO 8601, whole seconds, with the offset (``2026-01-01T00:00:00+00:00``)."""
    return when.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def query_bounds(window: Window) -> tuple[str, str]:
    """The criteria values: one second wider than the window on each side (see the module docstring)."""
    start_s = math.floor(window.start.timestamp())
    end_s = math.ceil(window.end.timestamp())
    lower = datetime.fromtimestamp(start_s - 1, timezone.utc)
    upper = datetime.fromtimestamp(end_s, timezone.utc)
    return zoho_datetime(lower), zoho_datetime(upper)


# ---- the client ---------------------------------------------------------------------------------------


class ZohoBulkReadClient:
    """Bulk Read jobs and their results, with Zoho's limits handled.

    :param zoho: the Zoho client that holds the credentials and mints access tokens (only when needed)
    :param transport: the HTTP transport (timeouts, 5xx and connection retries)
    :param poll_interval: the longest wait between two looks at a job (starts at 0.2 s, doubles up to this)
    :param job_timeout: seconds a job may take before the export gives up
    :param throttle_budget: seconds one call may spend waiting out 429s
    :param download_attempts: attempts per result download (a reset or a damaged zip starts it again)
    :param chunk_size: bytes read per chunk while downloading
    """

    def __init__(
        self,
        zoho: ZohoClient,
        transport: HttpTransport,
        *,
        poll_interval: float = 10.0,
        job_timeout: float = 3600.0,
        throttle_budget: float = 600.0,
        download_attempts: int = 5,
        chunk_size: int = 1 << 20,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.zoho = zoho
        self.transport = transport
        self.poll_interval = poll_interval
        self.job_timeout = job_timeout
        self.throttle_budget = throttle_budget
        self.download_attempts = download_attempts
        self.chunk_size = chunk_size
        self._sleep = sleep
        self._clock = clock
        self._rng = random.Random()
        self._token: str | None = None

    @property
    def endpoint(self) -> str:
        return self.zoho.settings.endpoint

    # ---- one call, with tokens and 429s --------------------------------------------------------------

    def _auth(self, refresh: bool = False) -> dict[str, str]:
        if refresh or self._token is None:
            self._token = self.zoho.access_token(refresh=refresh)
        return {"Authorization": f"Zoho-oauthtoken {self._token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One CRM API call: 401 INVALID_TOKEN mints one new token; 429 waits within the budget."""
        started = self._clock()
        refreshed = False
        throttles = 0
        while True:
            response = self.transport.request(
                method,
                f"{self.endpoint}{path}",
                service=_SERVICE,
                headers=self._auth(),
                ok=(200, 201, 202, 204, 400, 401, 404, 410, 429),
                **kwargs,
            )
            if response.status_code < 400:
                return response
            body = _json(response)
            code = str(body.get("code") or "") if isinstance(body, dict) else ""
            if code == "LIMIT_EXCEEDED":
                raise self._credits_error(response, body, method, path)
            if response.status_code == 401 and code in _TOKEN_CODES and not refreshed:
                refreshed = True
                self._auth(refresh=True)
                continue
            if response.status_code == 429:
                throttles += 1
                self._wait_out_429(response, code, method, path, started, throttles)
                continue
            raise self.transport.error_from_response(response, _SERVICE, method, path)

    def _wait_out_429(
        self, response: requests.Response, code: str, method: str, path: str, started: float, throttles: int
    ) -> None:
        """Sleep as Zoho asks (``Retry-After``, else backing off), or raise once the budget would be overrun.

        A 429 means the call was not processed (Zoho's concurrency limit, or its 10 downloads a minute), so
        calling again is safe; jitter keeps parallel tasks from coming back together.
        """
        wait = parse_retry_after(response.headers.get("Retry-After"))
        if wait is None:
            wait = self._rng.uniform(0.5, 1.0) * min(60.0, 2.0**throttles)
        else:
            wait += self._rng.uniform(0, min(wait, 1.0))
        if self._clock() - started + wait > self.throttle_budget:
            raise self.transport.error_from_response(response, _SERVICE, method, path, throttles).restated(
                f"Zoho CRM {method} {path} was still throttled after {self._clock() - started:.0f} s "
                f"(429 {code or 'Too Many Requests'}; next wait {wait:.0f} s, budget {self.throttle_budget:.0f} s); "
                "Zoho limits concurrent calls and bulk downloads",
                attempts=throttles,
            )
        log.info("%s %s: throttled by Zoho (429), waiting %.1f s", method, path, wait)
        self._sleep(wait)

    def _credits_error(self, response: requests.Response, body: Any, method: str, path: str) -> AEPAPIError:
        details = body.get("details") if isinstance(body.get("details"), dict) else {}
        reset = details.get("reset_time") or response.headers.get("X-RATELIMIT-RESET")
        when = f"they reset at {reset}" if reset else "they come back over a rolling 24 hours"
        return ZohoCreditsExhaustedError(
            f"Zoho CRM {method} {path}: the org's API credits are exhausted; {when}. Not retried: every retry "
            "would spend credits other integrations need",
            reset_time=str(reset) if reset else None,
            status=response.status_code,
            code="LIMIT_EXCEEDED",
            detail=redact(str(body.get("message") or ""), self.transport.secrets) or None,
            service=_SERVICE,
        )

    # ---- metadata -----------------------------------------------------------------------------------

    def module_fields(self, module: str) -> list[dict[str, Any]]:
        """Zoho's fields metadata of ``module``; an unknown module is a :class:`ConfigurationError`."""
        try:
            response = self.call("GET", FIELDS_PATH, params={"module": module})
        except AEPAPIError as err:
            if err.code in ("INVALID_MODULE", "INVALID_DATA") or (err.status == 400 and err.code is None):
                raise ConfigurationError(
                    "module", f"Zoho CRM has no module {module!r}", "pass a module's api_name, e.g. 'Leads'"
                ) from None
            raise
        body = _json(response)
        fields = body.get("fields") if isinstance(body, dict) else None
        if response.status_code == 204 or not isinstance(fields, list):
            raise ConfigurationError("module", f"Zoho CRM lists no fields for {module!r}", "check the module name")
        return fields

    def resolve_fields(self, module: str, fields: Sequence[str] | None) -> list[str]:
        """The export's columns: ``fields`` checked against the metadata (all fields when None), with
        ``id`` first and ``Modified_Time`` always present."""
        names = [str(f.get("api_name")) for f in self.module_fields(module) if f.get("api_name")]
        if fields is None:
            wanted = list(names)
        else:
            known = set(names) | {"id"}
            unknown = [f for f in fields if f not in known]
            if unknown:
                raise ConfigurationError(
                    "fields",
                    f"{module} has no field {unknown[0]!r}",
                    f"use the API names of the module's fields (e.g. {', '.join(names[:4])})",
                )
            wanted = list(dict.fromkeys(fields))
        # Modified_Time first: each record's line then starts with its time, which lets the page be filtered
        # at the speed of a byte copy (see zoho_csv); id second, as Zoho always includes it.
        return ["Modified_Time", "id", *(f for f in wanted if f not in KEY_FIELDS)]

    # ---- jobs ---------------------------------------------------------------------------------------

    def create_job(self, query: dict[str, Any]) -> str:
        response = self.call("POST", BULK_READ_PATH, json={"query": query, "file_type": "csv"}, idempotent=False)
        body = _json(response)
        try:
            return str(body["data"][0]["details"]["id"])
        except (KeyError, IndexError, TypeError):
            raise AEPAPIError("Zoho CRM added a Bulk Read job but named no job ID", service=_SERVICE) from None

    def job(self, job_id: str) -> dict[str, Any]:
        body = _json(self.call("GET", f"{BULK_READ_PATH}/{job_id}"))
        try:
            return dict(body["data"][0])
        except (KeyError, IndexError, TypeError):
            raise AEPAPIError(f"Zoho CRM answered no state for Bulk Read job {job_id}", service=_SERVICE) from None

    def wait_for_job(self, job_id: str) -> dict[str, Any]:
        """Poll the job until it ends (backing off: every look costs an API credit)."""
        deadline = self._clock() + self.job_timeout
        delay = 0.2
        while True:
            job = self.job(job_id)
            state = str(job.get("state") or "")
            if state in ("COMPLETED", "FAILURE"):
                return job
            if self._clock() + delay > deadline:
                raise BulkReadJobFailedError(
                    f"Bulk Read job {job_id} is still {state or 'unknown'} after {self.job_timeout:.0f} s",
                    service=_SERVICE,
                )
            self._sleep(delay)
            delay = min(self.poll_interval, delay * 2)

    def run_job(self, query: dict[str, Any]) -> dict[str, Any]:
        """Add a job and wait for it; a job that ends in FAILURE gets one new job, then an error."""
        first_failed: str | None = None
        for _ in range(2):
            job_id = self.create_job(query)
            log.info("Bulk Read job %s added for %s", job_id, query["module"]["api_name"])
            job = self.wait_for_job(job_id)
            if job.get("state") == "COMPLETED":
                job.setdefault("id", job_id)
                return job
            if first_failed is not None:
                raise BulkReadJobFailedError(
                    f"Zoho CRM Bulk Read jobs {first_failed} and {job_id} both ended in FAILURE; Zoho gives no "
                    "reason in the job. Check the module's fields and the org's Bulk Read limits, then re-run",
                    service=_SERVICE,
                )
            first_failed = job_id
            log.warning("Bulk Read job %s ended in FAILURE; adding one new job", job_id)
        raise AssertionError("unreachable")

    # ---- downloads ----------------------------------------------------------------------------------

    def download(self, job: dict[str, Any], target: IO[bytes]) -> dict[str, Any]:
        """Download the job's zip into ``target`` (emptied first), whole. Returns the job as last read (the link
        may change)."""
        job_id = str(job["id"])
        link_rereads = 0
        for attempt in range(1, self.download_attempts + 1):
            url = _absolute(self.endpoint, str((job.get("result") or {}).get("download_url") or ""))
            try:
                self._fetch(url, target)
                return job
            except _LinkExpired:
                if link_rereads >= 2:
                    raise AEPAPIError(
                        f"the download link of Bulk Read job {job_id} expired again after reading the job",
                        service=_SERVICE,
                    ) from None
                link_rereads += 1
                log.info("The download link of Bulk Read job %s expired; reading the job again", job_id)
                job = {**self.job(job_id), "id": job_id}
            except (DownloadBroken, requests.ConnectionError, requests.Timeout) as err:
                reason = err if isinstance(err, DownloadBroken) else type(err).__name__
                if attempt == self.download_attempts:
                    raise AEPAPIError(
                        f"the result of Bulk Read job {job_id} could not be downloaded whole in "
                        f"{attempt} attempts ({reason})",
                        service=_SERVICE,
                        attempts=attempt,
                    ) from None
                wait = self._rng.uniform(0, min(30.0, 0.5 * 2**attempt))
                log.warning("Download of Bulk Read job %s broke off (%s); again in %.1f s", job_id, reason, wait)
                self._sleep(wait)
        raise AssertionError("unreachable")

    def _fetch(self, url: str, target: IO[bytes]) -> None:
        started = self._clock()
        throttles = 0
        refreshed = False
        while True:
            response = self.transport.session.get(
                url, headers=self._auth(), stream=True, timeout=self.transport.timeout, allow_redirects=False
            )
            with response:
                path = url.split("?", 1)[0].replace(self.endpoint, "")
                log.info("GET %s -> %d", path, response.status_code)
                if response.status_code == 200:
                    expected = response.headers.get("Content-Length")
                    written = 0
                    target.seek(0)
                    target.truncate()
                    try:
                        for chunk in response.iter_content(self.chunk_size):
                            target.write(chunk)
                            written += len(chunk)
                    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as err:
                        raise DownloadBroken(f"the connection broke after {written} bytes") from err
                    if expected is not None and int(expected) != written:
                        raise DownloadBroken(f"got {written} of {expected} bytes")
                    return
                body = _json(response)
                code = str(body.get("code") or "") if isinstance(body, dict) else ""
                if code == "LIMIT_EXCEEDED":
                    raise self._credits_error(response, body, "GET", path)
                if response.status_code == 401 and code in _TOKEN_CODES and not refreshed:
                    refreshed = True
                    self._auth(refresh=True)
                    continue
                if response.status_code == 429:
                    throttles += 1
                    self._wait_out_429(response, code, "GET", path, started, throttles)
                    continue
                if code in _EXPIRED_LINK_CODES or response.status_code in (404, 410):
                    raise _LinkExpired()
                if response.status_code in (500, 502, 503, 504):
                    raise DownloadBroken(f"HTTP {response.status_code}")
                raise self.transport.error_from_response(response, _SERVICE, "GET", path)

    # ---- the export ---------------------------------------------------------------------------------

    def export(
        self,
        module: str,
        window: Window,
        columns: list[str],
        out_dir: str,
        *,
        work_dir: str | None = None,
    ) -> dict[str, Any]:
        """Export the records of ``module`` modified in ``window`` into CSV files in ``out_dir``."""
        os.makedirs(out_dir, exist_ok=True)
        lower, upper = query_bounds(window)
        query: dict[str, Any] = {
            "module": {"api_name": module},
            "fields": columns,
            "criteria": {
                "group_operator": "and",
                "group": [
                    {"field": {"api_name": "Modified_Time"}, "comparator": "greater_equal", "value": lower},
                    {"field": {"api_name": "Modified_Time"}, "comparator": "less_equal", "value": upper},
                ],
            },
        }
        keep = WindowFilter(window)
        stem = f"{module}_{_stamp(window.start)}_{_stamp(window.end)}"
        files: list[dict[str, Any]] = []
        page = 0
        while True:
            page += 1
            job = self.run_job(query)
            result = job.get("result") or {}
            count = int(result.get("count") or 0)
            log.info("Bulk Read job %s: page %d holds %d record(s)", job.get("id"), page, count)
            if count > 0:
                # Unnamed once on disk: nothing is left behind, even by a killed task.
                with _ZipSpool(ZIP_IN_MEMORY, dir=work_dir) as zip_file:
                    written = self._download_and_write(
                        job, zip_file, columns, keep, os.path.join(out_dir, f"{stem}_part{page:04d}.csv")
                    )
                if written is not None:
                    files.append(
                        {
                            "path": written.path,
                            "records": written.records,
                            "bytes": written.bytes,
                            "sha256": written.sha256,
                        }
                    )
            token = result.get("next_page_token")
            if not result.get("more_records"):
                break
            if not token:
                raise AEPAPIError(
                    f"Bulk Read job {job.get('id')} has more records but no next_page_token", service=_SERVICE
                )
            query = {**query, "page_token": token}
            query.pop("page", None)
        return {
            "module": module,
            "window_start": window.start.isoformat(),
            "window_end": window.end.isoformat(),
            "fields": list(columns),
            "records": sum(f["records"] for f in files),
            "bytes": sum(f["bytes"] for f in files),
            "files": files,
        }

    def _download_and_write(
        self, job: dict[str, Any], zip_file: IO[bytes], columns: list[str], keep: WindowFilter, out_path: str
    ) -> PageFile | None:
        """Download and convert one page; a zip that turns out damaged is downloaded again (bounded)."""
        for attempt in range(1, self.download_attempts + 1):
            job = self.download(job, zip_file)
            try:
                return write_page(zip_file, columns, keep, out_path)
            except DownloadBroken as err:
                if attempt == self.download_attempts:
                    raise AEPAPIError(
                        f"the result of Bulk Read job {job.get('id')} is damaged: {err}", service=_SERVICE
                    ) from None
                log.warning("The result of Bulk Read job %s is damaged (%s); downloading again", job.get("id"), err)
        raise AssertionError("unreachable")


class _LinkExpired(Exception):
    pass


class _ZipSpool(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
    """A downloaded zip: in memory up to ``max_size``, then in an unnamed temporary file."""

    def seekable(self) -> bool:
        return True  # both homes are; Python 3.10's SpooledTemporaryFile lacks the method zipfile calls


def _absolute(endpoint: str, link: str) -> str:
    if not link:
        raise AEPAPIError("a completed Bulk Read job names no download_url", service=_SERVICE)
    if link.startswith(("http://", "https://")):
        if not link.startswith(endpoint + "/"):
            raise AEPAPIError("a Bulk Read download_url points outside the CRM API endpoint", service=_SERVICE)
        return link
    return f"{endpoint}{link if link.startswith('/') else '/' + link}"


def _stamp(when: datetime) -> str:
    text = when.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S")
    return text + (f".{when.microsecond:06d}" if when.microsecond else "") + "Z"


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}


__all__ = [
    "KEY_FIELDS",
    "BulkReadJobFailedError",
    "ZohoBulkReadClient",
    "ZohoCreditsExhaustedError",
    "query_bounds",
    "write_page",
    "zoho_datetime",
]
