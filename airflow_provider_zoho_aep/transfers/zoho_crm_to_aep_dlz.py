"""One Airflow data interval of one Zoho CRM module into AEP through the Data Landing Zone, exactly once."""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho_aep.client import runs
from airflow_provider_zoho_aep.client.windows import Window, check_time_unit, covering
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook
from airflow_provider_zoho_aep.operators.dataflow_run import (
    DEFAULT_TIMEOUT_SECONDS,
    AEPDataflowLink,
    AEPDataflowRunLink,
    complete_run,
    run_result,
    seconds,
    wait_for_run,
)
from airflow_provider_zoho_aep.operators.zoho_export import empty_folder, run_folder
from airflow_provider_zoho_aep.validation import check_if_run_exists, check_required, operator_window, optional_text
from airflow_provider_zoho_aep.version_compat import AirflowException, BaseOperator, conf

if TYPE_CHECKING:
    from airflow_provider_zoho_aep.client.landing_zone import LandingZoneUploader, StoredFile
    from airflow_provider_zoho_aep.version_compat import Context

#: XCom key of what this try exported and uploaded (read again after a deferral, in another process).
UPLOAD_KEY = "landing_zone_upload"
#: How long to wait for the newest upload's Last-Modified second to be in the past (the store's clock may lead).
MAX_CLOCK_WAIT_SECONDS = 120.0


