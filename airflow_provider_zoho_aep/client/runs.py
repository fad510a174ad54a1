"""What a Flow Service run says: finished or not, succeeded or not, record counts, errors.

The one reading of a run, for the hook, the sensor and the trigger. Adobe's pages disagree on spelling
(``success`` / ``Failed``, ``activities`` / ``activites``), so statuses compare case-insensitively and both
spellings are read. Anything not known to be running and not an explicit success is a failure: fail closed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

Outcome = Literal["running", "success", "failed"]

#: Statuses of a run that has not finished yet, normalised (lower case, no ``_``/``-``/space).
RUNNING_STATUSES = frozenset({"queued", "scheduled", "pending", "inprogress", "running", "started", "new"})
#: The only statuses that count as success.
SUCCESS_STATUSES = frozenset({"success", "succeeded"})
#: At most this many distinct error lines go into a message.
MAX_ERRORS = 10


def normalise_status(status: Any) -> str:
    """``"In_Progress"`` → ``"inprogress"``; a missing status is ``""``."""
    return re.sub(r"[_\- ]", "", status.lower()) if isinstance(status, str) else ""


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def run_status(run: Mapping[str, Any]) -> str | None:
    """``metrics.statusSummary.status`` as Flow Service wrote it, or None before the run reports one."""
    status = _dict(_dict(run.get("metrics")).get("statusSummary")).get("status")
    return status if isinstance(status, str) and status else None


def activities(run: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The run's activities, under either spelling Adobe uses."""
    items = run.get("activities")
    items = run.get("activites") if items is None else items
    return [item for item in items or [] if isinstance(item, Mapping)]


def outcome(run: Mapping[str, Any]) -> Outcome:
    """``running`` until the status is terminal; then ``success`` only for an explicit success."""
    status = normalise_status(run_status(run))
    if not status or status in RUNNING_STATUSES:
        return "running"
    return "success" if status in SUCCESS_STATUSES else "failed"


def _count(summary: Mapping[str, Any], key: str) -> int | None:
    value = summary.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def record_counts(run: Mapping[str, Any]) -> dict[str, int | None]:
    """Input, output and failed record counts from ``metrics.recordSummary`` (else the first activity's)."""
    summary = _dict(_dict(run.get("metrics")).get("recordSummary"))
    if not summary:
        summary = next((_dict(a.get("recordSummary")) for a in activities(run) if a.get("recordSummary")), {})
    return {
        "input_record_count": _count(summary, "inputRecordCount"),
        "output_record_count": _count(summary, "outputRecordCount"),
        "failed_record_count": _count(summary, "failedRecordCount"),
    }


def summary(run: Mapping[str, Any]) -> dict[str, Any]:
    """The small, JSON-only dict the sensor returns: run ID, status and record counts."""
    return {"run_id": run.get("id"), "status": run_status(run), **record_counts(run)}


def _error_items(value: Any) -> list[Mapping[str, Any]]:
    """Error objects from a list of them, a dict holding ``errors``, or one error dict."""
    if isinstance(value, Mapping):
        if isinstance(value.get("errors"), Sequence):
            return _error_items(value["errors"])
        return [value] if any(k in value for k in ("code", "message", "errorCode", "errorMessage")) else []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [item for item in value if isinstance(item, Mapping)]
    return []


def _error_line(error: Mapping[str, Any]) -> str:
    code = error.get("code") or error.get("errorCode")
    message = (error.get("message") or error.get("errorMessage") or error.get("detail") or error.get("title")
               or error.get("reason"))
    count = error.get("count") or error.get("recordCount")
    text = ": ".join(str(part) for part in (code, message) if part)
    if text and isinstance(count, int) and not isinstance(count, bool) and count > 0:
        text += f" ({count} records)"
    return text[:500]


def _summary_error_lines(status_summary: Mapping[str, Any], record_summary: Mapping[str, Any]) -> list[str]:
    """Errors from ``statusSummary.errors`` / ``.extensions`` and ``recordSummary.failedInfo`` / ``skippedInfo``."""
    sources: list[Any] = [status_summary.get("errors")]
    extensions = status_summary.get("extensions")
    if isinstance(extensions, Mapping):
        sources.append(extensions.get("errors"))
        sources += [value for key, value in extensions.items() if key not in ("errors", "manifest")]
    elif extensions is not None:
        sources.append(extensions)
    sources += [record_summary.get("failedInfo"), record_summary.get("skippedInfo")]
    return [line for source in sources for error in _error_items(source) if (line := _error_line(error))]


def errors(run: Mapping[str, Any]) -> list[str]:
    """Distinct ``code: message`` lines from the run's summaries and its activities', in order."""
    metrics = _dict(run.get("metrics"))
    found = _summary_error_lines(_dict(metrics.get("statusSummary")), _dict(metrics.get("recordSummary")))
    for activity in activities(run):
        found += _summary_error_lines(_dict(activity.get("statusSummary")), _dict(activity.get("recordSummary")))
    return list(dict.fromkeys(found))[:MAX_ERRORS]


def failure_message(flow_id: str, run: Mapping[str, Any]) -> str:
    """Why a finished run does not count as success, with its errors and counts."""
    counts = record_counts(run)
    parts = [f"Dataflow {flow_id}: run {run.get('id')} ended with status {run_status(run)!r}"]
    if counts["failed_record_count"]:
        parts.append(f"{counts['failed_record_count']} of {counts['input_record_count']} records failed")
    lines = errors(run)
    parts.append("errors: " + "; ".join(lines) if lines else "no error details reported")
    return " | ".join(parts)


def latest(items: Sequence[Mapping[str, Any]], flow_id: str | None = None) -> Mapping[str, Any] | None:
    """The newest run by ``createdAt`` (of ``flow_id``, in case the server did not apply the filter), or None."""
    found = [item for item in items
             if isinstance(item, Mapping) and (flow_id is None or item.get("flowId") in (None, flow_id))]
    return max(found, key=_created, default=None)


def _created(run: Mapping[str, Any]) -> int:
    value = run.get("createdAt")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
