"""Zoho CRM data: fields metadata and the Bulk Read API v8, over the seeded data set of ``crm_data``.

* ``GET /crm/v8/settings/fields?module=Leads`` -> ``{"fields": [...]}``
* ``POST /crm/bulk/v8/read`` -> 201, a job ``ADDED``; ``GET /crm/bulk/v8/read/{id}`` shows it ``IN PROGRESS``,
  then ``COMPLETED`` (or ``FAILURE``) with ``result: {page, per_page, count, download_url, more_records,
  next_page_token}``; ``GET {download_url}`` streams the zipped CSV of up to ``per_page`` records.

A job decides which records it reads when it is created (the criteria are judged against the data set and
its modifications at that moment) and renders their values when it runs, so a record modified while a
job runs shows its new values, exactly the race a client must survive. The zip is written to a temporary
file row by row and served from disk; identical queries on an unchanged data set reuse it.

Every CRM call costs ``credits_per_call`` API credits; past ``credit_limit`` (rolling 24 h), calls are
answered 429 ``LIMIT_EXCEEDED`` with the time the credits reset.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
import zipfile
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import islice
from typing import TYPE_CHECKING, Any

from .crm_data import CrmDataSet
from .messages import Request, Response, json_response

if TYPE_CHECKING:
    from .faults import Fault
    from .state import Store

FIELDS_PATH = "/crm/v8/settings/fields"
BULK_READ_PATH = "/crm/bulk/v8/read"
PER_PAGE = 200_000
#: comparator semantics the emulator can pretend to have (Zoho does not document its inclusivity)
COMPARATOR_MODES = ("as_named", "strict", "inclusive")


def owns(path: str) -> bool:
    """True for the paths this module serves."""
    return path.startswith(BULK_READ_PATH) or path.rstrip("/") == FIELDS_PATH


def injected_error(status: int, headers: dict[str, str]) -> Response:
    """A ``status`` fault on a CRM path, in Zoho's error shape."""
    if status == 429:
        return _error(429, "TOO_MANY_REQUESTS", "too many requests", **headers)
    return _error(status, "INTERNAL_ERROR", "Injected failure (emulator fault).", **headers)


def _error(status: int, code: str, message: str, details: dict[str, Any] | None = None, **headers: str) -> Response:
    return json_response(
        status, {"code": code, "details": details or {}, "message": message, "status": "error"}, headers or None
    )


@dataclass
class _Result:
    """A rendered page: the zip on disk and what the job's ``result`` says about it."""

    path: str
    count: int
    more_records: bool
    next_offset: int


@dataclass
class _Job:
    id: str
    module: str
    fields: list[str]
    lo: int  # epoch seconds, half-open [lo, hi)
    hi: int
    offset: int
    page: int
    query: dict[str, Any]
    created: float
    modifications: dict[int, tuple[dict[str, str], int]]
    version: int
    fail: bool = False
    state: str = "ADDED"
    result: _Result | None = None
    link: str = ""
    thread: threading.Thread | None = field(default=None, repr=False)


