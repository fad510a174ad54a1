"""Operator that ingests one window through a dataflow: an on-demand run per Airflow data interval."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_zoho_aep.client import runs
from airflow_provider_zoho_aep.client.windows import Window, check_time_unit
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.validation import check_if_run_exists, check_required, operator_window, optional_text
from airflow_provider_zoho_aep.version_compat import AirflowException, BaseOperator, BaseOperatorLink, conf

if TYPE_CHECKING:
    from airflow_provider_zoho_aep.version_compat import Context

DEFAULT_TIMEOUT_SECONDS = 6 * 60 * 60
#: The Experience Cloud shell; the AEP UI lives under it.
EXPERIENCE_CLOUD_URL = "https://experience.adobe.com/"


def aep_ui_url(sandbox: str, tenant: str | None, path: str) -> str:
    """A page of the AEP UI: ``https://experience.adobe.com/#/@<tenant>/sname:<sandbox>/platform/<path>``.

    Without a tenant (Connection extra ``ui_tenant``) the shell opens the organization the browser last used.
    """
    org = f"@{quote(tenant, safe='')}/" if tenant else ""
    return f"{EXPERIENCE_CLOUD_URL}#/{org}sname:{quote(sandbox, safe='')}/platform/{path}"


class AEPDataflowLink(BaseOperatorLink):
    """The dataflow's page in the AEP UI (Sources → Dataflows)."""

    name = "AEP dataflow"

    def get_link(self, operator: BaseOperator, *, ti_key: Any) -> str:
        links = getattr(operator, "aep_ui_links", None) or {}
        return str(links.get("dataflow") or "")


class AEPDataflowRunLink(BaseOperatorLink):
    """The run's page in the AEP UI (the dataflow's activity, with this run)."""

    name = "AEP dataflow run"

    def get_link(self, operator: BaseOperator, *, ti_key: Any) -> str:
        links = getattr(operator, "aep_ui_links", None) or {}
        return str(links.get("run") or "")


