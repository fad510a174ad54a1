"""The in-memory store: resources, tokens, switches, and how a run progresses over time.

One ``RLock`` guards everything; the server holds it while a handler runs, so handlers need no locking.
Stored records hold exactly the public item fields, except runs, whose timing and outcome live in
private keys starting with ``_`` (``run_view`` turns them into the status Adobe shows).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Record counts of a finished run (deterministic, so tests can assert them).
RUN_RECORDS = 120
RUN_BYTES_PER_RECORD = 256
#: The CloudStorageToAEP flow spec: its runs read files from the landing zone (emulator/landing_zone.py).
CLOUD_STORAGE_FLOW_SPEC_ID = "9753525b-82c7-4dce-8a9b-5ccfce2b9876"


def now_ms() -> int:
    return int(time.time() * 1000)


def new_etag() -> str:
    """An etag the way Adobe writes it: a quoted id."""
    return f'"{uuid.uuid4()}"'


#: What a state file keeps: the resources, not tokens or switches.
PERSISTED = ("connections", "source_connections", "target_connections", "flows", "runs", "last_run_ids")


@dataclass
class IssuedToken:
    client_id: str
    expires_at: float  # time.monotonic()


class Store:
    """Everything the emulator remembers. ``reset()`` brings it back to the constructor values."""

    def __init__(self, run_duration: float = 2.0, ims_token_ttl: int = 86399, zoho_token_ttl: int = 3600):
        self.lock = threading.RLock()
        self.ims_token_ttl = ims_token_ttl
        self.zoho_token_ttl = zoho_token_ttl
        self.base_url = ""  # set once the server listens (Zoho's token answer names it as api_domain)
        self._initial_run_duration = run_duration
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.connections: dict[str, dict[str, Any]] = {}
            self.source_connections: dict[str, dict[str, Any]] = {}
            self.target_connections: dict[str, dict[str, Any]] = {}
            self.flows: dict[str, dict[str, Any]] = {}
            self.runs: dict[str, dict[str, Any]] = {}
            self.last_run_ids: dict[str, str] = {}  # flow id -> id of its newest run
            self.ims_tokens: dict[str, IssuedToken] = {}
            self.zoho_tokens: dict[str, IssuedToken] = {}
            self.ims_tokens_issued = 0
            #: refresh token -> number of access tokens minted from it
            self.zoho_tokens_issued: dict[str, int] = {}
            self.retired_specs: set[str] = set()
            self.run_duration = self._initial_run_duration
            self.fail_runs = False
            self.zoho_throttled = False
            from .landing_zone import LandingZoneState  # the landing zone module builds on this one

            self.dlz = LandingZoneState()
            self._last_stamp = 0

    # ---- resources -------------------------------------------------------------------------------

    def add(
        self,
        collection: dict[str, dict[str, Any]],
        fields: dict[str, Any],
        *,
        sandbox: str,
        org_id: str,
        client_id: str,
    ) -> dict[str, Any]:
        """Store a new resource with the metadata Adobe adds (id, etag, timestamps, owner)."""
        # Strictly increasing, so "the oldest" of two resources is never a tie (Adobe's are milliseconds too).
        stamp = self._last_stamp = max(now_ms(), self._last_stamp + 1)
        etag = new_etag()
        record = {
            "id": str(uuid.uuid4()),
            **fields,
            "createdAt": stamp,
            "updatedAt": stamp,
            "createdBy": f"{client_id}@AdobeID",
            "createdClient": client_id,
            "updatedBy": f"{client_id}@AdobeID",
            "sandboxName": sandbox,
            "imsOrgId": org_id,
            "etag": etag,
            "version": etag,
        }
        collection[record["id"]] = record
        return record

    def save(self, path: str | Path) -> None:
        """Write the resources to ``path`` (JSON), so a later emulator can pick up where this one stopped."""
        with self.lock:
            data = {name: getattr(self, name) for name in PERSISTED}
            text = json.dumps(data, indent=1, sort_keys=True)
        Path(path).write_text(text)

    def load(self, path: str | Path) -> None:
        """Read resources written by :meth:`save`; a missing file means a fresh start."""
        file = Path(path)
        if not file.exists():
            return
        data = json.loads(file.read_text())
        with self.lock:
            for name in PERSISTED:
                getattr(self, name).update(data.get(name) or {})

    def touch(self, record: dict[str, Any]) -> None:
        """Give an updated record a new etag and updatedAt."""
        record["etag"] = record["version"] = new_etag()
        record["updatedAt"] = now_ms()

    # ---- runs ------------------------------------------------------------------------------------

    def add_run(self, flow: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Start a run of ``flow``. Its outcome and duration are fixed now, from the current switches."""
        run = self.add(
            self.runs,
            {"flowId": flow["id"], "params": params or {}},
            sandbox=flow["sandboxName"],
            org_id=flow["imsOrgId"],
            client_id=flow["createdClient"],
        )
        run["_started"] = time.monotonic()
        run["_duration"] = self.run_duration
        run["_fails"] = self.fail_runs
        if flow["flowSpec"]["id"] == CLOUD_STORAGE_FLOW_SPEC_ID:
            from .landing_zone import land, run_files

            run["_files"] = run_files(self, flow, params or {}, run["createdAt"])
            run["_fails"] = run["_fails"] or bool(run["_files"]["errors"])
            land(self, run, run["_started"] + run["_duration"])
        self.last_run_ids[flow["id"]] = run["id"]
        return run

    def latest_run(self, flow_id: str) -> dict[str, Any] | None:
        return self.runs.get(self.last_run_ids.get(flow_id, ""))


