"""Operator that ingests one window through a dataflow: an on-demand run per Airflow data interval.

It also holds the waiting it shares with the Data Landing Zone transfer: :func:`wait_for_run` and
:func:`complete_run`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_zoho_aep.client import runs
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.validation import operator_window, optional_text
from airflow_provider_zoho_aep.version_compat import AirflowException, BaseOperator, BaseOperatorLink, conf

if TYPE_CHECKING:
    from airflow_provider_zoho_aep.client.windows import Window
    from airflow_provider_zoho_aep.version_compat import Context

DEFAULT_TIMEOUT_SECONDS = 6 * 60 * 60
#: The Experience Cloud shell; the AEP UI lives under it.
EXPERIENCE_CLOUD_URL = "https://experience.adobe.com/"


def seconds(value: timedelta | float) -> float:
    """A duration argument (a timedelta or seconds) in seconds."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def aep_ui_url(sandbox: str, tenant: str | None, path: str) -> str:
    """A page of the AEP UI; without a tenant the shell opens the organization the browser last used."""
    org = f"@{quote(tenant, safe='')}/" if tenant else ""
    return f"{EXPERIENCE_CLOUD_URL}#/{org}sname:{quote(sandbox, safe='')}/platform/{path}"


def run_links(hook: AdobeExperiencePlatformHook, flow_id: str, run_id: str) -> dict[str, str]:
    """The dataflow's and the run's pages in the AEP UI."""
    settings = hook.settings
    dataflow = aep_ui_url(settings.sandbox_name, settings.ui_tenant, f"source/dataflows/{quote(flow_id, safe='')}")
    return {"dataflow": dataflow, "run": f"{dataflow}/runs/{quote(run_id, safe='')}"}


def run_result(window: Window, summary: Mapping[str, Any]) -> dict[str, Any]:
    """The task's return value: the run's ID, status and record counts, with the window it ingested."""
    start, end = window.iso()
    return {
        "run_id": summary.get("run_id"),
        "status": summary.get("status"),
        "window_start": start,
        "window_end": end,
        "input_record_count": summary.get("input_record_count"),
        "output_record_count": summary.get("output_record_count"),
        "failed_record_count": summary.get("failed_record_count"),
    }


def _succeeded(task: BaseOperator, flow_id: str, window: Window, summary: Mapping[str, Any]) -> dict[str, Any]:
    result = run_result(window, summary)
    task.log.info("Dataflow %s: run %s of window %s succeeded: %s records in, %s out, %s failed", flow_id,
                  result["run_id"], window, result["input_record_count"], result["output_record_count"],
                  result["failed_record_count"])
    return result


def wait_for_run(
    task: BaseOperator,
    context: Context,
    hook: AdobeExperiencePlatformHook,
    flow_id: str,
    window: Window,
    run_id: str,
    *,
    wait_for_completion: bool,
    deferrable: bool,
    poll_interval: float,
    timeout: float,
) -> dict[str, Any]:
    """Push ``run_id`` to XCom and the UI links to the task, then wait for the run; returns :func:`run_result`.

    A run that does not succeed fails the task with Adobe's errors. ``deferrable`` hands the wait to the
    triggerer (the task resumes in ``execute_complete``, which calls :func:`complete_run`).
    """
    task.aep_ui_links = run_links(hook, flow_id, run_id)  # type: ignore[attr-defined]
    context["ti"].xcom_push(key="run_id", value=run_id)
    run = hook.get_run(run_id)
    if not wait_for_completion:
        return run_result(window, runs.summary(run))
    if deferrable and runs.outcome(run) == "running":
        from airflow_provider_zoho_aep.triggers.dataflow_run import defer_until_finished

        defer_until_finished(task, flow_id=flow_id, aep_conn_id=hook.aep_conn_id, poll_interval=poll_interval,
                             timeout=timeout, run_id=run_id)
    deadline = time.monotonic() + timeout
    while runs.outcome(run) == "running":
        if time.monotonic() >= deadline:
            raise AirflowException(f"Dataflow {flow_id}: run {run_id} of window {window} has not finished "
                                   f"within {timeout:.0f} s")
        time.sleep(poll_interval)
        run = hook.get_run(run_id)
    if runs.outcome(run) == "failed":
        raise AirflowException(runs.failure_message(flow_id, run))
    return _succeeded(task, flow_id, window, runs.summary(run))


def complete_run(task: BaseOperator, flow_id: str, aep_conn_id: str, window: Window, event: Any) -> dict[str, Any]:
    """:func:`run_result` from the trigger's single event; anything but an explicit success fails the task."""
    from airflow_provider_zoho_aep.triggers.dataflow_run import event_run_id, finished_run

    if run_id := event_run_id(event):
        task.aep_ui_links = run_links(  # type: ignore[attr-defined]
            AdobeExperiencePlatformHook(aep_conn_id=aep_conn_id), flow_id, run_id)
    return _succeeded(task, flow_id, window, finished_run(flow_id, event))


