"""AEPDataflowRunSensor against a mocked hook: poke outcomes, the run ID pushed at once, deferral and resume."""

from __future__ import annotations

import time
from typing import Any
from unittest import mock

import pytest
from airflow.sdk import PokeReturnValue

from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.sensors.dataflow_run import AEPDataflowRunSensor
from airflow_provider_zoho_aep.triggers.dataflow_run import AEPDataflowRunTrigger
from airflow_provider_zoho_aep.version_compat import AirflowException, AirflowSensorTimeout, TaskDeferred
from tests.unit.conftest import messages, patched_hook

AEP_HOOK = "airflow_provider_zoho_aep.sensors.dataflow_run.AdobeExperiencePlatformHook"


def run(status: str | None, run_id: str = "run-1", created: int = 1, flow_id: str = "flow-1",
        **extra: Any) -> dict[str, Any]:
    metrics: dict[str, Any] = {"recordSummary": {"inputRecordCount": 10, "outputRecordCount": 9,
                                                 "failedRecordCount": 1}}
    if status is not None:
        metrics["statusSummary"] = {"status": status, **extra}
    return {"id": run_id, "flowId": flow_id, "createdAt": created, "metrics": metrics}


SUMMARY = {"run_id": "run-1", "status": "success", "input_record_count": 10, "output_record_count": 9,
           "failed_record_count": 1}


@pytest.fixture
def hook_cls() -> Any:
    with patched_hook(AEP_HOOK, AdobeExperiencePlatformHook) as hook_cls:
        hook_cls.return_value.list_runs.return_value = []
        yield hook_cls


def sensor(**overrides: Any) -> AEPDataflowRunSensor:
    kwargs: dict[str, Any] = {"task_id": "wait", "flow_id": "flow-1", "poke_interval": 0, "timeout": 60}
    return AEPDataflowRunSensor(**{**kwargs, **overrides})


