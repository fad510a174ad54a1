"""Run polling under every fault: the sensor (poke mode, sync client) and the trigger (async client) both end
with the right outcome, and the pipeline's resources each exist exactly once."""

from __future__ import annotations

import time

import pytest

from airflow_provider_zoho_aep.sensors.dataflow_run import AEPDataflowRunSensor
from airflow_provider_zoho_aep.triggers.dataflow_run import AEPDataflowRunTrigger
from emulator import Fault
from tests.conftest import aep_connection, set_connection
from tests.faults.test_fault_matrix import TIMEOUT, faults
from tests.integration.test_pipeline import context, make_base, make_flow, make_source, make_target

RUNS = r"^/data/foundation/flowservice/runs$"


@pytest.fixture
def finished_flow(emulator, monkeypatch):
    """A dataflow whose first run has finished; the AEP Connection gets a short timeout for 'slow answer'."""
    emulator.run_duration = 0.05
    flow_id = make_flow(make_source(make_base()), make_target())
    extra = {**aep_connection(emulator.url)["extra"], "timeout": TIMEOUT}  # type: ignore[dict-item]
    set_connection(monkeypatch, "aep_default", aep_connection(emulator.url, extra=extra))
    time.sleep(0.1)
    return flow_id


def exactly_one_of_each(emulator) -> None:
    store = emulator.store
    assert (len(store.connections), len(store.source_connections), len(store.target_connections),
            len(store.flows)) == (1, 1, 1, 1)


@pytest.mark.parametrize("fault_name", list(faults()))
def test_sensor_poke_survives_each_fault_on_run_polling(emulator, finished_flow, fault_name):
    emulator.add_fault(Fault(method="GET", path=RUNS, **faults()[fault_name]))
    sensor = AEPDataflowRunSensor(task_id="wait", flow_id=finished_flow, poke_interval=0.1, timeout=30)
    result = sensor.poke(context())
    assert result.is_done and result.xcom_value["status"].lower() == "success"  # type: ignore[union-attr]
    assert not emulator.faults._faults  # the fault fired
    exactly_one_of_each(emulator)


@pytest.mark.parametrize("fault_name", list(faults()))
async def test_trigger_survives_each_fault_on_run_polling(emulator, finished_flow, fault_name):
    emulator.add_fault(Fault(method="GET", path=RUNS, **faults()[fault_name]))
    trigger = AEPDataflowRunTrigger(flow_id=finished_flow, aep_conn_id="aep_default", poll_interval=0.1,
                                    end_time=time.time() + 30)
    event = await trigger.run().__anext__()
    assert event.payload["status"] == "success", event.payload
    assert event.payload["run"]["output_record_count"] == emulator.store.crm_data.records_per_module
    assert not emulator.faults._faults
    exactly_one_of_each(emulator)
