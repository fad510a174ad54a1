"""Sensor that waits for a dataflow run (one given run, or the flow's latest) and returns its record counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho_aep.client import runs
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.validation import optional_text
from airflow_provider_zoho_aep.version_compat import (
    AirflowException,
    AirflowSensorTimeout,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

if TYPE_CHECKING:
    from airflow_provider_zoho_aep.version_compat import Context

DEFAULT_TIMEOUT_SECONDS = 24 * 60 * 60


class AEPDataflowRunSensor(BaseSensorOperator):
    """Wait until a dataflow run finishes: the run ``run_id``, or without it the flow's latest run.

    Without ``run_id`` the newest run is watched, whichever it is (on a flow Adobe schedules itself, maybe one of
    long ago); to ingest one window per DAG run use
    :class:`~airflow_provider_zoho_aep.operators.dataflow_run.AEPRunDataflowOperator` or pass its ``run_id``.
    Success returns ``{"run_id", "status", "input_record_count", "output_record_count", "failed_record_count"}``;
    any other final status fails the task with the run's errors. ``run_id`` is pushed as soon as a run is seen;
    with no run yet the sensor keeps waiting.

    :param flow_id: the dataflow, e.g. ``create_dataflow.output`` (templated)
    :param run_id: the run to wait for; None waits for the latest run (templated)
    :param aep_conn_id: Airflow Connection of type ``adobe_experience_platform`` (templated)
    :param deferrable: wait in the triggerer instead of holding a worker slot
    :param poke_interval: seconds between two reads of the runs
    :param timeout: seconds to wait in total before failing
    """

    template_fields: Sequence[str] = ("flow_id", "run_id", "aep_conn_id")
    ui_color = "#fa0f00"

    def __init__(
        self,
        *,
        flow_id: str,
        run_id: str | None = None,
        aep_conn_id: str = AdobeExperiencePlatformHook.default_conn_name,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poke_interval: timedelta | float = 30,
        timeout: timedelta | float = DEFAULT_TIMEOUT_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, timeout=timeout, **kwargs)
        self.flow_id = flow_id
        self.run_id = run_id
        self.aep_conn_id = aep_conn_id
        self.deferrable = deferrable
        self._pushed_run_id: str | None = None

    def _push_run_id(self, context: Context, run_id: str | None) -> None:
        if run_id and run_id != self._pushed_run_id:
            context["ti"].xcom_push(key="run_id", value=run_id)
            self._pushed_run_id = run_id

    def poke(self, context: Context) -> bool | PokeReturnValue:
        hook = AdobeExperiencePlatformHook(aep_conn_id=self.aep_conn_id)
        run_id = optional_text(self.run_id)
        run = hook.get_run(run_id) if run_id else runs.latest(hook.list_runs(self.flow_id, limit=5), self.flow_id)
        if run is None:
            self.log.info("Dataflow %s has no run yet", self.flow_id)
            return False
        found_id = str(run["id"]) if run.get("id") else None
        self._push_run_id(context, found_id)
        self.log.info("Dataflow %s: run %s is %s", self.flow_id, found_id, runs.run_status(run))
        outcome = runs.outcome(run)
        if outcome == "running":
            return False
        if outcome == "success":
            return PokeReturnValue(is_done=True, xcom_value=runs.summary(run))
        raise AirflowException(runs.failure_message(self.flow_id, run))

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        # One look first: a finished run needs no trigger, and a run seen now gets its ID to XCom at once.
        done = self.poke(context)
        if isinstance(done, PokeReturnValue):
            return done.xcom_value
        # Imported here: the trigger's HTTP stack would slow every parse of the DAG file.
        from airflow_provider_zoho_aep.triggers.dataflow_run import defer_until_finished

        defer_until_finished(self, flow_id=self.flow_id, aep_conn_id=self.aep_conn_id,
                             poll_interval=float(self.poke_interval), timeout=float(self.timeout),
                             run_id=optional_text(self.run_id))

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger's single event; anything but an explicit success fails the task."""
        from airflow_provider_zoho_aep.triggers.dataflow_run import event_run_id, finished_run

        self._push_run_id(context, event_run_id(event))
        run = finished_run(self.flow_id, event, timeout_error=AirflowSensorTimeout)
        self.log.info("Dataflow %s: run %s succeeded", self.flow_id, run["run_id"])
        return run