class TestPoke:
    def test_renders_its_fields_and_reads_the_newest_runs(self, hook_cls: Any, context: Any) -> None:
        op = sensor(flow_id="{{ params.flow }}", aep_conn_id="{{ params.conn }}")
        op.render_template_fields({"params": {"flow": "flow-r", "conn": "aep_rendered"}})
        op.poke(context)
        hook_cls.assert_called_once_with(aep_conn_id="aep_rendered")
        hook_cls.return_value.list_runs.assert_called_once_with("flow-r", limit=5)

    def test_no_run_yet_keeps_waiting_and_pushes_nothing(self, hook_cls: Any, context: Any, ti: Any,
                                                         logs: Any) -> None:
        assert sensor().poke(context) is False
        ti.xcom_push.assert_not_called()
        assert "Dataflow flow-1 has no run yet" in messages(logs)

    @pytest.mark.parametrize("status", ["queued", "inProgress", "In_Progress", None])
    def test_a_running_run_keeps_waiting_and_its_id_is_pushed_at_once(
        self, hook_cls: Any, context: Any, ti: Any, status: str | None
    ) -> None:
        hook_cls.return_value.list_runs.return_value = [run(status)]
        assert sensor().poke(context) is False
        ti.xcom_push.assert_called_once_with(key="run_id", value="run-1")

    def test_the_run_id_is_pushed_once_per_run(self, hook_cls: Any, context: Any, ti: Any) -> None:
        op = sensor()
        hook_cls.return_value.list_runs.side_effect = [
            [run("inProgress")], [run("inProgress")], [run("inProgress", "run-2", created=2), run("success")],
        ]
        for _ in range(3):
            op.poke(context)
        assert ti.xcom_push.call_args_list == [mock.call(key="run_id", value="run-1"),
                                               mock.call(key="run_id", value="run-2")]

    def test_runs_of_another_flow_are_ignored(self, hook_cls: Any, context: Any, ti: Any) -> None:
        hook_cls.return_value.list_runs.return_value = [run("failed", "other-run", flow_id="flow-9")]
        assert sensor().poke(context) is False
        ti.xcom_push.assert_not_called()

    @pytest.mark.parametrize("status", ["success", "Succeeded"])
    def test_success_returns_the_run_summary(self, hook_cls: Any, context: Any, ti: Any, status: str) -> None:
        hook_cls.return_value.list_runs.return_value = [run(status)]
        done = sensor().poke(context)
        assert isinstance(done, PokeReturnValue)
        assert done.is_done is True
        assert done.xcom_value == {**SUMMARY, "status": status}
        ti.xcom_push.assert_called_once_with(key="run_id", value="run-1")

    def test_the_newest_run_decides(self, hook_cls: Any, context: Any) -> None:
        hook_cls.return_value.list_runs.return_value = [run("failed", "old", created=1), run("success", created=5)]
        done = sensor().poke(context)
        assert isinstance(done, PokeReturnValue)
        assert done.xcom_value["run_id"] == "run-1"

    @pytest.mark.parametrize("status", ["failed", "partialSuccess", "cancelled", "whatever"])
    def test_any_other_final_status_fails_with_the_runs_errors(
        self, hook_cls: Any, context: Any, ti: Any, status: str
    ) -> None:
        errors = [{"code": "CONNECTOR-2001-500", "message": "Zoho refused the token"}]
        hook_cls.return_value.list_runs.return_value = [run(status, errors=errors)]
        with pytest.raises(AirflowException) as raised:
            sensor().poke(context)
        message = str(raised.value)
        assert f"Dataflow flow-1: run run-1 ended with status {status!r}" in message
        assert "1 of 10 records failed" in message
        assert "CONNECTOR-2001-500: Zoho refused the token" in message
        ti.xcom_push.assert_called_once_with(key="run_id", value="run-1")  # pushed before failing

    @pytest.mark.parametrize("error", [
        AEPAPIError("IMS said no", status=400, code="invalid_client", service="IMS"),
        ConfigurationError("flow_id", "is empty", "pass the flow id, e.g. from upstream XCom"),
    ], ids=["api", "configuration"])
    def test_a_hook_error_propagates(self, hook_cls: Any, context: Any, ti: Any, error: Exception) -> None:
        hook_cls.return_value.list_runs.side_effect = error
        with pytest.raises(type(error)) as raised:
            sensor().poke(context)
        assert raised.value is error
        ti.xcom_push.assert_not_called()


class TestExecute:
    def test_waits_in_the_worker_until_the_run_succeeds(self, hook_cls: Any, context: Any, ti: Any) -> None:
        hook_cls.return_value.list_runs.side_effect = [[], [run("inProgress")], [run("success")]]
        assert sensor(deferrable=False).execute(context) == SUMMARY
        assert hook_cls.return_value.list_runs.call_count == 3
        ti.xcom_push.assert_called_once_with(key="run_id", value="run-1")

    def test_deferrable_with_a_finished_run_returns_without_deferring(self, hook_cls: Any, context: Any) -> None:
        hook_cls.return_value.list_runs.return_value = [run("success")]
        assert sensor(deferrable=True).execute(context) == SUMMARY

    def test_deferrable_with_a_failed_run_fails_without_deferring(self, hook_cls: Any, context: Any) -> None:
        hook_cls.return_value.list_runs.return_value = [run("failed")]
        with pytest.raises(AirflowException, match="ended with status 'failed'"):
            sensor(deferrable=True).execute(context)

    def test_deferrable_defers_to_the_trigger_after_pushing_the_run_id(
        self, hook_cls: Any, context: Any, ti: Any
    ) -> None:
        hook_cls.return_value.list_runs.return_value = [run("inProgress")]
        op = sensor(deferrable=True, flow_id="{{ params.flow }}", aep_conn_id="{{ params.conn }}",
                    poke_interval=45, timeout=600)
        op.render_template_fields({"params": {"flow": "flow-1", "conn": "aep_rendered"}})
        before = time.time()
        with pytest.raises(TaskDeferred) as deferred:
            op.execute(context)
        after = time.time()

        ti.xcom_push.assert_called_once_with(key="run_id", value="run-1")
        assert deferred.value.method_name == "execute_complete"
        assert deferred.value.timeout is None  # the trigger keeps its own deadline
        trigger = deferred.value.trigger
        assert isinstance(trigger, AEPDataflowRunTrigger)
        _, kwargs = trigger.serialize()
        assert (kwargs["flow_id"], kwargs["aep_conn_id"], kwargs["poll_interval"]) == ("flow-1", "aep_rendered", 45.0)
        assert before + 600 <= kwargs["end_time"] <= after + 600


