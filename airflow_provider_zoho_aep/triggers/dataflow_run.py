"""Trigger that waits, in the triggerer, for a dataflow's latest run to finish."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow_provider_zoho_aep.client import runs
from airflow_provider_zoho_aep.client.async_flow_service import AsyncFlowServiceReader
from airflow_provider_zoho_aep.client.async_http import AsyncHttpTransport
from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.client.settings import AEPSettings
from airflow_provider_zoho_aep.version_compat import BaseTrigger, TriggerEvent, aget_connection, amask_secret


class AEPDataflowRunTrigger(BaseTrigger):
    """Polls ``GET /runs?property=flowId==<id>&orderby=-createdAt`` until the latest run is terminal.

    Yields exactly one event, then returns: ``{"status": "success", "run": {...}}``,
    ``{"status": "failed", "run": {...}, "message": ...}``, ``{"status": "timeout", "run_id", "message"}`` once
    ``end_time`` passes, or ``{"status": "error", "message"}`` when Flow Service cannot be read. Only reads:
    it never creates anything, so a triggerer restart is harmless.

    :param flow_id: the dataflow to watch
    :param aep_conn_id: Airflow Connection of type ``adobe_experience_platform``
    :param poll_interval: seconds between two reads of the runs
    :param end_time: wall-clock deadline as epoch seconds (``time.time()``)
    """

    def __init__(self, flow_id: str, aep_conn_id: str, poll_interval: float, end_time: float) -> None:
        super().__init__()
        self.flow_id = flow_id
        self.aep_conn_id = aep_conn_id
        self.poll_interval = float(poll_interval)
        self.end_time = float(end_time)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "flow_id": self.flow_id,
                "aep_conn_id": self.aep_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            event = await self._wait()
        except (AEPAPIError, ConfigurationError) as err:
            event = {"status": "error", "flow_id": self.flow_id, "message": str(err)}
        except Exception as err:  # fail closed; the event names only the error type, the log has the rest
            self.log.exception("Reading the runs of dataflow %s failed", self.flow_id)
            event = {"status": "error", "flow_id": self.flow_id,
                     "message": f"{type(err).__name__} while reading the runs of dataflow {self.flow_id}"}
        yield TriggerEvent(event)

    async def _reader(self) -> AsyncFlowServiceReader:
        # Async connection access only: a sync get_connection() here would deadlock the triggerer.
        conn = await aget_connection(self.aep_conn_id)
        settings = AEPSettings.from_connection_fields(
            login=conn.login, password=conn.password, host=conn.host, extra=conn.extra,
            source=f"Airflow Connection '{self.aep_conn_id}' (Adobe Experience Platform)",
        )
        await amask_secret(settings.client_secret)
        return AsyncFlowServiceReader(settings, AsyncHttpTransport(timeout=settings.timeout), on_token=amask_secret)

    async def _wait(self) -> dict[str, Any]:
        reader = await self._reader()
        seen: str | None = None
        try:
            while True:
                found = runs.check(await reader.list_runs(self.flow_id), self.flow_id)
                if found.run_id and found.run_id != seen:
                    seen = found.run_id
                    self.log.info("Dataflow %s: run %s is %s", self.flow_id, seen, runs.run_status(found.run or {}))
                if found.outcome == "success":
                    return {"status": "success", "flow_id": self.flow_id, "run": runs.summary(found.run or {})}
                if found.outcome == "failed":
                    run = found.run or {}
                    return {"status": "failed", "flow_id": self.flow_id, "run": runs.summary(run),
                            "message": runs.failure_message(self.flow_id, run)}
                remaining = self.end_time - time.time()
                if remaining <= 0:
                    what = f"run {seen} has not finished" if seen else "no run has started"
                    return {"status": "timeout", "flow_id": self.flow_id, "run_id": seen,
                            "message": f"Dataflow {self.flow_id}: {what} before the sensor's timeout"}
                await asyncio.sleep(min(self.poll_interval, remaining))
        finally:
            await reader.transport.aclose()
