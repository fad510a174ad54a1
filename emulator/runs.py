"""Runs: one starts with its outcome fixed from the switches of the moment, and shows its progress over time.

A run is ``queued`` for the first third of its duration, ``inProgress`` until its end, then ``success`` or
``Failed``. A run of a Zoho CRM flow reads the records its window holds (:mod:`emulator.ondemand`); a run of a
``CloudStorageToAEP`` flow reads the landing zone's files and lands their rows (:mod:`emulator.landing_zone`).
"""

from __future__ import annotations

import time
from typing import Any

from .landing_zone import land, metrics, run_files
from .specs import CLOUD_STORAGE_FLOW_SPEC_ID
from .state import Store

#: Record counts of a finished run of another source (deterministic, so tests can assert them).
RUN_RECORDS = 120
RUN_BYTES_PER_RECORD = 256


def start_run(
    store: Store, flow: dict[str, Any], params: dict[str, Any] | None = None, records: int = RUN_RECORDS
) -> dict[str, Any]:
    """Start a run of ``flow`` that reads ``records`` records. Its outcome and duration are fixed now, from
    the current switches."""
    run = store.add(
        store.runs,
        {"flowId": flow["id"], "params": params or {}},
        sandbox=flow["sandboxName"],
        org_id=flow["imsOrgId"],
        client_id=flow["createdClient"],
    )
    run["_started"] = time.monotonic()
    run["_duration"] = store.run_duration
    run["_fails"] = store.fail_runs
    run["_records"] = records
    if flow["flowSpec"]["id"] == CLOUD_STORAGE_FLOW_SPEC_ID:
        run["_files"] = run_files(store, flow, params or {}, run["createdAt"])
        run["_fails"] = run["_fails"] or bool(run["_files"]["errors"])
        land(store, run, run["_started"] + run["_duration"])
    store.last_run_ids[flow["id"]] = run["id"]
    return run


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

    records: dict[str, Any] = {"inputRecordCount": 0, "outputRecordCount": 0, "failedRecordCount": 0}
    sizes = {"inputBytes": 0, "outputBytes": 0}
    count = run.get("_records", RUN_RECORDS)
    status_summary: dict[str, Any]
    if not done:
        status_summary = {"status": "queued" if elapsed < duration / 3 else "inProgress"}
    elif run["_fails"]:
        # Where Adobe's run object puts a failed run's errors: statusSummary.extensions and
        # recordSummary.failedInfo (not statusSummary.errors, which flow operations use).
        error = {"code": "CONNECTOR-2001-500", "message": "Error reading records from the source (emulated)."}
        records = {"inputRecordCount": count, "outputRecordCount": 0, "failedRecordCount": count,
                   "failedInfo": [{**error, "count": count}]}
        sizes = {"inputBytes": count * RUN_BYTES_PER_RECORD, "outputBytes": 0}
        status_summary = {"status": "Failed", "extensions": {"errors": [error]}}
    else:
        records = {"inputRecordCount": count, "outputRecordCount": count, "failedRecordCount": 0}
        sizes = {"inputBytes": count * RUN_BYTES_PER_RECORD, "outputBytes": count * RUN_BYTES_PER_RECORD}
        status_summary = {"status": "success"}

    files = None
    if "_files" in run:  # a file run reports what it really read and wrote
        measured = metrics(run, done=done, fails=run["_fails"])
        records, sizes, files = measured["records"], measured["sizes"], measured["files"]
        if done and run["_fails"] and measured["errors"]:
            status_summary = {"status": "Failed", "extensions": {"errors": measured["errors"]}}
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