class TestExecuteComplete:
    def test_success_returns_the_run_and_pushes_its_id(self, context: Any, ti: Any) -> None:
        event = {"status": "success", "run": SUMMARY}
        assert sensor().execute_complete(context, event) == SUMMARY
        ti.xcom_push.assert_called_once_with(key="run_id", value="run-1")

    def test_a_run_id_already_pushed_is_not_pushed_again(self, hook_cls: Any, context: Any, ti: Any) -> None:
        op = sensor()
        hook_cls.return_value.list_runs.return_value = [run("inProgress")]
        op.poke(context)
        op.execute_complete(context, {"status": "success", "run": SUMMARY})
        ti.xcom_push.assert_called_once_with(key="run_id", value="run-1")

    def test_timeout_fails_as_a_sensor_timeout(self, context: Any, ti: Any) -> None:
        event = {"status": "timeout", "run_id": "run-1", "message": "Dataflow flow-1: no finished run in 600 s"}
        with pytest.raises(AirflowSensorTimeout, match="no finished run in 600 s"):
            sensor().execute_complete(context, event)
        ti.xcom_push.assert_called_once_with(key="run_id", value="run-1")

    def test_a_failed_run_fails_with_the_triggers_message(self, context: Any) -> None:
        event = {"status": "failed", "run": {"run_id": "run-1"}, "message": "run run-1 ended with status 'failed'"}
        with pytest.raises(AirflowException, match="ended with status 'failed'") as raised:
            sensor().execute_complete(context, event)
        assert not isinstance(raised.value, AirflowSensorTimeout)

    @pytest.mark.parametrize("event", [None, "success", {"status": "success"}, {"status": "success", "run": {}},
                                       {"status": "odd", "run": SUMMARY}])
    def test_anything_but_an_explicit_success_fails(self, context: Any, event: Any) -> None:
        with pytest.raises(AirflowException, match="flow-1"):
            sensor().execute_complete(context, event)


class TestOneRun:
    def test_with_run_id_it_reads_that_run_not_the_latest(self, hook_cls: Any, context: Any, ti: Any) -> None:
        hook_cls.return_value.get_run.return_value = run("success")
        hook_cls.return_value.list_runs.return_value = [run("inProgress", "newer", created=9)]
        done = sensor(run_id="run-1").poke(context)
        assert isinstance(done, PokeReturnValue) and done.xcom_value == SUMMARY
        hook_cls.return_value.get_run.assert_called_once_with("run-1")
        hook_cls.return_value.list_runs.assert_not_called()
        ti.xcom_push.assert_called_once_with(key="run_id", value="run-1")

    def test_a_rendered_empty_run_id_means_the_latest(self, hook_cls: Any, context: Any) -> None:
        assert sensor(run_id="None").poke(context) is False
        hook_cls.return_value.get_run.assert_not_called()

    def test_deferring_passes_the_run_id_to_the_trigger(self, hook_cls: Any, context: Any) -> None:
        hook_cls.return_value.get_run.return_value = run("queued")
        with pytest.raises(TaskDeferred) as deferred:
            sensor(run_id="run-1", deferrable=True).execute(context)
        assert deferred.value.trigger.serialize()[1]["run_id"] == "run-1"