class ZohoCRMToAEPDataLandingZoneOperator(BaseOperator):
    """Export one window of a Zoho CRM module, upload its files to the Data Landing Zone, and ingest exactly them.

    Records whose ``Modified_Time`` is in the window (default: the DAG run's data interval) are exported, uploaded
    under deterministic names (``zoho/<module>/<flow_id>/<startZ>_<endZ>_part-0001.csv``) and verified; then an
    on-demand run of the ``CloudStorageToAEP`` dataflow is started whose window covers exactly those uploads.
    ``run_id`` is pushed to XCom before waiting. Exactly once per window: a window whose files landed and whose
    run succeeded (or is running) is not exported again (``if_run_exists="reuse"``; ``"fail"`` raises,
    ``"rerun"`` runs it again); after a failed run the window is exported and run again (identical files are not
    re-sent); an empty window uploads nothing and starts no run.

    Returns ``{"run_id", "status", "window_start", "window_end", "files", "records_exported",
    "input_record_count", "output_record_count", "failed_record_count"}`` (``records_exported`` is None when an
    earlier try's run is reused). A run never starts over files of another upload in its window, so let one
    window of a module upload at a time (``max_active_runs=1`` or ``max_active_tis_per_dag=1``).

    :param module: the Zoho CRM module's API name, e.g. ``Leads`` (templated)
    :param flow_id: the ``CloudStorageToAEP`` dataflow, scheduled ``once`` (templated)
    :param fields: field API names to export, None for all (templated)
    :param window_start: start of the window, inclusive (aware datetime or ISO 8601 with offset) (templated)
    :param window_end: end of the window, exclusive (templated)
    :param zoho_conn_id: Airflow Connection of type ``zoho_crm`` (templated)
    :param base_dir: where the export's run folder goes (removed after the upload) (templated)
    :param if_run_exists: ``reuse`` (default), ``rerun`` or ``fail`` (templated)
    :param wait_for_completion: wait for the run (default)
    :param deferrable: wait in the triggerer instead of holding a worker slot
    :param poll_interval: seconds between two reads of the run
    :param timeout: seconds to wait for the run
    :param time_unit: unit of the run's epoch params, ``seconds`` or ``milliseconds`` (templated)
    :param aep_conn_id: Airflow Connection of type ``adobe_experience_platform`` (templated)
    """

    template_fields: Sequence[str] = (
        "module", "flow_id", "fields", "window_start", "window_end", "zoho_conn_id", "base_dir", "if_run_exists",
        "time_unit", "aep_conn_id",
    )
    ui_color = "#e42527"
    operator_extra_links = (AEPDataflowLink(), AEPDataflowRunLink())

    def __init__(
        self,
        *,
        module: str,
        flow_id: str,
        fields: Sequence[str] | None = None,
        window_start: Any = None,
        window_end: Any = None,
        zoho_conn_id: str = ZohoCRMHook.default_conn_name,
        base_dir: str | None = None,
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
        self.module = module
        self.flow_id = flow_id
        self.fields = fields
        self.window_start = window_start
        self.window_end = window_end
        self.zoho_conn_id = zoho_conn_id
        self.base_dir = base_dir
        self.if_run_exists = if_run_exists
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = seconds(poll_interval)
        self.timeout = seconds(timeout)
        self.time_unit = time_unit
        self.aep_conn_id = aep_conn_id
        self.aep_ui_links: dict[str, str] = {}
        self._upload: dict[str, Any] = {}

    def window(self, context: Context, *, check_future: bool = False) -> Window:
        """The arguments, else the DAG run's data interval."""
        return operator_window(self.window_start, self.window_end, context.get("data_interval_start"),
                               context.get("data_interval_end"), check_future=check_future)

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_zoho_aep.client.landing_zone import module_folder

        # The landing zone is read before any hook is given these arguments: they are checked here, first.
        flow_id = check_required(self.flow_id, "flow_id", "pass the CloudStorageToAEP dataflow's ID")
        module = check_required(self.module, "module", "pass the Zoho CRM module's API name, e.g. 'Leads'")
        window = self.window(context, check_future=True)
        if_run_exists, time_unit = check_if_run_exists(self.if_run_exists), check_time_unit(self.time_unit)
        aep = AdobeExperiencePlatformHook(aep_conn_id=self.aep_conn_id)
        zoho = ZohoCRMHook(zoho_conn_id=self.zoho_conn_id)
        zoho.validate_connection()
        uploader = aep.landing_zone_uploader()

        if if_run_exists != "rerun" and (landed := self._landed_run(aep, uploader, module, flow_id, window)):
            run, files = landed
            if if_run_exists == "fail":
                raise AirflowException(f"Window {window} of {module} was already ingested by run {run['id']} "
                                       f"of dataflow {flow_id} and if_run_exists='fail'")
            self.log.info("Window %s of %s is already in the landing zone and run %s of dataflow %s is %s: nothing "
                          "is exported or uploaded again", window, module, run["id"], flow_id,
                          runs.run_status(run) or "running")
            self._remember(context, files=files, records_exported=None)
            return self._wait(context, aep, flow_id, window, str(run["id"]))

        uploaded, records = self._export_and_upload(context, zoho, aep, module, flow_id, window)
        if not uploaded["files"]:
            self.log.info("No %s record was modified in %s: nothing uploaded, no run started", module, window)
            no_records = {"input_record_count": 0, "output_record_count": 0, "failed_record_count": 0}
            return {**run_result(window, no_records), "files": [], "records_exported": 0}
        files = [f["blob_name"] for f in uploaded["files"]]
        # The hook names the uploads' run window (windows.covering over their Last-Modified stamps).
        run_window = Window(datetime.fromisoformat(uploaded["run_window_start"]),
                            datetime.fromisoformat(uploaded["run_window_end"]))
        self._wait_for_the_clock(run_window.end)
        self._check_no_foreign_files(uploader.list_files(module_folder(module)), files, run_window)
        self._remember(context, files=files, records_exported=records)
        started = aep.start_dataflow_run(flow_id, run_window.start, run_window.end, if_run_exists=if_run_exists,
                                         time_unit=time_unit)
        self.log.info("Dataflow %s: run %s %s for the uploads of window %s (run window %s)", flow_id,
                      started["run_id"], "started" if started["created"] else "reused", window, run_window)
        return self._wait(context, aep, flow_id, window, started["run_id"])

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger's event: the run's result and what the try before the deferral uploaded."""
        result = complete_run(self, self.flow_id, self.aep_conn_id, self.window(context), event)
        ti = context["ti"]
        pushed = ti.xcom_pull(task_ids=self.task_id, key=UPLOAD_KEY, map_indexes=getattr(ti, "map_index", None))
        return {**result, **(pushed if isinstance(pushed, dict) else {})}

    def _wait(
        self, context: Context, aep: AdobeExperiencePlatformHook, flow_id: str, window: Window, run_id: str
    ) -> dict[str, Any]:
        result = wait_for_run(self, context, aep, flow_id, window, run_id,
                              wait_for_completion=self.wait_for_completion, deferrable=self.deferrable,
                              poll_interval=self.poll_interval, timeout=self.timeout)
        return {**result, **self._upload}

    def _remember(self, context: Context, *, files: list[str], records_exported: int | None) -> None:
        self._upload = {"files": files, "records_exported": records_exported}
        context["ti"].xcom_push(key=UPLOAD_KEY, value=self._upload)

    def _landed_run(
        self, aep: AdobeExperiencePlatformHook, uploader: LandingZoneUploader, module: str, flow_id: str,
        window: Window,
    ) -> tuple[dict[str, Any], list[str]] | None:
        """The succeeded or running run over this window's files already in the landing zone, and those files."""
        from airflow_provider_zoho_aep.client.landing_zone import blob_name

        prefix = blob_name(module, flow_id, window.start, window.end, 1).rsplit("_part-", 1)[0] + "_part-"
        stored = uploader.list_files(prefix)
        if not stored:
            return None
        run_window = covering(f.last_modified for f in stored)
        for run in aep.find_runs_for_window(flow_id, run_window.start, run_window.end):
            if runs.outcome(run) in ("success", "running"):
                return run, sorted(f.blob_name for f in stored)
        return None

    def _export_and_upload(
        self, context: Context, zoho: ZohoCRMHook, aep: AdobeExperiencePlatformHook, module: str, flow_id: str,
        window: Window,
    ) -> tuple[dict[str, Any], int]:
        """Export into this task instance's emptied folder, upload what was written, remove the folder again:
        the upload's answer (files and their run window) and the records exported."""
        folder = empty_folder(run_folder(optional_text(self.base_dir), context))
        try:
            manifest = zoho.export_modified_records(module, window.start, window.end, fields=self.fields,
                                                    out_dir=folder)
            return aep.upload_export_to_landing_zone(manifest, flow_id), manifest["records"]
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @staticmethod
    def _wait_for_the_clock(run_end: datetime) -> None:
        """A run window must not reach into the future; the newest stamp's second has to be over first."""
        deadline = time.monotonic() + MAX_CLOCK_WAIT_SECONDS
        while (ahead := (run_end - datetime.now(timezone.utc)).total_seconds()) > 0:
            if time.monotonic() > deadline:
                raise AirflowException(f"The landing zone's clock is {ahead:.0f} s ahead of this worker's")
            time.sleep(min(ahead + 0.05, 5.0))

    @staticmethod
    def _check_no_foreign_files(stored: Sequence[StoredFile], ours: Sequence[str], run_window: Window) -> None:
        """The run would ingest every file of the folder stamped in its window: they must all be this task's."""
        foreign = sorted(f.blob_name for f in stored
                         if run_window.contains(f.last_modified) and f.blob_name not in ours)
        if foreign:
            raise AirflowException(
                f"Files of another upload share this run's window {run_window} ({', '.join(foreign[:5])}): a run "
                "now would ingest them twice. No run was started; let one window of a module upload at a time "
                "(max_active_runs=1 or max_active_tis_per_dag=1)"
            )

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the Zoho CRM module read, the AEP dataset written (None without the OpenLineage provider)."""
        from airflow_provider_zoho_aep.lineage import dataflow_task_lineage

        return dataflow_task_lineage(self.log, self.aep_conn_id, str(self.flow_id), zoho_conn_id=self.zoho_conn_id,
                                     module=self.module)
