"""On-demand dataflow runs, idempotent per window.

``POST /runs`` with ``{flowId, params{startTime, windowStartTime, windowEndTime}}`` starts one run of a flow
scheduled ``once`` for one window. A POST is not idempotent, so starting a run for a window is:

1. look for the flow's runs with exactly this window (``GET /runs?property=flowId==<id>``, matched on
   ``params``): with ``if_run_exists="reuse"`` a running or succeeded one is adopted (a failed or cancelled one
   is not: a retry must ingest the window again); ``"fail"`` raises when any exists; ``"rerun"`` posts anyway;
2. POST once; after an ambiguous failure (timeout, reset, 5xx) look again for a run of this window that was
   not there before, adopt it, and only when there is none send the POST again (bounded).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from airflow_provider_zoho_aep import RUNS
from airflow_provider_zoho_aep.client import runs
from airflow_provider_zoho_aep.client.errors import AEPAPIError, AmbiguousWriteError, ResourceExistsError
from airflow_provider_zoho_aep.client.flow_service import FlowServiceClient
from airflow_provider_zoho_aep.client.windows import Window, same_window

log = logging.getLogger(__name__)

IfRunExists = Literal["reuse", "rerun", "fail"]
IF_RUN_EXISTS_CHOICES: tuple[str, ...] = ("reuse", "rerun", "fail")
MAX_POST_ATTEMPTS = 3


@dataclass(frozen=True)
class StartedRun:
    """The run that serves a window: its ID, whether this call posted it, and the item when one was read."""

    id: str
    created: bool
    run: Mapping[str, Any] | None = None


def runs_for_window(client: FlowServiceClient, flow_id: str, window: Window) -> list[dict[str, Any]]:
    """The flow's runs of exactly ``window``, newest first."""
    items = client.list(RUNS, {"flowId": flow_id}, orderby="-createdAt")
    found = [item for item in items if item.get("flowId") in (None, flow_id) and same_window(item, window)]
    return sorted(found, key=lambda item: item.get("createdAt") or 0, reverse=True)


def reusable(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest run that is running or succeeded (failed, cancelled and unknown ones are not reused)."""
    return next((item for item in items if runs.outcome(item) in ("running", "success")), None)


def _posted_id(answer: Any) -> str:
    """The new run's ID from the POST answer: ``{id, etag}``, or ``{items: [{id, etag}]}`` as the tutorial shows."""
    if isinstance(answer, Mapping):
        if answer.get("id"):
            return str(answer["id"])
        items = answer.get("items")
        if isinstance(items, list) and items and isinstance(items[0], Mapping) and items[0].get("id"):
            return str(items[0]["id"])
    raise AEPAPIError("Flow Service POST /runs answered without a run ID", service="Flow Service")


def start_run(
    client: FlowServiceClient,
    flow_id: str,
    window: Window,
    params: Mapping[str, Any],
    if_run_exists: IfRunExists = "reuse",
) -> StartedRun:
    """Make sure a run of ``flow_id`` serves ``window``; see the module docstring for the rules."""
    existing = runs_for_window(client, flow_id, window)
    if existing and if_run_exists == "fail":
        ids = ", ".join(str(item.get("id")) for item in existing)
        raise ResourceExistsError(
            f"dataflow {flow_id} already has run(s) for window {window} ({ids}) and if_run_exists='fail'",
            service="Flow Service",
        )
    if if_run_exists == "reuse":
        adopted = reusable(existing)
        if adopted is not None:
            log.info("Dataflow %s: reusing run %s of window %s (%s)", flow_id, adopted.get("id"), window,
                     runs.run_status(adopted) or "no status yet")
            return StartedRun(str(adopted["id"]), created=False, run=adopted)
        if existing:
            log.info("Dataflow %s: the run(s) of window %s did not succeed; starting a new one", flow_id, window)
    known = {str(item.get("id")) for item in existing}
    body = {"flowId": flow_id, "params": dict(params)}
    last_error: AEPAPIError | None = None
    for attempt in range(1, MAX_POST_ATTEMPTS + 1):
        try:
            answer = client.request("POST", f"/{RUNS}", json=body, idempotent=False, ok=(200, 201)).json()
        except AmbiguousWriteError as err:
            last_error = err
            log.warning("Starting a run of dataflow %s for window %s may or may not have worked (%s); looking it "
                        "up before any retry", flow_id, window, err.summary)
            if err.timed_out:
                client.transport.sleep(client.transport.timeout)
            fresh = [item for item in runs_for_window(client, flow_id, window) if str(item.get("id")) not in known]
            if fresh:
                log.info("Dataflow %s: the run %s exists after all", flow_id, fresh[0].get("id"))
                return StartedRun(str(fresh[0]["id"]), created=True, run=fresh[0])
            log.info("No new run of window %s exists; sending the POST again (attempt %d)", window, attempt + 1)
            continue
        run_id = _posted_id(answer)
        log.info("Dataflow %s: started run %s for window %s", flow_id, run_id, window)
        return StartedRun(run_id, created=True)
    assert last_error is not None
    raise last_error