class ZohoCrm:
    """The emulated CRM org: the data set, Bulk Read jobs, credits and limits.

    :param data: the records (see :class:`CrmDataSet`)
    :param job_seconds: how long a job stays ``ADDED`` then ``IN PROGRESS`` at least (quick by default; 0: the
        job is done by the time its creation is answered)
    :param comparators: ``as_named``; ``strict`` (``greater_equal``/``less_equal`` behave like ``>``/``<``);
        ``inclusive`` (``greater_than``/``less_than`` behave like ``>=``/``<=``)
    :param concurrency: how many jobs may be ``ADDED``/``IN PROGRESS`` at once (more: 429)
    :param downloads_per_minute: result downloads allowed per minute (more: 429), None for no limit
    :param credit_limit: API credits per rolling 24 hours, None for no limit
    :param per_page: records per job (Zoho: 200,000; smaller lets tests chain jobs quickly)
    """

    def __init__(
        self,
        data: CrmDataSet | None = None,
        *,
        job_seconds: float = 0.05,
        comparators: str = "as_named",
        concurrency: int = 10,
        downloads_per_minute: int | None = None,
        credit_limit: int | None = None,
        credits_per_call: int = 1,
        link_seconds: float = 86400.0,
        per_page: int = PER_PAGE,
    ):
        self.data = data or CrmDataSet()
        self.job_seconds = job_seconds
        self.comparators = comparators
        self.concurrency = concurrency
        self.downloads_per_minute = downloads_per_minute
        self.credit_limit = credit_limit
        self.credits_per_call = credits_per_call
        self.link_seconds = link_seconds
        self.per_page = per_page
        self.jobs: dict[str, _Job] = {}
        self.credits: deque[tuple[float, int]] = deque()  # (wall time, credits) of the last 24 h
        self.downloads: deque[float] = deque()
        self._dir = tempfile.mkdtemp(prefix="emulator-crm-")
        self._cache: dict[str, _Result] = {}
        self._cache_lock = threading.Lock()

    def configure(self, **settings: Any) -> None:
        """Change the data set (``seed``, ``records_per_module``, ``start``, ``span``, ``tz``: a new data set,
        modifications forgotten) and the job settings (the constructor's keyword arguments)."""
        data_keys = {"seed", "records_per_module", "start", "span", "tz"}
        job_keys = {"job_seconds", "comparators", "concurrency", "downloads_per_minute", "credit_limit",
                    "credits_per_call", "link_seconds", "per_page"}  # fmt: skip
        unknown = sorted(set(settings) - data_keys - job_keys)
        if unknown:
            raise ValueError(f"unknown CRM setting(s): {', '.join(unknown)}")
        if settings.get("comparators", self.comparators) not in COMPARATOR_MODES:
            raise ValueError(f"comparators must be one of {', '.join(COMPARATOR_MODES)}")
        if data_keys & set(settings):
            d = self.data
            current = {"seed": d.seed, "records_per_module": d.records_per_module, "start": d.start,
                       "span": d.span, "tz": d.tz}  # fmt: skip
            current.update({k: v for k, v in settings.items() if k in data_keys})
            self.data = CrmDataSet(**current)
            with self._cache_lock:
                self._cache.clear()  # rendered pages of the old data set
        for key in job_keys & set(settings):
            setattr(self, key, settings[key])

    def close(self) -> None:
        for job in list(self.jobs.values()):
            if job.thread is not None:
                job.thread.join()
        shutil.rmtree(self._dir, ignore_errors=True)

    # ---- credits ------------------------------------------------------------------------------------

    def credits_used(self) -> int:
        cutoff = time.time() - 86400
        while self.credits and self.credits[0][0] <= cutoff:
            self.credits.popleft()
        return sum(n for _, n in self.credits)

    def _charge(self) -> Response | None:
        if self.credit_limit is not None and self.credits_used() + self.credits_per_call > self.credit_limit:
            oldest = self.credits[0][0] if self.credits else time.time()
            reset = datetime.fromtimestamp(oldest + 86400, timezone.utc).replace(microsecond=0)
            return _error(
                429,
                "LIMIT_EXCEEDED",
                "API credits for the last 24 hours are exhausted",
                {"reset_time": reset.isoformat(), "limit": self.credit_limit},
            )
        self.credits.append((time.time(), self.credits_per_call))
        return None

    # ---- routing ------------------------------------------------------------------------------------

    def handle(self, store: Store, req: Request, fault: Fault | None = None) -> Response:
        from .zoho import authorized

        if not authorized(store, req):
            return _error(401, "INVALID_TOKEN", "invalid oauth token")
        refused = self._charge()
        if refused is not None:
            return refused
        path = req.path.rstrip("/")
        if path == FIELDS_PATH and req.method == "GET":
            return self._fields(req)
        if path == BULK_READ_PATH and req.method == "POST":
            return self._create(req, fault)
        if path.startswith(BULK_READ_PATH + "/") and req.method == "GET":
            rest = path[len(BULK_READ_PATH) + 1 :].split("/")
            if len(rest) == 1:
                return self._status(rest[0])
            if len(rest) == 2 and rest[1] == "result":
                return self._download(rest[0], req, fault)
        return _error(404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one")

    def _fields(self, req: Request) -> Response:
        module = req.query_value("module")
        if not module:
            return _error(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                          {"param_name": "module"})  # fmt: skip
        try:
            return json_response(200, {"fields": self.data.fields(module)})
        except KeyError:
            return _error(400, "INVALID_MODULE", "the module name given seems to be invalid", {"module": module})

    # ---- jobs ---------------------------------------------------------------------------------------

    def _create(self, req: Request, fault: Fault | None) -> Response:
        try:
            body = json.loads(req.body or b"{}")
            query = body["query"]
            module = query["module"]["api_name"]
        except (ValueError, KeyError, TypeError):
            return _error(400, "INVALID_DATA", "the query is not a valid Bulk Read query", {"api_name": "query"})
        try:
            known = self.data.field_names(module)
        except KeyError:
            return _error(400, "INVALID_MODULE", "the module name given seems to be invalid", {"module": module})
        fields = query.get("fields") or known
        unknown = [f for f in fields if f not in known]
        if unknown:
            return _error(400, "INVALID_DATA", "invalid field", {"api_name": unknown[0]})
        if "id" not in fields:
            fields = ["id", *fields]  # Zoho always adds the id column
        try:
            lo, hi = self._window(query.get("criteria"))
        except ValueError as err:
            return _error(400, "INVALID_CRITERIA", str(err))
        offset = 0
        if query.get("page_token"):
            try:
                offset = self._offset_from_token(query["page_token"], module, lo, hi)
            except ValueError:
                return _error(400, "INVALID_DATA", "invalid page_token", {"api_name": "page_token"})
        active = sum(1 for j in self.jobs.values() if j.state in ("ADDED", "IN PROGRESS"))
        if active >= self.concurrency:
            return _error(429, "TOO_MANY_REQUESTS", "too many concurrent bulk read jobs", **{"Retry-After": "1"})
        job = _Job(
            id=str(5725767000010000000 + len(self.jobs) + 1),
            module=module,
            fields=list(fields),
            lo=lo,
            hi=hi,
            offset=offset,
            page=offset // self.per_page + 1,
            query=query,
            created=time.monotonic(),
            modifications=self.data.snapshot_modifications(module),
            version=self.data.version,
            fail=fault is not None and fault.kind == "job_failure",
        )
        self.jobs[job.id] = job
        job.thread = threading.Thread(target=self._run, args=(job,), name=f"bulk-read-{job.id}", daemon=True)
        job.thread.start()
        if self.job_seconds <= 0:
            # No time to spend: the job is done before the answer, so the first look always finds it
            # COMPLETED (no race between this thread and the client's first poll; benchmarks rely on it).
            job.thread.join()
        created = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        return json_response(
            201,
            {
                "data": [
                    {
                        "status": "success",
                        "code": "ADDED_SUCCESSFULLY",
                        "message": "Added successfully.",
                        "details": {"id": job.id, "operation": "read", "state": "ADDED", "created_time": created},
                    }
                ],
                "info": {},
            },
        )

    def _window(self, criteria: Any) -> tuple[int, int]:
        """The half-open epoch-second range a ``Modified_Time`` criteria selects (all records without one)."""
        lo, hi = -(2**62), 2**62
        if not criteria:
            return lo, hi
        items = criteria.get("group") if "group" in criteria else [criteria]
        if "group" in criteria and criteria.get("group_operator", "and").lower() != "and":
            raise ValueError("only 'and' groups are supported by the emulator")
        if not isinstance(items, list) or len(items) > 25:
            raise ValueError("criteria must be a list of at most 25 conditions")
        strict = self.comparators == "strict"
        inclusive = self.comparators == "inclusive"
        for item in items:
            name = (item.get("field") or {}).get("api_name")
            if name != "Modified_Time":
                raise ValueError("the emulator filters on Modified_Time only")
            comparator = item.get("comparator")
            value = item.get("value")
            if comparator == "between":
                if not isinstance(value, list) or len(value) != 2:
                    raise ValueError("between takes two values")
                a, b = (_seconds(v) for v in value)
                lo, hi = max(lo, a), min(hi, b + 1)
                continue
            second = _seconds(value)
            if comparator == "greater_equal":
                lo = max(lo, second + 1 if strict else second)
            elif comparator == "greater_than":
                lo = max(lo, second if inclusive else second + 1)
            elif comparator == "less_than":
                hi = min(hi, second + 1 if inclusive else second)
            elif comparator == "less_equal":
                hi = min(hi, second if strict else second + 1)
            elif comparator == "equal":
                lo, hi = max(lo, second), min(hi, second + 1)
            else:
                raise ValueError(f"comparator {comparator!r} is not supported on Modified_Time by the emulator")
        return lo, hi

    def _token(self, job: _Job, offset: int) -> str:
        raw = json.dumps({"m": job.module, "lo": job.lo, "hi": job.hi, "o": offset}).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _offset_from_token(token: str, module: str, lo: int, hi: int) -> int:
        try:
            raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        except (ValueError, TypeError) as err:
            raise ValueError("bad token") from err
        if raw.get("m") != module or raw.get("lo") != lo or raw.get("hi") != hi or not isinstance(raw.get("o"), int):
            raise ValueError("token of another query")
        return int(raw["o"])

    def _run(self, job: _Job) -> None:
        """The job's work, in its own thread: wait a little, render the page (or reuse it), complete."""
        time.sleep(self.job_seconds / 2)
        job.state = "IN PROGRESS"
        if job.fail:
            time.sleep(self.job_seconds / 2)
            job.state = "FAILURE"
            return
        parts = [job.module, job.fields, job.lo, job.hi, job.offset, job.version, self.per_page]
        key = hashlib.sha256(json.dumps(parts).encode()).hexdigest()
        with self._cache_lock:
            result = self._cache.get(key)
            if result is None or not os.path.exists(result.path):
                result = self._cache[key] = self._render(job, key)
        time.sleep(self.job_seconds / 2)
        job.result = result
        job.link = f"{BULK_READ_PATH}/{job.id}/result"
        job.created = time.monotonic()  # the link's lifetime starts now
        job.state = "COMPLETED"

    def _render(self, job: _Job, key: str) -> _Result:
        """Write the page's CSV into a zip on disk row by row (never one big string)."""
        indexes = self.data.indexes_modified_in(job.module, job.lo, job.hi, job.modifications)
        per_page = self.per_page
        page = islice(indexes, job.offset, job.offset + per_page + 1)
        os.makedirs(self._dir, exist_ok=True)
        path = os.path.join(self._dir, f"{key}.zip")
        count = 0
        more = False
        with (
            zipfile.ZipFile(path + ".tmp", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
            zf.open(f"{job.id}.csv", "w") as raw,
        ):
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=False)
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow(job.fields)
            record = self.data.record
            for index in page:
                if count == per_page:
                    more = True
                    break
                rec = record(job.module, index)
                writer.writerow([rec[f] for f in job.fields])
                count += 1
            text.flush()
            text.detach()
        os.replace(path + ".tmp", path)
        return _Result(path, count, more, job.offset + count)

    def _job_view(self, job: _Job) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": job.id,
            "operation": "read",
            "state": job.state,
            "query": job.query,
            "file_type": "csv",
            "created_by": {"id": "5725767000000411001", "name": "Emulator User"},
        }
        if job.state == "COMPLETED" and job.result is not None:
            view["result"] = {
                "page": job.page,
                "per_page": self.per_page,
                "count": job.result.count,
                "download_url": job.link,
                "more_records": job.result.more_records,
            }
            if job.result.more_records:
                view["result"]["next_page_token"] = self._token(job, job.result.next_offset)
        return view

    def _status(self, job_id: str) -> Response:
        job = self.jobs.get(job_id)
        if job is None:
            return _error(400, "INVALID_DATA", "the job id given seems to be invalid", {"api_name": "id"})
        return json_response(200, {"data": [self._job_view(job)]})

    def _download(self, job_id: str, req: Request, fault: Fault | None) -> Response:
        job = self.jobs.get(job_id)
        if job is None or job.state != "COMPLETED" or job.result is None:
            return _error(400, "INVALID_DATA", "the job has no result to download", {"api_name": "id"})
        expected = job.link.split("?", 1)
        key = expected[1].split("=", 1)[1] if len(expected) == 2 else None
        link_expired = time.monotonic() - job.created > self.link_seconds
        if fault is not None and fault.kind == "link_expired":
            link_expired = True
        if link_expired or req.query_value("key") != key:
            # Zoho does not document the answer; a fresh link appears on the job (read it again).
            job.link = f"{BULK_READ_PATH}/{job.id}/result?key={uuid.uuid4().hex}"
            job.created = time.monotonic()
            return _error(400, "DOWNLOAD_URL_EXPIRED", "the download URL has expired; read the job again")
        if self.downloads_per_minute is not None:
            now = time.monotonic()
            while self.downloads and self.downloads[0] <= now - 60:
                self.downloads.popleft()
            if len(self.downloads) >= self.downloads_per_minute:
                wait = max(1, int(60 - (now - self.downloads[0])) + 1)
                return _error(429, "TOO_MANY_REQUESTS", "too many downloads", **{"Retry-After": str(wait)})
            self.downloads.append(now)
        size = os.path.getsize(job.result.path)
        headers = {"Content-Type": "application/zip", "Content-Disposition": f'attachment; filename="{job.id}.zip"'}
        cut_at = size // 2 if fault is not None and fault.kind == "reset_mid_body" else None
        return Response(200, b"", headers, file=job.result.path, cut_at=cut_at)


def _seconds(value: Any) -> int:
    if not isinstance(value, str):
        raise ValueError("Modified_Time values must be ISO 8601 strings")
    try:
        when = datetime.fromisoformat(value)
    except ValueError as err:
        raise ValueError(f"{value!r} is not an ISO 8601 datetime") from err
    if when.tzinfo is None:
        raise ValueError(f"{value!r} has no offset; Zoho wants one")
    return int((when - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(seconds=1))