class AEPRunDataflowOperator(BaseOperator):
    """Ingest one window through a dataflow scheduled ``once``: start an on-demand run and wait for it.

    The window defaults to the DAG run's data interval, so each DAG run (a scheduled one, a backfill, a clear)
    ingests exactly its own interval: ``POST /runs`` with ``params.windowStartTime`` / ``windowEndTime``.
    Before posting, the flow's runs are searched for one of the same window: ``if_run_exists="reuse"`` adopts
    a running or succeeded one (never a second run for a window; a failed or cancelled run is not reused, so an
    Airflow retry ingests the window again), ``"rerun"`` always starts a new run, ``"fail"`` raises.

    The run ID is pushed to XCom (key ``run_id``) before waiting. The return value (XCom ``return_value``) is
    ``{"run_id", "status", "window_start", "window_end", "input_record_count", "output_record_count",
    "failed_record_count"}``. A run that does not succeed fails the task with Adobe's error codes and messages.

    :param flow_id: the dataflow, e.g. ``create_dataflow.output``; its schedule must be ``once`` (templated)
    :param window_start: start of the window, inclusive: a timezone-aware datetime or an ISO 8601 string with an
        offset; default the DAG run's ``data_interval_start`` (templated)
    :param window_end: end of the window, exclusive; not in the future; default ``data_interval_end``
        (templated)
    :param delta_column: ``params.deltaColumn.name``; Adobe accepts it only on a flow's first run (templated)
    :param if_run_exists: ``reuse`` (default), ``rerun`` or ``fail`` (templated)
    :param wait_for_completion: wait for the run to finish (default); False returns once it is started
    :param deferrable: wait in the triggerer instead of holding a worker slot
    :param poll_interval: seconds between two reads of the run
    :param timeout: seconds to wait for the run before failing
    :param time_unit: unit of the run's epoch params, ``seconds`` (default, as Adobe's on-demand tutorial) or
        ``milliseconds`` (as Adobe's OpenAPI file says); Adobe's documents disagree, so confirm it against your
        sandbox (templated)
    :param aep_conn_id: Airflow Connection of type ``adobe_experience_platform`` (templated)
    """

    template_fields: Sequence[str] = (
        "flow_id",
        "window_start",
        "window_end",
        "delta_column",
        "if_run_exists",
        "time_unit",
        "aep_conn_id",
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
        self.poll_interval = poll_interval.total_seconds() if isinstance(poll_interval, timedelta) else poll_interval
        self.timeout = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
        self.time_unit = time_unit
        self.aep_conn_id = aep_conn_id
        self.aep_ui_links: dict[str, str] = {}
        self._lineage_run: dict[str, Any] | None = None

    # -- the window ------------------------------------------------------------------------------------------

    def window(self, context: Context, *, check_future: bool = True) -> Window:
        """The window to ingest: the arguments, else the DAG run's data interval; checked before any call."""
        return operator_window(self.window_start, self.window_end, context.get("data_interval_start"),
                               context.get("data_interval_end"), check_future=check_future)

    # -- execution -------------------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        flow_id = check_required(self.flow_id, "flow_id", "pass the dataflow ID, e.g. create_dataflow.output")
        window = self.window(context)
        if_run_exists = check_if_run_exists(self.if_run_exists)
        unit = check_time_unit(self.time_unit)
        hook = AdobeExperiencePlatformHook(aep_conn_id=self.aep_conn_id)
        hook.validate_connection()
        started = hook.start_dataflow_run(
            flow_id, window.start, window.end, delta_column=optional_text(self.delta_column),
            if_run_exists=if_run_exists, time_unit=unit,
        )
        run_id = started["run_id"]
        self.log.info("Dataflow %s: run %s %s window %s", flow_id, run_id,
                      "started for" if started["created"] else "reused for", window)
        return self.wait_for_run(context, hook, flow_id, window, run_id)

    def wait_for_run(
        self, context: Context, hook: AdobeExperiencePlatformHook, flow_id: str, window: Window, run_id: str
    ) -> dict[str, Any]:
        """Push ``run_id`` to XCom, then wait for that run (deferring when asked) and return its summary."""
        context["ti"].xcom_push(key="run_id", value=run_id)
        self._set_links(hook, flow_id, run_id)
        run = hook.get_run(run_id)
        if not self.wait_for_completion or runs.outcome(run) != "running":
            return self._finish(flow_id, window, run, require_success=self.wait_for_completion)
        if self.deferrable:
            from airflow_provider_zoho_aep.triggers.dataflow_run import AEPDataflowRunTrigger

            self.defer(
                trigger=AEPDataflowRunTrigger(
                    flow_id=flow_id, aep_conn_id=self.aep_conn_id, poll_interval=float(self.poll_interval),
                    end_time=time.time() + float(self.timeout), run_id=run_id,
                ),
                method_name="execute_complete",
                timeout=None,
            )
        deadline = time.monotonic() + float(self.timeout)
        while runs.outcome(run) == "running":
            if time.monotonic() >= deadline:
                raise AirflowException(f"Dataflow {flow_id}: run {run_id} of window {window} has not finished "
                                       f"within {self.timeout:.0f} s")
            time.sleep(float(self.poll_interval))
            run = hook.get_run(run_id)
        return self._finish(flow_id, window, run)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger's single event; anything but an explicit success fails the task."""
        flow_id = str(self.flow_id)
        window = self.window(context, check_future=False)
        if not isinstance(event, dict):
            raise AirflowException(f"Dataflow {flow_id}: the trigger sent no usable event ({event!r})")
        run: dict[str, Any] = event["run"] if isinstance(event.get("run"), dict) else {}
        run_id = run.get("run_id") or event.get("run_id")
        if run_id:
            self._set_links(AdobeExperiencePlatformHook(aep_conn_id=self.aep_conn_id), flow_id, str(run_id))
        if event.get("status") == "success" and run.get("run_id"):
            result = self._result(window, run)
            self._lineage_run = result
            self.log.info("Dataflow %s: run %s of window %s succeeded: %s records in, %s out, %s failed",
                          flow_id, run_id, window, result["input_record_count"], result["output_record_count"],
                          result["failed_record_count"])
            return result
        raise AirflowException(event.get("message") or f"Dataflow {flow_id}: unexpected trigger event {event!r}")

    def _finish(self, flow_id: str, window: Window, run: dict[str, Any], *, require_success: bool = True
                ) -> dict[str, Any]:
        outcome = runs.outcome(run)
        if outcome == "failed" and require_success:
            raise AirflowException(runs.failure_message(flow_id, run))
        result = self._result(window, runs.summary(run))
        if outcome == "success":
            self._lineage_run = result
            self.log.info("Dataflow %s: run %s of window %s succeeded: %s records in, %s out, %s failed", flow_id,
                          result["run_id"], window, result["input_record_count"], result["output_record_count"],
                          result["failed_record_count"])
        return result

    @staticmethod
    def _result(window: Window, summary: dict[str, Any]) -> dict[str, Any]:
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

    def _set_links(self, hook: AdobeExperiencePlatformHook, flow_id: str, run_id: str) -> None:
        settings = hook.settings
        dataflow = aep_ui_url(settings.sandbox_name, settings.ui_tenant,
                              f"source/dataflows/{quote(flow_id, safe='')}")
        self.aep_ui_links = {"dataflow": dataflow, "run": f"{dataflow}/runs/{quote(run_id, safe='')}"}

    # -- lineage ---------------------------------------------------------------------------------------------

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the Zoho CRM module read, the AEP dataset written (None without the OpenLineage provider).

        Reads the dataflow's source and target connections (and the base connection's CRM endpoint) to name
        them; see :mod:`airflow_provider_zoho_aep.lineage` for the naming.
        """
        from airflow_provider_zoho_aep.lineage import dataflow_lineage, operator_lineage

        try:
            hook = AdobeExperiencePlatformHook(aep_conn_id=self.aep_conn_id)
            inputs, outputs = dataflow_lineage(hook, str(self.flow_id))
        except Exception:  # lineage is best effort: never fail (or slow down) the ingestion for it
            self.log.warning("Could not read the dataflow's connections for OpenLineage", exc_info=True)
            return None
        return operator_lineage(inputs, outputs)

