"""Hook for the ``zoho_crm`` connection type: the Connection, access tokens, :meth:`ZohoCRMHook.call` (every CRM
request), Bulk Read jobs, and :meth:`ZohoCRMHook.export_modified_records` with its page writer :func:`write_page`.

A window ``[start, end)`` is exported by Bulk Read jobs chained with ``next_page_token``, each giving a zip of one
CSV. Zoho does not document whether its comparators include their bound, so the criteria reach one second past
each side; each row's ``Modified_Time`` is then compared, as an instant, with the exact window: a record on a
boundary, or edited into another window after a job selected it, lands in one window only. The zip is spooled
(in memory up to :data:`ZIP_IN_MEMORY`), ``zipfile`` streams its member into ``csv``, and a page is written to
``<name>.partial``, renamed once whole; a broken download or a damaged zip is fetched again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import math
import os
import random
import tempfile
import time
import zipfile
import zlib
from collections.abc import Sequence
from datetime import datetime, timezone
from functools import cached_property
from os import PathLike
from pathlib import Path
from typing import IO, Any

import requests

from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError, redact
from airflow_provider_zoho_aep.client.http import HttpTransport, RetryPolicy, parse_retry_after
from airflow_provider_zoho_aep.client.settings import ZohoSettings
from airflow_provider_zoho_aep.client.windows import Window
from airflow_provider_zoho_aep.hooks._connection_form import field_behaviour, form_widgets
from airflow_provider_zoho_aep.version_compat import BaseHook, mask_secret

CRM_API_VERSION = "v8"
BULK_READ_PATH = f"/crm/bulk/{CRM_API_VERSION}/read"
FIELDS_PATH = f"/crm/{CRM_API_VERSION}/settings/fields"
#: Columns every export file has, whatever ``fields`` asks: the key of a record and of its version.
KEY_FIELDS = ("id", "Modified_Time")
#: Reuse a minted access token until this many seconds before it expires (tokens live one hour).
ACCESS_TOKEN_MARGIN_SECONDS = 300.0
#: A downloaded zip up to this size stays in memory; a larger one goes on to an unnamed temporary file.
ZIP_IN_MEMORY = 1 << 20
#: ``bulk_read_options`` and their defaults.
BULK_READ_DEFAULTS: dict[str, float] = {
    "poll_interval": 10.0,  # the longest wait between two looks at a job (from 0.2 s, doubling)
    "job_timeout": 3600.0,  # seconds a job may take
    "throttle_budget": 600.0,  # seconds one call may spend waiting out 429s
    "download_attempts": 5,  # attempts per page (a reset or a damaged zip starts the download again)
    "chunk_size": 1 << 20,  # bytes read per chunk while downloading
}
_SERVICE = "Zoho CRM"
_TOKEN_CODES = frozenset({"INVALID_TOKEN", "INVALID_OAUTHTOKEN", "AUTHENTICATION_FAILURE"})
_EXPIRED_LINK_CODES = frozenset({"DOWNLOAD_URL_EXPIRED", "INVALID_URL", "RESOURCE_NOT_FOUND", "FILE_NOT_FOUND"})
#: What reading a damaged zip raises: no central directory or a bad CRC, a short member, a broken deflate stream.
_DAMAGED_ZIP = (zipfile.BadZipFile, EOFError, zlib.error)
_TOKEN_ERRORS = {
    "invalid_code": "the refresh token is revoked or invalid: generate a new refresh token in Zoho's API console",
    "invalid_client": (
        "Zoho rejected the client ID/secret: check them, and check that extra.accounts_url is the accounts "
        "server of the data centre where the client was registered"
    ),
    "invalid_client_secret": "the client secret is wrong",
    "Access Denied": (
        "Zoho is throttling token refreshes for this refresh token (at most 10 per 10 minutes); wait and retry "
        "later, and avoid refreshing more often than needed"
    ),
    "access_denied": "Zoho refused: too many token requests; wait up to 10 minutes",
}

# Access tokens per (accounts server, client, refresh token digest), shared by every hook of the process: each
# refresh draws on the 10-per-10-minutes budget that Adobe spends for the same refresh token. One get or set of a
# dict is atomic, so threads need no lock.
_cache: dict[tuple[str, ...], tuple[str, float]] = {}


def clear_token_cache() -> None:
    """Forget cached Zoho access tokens (tests)."""
    _cache.clear()


def parse_expiry(body: dict[str, Any]) -> float:
    """Seconds until expiry from either token shape: ``expires_in_sec``, or ``expires_in`` in s or ms."""
    if isinstance(body.get("expires_in_sec"), (int, float)):
        return float(body["expires_in_sec"])
    value = body.get("expires_in")
    if isinstance(value, (int, float)) and value > 0:
        return float(value) / 1000.0 if value > 86_400 else float(value)
    return 3600.0


class ZohoCreditsExhaustedError(AEPAPIError):
    """Zoho's API credits for the rolling 24 hours are used up; ``reset_time`` says when they come back."""

    def __init__(self, message: str, *, reset_time: str | None = None, **fields: Any) -> None:
        self.reset_time = reset_time
        super().__init__(message, **fields)