def run_view(run: dict[str, Any]) -> dict[str, Any]:
    """The run as GET shows it now: queued for the first third, inProgress, then success or Failed."""
    elapsed = time.monotonic() - run["_started"]
    duration = run["_duration"]
    started_at = run["createdAt"] + int(duration * 1000 / 3)
    completed_at = run["createdAt"] + int(duration * 1000)
    done = elapsed >= duration
    durations: dict[str, int] = {}
    if elapsed >= duration / 3:
        durations["startedAtUTC"] = started_at
    if done:
        durations["completedAtUTC"] = completed_at

    records = {"inputRecordCount": 0, "outputRecordCount": 0, "failedRecordCount": 0}
    sizes = {"inputBytes": 0, "outputBytes": 0}
    errors: list[dict[str, str]] = []
    if not done:
        status = "queued" if elapsed < duration / 3 else "inProgress"
    elif run["_fails"]:
        status = "Failed"
        records = {"inputRecordCount": RUN_RECORDS, "outputRecordCount": 0, "failedRecordCount": RUN_RECORDS}
        sizes = {"inputBytes": RUN_RECORDS * RUN_BYTES_PER_RECORD, "outputBytes": 0}
        errors = [{"code": "CONNECTOR-2001-500", "message": "Error reading records from the source (emulated)."}]
    else:
        status = "success"
        records = {"inputRecordCount": RUN_RECORDS, "outputRecordCount": RUN_RECORDS, "failedRecordCount": 0}
        sizes = {"inputBytes": RUN_RECORDS * RUN_BYTES_PER_RECORD, "outputBytes": RUN_RECORDS * RUN_BYTES_PER_RECORD}

    files = None
    if "_files" in run:  # a file run reports what it really read and wrote
        from .landing_zone import metrics

        measured = metrics(run, done=done, fails=run["_fails"])
        records, sizes, files, errors = (measured["records"], measured["sizes"], measured["files"],
                                         measured["errors"] if done and run["_fails"] else [])
    status_summary: dict[str, Any] = {"status": status}
    if errors:
        status_summary["errors"] = errors
    view = {k: v for k, v in run.items() if not k.startswith("_")}
    if done:
        view["updatedAt"] = completed_at
    view["metrics"] = {
        "durationSummary": durations,
        "sizeSummary": sizes,
        "recordSummary": records,
        "statusSummary": status_summary,
    }
    if files is not None:
        view["metrics"]["fileSummary"] = files
    view["activities"] = [
        {
            "id": "copyActivity",
            "name": "Copy Activity",
            "durationSummary": dict(durations),
            "sizeSummary": dict(sizes),
            "recordSummary": dict(records),
            "statusSummary": dict(status_summary),
        }
    ]
    if files is not None:
        window = run["_files"]["window"]
        view["activities"][0]["durationSummary"]["extensions"] = {"windowStart": window[0], "windowEnd": window[1]}
        batch = run["_files"]["batch_id"]
        if done and batch and not run["_fails"]:
            view["activities"].append({"id": "promotionActivity", "name": "Promotion Activity",
                                       "recordSummary": dict(records), "statusSummary": dict(status_summary),
                                       "targetInfo": [{"reference": {"type": "Batch", "ids": [batch]}}]})
    return view


def last_run_details(run: dict[str, Any] | None) -> dict[str, Any]:
    """The ``lastRunDetails`` block of a flow item."""
    if run is None:
        return {}
    view = run_view(run)
    return {"id": run["id"], "state": view["metrics"]["statusSummary"]["status"], **view["metrics"]["durationSummary"]}