class AEPDataflowLink(BaseOperatorLink):
    """The dataflow's page in the AEP UI (Sources → Dataflows)."""

    name = "AEP dataflow"
    key = "dataflow"

    def get_link(self, operator: BaseOperator, *, ti_key: Any) -> str:
        return str((getattr(operator, "aep_ui_links", None) or {}).get(self.key) or "")


class AEPDataflowRunLink(AEPDataflowLink):
    """The run's page in the AEP UI (the dataflow's activity, with this run)."""

    name = "AEP dataflow run"
    key = "run"


class AEPRunDataflowOperator(BaseOperator):
    """Ingest one window through a dataflow scheduled ``once``: start an on-demand run and wait for it.

    The window defaults to the DAG run's data interval. A run of the same window is looked for first:
    ``if_run_exists="reuse"`` adopts a running or succeeded one (a failed or cancelled one is not reused),
    ``"rerun"`` always starts a new run, ``"fail"`` raises. ``run_id`` is pushed to XCom before waiting; the return
    value is ``{"run_id", "status", "window_start", "window_end", "input_record_count", "output_record_count",
    "failed_record_count"}``. A run that does not succeed fails the task with Adobe's error codes and messages.

    :param flow_id: the dataflow, e.g. ``create_dataflow.output``; its schedule must be ``once`` (templated)
    :param window_start: start of the window, inclusive (aware datetime or ISO 8601 with offset) (templated)
    :param window_end: end of the window, exclusive, not in the future (templated)
    :param delta_column: ``params.deltaColumn.name``; Adobe accepts it only on a flow's first run (templated)
    :param if_run_exists: ``reuse`` (default), ``rerun`` or ``fail`` (templated)
    :param wait_for_completion: wait for the run to finish (default); False returns once it is started
    :param deferrable: wait in the triggerer instead of holding a worker slot
    :param poll_interval: seconds between two reads of the run
    :param timeout: seconds to wait for the run before failing
    :param time_unit: unit of the run's epoch params, ``seconds`` (default) or ``milliseconds`` (templated)
    :param aep_conn_id: Airflow Connection of type ``adobe_experience_platform`` (templated)
    """

    template_fields: Sequence[str] = (
        "flow_id", "window_start", "window_end", "delta_column", "if_run_exists", "time_unit", "aep_conn_id",
    )
    ui_color = "#fa0f00"
    operator_extra_links = (AEPDataflowLink(), AEPDataflowRunLink())

    def __init__(
        self,
        *,
        flow_id: str,
        window_start: Any = None,
        window_end: Any = None,
        delta_column: str | None = None,
        if_run_exists: str = "reuse",
        wait_for_completion: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: timedelta | float = 30,
        timeout: timedelta | float = DEFAULT_TIMEOUT_SECONDS,
        time_unit: str = "seconds",
        aep_conn_id: str = AdobeExperiencePlatformHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.flow_id = flow_id
        self.window_start = window_start
        self.window_end = window_end
        self.delta_column = delta_column
        self.if_run_exists = if_run_exists
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = seconds(poll_interval)
        self.timeout = seconds(timeout)
        self.time_unit = time_unit
        self.aep_conn_id = aep_conn_id
        self.aep_ui_links: dict[str, str] = {}

    def window(self, context: Context) -> Window:
        """The arguments, else the DAG run's data interval (the hook checks the window it is given)."""
        return operator_window(self.window_start, self.window_end, context.get("data_interval_start"),
                               context.get("data_interval_end"), check_future=False)

    def execute(self, context: Context) -> dict[str, Any]:
        window = self.window(context)
        hook = AdobeExperiencePlatformHook(aep_conn_id=self.aep_conn_id)
        started = hook.start_dataflow_run(self.flow_id, window.start, window.end,
                                          delta_column=optional_text(self.delta_column),
                                          if_run_exists=self.if_run_exists, time_unit=self.time_unit)
        run_id = started["run_id"]
        self.log.info("Dataflow %s: run %s %s window %s", self.flow_id, run_id,
                      "started for" if started["created"] else "reused for", window)
        return wait_for_run(self, context, hook, self.flow_id, window, run_id,
                            wait_for_completion=self.wait_for_completion, deferrable=self.deferrable,
                            poll_interval=self.poll_interval, timeout=self.timeout)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger's single event; anything but an explicit success fails the task."""
        return complete_run(self, self.flow_id, self.aep_conn_id, self.window(context), event)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the Zoho CRM module read, the AEP dataset written (None without the OpenLineage provider)."""
        from airflow_provider_zoho_aep.lineage import dataflow_task_lineage

        return dataflow_task_lineage(self.log, self.aep_conn_id, str(self.flow_id))
