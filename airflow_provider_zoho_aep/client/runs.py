"""What a Flow Service run item says: is it finished, did it succeed, how many records, which errors.

The one interpretation of a run, used by the hook, the sensor's poke and the trigger. Pure functions on the
run dict of ``GET /runs``. Adobe's pages disagree on spelling (``success`` / ``Failed``,
``activities`` / ``activites``), so statuses compare case-insensitively and both spellings of the activities
are read. Anything not known to be in progress and not an explicit success counts as failed: a terminal
decision fails closed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    if not isinstance(status, str):
        return ""
    return "".join(ch for ch in status.lower() if ch not in "_- ")


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def run_status(run: Mapping[str, Any]) -> str | None:
    """``metrics.statusSummary.status`` as Flow Service wrote it, or None before the run reports one."""
    status = _dict(_dict(run.get("metrics")).get("statusSummary")).get("status")
    return status if isinstance(status, str) and status else None


def activities(run: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The run's activities, under either spelling Adobe uses."""
    items = run.get("activities")
    if items is None:
        items = run.get("activites")
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


def _error_lines(status_summary: Mapping[str, Any]) -> list[str]:
    lines = []
    errors = status_summary.get("errors")
    for error in errors if isinstance(errors, Sequence) and not isinstance(errors, str) else []:
        if not isinstance(error, Mapping):
            continue
        code = error.get("code")
        message = error.get("message") or error.get("detail") or error.get("title")
        text = ": ".join(str(part) for part in (code, message) if part)
        if text:
            lines.append(text[:500])
    return lines


def errors(run: Mapping[str, Any]) -> list[str]:
    """Distinct ``code: message`` lines from the run's status summary and its activities, in order."""
    found = _error_lines(_dict(_dict(run.get("metrics")).get("statusSummary")))
    for activity in activities(run):
        found += _error_lines(_dict(activity.get("statusSummary")))
    unique = list(dict.fromkeys(found))
    return unique[:MAX_ERRORS]


def failure_message(flow_id: str, run: Mapping[str, Any]) -> str:
    """Why a finished run does not count as success, with its errors and counts."""
    counts = record_counts(run)
    parts = [f"Dataflow {flow_id}: run {run.get('id')} ended with status {run_status(run)!r}"]
    if counts["failed_record_count"]:
        parts.append(f"{counts['failed_record_count']} of {counts['input_record_count']} records failed")
    lines = errors(run)
    parts.append("errors: " + "; ".join(lines) if lines else "no error details reported")
    return " | ".join(parts)


def latest(items: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The newest run by ``createdAt`` (the list is asked newest first, but do not rely on the server)."""
    runs = [item for item in items if isinstance(item, Mapping)]
    if not runs:
        return None
    return max(enumerate(runs), key=lambda pair: (_created(pair[1]), -pair[0]))[1]


def _created(run: Mapping[str, Any]) -> int:
    value = run.get("createdAt")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass(frozen=True)
class RunCheck:
    """One look at a flow's latest run: what it is and what it means."""

    run: Mapping[str, Any] | None
    outcome: Outcome

    @property
    def run_id(self) -> str | None:
        return str(self.run["id"]) if self.run and self.run.get("id") else None


def check(items: Sequence[Mapping[str, Any]], flow_id: str) -> RunCheck:
    """Interpret the answer of ``GET /runs?property=flowId==<id>``: no run yet counts as running.

    Runs of other flows are ignored, in case the server did not apply the filter.
    """
    run = latest([item for item in items if isinstance(item, Mapping) and item.get("flowId") in (None, flow_id)])
    return RunCheck(run, "running" if run is None else outcome(run))
