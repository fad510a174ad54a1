"""ZohoCRMToAEPDataLandingZoneOperator with mocked hooks: the order of its steps, reuse, fail, rerun, deferral."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from airflow_provider_zoho_aep.client.landing_zone import StoredFile
from airflow_provider_zoho_aep.client.settings import AEPSettings
from airflow_provider_zoho_aep.client.windows import Window
from airflow_provider_zoho_aep.operators import dataflow_run
from airflow_provider_zoho_aep.transfers import zoho_crm_to_aep_dlz as transfer
from airflow_provider_zoho_aep.transfers.zoho_crm_to_aep_dlz import UPLOAD_KEY, ZohoCRMToAEPDataLandingZoneOperator
from airflow_provider_zoho_aep.version_compat import AirflowException, TaskDeferred

UTC = timezone.utc
START, END = datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 2, 1, tzinfo=UTC)
STAMP = datetime(2026, 1, 3, 8, 0, 5, tzinfo=UTC)
PREFIX = "zoho/Leads/flow-1/20260102T000000Z_20260102T010000Z_part-"


def run(status: str, run_id: str = "run-1") -> dict[str, Any]:
    return {"id": run_id, "metrics": {"statusSummary": {"status": status},
                                      "recordSummary": {"inputRecordCount": 3, "outputRecordCount": 3,
                                                        "failedRecordCount": 0}}}


class TI:
    dag_id, run_id, task_id, map_index = "dag", "scheduled__1", "ingest", -1

    def __init__(self, events: list[str]) -> None:
        self.events = events
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.events.append(f"xcom {key}")
        self.xcom[key] = value

    def xcom_pull(self, task_ids: str, key: str, **_: Any) -> Any:
        return self.xcom.get(key)


class Hooks:
    """The two hooks and the uploader, recording the order of the calls the operator makes."""

    def __init__(self, tmp_path: Path) -> None:
        self.events: list[str] = []
        self.stored: list[StoredFile] = []
        self.aep = mock.MagicMock(name="aep")
        self.aep.settings = AEPSettings("c", "s", "ORG@AdobeOrg", sandbox_name="dev")
        self.aep.aep_conn_id = "aep_default"
        self.zoho = mock.MagicMock(name="zoho")
        self.uploader = self.aep.landing_zone_uploader.return_value
        self.uploader.list_files.side_effect = self.list_files
        self.aep.find_runs_for_window.return_value = []
        self.aep.get_run.side_effect = lambda run_id: self.record("get_run") or run("success", run_id)
        self.aep.start_dataflow_run.side_effect = lambda *a, **k: self.record("start") or {"run_id": "run-1",
                                                                                             "created": True}
        self.zoho.export_modified_records.side_effect = self.export
        self.aep.upload_export_to_landing_zone.side_effect = self.upload
        self.records = 3

    def record(self, event: str) -> None:
        self.events.append(event)

    def list_files(self, prefix: str) -> list[StoredFile]:
        self.record(f"list {prefix}")
        return [f for f in self.stored if f.blob_name.startswith(prefix)]

    def export(self, module: str, start: datetime, end: datetime, *, fields: Any, out_dir: str) -> dict[str, Any]:
        self.record("export")
        files = [{"path": f"{out_dir}/Leads.csv", "records": self.records, "bytes": 30, "sha256": "ab"}]
        return {"module": module, "window_start": start.isoformat(), "window_end": end.isoformat(),
                "records": self.records, "files": files if self.records else []}

    def upload(self, manifest: dict[str, Any], flow_id: str) -> dict[str, Any]:
        self.record("upload")
        names = [f"{PREFIX}{n:04d}.csv" for n in range(1, len(manifest["files"]) + 1)]
        self.stored += [StoredFile(name, 30, STAMP) for name in names]
        # As the hook answers: the files, and the run window of their stamps (None for both when nothing went).
        start, end = (STAMP, STAMP + timedelta(seconds=1)) if names else (None, None)
        return {"files": [{"blob_name": name, "last_modified": STAMP.isoformat()} for name in names],
                "run_window_start": start and start.isoformat(), "run_window_end": end and end.isoformat()}


@pytest.fixture
def hooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Hooks:
    fake = Hooks(tmp_path)
    monkeypatch.setattr(transfer, "AdobeExperiencePlatformHook", lambda **kwargs: fake.aep)
    monkeypatch.setattr(dataflow_run, "AdobeExperiencePlatformHook", lambda **kwargs: fake.aep)
    monkeypatch.setattr(transfer, "ZohoCRMHook", lambda **kwargs: fake.zoho)
    monkeypatch.setattr(ZohoCRMToAEPDataLandingZoneOperator, "_wait_for_the_clock",
                        staticmethod(lambda run_end: fake.record("clock")))
    monkeypatch.setattr(dataflow_run.time, "sleep", lambda seconds: fake.record("sleep"))
    monkeypatch.setenv("ZOHO_AEP_EXPORT_DIR", str(tmp_path))
    return fake


def operator(**kwargs: Any) -> ZohoCRMToAEPDataLandingZoneOperator:
    return ZohoCRMToAEPDataLandingZoneOperator(task_id="ingest", module="Leads", flow_id="flow-1", **kwargs)


def execute(hooks: Hooks, op: ZohoCRMToAEPDataLandingZoneOperator | None = None) -> tuple[dict[str, Any], TI]:
    ti = TI(hooks.events)
    result = (op or operator()).execute({"ti": ti, "data_interval_start": START, "data_interval_end": END})
    return result, ti


def test_export_upload_check_clock_run_and_wait_in_that_order(hooks: Hooks) -> None:
    result, ti = execute(hooks)
    assert hooks.events == [f"list {PREFIX}", "export", "upload", "clock", "list zoho/Leads/",
                            f"xcom {UPLOAD_KEY}", "start", "xcom run_id", "get_run"]
    # The run's window covers the uploads' second exactly, not the data interval.
    args, kwargs = hooks.aep.start_dataflow_run.call_args
    assert args == ("flow-1", STAMP, STAMP + timedelta(seconds=1))
    assert kwargs == {"if_run_exists": "reuse", "time_unit": "seconds"}
    assert hooks.zoho.export_modified_records.call_args.args == ("Leads", START, END)
    assert result == {"run_id": "run-1", "status": "success", "window_start": START.isoformat(),
                      "window_end": END.isoformat(), "input_record_count": 3, "output_record_count": 3,
                      "failed_record_count": 0, "files": [f"{PREFIX}0001.csv"], "records_exported": 3}
    assert ti.xcom == {UPLOAD_KEY: {"files": [f"{PREFIX}0001.csv"], "records_exported": 3}, "run_id": "run-1"}


def test_the_export_folder_is_removed_after_the_upload(hooks: Hooks, tmp_path: Path) -> None:
    execute(hooks)
    folder = Path(hooks.zoho.export_modified_records.call_args.kwargs["out_dir"])
    assert folder.is_relative_to(tmp_path) and not folder.exists()


def test_an_empty_window_uploads_nothing_and_starts_no_run(hooks: Hooks) -> None:
    hooks.records = 0
    result, ti = execute(hooks)
    assert result == {"run_id": None, "status": None, "window_start": START.isoformat(),
                      "window_end": END.isoformat(), "files": [], "records_exported": 0, "input_record_count": 0,
                      "output_record_count": 0, "failed_record_count": 0}
    hooks.aep.start_dataflow_run.assert_not_called()
    assert "run_id" not in ti.xcom


def test_a_landed_window_is_not_exported_again_and_its_run_is_reused(hooks: Hooks) -> None:
    hooks.stored = [StoredFile(f"{PREFIX}0001.csv", 30, STAMP)]
    hooks.aep.find_runs_for_window.return_value = [run("failed", "old"), run("success", "run-7")]
    result, ti = execute(hooks)
    assert hooks.aep.find_runs_for_window.call_args.args == ("flow-1", STAMP, STAMP + timedelta(seconds=1))
    assert "export" not in hooks.events and "upload" not in hooks.events
    hooks.aep.start_dataflow_run.assert_not_called()
    assert result["run_id"] == "run-7" and ti.xcom["run_id"] == "run-7"
    assert result["files"] == [f"{PREFIX}0001.csv"] and result["records_exported"] is None


def test_a_landed_window_whose_run_failed_is_exported_and_run_again(hooks: Hooks) -> None:
    hooks.stored = [StoredFile(f"{PREFIX}0001.csv", 30, STAMP)]
    hooks.aep.find_runs_for_window.return_value = [run("failed", "old")]
    result, _ = execute(hooks)
    assert "export" in hooks.events and "start" in hooks.events
    assert result["records_exported"] == 3


def test_if_run_exists_fail_names_the_window_the_flow_and_the_run(hooks: Hooks) -> None:
    hooks.stored = [StoredFile(f"{PREFIX}0001.csv", 30, STAMP)]
    hooks.aep.find_runs_for_window.return_value = [run("success", "run-7")]
    with pytest.raises(AirflowException) as raised:
        execute(hooks, operator(if_run_exists="fail"))
    message = str(raised.value)
    assert message == (f"Window {Window(START, END)} of Leads was already ingested by run run-7 of dataflow "
                       "flow-1 and if_run_exists='fail'")
    assert "{" not in message.replace(str(Window(START, END)), "")
    assert "export" not in hooks.events and "start" not in hooks.events


def test_rerun_exports_uploads_and_runs_again_without_looking(hooks: Hooks) -> None:
    hooks.stored = [StoredFile(f"{PREFIX}0001.csv", 30, STAMP)]
    hooks.aep.find_runs_for_window.return_value = [run("success", "run-7")]
    execute(hooks, operator(if_run_exists="rerun"))
    hooks.aep.find_runs_for_window.assert_not_called()
    assert hooks.aep.start_dataflow_run.call_args.kwargs["if_run_exists"] == "rerun"


def test_a_foreign_file_in_the_run_window_stops_the_run(hooks: Hooks) -> None:
    hooks.stored = [StoredFile("zoho/Leads/other/x.csv", 5, STAMP.replace(microsecond=500_000)),
                    StoredFile("zoho/Leads/other/earlier.csv", 5, STAMP - timedelta(seconds=1))]
    with pytest.raises(AirflowException, match="another upload") as raised:
        execute(hooks)
    assert "zoho/Leads/other/x.csv" in str(raised.value) and "earlier.csv" not in str(raised.value)
    hooks.aep.start_dataflow_run.assert_not_called()


def test_a_failed_run_fails_the_task_after_its_id_was_pushed(hooks: Hooks) -> None:
    hooks.aep.get_run.side_effect = lambda run_id: run("failed", run_id)
    with pytest.raises(AirflowException, match="run run-1 ended with status 'failed'"):
        execute(hooks)
    assert "xcom run_id" in hooks.events


def test_deferrable_defers_after_pushing_and_completes_with_the_upload(hooks: Hooks) -> None:
    hooks.aep.get_run.side_effect = lambda run_id: run("inProgress", run_id)
    op = operator(deferrable=True, poll_interval=timedelta(seconds=7))
    ti = TI(hooks.events)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute({"ti": ti, "data_interval_start": START, "data_interval_end": END})
    kwargs = deferred.value.trigger.serialize()[1]
    assert kwargs["run_id"] == "run-1" and kwargs["flow_id"] == "flow-1" and kwargs["poll_interval"] == 7.0
    assert deferred.value.method_name == "execute_complete"
    # Resumed in another process: a fresh operator, the upload read back from XCom.
    summary = {"run_id": "run-1", "status": "success", "input_record_count": 3, "output_record_count": 3,
               "failed_record_count": 0}
    result = operator(deferrable=True).execute_complete(
        {"ti": ti, "data_interval_start": START, "data_interval_end": END}, {"status": "success", "run": summary})
    assert result["files"] == [f"{PREFIX}0001.csv"] and result["records_exported"] == 3
    assert result["window_end"] == END.isoformat() and result["output_record_count"] == 3
    with pytest.raises(AirflowException, match="boom"):
        operator().execute_complete({"ti": ti, "data_interval_start": START, "data_interval_end": END},
                                    {"status": "failed", "message": "boom"})


@pytest.mark.parametrize(("kwargs", "field"), [({"flow_id": "None"}, "flow_id"), ({"module": ""}, "module"),
                                               ({"if_run_exists": "maybe"}, "if_run_exists"),
                                               ({"time_unit": "hours"}, "time_unit")])
def test_bad_arguments_fail_before_any_call(hooks: Hooks, kwargs: dict[str, Any], field: str) -> None:
    from airflow_provider_zoho_aep.client.errors import ConfigurationError

    args = {"task_id": "ingest", "module": "Leads", "flow_id": "flow-1", **kwargs}
    with pytest.raises(ConfigurationError) as info:
        execute(hooks, ZohoCRMToAEPDataLandingZoneOperator(**args))
    assert info.value.field == field
    assert hooks.events == [] and not hooks.aep.landing_zone_uploader.called


def test_template_fields_are_assigned_verbatim() -> None:
    op = ZohoCRMToAEPDataLandingZoneOperator(
        task_id="t", module="{{ m }}", flow_id="{{ f }}", fields="{{ fs }}", window_start="{{ a }}",
        window_end="{{ b }}", zoho_conn_id="{{ z }}", base_dir="{{ d }}", if_run_exists="{{ r }}",
        time_unit="{{ u }}", aep_conn_id="{{ c }}")
    assert {f: getattr(op, f) for f in op.template_fields} == {
        "module": "{{ m }}", "flow_id": "{{ f }}", "fields": "{{ fs }}", "window_start": "{{ a }}",
        "window_end": "{{ b }}", "zoho_conn_id": "{{ z }}", "base_dir": "{{ d }}", "if_run_exists": "{{ r }}",
        "time_unit": "{{ u }}", "aep_conn_id": "{{ c }}"}
    assert "delta_column" not in op.template_fields


def test_the_clock_wait_ends_once_the_newest_second_is_over(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [datetime(2026, 1, 3, 8, 0, 4, 200_000, tzinfo=UTC)]
    slept: list[float] = []

    class Clock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return now[0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += timedelta(seconds=seconds)

    monkeypatch.setattr(transfer, "datetime", Clock)
    monkeypatch.setattr(transfer.time, "sleep", sleep)
    ZohoCRMToAEPDataLandingZoneOperator._wait_for_the_clock(STAMP)
    assert now[0] >= STAMP and len(slept) == 1 and slept[0] == pytest.approx(0.85)


def test_a_clock_far_ahead_fails_the_task(monkeypatch: pytest.MonkeyPatch) -> None:
    monotonic = iter([0.0, 0.0, 1000.0])
    monkeypatch.setattr(transfer.time, "monotonic", lambda: next(monotonic))
    monkeypatch.setattr(transfer.time, "sleep", lambda seconds: None)
    with pytest.raises(AirflowException, match=r"clock is \d+ s ahead"):
        ZohoCRMToAEPDataLandingZoneOperator._wait_for_the_clock(datetime.now(UTC) + timedelta(hours=1))


def test_lineage_names_the_exported_module_and_never_fails_the_task(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_zoho_aep import lineage
    from airflow_provider_zoho_aep.hooks import aep, zoho_crm

    fake = mock.MagicMock()
    fake.settings = AEPSettings("c", "s", "ORG@AdobeOrg", sandbox_name="dev")
    fake.get_dataflow.return_value = {"sourceConnectionIds": ["s1"], "targetConnectionIds": ["t1"]}
    fake.get_source_connection.return_value = {"params": {"path": "dlz-user-container/zoho/Leads/"}}
    fake.get_target_connection.return_value = {"params": {"dataSetId": "ds1"}}
    zoho = mock.MagicMock()
    zoho.validate_connection.return_value.endpoint = "https://www.zohoapis.eu"
    monkeypatch.setattr(aep, "AdobeExperiencePlatformHook", lambda **kwargs: fake)
    monkeypatch.setattr(zoho_crm, "ZohoCRMHook", lambda **kwargs: zoho)
    monkeypatch.setattr(lineage, "operator_lineage", lambda inputs, outputs: (inputs, outputs))
    assert operator().get_openlineage_facets_on_complete(None) == (
        [lineage.LineageDataset("zohocrm://www.zohoapis.eu", "Leads")],
        [lineage.LineageDataset("aep://ORG@AdobeOrg", "dev.ds1")],
    )
    fake.get_dataflow.side_effect = RuntimeError("unreachable")
    assert operator().get_openlineage_facets_on_complete(None) is None
