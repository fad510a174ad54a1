"""AEPRunDataflowOperator with a mocked hook: the window, XCom order, waiting, failure, deferral."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from unittest import mock

import pytest

from airflow_provider_zoho_aep.client.errors import ConfigurationError
from airflow_provider_zoho_aep.client.settings import AEPSettings
from airflow_provider_zoho_aep.operators import dataflow_run
from airflow_provider_zoho_aep.operators.dataflow_run import AEPRunDataflowOperator
from airflow_provider_zoho_aep.version_compat import AirflowException, TaskDeferred

UTC = timezone.utc
START, END = datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 2, 1, tzinfo=UTC)


def item(status: str | None, run_id: str = "r1", **counts: int) -> dict[str, Any]:
    records = {"inputRecordCount": 5, "outputRecordCount": 5, "failedRecordCount": 0, **counts}
    return {"id": run_id, "metrics": {"statusSummary": {"status": status} if status else {},
                                      "recordSummary": records}}


class TI:
    def __init__(self, events: list[str]) -> None:
        self.events = events

    def xcom_push(self, key: str, value: Any) -> None:
        self.events.append(f"xcom {key}={value}")


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> mock.MagicMock:
    events: list[str] = []
    fake = mock.MagicMock()
    fake.events = events
    fake.settings = AEPSettings("c", "s", "ORG@AdobeOrg", sandbox_name="dev", ui_tenant="acme")
    fake.start_dataflow_run.side_effect = lambda *a, **k: events.append("start") or {"run_id": "r1",
                                                                                       "created": True}
    monkeypatch.setattr(dataflow_run, "AdobeExperiencePlatformHook", lambda **kwargs: fake)
    monkeypatch.setattr(dataflow_run.time, "sleep", lambda seconds: events.append(f"sleep {seconds}"))
    return fake


def context(hook: mock.MagicMock, start: Any = START, end: Any = END) -> dict[str, Any]:
    return {"ti": TI(hook.events), "data_interval_start": start, "data_interval_end": end}


def test_window_defaults_to_the_data_interval_and_run_id_is_pushed_before_waiting(hook: mock.MagicMock) -> None:
    runs = [item("queued"), item("inProgress"), item("success")]
    hook.get_run.side_effect = lambda run_id: hook.events.append("get") or runs.pop(0)
    result = AEPRunDataflowOperator(task_id="t", flow_id="f1", poll_interval=3).execute(context(hook))
    assert result == {"run_id": "r1", "status": "success", "window_start": START.isoformat(),
                      "window_end": END.isoformat(), "input_record_count": 5, "output_record_count": 5,
                      "failed_record_count": 0}
    assert hook.events == ["start", "xcom run_id=r1", "get", "sleep 3.0", "get", "sleep 3.0", "get"]
    args, kwargs = hook.start_dataflow_run.call_args
    assert args == ("f1", START, END)
    assert kwargs == {"delta_column": None, "if_run_exists": "reuse", "time_unit": "seconds"}


def test_rendered_empty_window_arguments_fall_back_to_the_interval(hook: mock.MagicMock) -> None:
    hook.get_run.return_value = item("success")
    op = AEPRunDataflowOperator(task_id="t", flow_id="f1", window_start="", window_end="None",
                                delta_column="None")
    op.execute(context(hook))
    assert hook.start_dataflow_run.call_args.args == ("f1", START, END)
    assert hook.start_dataflow_run.call_args.kwargs["delta_column"] is None


def test_a_failed_run_fails_the_task_with_adobes_errors(hook: mock.MagicMock) -> None:
    failed = item("Failed", failedRecordCount=5)
    failed["metrics"]["statusSummary"]["extensions"] = {"errors": [{"code": "CONNECTOR-2001-500", "message": "x"}]}
    hook.get_run.return_value = failed
    with pytest.raises(AirflowException, match="CONNECTOR-2001-500: x"):
        AEPRunDataflowOperator(task_id="t", flow_id="f1").execute(context(hook))
    assert "xcom run_id=r1" in hook.events


def test_without_waiting_it_returns_the_started_run(hook: mock.MagicMock) -> None:
    hook.get_run.return_value = item("queued")
    result = AEPRunDataflowOperator(task_id="t", flow_id="f1", wait_for_completion=False).execute(context(hook))
    assert result["status"] == "queued" and result["run_id"] == "r1"


def test_the_sync_wait_has_a_timeout(hook: mock.MagicMock, monkeypatch: pytest.MonkeyPatch) -> None:
    hook.get_run.return_value = item("inProgress")
    clock = iter(range(0, 1000, 10))
    monkeypatch.setattr(dataflow_run.time, "monotonic", lambda: next(clock))
    with pytest.raises(AirflowException, match="has not finished within 25 s"):
        AEPRunDataflowOperator(task_id="t", flow_id="f1", timeout=25).execute(context(hook))


def test_deferrable_defers_for_that_run_and_completes_from_the_event(hook: mock.MagicMock) -> None:
    hook.get_run.return_value = item("queued")
    op = AEPRunDataflowOperator(task_id="t", flow_id="f1", deferrable=True, poll_interval=timedelta(seconds=9))
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context(hook))
    _, kwargs = deferred.value.trigger.serialize()
    assert kwargs["run_id"] == "r1" and kwargs["poll_interval"] == 9.0
    assert hook.events[:2] == ["start", "xcom run_id=r1"]
    event = {"status": "success", "run": {"run_id": "r1", "status": "success", "input_record_count": 9,
                                          "output_record_count": 9, "failed_record_count": 0}}
    result = op.execute_complete(context(hook), event)
    assert result["input_record_count"] == 9 and result["window_end"] == END.isoformat()
    assert op.aep_ui_links == {
        "dataflow": "https://experience.adobe.com/#/@acme/sname:dev/platform/source/dataflows/f1",
        "run": "https://experience.adobe.com/#/@acme/sname:dev/platform/source/dataflows/f1/runs/r1",
    }
    for status in ("failed", "timeout", "error"):
        with pytest.raises(AirflowException, match="boom"):
            op.execute_complete(context(hook), {"status": status, "message": "boom"})


def test_no_data_interval_names_the_arguments(hook: mock.MagicMock) -> None:
    with pytest.raises(ConfigurationError) as info:
        AEPRunDataflowOperator(task_id="t", flow_id="f1").execute(context(hook, None, None))
    assert info.value.field == "window_start and window_end"
    hook.start_dataflow_run.assert_not_called()


def test_template_fields_are_assigned_verbatim() -> None:
    op = AEPRunDataflowOperator(task_id="t", flow_id="{{ x }}", window_start="{{ a }}", window_end="{{ b }}",
                                if_run_exists="{{ c }}", time_unit="{{ d }}", delta_column="{{ e }}")
    assert {f: getattr(op, f) for f in op.template_fields} == {
        "flow_id": "{{ x }}", "window_start": "{{ a }}", "window_end": "{{ b }}", "delta_column": "{{ e }}",
        "if_run_exists": "{{ c }}", "time_unit": "{{ d }}", "aep_conn_id": "aep_default"}
