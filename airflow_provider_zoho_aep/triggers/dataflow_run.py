"""Trigger that waits, in the triggerer, for a dataflow run to finish: one given run, or the flow's latest."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from airflow_provider_zoho_aep.client import runs
from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.client.http import _retryable
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.version_compat import AirflowException, BaseTrigger, TriggerEvent

if TYPE_CHECKING:
    from airflow_provider_zoho_aep.version_compat import BaseOperator


def transient(err: AEPAPIError) -> bool:
    """An error worth another poll: no answer, a 401 (the token was refreshed once already), a 429 or 5xx.

    The transport retried it within one request's budget; the trigger's deadline is longer.
    """
    return err.status is None or err.status == 401 or _retryable(err.status, err.code)


class AEPDataflowRunTrigger(BaseTrigger):
    """Polls Flow Service through the hook's async methods until the run (``run_id``, else the flow's latest)
    is terminal.

    Yields exactly one event: ``{"status": "success", "run"}``, ``{"status": "failed", "run", "message"}``,
    ``{"status": "timeout", "run_id", "message"}`` once ``end_time`` passes, or ``{"status": "error", "message"}``
    when Flow Service refuses the read for good. A transient error is logged and polled through. It only reads,
    so a triggerer restart is harmless.

    :param flow_id: the dataflow
    :param aep_conn_id: Airflow Connection of type ``adobe_experience_platform``
    :param poll_interval: seconds between two reads
    :param end_time: wall-clock deadline as epoch seconds (``time.time()``)
    :param run_id: the run to wait for; None waits for the flow's latest run
    """

    def __init__(
        self, flow_id: str, aep_conn_id: str, poll_interval: float, end_time: float, run_id: str | None = None
    ) -> None:
        super().__init__()
        self.flow_id = flow_id
        self.aep_conn_id = aep_conn_id
        self.poll_interval = float(poll_interval)
        self.end_time = float(end_time)
        self.run_id = run_id

    def serialize(self) -> tuple[str, dict[str, Any]]:
        names = ("flow_id", "aep_conn_id", "poll_interval", "end_time", "run_id")
        return f"{type(self).__module__}.{type(self).__qualname__}", {name: getattr(self, name) for name in names}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            event = await self._wait(AdobeExperiencePlatformHook(aep_conn_id=self.aep_conn_id))
        except (AEPAPIError, ConfigurationError) as err:
            event = {"status": "error", "flow_id": self.flow_id, "run_id": self.run_id, "message": str(err)}
        except Exception as err:  # fail closed; the event names only the error type, the log has the rest
            self.log.exception("Reading the runs of dataflow %s failed", self.flow_id)
            event = {"status": "error", "flow_id": self.flow_id, "run_id": self.run_id,
                     "message": f"{type(err).__name__} while reading the runs of dataflow {self.flow_id}"}
        yield TriggerEvent(event)

    async def _look(self, hook: AdobeExperiencePlatformHook) -> Mapping[str, Any] | None:
        if self.run_id:
            return await hook.aget_run(self.run_id)
        return runs.latest(await hook.alist_runs(self.flow_id), self.flow_id)

    async def _wait(self, hook: AdobeExperiencePlatformHook) -> dict[str, Any]:
        seen: str | None = self.run_id
        reported: tuple[str | None, str | None] | None = None
        last_error: AEPAPIError | None = None
        while True:
            try:
                run = await self._look(hook)
            except AEPAPIError as err:
                if not transient(err):
                    raise
                last_error = err
                self.log.warning("Dataflow %s: reading the run failed for now (%s); polling on until the deadline",
                                 self.flow_id, err)
                run = None
            else:
                last_error = None
            if run is not None:
                seen = str(run.get("id")) if run.get("id") else seen
                state = (seen, runs.run_status(run))
                if state != reported:
                    reported = state
                    self.log.info("Dataflow %s: run %s is %s", self.flow_id, seen, state[1] or "not started")
                result = runs.outcome(run)
                if result == "success":
                    return {"status": "success", "flow_id": self.flow_id, "run": runs.summary(run)}
                if result == "failed":
                    return {"status": "failed", "flow_id": self.flow_id, "run": runs.summary(run),
                            "message": runs.failure_message(self.flow_id, run)}
            remaining = self.end_time - time.time()
            if remaining <= 0:
                what = f"run {seen} has not finished" if seen else "no run has started"
                if last_error is not None:
                    what += f" (last read failed: {last_error})"
                return {"status": "timeout", "flow_id": self.flow_id, "run_id": seen,
                        "message": f"Dataflow {self.flow_id}: {what} before the timeout"}
            await asyncio.sleep(min(self.poll_interval, remaining))


def defer_until_finished(
    task: BaseOperator, *, flow_id: str, aep_conn_id: str, poll_interval: float, timeout: float,
    run_id: str | None = None,
) -> NoReturn:
    """Hand the wait to :class:`AEPDataflowRunTrigger`; the task resumes in its ``execute_complete``.

    The trigger keeps the deadline (it survives triggerer restarts); defer's own timeout would skip
    ``execute_complete``.
    """
    task.defer(
        trigger=AEPDataflowRunTrigger(flow_id=flow_id, aep_conn_id=aep_conn_id, poll_interval=poll_interval,
                                      end_time=time.time() + timeout, run_id=run_id),
        method_name="execute_complete",
        timeout=None,
    )


def event_run_id(event: Any) -> str | None:
    """The run an event is about, if it names one (a timeout before any run started names none)."""
    if not isinstance(event, Mapping):
        return None
    run = event.get("run")
    found = (run.get("run_id") if isinstance(run, Mapping) else None) or event.get("run_id")
    return str(found) if found else None


def finished_run(
    flow_id: str, event: Any, *, timeout_error: type[AirflowException] = AirflowException
) -> dict[str, Any]:
    """The succeeded run's summary from the trigger's event; anything but an explicit success raises.

    :param timeout_error: what a ``timeout`` event raises (a sensor's timeout is not retried)
    """
    if not isinstance(event, Mapping):
        raise AirflowException(f"Dataflow {flow_id}: the trigger sent no usable event ({event!r})")
    status = event.get("status")
    run = event.get("run")
    if status == "success" and isinstance(run, Mapping) and run.get("run_id"):
        return dict(run)
    message = event.get("message") or f"Dataflow {flow_id}: unexpected trigger event status {status!r}"
    raise (timeout_error if status == "timeout" else AirflowException)(message)
