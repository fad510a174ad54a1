"""AEPDataflowRunSensor with a mocked hook: one run by ID, or the latest."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from airflow.sdk import PokeReturnValue
from airflow.sdk.exceptions import TaskDeferred

from airflow_provider_zoho_aep.sensors import dataflow_run
from airflow_provider_zoho_aep.sensors.dataflow_run import AEPDataflowRunSensor


class TI:
    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def item(run_id: str, status: str) -> dict[str, Any]:
    return {"id": run_id, "flowId": "f1", "createdAt": 1, "metrics": {"statusSummary": {"status": status}}}


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> mock.MagicMock:
    fake = mock.MagicMock()
    monkeypatch.setattr(dataflow_run, "AdobeExperiencePlatformHook", lambda **kwargs: fake)
    return fake


def test_with_run_id_it_reads_that_run_not_the_latest(hook: mock.MagicMock) -> None:
    hook.get_run.return_value = item("mine", "success")
    hook.list_runs.return_value = [item("newer", "inProgress")]
    ti = TI()
    done = AEPDataflowRunSensor(task_id="s", flow_id="f1", run_id="mine").poke({"ti": ti})
    assert isinstance(done, PokeReturnValue) and done.xcom_value["run_id"] == "mine"
    hook.get_run.assert_called_once_with("mine")
    hook.list_runs.assert_not_called()
    assert ti.xcom["run_id"] == "mine"


def test_without_run_id_it_keeps_watching_the_latest(hook: mock.MagicMock) -> None:
    hook.list_runs.return_value = [item("newer", "inProgress")]
    assert AEPDataflowRunSensor(task_id="s", flow_id="f1", run_id="None").poke({"ti": TI()}) is False
    hook.get_run.assert_not_called()


def test_deferring_passes_the_run_id_to_the_trigger(hook: mock.MagicMock) -> None:
    hook.get_run.return_value = item("mine", "queued")
    with pytest.raises(TaskDeferred) as deferred:
        AEPDataflowRunSensor(task_id="s", flow_id="f1", run_id="mine", deferrable=True).execute({"ti": TI()})
    assert deferred.value.trigger.serialize()[1]["run_id"] == "mine"