class BulkReadJobFailedError(AEPAPIError):
    """A Bulk Read job ended in ``FAILURE`` twice in a row (or never finished)."""


class _DownloadBroken(Exception):
    """The download ended early or the zip is damaged."""


def _mask(value: str) -> None:
    mask_secret(value)


class ZohoCRMHook(BaseHook):
    """Zoho CRM: OAuth credentials, access tokens (each masked at once), and the Bulk Read export of a window.

    :param zoho_conn_id: the Airflow Connection ID (type ``zoho_crm``)
    :param timeout: seconds per HTTP request
    :param retry_policy: retries of one HTTP request (5xx, connection errors)
    :param bulk_read_options: Bulk Read settings, any of :data:`BULK_READ_DEFAULTS`: ``poll_interval``,
        ``job_timeout``, ``throttle_budget``, ``download_attempts``, ``chunk_size``
    """

    conn_name_attr = "zoho_conn_id"
    default_conn_name = "zoho_crm_default"
    conn_type = "zoho_crm"
    hook_name = "Zoho CRM"

    def __init__(
        self,
        zoho_conn_id: str = default_conn_name,
        *,
        timeout: float = 30.0,
        retry_policy: RetryPolicy | None = None,
        bulk_read_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.zoho_conn_id = zoho_conn_id
        self.timeout = timeout
        self.retry_policy = retry_policy
        unknown = sorted(set(bulk_read_options or {}) - set(BULK_READ_DEFAULTS))
        if unknown:
            raise ConfigurationError("bulk_read_options", f"has no option {unknown[0]!r}",
                                     f"use {', '.join(BULK_READ_DEFAULTS)}")
        self.bulk_read_options = {**BULK_READ_DEFAULTS, **(bulk_read_options or {})}
        self._token: str | None = None

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        from airflow_provider_zoho_aep.get_provider_info import ZOHO_CONN_FIELDS

        return form_widgets(ZOHO_CONN_FIELDS)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        from airflow_provider_zoho_aep.get_provider_info import ZOHO_UI_FIELD_BEHAVIOUR

        return field_behaviour(ZOHO_UI_FIELD_BEHAVIOUR)

    # ---- the Connection and tokens ------------------------------------------------------------------------

    @cached_property
    def settings(self) -> ZohoSettings:
        """The Connection's fields, validated: URLs https and of one data centre, refresh token present."""
        conn = self.get_connection(self.zoho_conn_id)
        settings = ZohoSettings.from_connection_fields(login=conn.login, password=conn.password, host=conn.host,
                                                       extra=conn.extra,
                                                       source=f"Airflow Connection '{self.zoho_conn_id}' (Zoho CRM)")
        for secret in (settings.client_secret, settings.refresh_token, settings.access_token):
            if secret:
                _mask(secret)
        if settings.outside_adobe_list:
            self.log.warning("Zoho data centre '%s' is not among the five Adobe's Zoho CRM tutorial lists (us, eu, "
                             "in, au, cn); AEP may not accept it", settings.region)
        return settings

    def validate_connection(self) -> ZohoSettings:
        """Read and validate the Airflow Connection without any network call; operators call it first."""
        return self.settings

    @cached_property
    def transport(self) -> HttpTransport:
        """Timeouts, retries of 5xx and connection errors, scrubbed errors; every answer streamed."""
        session = requests.Session()
        session.stream = True
        retry = self.retry_policy or RetryPolicy(max_attempts=3, max_total_seconds=60)
        transport = HttpTransport(timeout=self.timeout, retry=retry, session=session)
        for secret in (self.settings.client_secret, self.settings.refresh_token, self.settings.access_token):
            transport.add_secret(secret)
        return transport

    def get_conn(self) -> HttpTransport:
        """The HTTP transport this hook sends through."""
        return self.transport

    @property
    def _cache_key(self) -> tuple[str, ...]:
        s = self.settings
        return s.accounts_url, s.client_id, hashlib.sha256(s.refresh_token.encode()).hexdigest()[:16]

    def refresh_access_token(self) -> str:
        """Mint an access token from the refresh token. Zoho reports errors in the body, often with HTTP 200;
        none is retried ("Access Denied" lasts up to ten minutes)."""
        s = self.settings
        form = {"grant_type": "refresh_token", "client_id": s.client_id, "client_secret": s.client_secret,
                "refresh_token": s.refresh_token}  # a form body: a query string would end up in proxies' logs
        response = self.transport.request("POST", f"{s.accounts_url}/oauth/v2/token", service="Zoho accounts",
                                          data=form, headers={"Content-Type": "application/x-www-form-urlencoded"},
                                          ok=(200, 400, 401))
        body = _json(response)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            code = str(body["error"]) if body.get("error") else None
            raise AEPAPIError("Zoho token refresh failed", status=response.status_code, code=code,
                              detail=_TOKEN_ERRORS.get(code or "", "the answer carried no access_token"),
                              service="Zoho accounts")
        _mask(token)
        self.transport.add_secret(token)
        api_domain = body.get("api_domain")
        if isinstance(api_domain, str) and api_domain.rstrip("/") != s.endpoint:
            self.log.warning("Zoho reports api_domain %s, which differs from the configured endpoint", api_domain)
        _cache[self._cache_key] = (token, time.time() + parse_expiry(body))
        self._token = token
        return token

    def get_access_token(self, refresh_access_token: bool = True) -> str:
        """A newly minted access token when ``refresh_access_token``, else the cached or stored one."""
        if refresh_access_token:
            return self.refresh_access_token()
        cached = _cache.get(self._cache_key)
        if cached and cached[1] - ACCESS_TOKEN_MARGIN_SECONDS > time.time():
            return cached[0]
        return self.settings.access_token or self.refresh_access_token()

    def get_auth_params(self, refresh_access_token: bool = True) -> dict[str, str]:
        """The six ``auth.params`` of AEP's Zoho CRM connection spec.

        :param refresh_access_token: mint a fresh access token from the refresh token (one call to Zoho's
            accounts server); when False, use the Connection's ``access_token`` (or mint one if it has none)
        :return: ``endpoint``, ``accountsUrl``, ``clientId``, ``clientSecret``, ``accessToken``, ``refreshToken``
        """
        s = self.settings
        return {
            "endpoint": s.endpoint,
            "accountsUrl": s.accounts_url,
            "clientId": s.client_id,
            "clientSecret": s.client_secret,
            "accessToken": self.get_access_token(refresh_access_token),
            "refreshToken": s.refresh_token,
        }

    def test_connection(self) -> tuple[bool, str]:
        """Refresh a token and read the current CRM user: proves client, refresh token and data centre."""
        if self.retry_policy is None:
            self.retry_policy = RetryPolicy(max_attempts=2, max_total_seconds=10)  # a person is waiting
        try:
            self.refresh_access_token()
            body = _json(self.call("GET", f"/crm/{CRM_API_VERSION}/users", params={"type": "CurrentUser"}))
        except (ConfigurationError, AEPAPIError) as err:
            return False, str(err)
        users = body.get("users")
        if not isinstance(users, list) or not users or not isinstance(users[0], dict):
            return False, "Zoho CRM returned no current user"
        user = users[0]
        who = user.get("email") or user.get("full_name") or user.get("id") or "the token owner"
        return True, f"Refreshed a Zoho access token at {self.settings.accounts_url} and read the CRM user {who}."

    # ---- one CRM call ---------------------------------------------------------------------------------------

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One Zoho CRM request to ``{endpoint}{path}``; the caller reads the body.

        A 401 ``INVALID_TOKEN`` mints one new token and asks again. A 429 (concurrency, or 10 downloads a minute)
        waits ``Retry-After`` (else backs off) with jitter, within ``throttle_budget``. Exhausted credits
        (``LIMIT_EXCEEDED``) raise at once: a retry would spend credits other integrations need.
        """
        shown = path.split("?", 1)[0]  # a download link's query is a key to its file: never in a log or error
        started = time.monotonic()
        refreshed = False
        throttles = 0
        while True:
            self._token = self._token or self.get_access_token(refresh_access_token=False)
            response = self.transport.request(method, f"{self.settings.endpoint}{path}", service=_SERVICE,
                                              headers={"Authorization": f"Zoho-oauthtoken {self._token}"},
                                              ok=(200, 201, 202, 204, 400, 401, 404, 410, 429), **kwargs)
            if response.status_code < 400:
                return response
            body = _json(response)
            code = str(body.get("code") or "")
            if code == "LIMIT_EXCEEDED":
                raise self._credits_error(response, body, method, shown)
            if response.status_code == 401 and code in _TOKEN_CODES and not refreshed:
                refreshed = True
                self.refresh_access_token()
                continue
            error = self.transport.error_from_response(response, _SERVICE, method, shown, throttles + 1)
            if response.status_code != 429:
                raise error
            throttles += 1
            wait = parse_retry_after(response.headers.get("Retry-After"))  # with jitter: parallel tasks throttled
            wait = (random.uniform(0.5, 1.0) * min(60.0, 2.0**throttles) if wait is None  # together come back apart
                    else wait + random.uniform(0, min(wait, 1.0)))
            spent, budget = time.monotonic() - started, self.bulk_read_options["throttle_budget"]
            if spent + wait > budget:
                raise error.restated(f"Zoho CRM {method} {shown} was still throttled after {spent:.0f} s (429 "
                                     f"{code or 'Too Many Requests'}; next wait {wait:.0f} s, budget {budget:.0f} s); "
                                     "Zoho limits concurrent calls and bulk downloads", attempts=throttles)
            self.log.info("%s %s: throttled by Zoho (429), waiting %.1f s", method, shown, wait)
            time.sleep(wait)

    def _credits_error(self, response: requests.Response, body: dict[str, Any], method: str, path: str) -> AEPAPIError:
        details = body.get("details")
        reset = (details if isinstance(details, dict) else {}).get("reset_time")
        reset = reset or response.headers.get("X-RATELIMIT-RESET")
        when = f"they reset at {reset}" if reset else "they come back over a rolling 24 hours"
        return ZohoCreditsExhaustedError(
            f"Zoho CRM {method} {path}: the org's API credits are exhausted; {when}. Not retried: every retry "
            "would spend credits other integrations need", reset_time=str(reset) if reset else None,
            status=response.status_code, code="LIMIT_EXCEEDED", service=_SERVICE,
            detail=redact(str(body.get("message") or ""), self.transport.secrets) or None)

    # ---- fields and Bulk Read jobs ----------------------------------------------------------------------

    def resolve_fields(self, module: str, fields: Sequence[str] | None) -> list[str]:
        """The export's columns: ``fields`` in the user's order (else the module's, in Zoho's order), checked
        against the module's metadata, without duplicates; ``id`` and ``Modified_Time`` first when missing."""
        try:
            response = self.call("GET", FIELDS_PATH, params={"module": module})
        except AEPAPIError as err:
            if err.code in ("INVALID_MODULE", "INVALID_DATA") or (err.status == 400 and err.code is None):
                raise ConfigurationError("module", f"Zoho CRM has no module {module!r}",
                                         "pass a module's api_name, e.g. 'Leads'") from None
            raise
        listed = _json(response).get("fields")
        if response.status_code == 204 or not isinstance(listed, list):
            raise ConfigurationError("module", f"Zoho CRM lists no fields for {module!r}", "check the module name")
        names = [str(f["api_name"]) for f in listed if isinstance(f, dict) and f.get("api_name")]
        unknown = [f for f in fields or () if f not in {*names, *KEY_FIELDS}]
        if unknown:
            raise ConfigurationError("fields", f"{module} has no field {unknown[0]!r}",
                                     f"use the API names of the module's fields (e.g. {', '.join(names[:4])})")
        wanted = list(dict.fromkeys(names if fields is None else fields))
        return [*(key for key in KEY_FIELDS if key not in wanted), *wanted]

    def _job(self, job_id: str) -> dict[str, Any]:
        try:
            return {**_json(self.call("GET", f"{BULK_READ_PATH}/{job_id}"))["data"][0], "id": job_id}
        except (KeyError, IndexError, TypeError):
            raise AEPAPIError(f"Zoho CRM answered no state for Bulk Read job {job_id}", service=_SERVICE) from None

    def _run_job(self, query: dict[str, Any]) -> dict[str, Any]:
        """Add a job and poll it, backing off (each look costs a credit); a FAILURE gets one new job."""
        failed: list[str] = []
        while True:
            response = self.call("POST", BULK_READ_PATH, json={"query": query, "file_type": "csv"}, idempotent=False)
            try:
                job_id = str(_json(response)["data"][0]["details"]["id"])
            except (KeyError, IndexError, TypeError):
                raise AEPAPIError("Zoho CRM added a Bulk Read job but named no job ID", service=_SERVICE) from None
            self.log.info("Bulk Read job %s added for %s", job_id, query["module"]["api_name"])
            deadline = time.monotonic() + self.bulk_read_options["job_timeout"]
            delay = 0.2
            while (job := self._job(job_id)).get("state") not in ("COMPLETED", "FAILURE"):
                if time.monotonic() + delay > deadline:
                    raise BulkReadJobFailedError(
                        f"Bulk Read job {job_id} is still {job.get('state') or 'unknown'} after "
                        f"{self.bulk_read_options['job_timeout']:.0f} s", service=_SERVICE)
                time.sleep(delay)
                delay = min(self.bulk_read_options["poll_interval"], delay * 2)
            if job["state"] == "COMPLETED":
                return job
            failed.append(job_id)
            if len(failed) == 2:
                raise BulkReadJobFailedError(
                    f"Zoho CRM Bulk Read jobs {failed[0]} and {job_id} both ended in FAILURE; Zoho gives no reason "
                    "in the job. Check the module's fields and the org's Bulk Read limits, then re-run",
                    service=_SERVICE)
            self.log.warning("Bulk Read job %s ended in FAILURE; adding one new job", job_id)

    # ---- the export -------------------------------------------------------------------------------------

    def export_modified_records(
        self,
        module: str,
        window_start: datetime,
        window_end: datetime,
        *,
        fields: Sequence[str] | None = None,
        out_dir: str | PathLike[str],
    ) -> dict[str, Any]:
        """Export the records of ``module`` whose ``Modified_Time`` is in ``[window_start, window_end)`` into
        CSV files (UTF-8, RFC 4180), one per Bulk Read page; unknown fields fail before any job.

        :param module: the module's API name, e.g. ``Leads``
        :param window_start: start of the window, included (timezone-aware)
        :param window_end: end of the window, excluded (timezone-aware, not in the future)
        :param fields: field API names to export, in this order; None exports every field. ``id`` and
            ``Modified_Time`` are always exported: when missing, they are put first, in that order
        :param out_dir: folder for the CSV files (created if missing)
        :return: the manifest: ``module``, ``window_start``, ``window_end`` (ISO 8601 with offset), ``fields``,
            ``records``, ``bytes``, ``files`` (each ``path``, ``records``, ``bytes``, ``sha256``); no file
            when the window holds no record
        """
        from airflow_provider_zoho_aep.validation import check_export_arguments

        window = check_export_arguments(module, window_start, window_end, fields, out_dir)
        self.validate_connection()
        columns = self.resolve_fields(module, fields)
        os.makedirs(out_dir, exist_ok=True)
        lower, upper = query_bounds(window)
        query: dict[str, Any] = {
            "module": {"api_name": module},
            "fields": columns,
            "criteria": {"group_operator": "and", "group": [
                {"field": {"api_name": "Modified_Time"}, "comparator": "greater_equal", "value": lower},
                {"field": {"api_name": "Modified_Time"}, "comparator": "less_equal", "value": upper},
            ]},
        }  # fmt: skip
        stem = os.path.join(out_dir, f"{module}_{_stamp(window.start)}_{_stamp(window.end)}")
        files: list[dict[str, Any]] = []
        for page in itertools.count(1):
            job = self._run_job(query)
            result = job.get("result") or {}
            self.log.info("Bulk Read job %s: page %d holds %s record(s)", job["id"], page, result.get("count") or 0)
            if int(result.get("count") or 0) > 0:
                written = self._export_page(job, columns, window, f"{stem}_part{page:04d}.csv")
                files.extend([written] if written else [])
            if not result.get("more_records"):
                break
            if not result.get("next_page_token"):
                raise AEPAPIError(f"Bulk Read job {job['id']} has more records but no next_page_token",
                                  service=_SERVICE)
            query = {**query, "page_token": result["next_page_token"]}
        manifest = {"module": module, "window_start": window.start.isoformat(), "window_end": window.end.isoformat(),
                    "fields": columns, "records": sum(f["records"] for f in files),
                    "bytes": sum(f["bytes"] for f in files), "files": files}
        self.log.info("Exported %d %s record(s) modified in [%s, %s) into %d file(s), %d bytes", manifest["records"],
                      module, manifest["window_start"], manifest["window_end"], len(files), manifest["bytes"])
        return manifest

    def _export_page(self, job: dict[str, Any], columns: list[str], window: Window, out_path: str
                     ) -> dict[str, Any] | None:
        """Download a job's zip and write its rows of the window; a broken download is fetched again
        (``download_attempts`` in all), an expired link read again from the job (twice)."""
        attempts, rereads = 0, 0
        with _Spool(ZIP_IN_MEMORY) as spool:  # unnamed once on disk: nothing is left behind by a killed task
            while True:
                try:
                    link = _link_path(self.settings.endpoint, str((job.get("result") or {}).get("download_url") or ""))
                    with self.call("GET", link) as response:
                        spool.seek(0)
                        spool.truncate()
                        for chunk in response.iter_content(int(self.bulk_read_options["chunk_size"])):
                            spool.write(chunk)
                        expected = response.headers.get("Content-Length")
                        if expected is not None and int(expected) != spool.tell():
                            raise _DownloadBroken(f"got {spool.tell()} of {expected} bytes")
                    spool.seek(0)
                    return write_page(spool, columns, window, out_path)
                except AEPAPIError as err:
                    if err.code not in _EXPIRED_LINK_CODES and err.status not in (404, 410):
                        raise
                    if rereads == 2:
                        raise AEPAPIError(f"the download link of Bulk Read job {job['id']} expired again after "
                                          "reading the job", service=_SERVICE) from None
                    rereads += 1
                    self.log.info("The download link of Bulk Read job %s expired; reading the job again", job["id"])
                    job = self._job(job["id"])
                except (_DownloadBroken, requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as err:
                    attempts += 1
                    reason = err if isinstance(err, _DownloadBroken) else type(err).__name__  # no URL in the text
                    if attempts >= self.bulk_read_options["download_attempts"]:
                        raise AEPAPIError(f"the result of Bulk Read job {job['id']} could not be downloaded whole "
                                          f"in {attempts} attempts ({reason})", service=_SERVICE,
                                          attempts=attempts) from None
                    wait = random.uniform(0, min(30.0, 0.5 * 2**attempts))
                    self.log.warning("Download of Bulk Read job %s broke off (%s); again in %.1f s", job["id"],
                                     reason, wait)
                    time.sleep(wait)


# ---- the page writer and its helpers ----------------------------------------------------------------------


def write_page(zip_file: IO[bytes], columns: list[str], window: Window, out_path: str) -> dict[str, Any] | None:
    """Write the rows of a Bulk Read zip whose ``Modified_Time`` is in ``window`` into ``out_path``, in the order
    of ``columns``; the file appears under its name only once whole; no file, and None, when no row is kept.

    :param zip_file: the zip, a binary file open for reading (left open)
    :return: the manifest's entry for the file: ``path``, ``records``, ``bytes``, ``sha256``
    :raises _DownloadBroken: the zip is damaged (truncated, a bad CRC): download it again
    """
    partial = out_path + ".partial"
    records = 0
    try:
        with zipfile.ZipFile(zip_file) as archive:
            members = [i for i in archive.infolist() if i.filename.lower().endswith(".csv")]
            if len(members) != 1:
                raise AEPAPIError(f"a Bulk Read result holds {len(members)} CSV files, not one", service=_SERVICE)
            with archive.open(members[0]) as member, open(partial, "w", encoding="utf-8", newline="") as out:
                rows = csv.reader(io.TextIOWrapper(member, encoding="utf-8-sig", newline=""), strict=True)
                header = next(rows, None)
                if not header:
                    raise AEPAPIError("a Bulk Read result CSV has no header", service=_SERVICE)
                missing = [c for c in columns if c not in header]
                if missing:
                    raise AEPAPIError(f"a Bulk Read result lacks the column(s) {', '.join(missing)}",
                                      service=_SERVICE)
                pick, at, width = [header.index(c) for c in columns], header.index("Modified_Time"), len(header)
                writer = csv.writer(out, lineterminator="\r\n")
                writer.writerow(columns)
                for row in rows:
                    if len(row) != width:
                        raise AEPAPIError(f"a Bulk Read result row has {len(row)} columns, the header {width}",
                                          service=_SERVICE)
                    if in_window(row[at], window):
                        writer.writerow([row[i] for i in pick])
                        records += 1
    except BaseException as err:
        Path(partial).unlink(missing_ok=True)
        if isinstance(err, _DAMAGED_ZIP):
            raise _DownloadBroken(f"the Bulk Read result is not a whole zip ({err})") from None
        if isinstance(err, (csv.Error, UnicodeDecodeError)):
            if not _intact(zip_file):  # a damaged member can fail to parse before its CRC is checked at its end
                raise _DownloadBroken("the Bulk Read result's CRC does not match") from None
            raise AEPAPIError("a Bulk Read result is not well-formed UTF-8 CSV", detail=str(err)[:200],
                              service=_SERVICE) from None
        raise
    if records == 0:
        Path(partial).unlink(missing_ok=True)
        return None
    digest = hashlib.sha256()
    with open(partial, "rb") as written:
        while chunk := written.read(1 << 20):
            digest.update(chunk)
    os.replace(partial, out_path)
    return {"path": out_path, "records": records, "bytes": os.path.getsize(out_path), "sha256": digest.hexdigest()}


def in_window(value: str, window: Window) -> bool:
    """Whether Zoho's ``Modified_Time`` text (ISO 8601 with the user's offset) is in ``window``, as an instant."""
    try:
        when = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        raise AEPAPIError("Zoho CRM returned a Modified_Time that is not ISO 8601", detail=value[:40],
                          service=_SERVICE) from None
    if when.tzinfo is None:
        raise AEPAPIError("Zoho CRM returned a Modified_Time without an offset", detail=value[:40], service=_SERVICE)
    return window.start <= when < window.end  # aware datetimes compare as instants: in UTC, whatever the offset


def zoho_datetime(when: datetime) -> str:
    """Zoho's datetime format: ISO 8601, whole seconds, with the offset (``2026-01-01T00:00:00+00:00``)."""
    return when.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def query_bounds(window: Window) -> tuple[str, str]:
    """The criteria values: one second wider than the window on each side (see the module docstring)."""
    lower = datetime.fromtimestamp(math.floor(window.start.timestamp()) - 1, timezone.utc)
    upper = datetime.fromtimestamp(math.ceil(window.end.timestamp()), timezone.utc)
    return zoho_datetime(lower), zoho_datetime(upper)


def _intact(zip_file: IO[bytes]) -> bool:
    try:
        zip_file.seek(0)
        with zipfile.ZipFile(zip_file) as archive:
            return archive.testzip() is None
    except _DAMAGED_ZIP:
        return False


class _Spool(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
    """A downloaded zip: in memory up to ``max_size``, then in an unnamed temporary file."""

    def seekable(self) -> bool:
        return True  # both homes are; Python 3.10's SpooledTemporaryFile lacks the method zipfile calls


def _link_path(endpoint: str, link: str) -> str:
    """A job's ``download_url`` as a path on the CRM endpoint; elsewhere is refused (it would get the token)."""
    if not link:
        raise AEPAPIError("a completed Bulk Read job names no download_url", service=_SERVICE)
    if link.startswith(("http://", "https://")):
        if not link.startswith(endpoint + "/"):
            raise AEPAPIError("a Bulk Read download_url points outside the CRM API endpoint", service=_SERVICE)
        return link[len(endpoint):]
    return link if link.startswith("/") else "/" + link


def _stamp(when: datetime) -> str:
    text = when.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S")
    return text + (f".{when.microsecond:06d}" if when.microsecond else "") + "Z"


def _json(response: requests.Response) -> dict[str, Any]:
    """The body as a JSON object; ``{}`` when it is none."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
