"""Base connection → source → target → dataflow → run sensor → teardown, each against the emulator."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from airflow_provider_zoho_aep import DATA_LAKE_CONNECTION_SPEC_ID, ZOHO_CRM_CONNECTION_SPEC_ID
from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError, ResourceExistsError
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.operators.base_connection import AEPCreateZohoCRMBaseConnectionOperator
from airflow_provider_zoho_aep.operators.dataflow import AEPCreateDataflowOperator
from airflow_provider_zoho_aep.operators.delete_dataflow import AEPDeleteDataflowOperator
from airflow_provider_zoho_aep.operators.list_tables import AEPListTablesOperator
from airflow_provider_zoho_aep.operators.source_connection import AEPCreateSourceConnectionOperator
from airflow_provider_zoho_aep.operators.target_connection import AEPCreateTargetConnectionOperator
from airflow_provider_zoho_aep.sensors.dataflow_run import AEPDataflowRunSensor
from airflow_provider_zoho_aep.triggers.dataflow_run import AEPDataflowRunTrigger
from airflow_provider_zoho_aep.version_compat import AirflowException, AirflowSensorTimeout, TaskDeferred
from emulator import Emulator, EmulatorCredentials
from tests.dag_test_speedup import reuse_in_process_execution_api

DATASET_ID = "5f3c2bfc1a2b3c4d5e6f7a8b"
SCHEMA_ID = "https://ns.adobe.com/emulator/schemas/zoho-crm-leads"
FLOW_PREFIX = "/data/foundation/flowservice"
#: What a scheduled run of the Leads flow reads: every Leads record of the emulator's CRM data set.
LEADS = 2000


class FakeTI:
    """Records xcom_push calls the way a task instance would receive them."""

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}
        self.pushes: list[tuple[str, Any]] = []

    def xcom_push(self, key: str, value: Any) -> None:
        json.dumps(value)  # XCom values must be JSON-serialisable
        self.xcom[key] = value
        self.pushes.append((key, value))


def context() -> dict[str, Any]:
    return {"ti": FakeTI()}


def flow_requests(emulator: Emulator) -> list[Any]:
    return [r for r in emulator.requests if r.path.startswith(FLOW_PREFIX)]


def posts(emulator: Emulator, collection: str) -> int:
    return sum(1 for r in emulator.requests if r.method == "POST" and r.path == f"{FLOW_PREFIX}/{collection}")


# -- building blocks -------------------------------------------------------------------------------------


def make_base(name: str = "Zoho CRM base connection") -> str:
    return AEPCreateZohoCRMBaseConnectionOperator(task_id="base", name=name).execute(context())


def make_source(base_id: str, table: str = "Leads", name: str = "Zoho CRM Leads") -> str:
    op = AEPCreateSourceConnectionOperator(task_id="source", name=name, base_connection_id=base_id, table_name=table)
    return op.execute(context())


def make_target(name: str = "Leads dataset") -> str:
    op = AEPCreateTargetConnectionOperator(task_id="target", name=name, dataset_id=DATASET_ID, schema_id=SCHEMA_ID)
    return op.execute(context())


def make_flow(source_id: str, target_id: str, **kwargs: Any) -> str:
    args: dict[str, Any] = {"name": "Zoho CRM Leads to AEP", "delta_column": "Modified_Time", **kwargs}
    op = AEPCreateDataflowOperator(
        task_id="flow", source_connection_id=source_id, target_connection_id=target_id, **args
    )
    return op.execute(context())


@pytest.fixture
def pipeline(emulator: Emulator) -> dict[str, str]:
    base_id = make_base()
    source_id = make_source(base_id)
    target_id = make_target()
    flow_id = make_flow(source_id, target_id)
    return {"base": base_id, "source": source_id, "target": target_id, "flow": flow_id}


# -- explore ----------------------------------------------------------------------------------------------


def test_list_tables_returns_paths_and_checks_the_module(emulator: Emulator) -> None:
    base_id = make_base()
    op = AEPListTablesOperator(task_id="tables", base_connection_id=base_id, required_table="Leads")
    assert op.execute(context()) == ["Leads", "Contacts", "Accounts", "Deals"]
    missing = AEPListTablesOperator(task_id="tables", base_connection_id=base_id, required_table="Potentials")
    with pytest.raises(ConfigurationError, match="'Potentials' is not a table"):
        missing.execute(context())


# -- source connection ------------------------------------------------------------------------------------


def test_source_connection_is_created_once_and_reused(emulator: Emulator) -> None:
    base_id = make_base()
    ctx = context()
    op = AEPCreateSourceConnectionOperator(
        task_id="source", name="Zoho CRM Leads", base_connection_id=base_id, table_name="Leads",
        description="Leads module",
    )
    first = op.execute(ctx)
    assert ctx["ti"].xcom["etag"] and ctx["ti"].xcom["created"] is True
    second_ctx = context()
    assert op.execute(second_ctx) == first
    assert second_ctx["ti"].xcom["created"] is False
    assert list(emulator.store.source_connections) == [first]
    stored = emulator.store.source_connections[first]
    assert stored["baseConnectionId"] == base_id
    assert stored["data"] == {"format": "tabular"}
    assert stored["params"] == {"tableName": "Leads"}
    assert stored["connectionSpec"] == {"id": ZOHO_CRM_CONNECTION_SPEC_ID, "version": "1.0"}
    assert stored["description"] == "Leads module"
    assert posts(emulator, "sourceConnections") == 1


def test_source_connection_update_is_refused_saying_what_to_do_and_fail_raises(emulator: Emulator) -> None:
    base_id = make_base()
    source_id = make_source(base_id)
    emulator.clear_requests()
    # Adobe: a source connection changed on its own does not reach the dataflows that use it.
    with pytest.raises(ConfigurationError, match="if_exists") as info:
        AEPCreateSourceConnectionOperator(
            task_id="source", name="Zoho CRM Leads", base_connection_id=base_id, table_name="Contacts",
            if_exists="update",
        ).execute(context())
    assert "new name" in str(info.value) and "dataflow" in str(info.value)
    assert emulator.requests == []
    assert emulator.store.source_connections[source_id]["params"]["tableName"] == "Leads"
    with pytest.raises(ResourceExistsError):
        AEPCreateSourceConnectionOperator(
            task_id="source", name="Zoho CRM Leads", base_connection_id=base_id, table_name="Leads",
            if_exists="fail",
        ).execute(context())


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"base_connection_id": ""}, "base_connection_id"),
        ({"base_connection_id": "None"}, "base_connection_id"),
        ({"table_name": " "}, "table_name"),
        ({"if_exists": "replace"}, "if_exists"),
    ],
)
def test_source_connection_validation_before_any_request(
    emulator: Emulator, kwargs: dict[str, Any], field: str
) -> None:
    args = {"name": "n", "base_connection_id": "b", "table_name": "Leads", **kwargs}
    with pytest.raises(ConfigurationError, match=field):
        AEPCreateSourceConnectionOperator(task_id="source", **args).execute(context())
    assert emulator.requests == []


# -- target connection ------------------------------------------------------------------------------------


def test_target_connection_is_created_once_and_reused(emulator: Emulator) -> None:
    first = make_target()
    assert make_target() == first
    assert list(emulator.store.target_connections) == [first]
    stored = emulator.store.target_connections[first]
    assert stored["data"] == {
        "schema": {"id": SCHEMA_ID, "version": "application/vnd.adobe.xed-full+json;version=1"}
    }
    assert stored["params"] == {"dataSetId": DATASET_ID}
    assert stored["connectionSpec"]["id"] == DATA_LAKE_CONNECTION_SPEC_ID


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"dataset_id": ""}, "dataset_id"),
        ({"schema_id": "zoho-crm-leads"}, "schema_id"),
        ({"schema_id": "http://ns.adobe.com/x/schemas/y"}, "schema_id"),
        ({"schema_id": ""}, "schema_id"),
    ],
)
def test_target_connection_validation_before_any_request(
    emulator: Emulator, kwargs: dict[str, Any], field: str
) -> None:
    args = {"name": "t", "dataset_id": DATASET_ID, "schema_id": SCHEMA_ID, **kwargs}
    with pytest.raises(ConfigurationError, match=field):
        AEPCreateTargetConnectionOperator(task_id="target", **args).execute(context())
    assert emulator.requests == []


# -- dataflow ---------------------------------------------------------------------------------------------


def test_dataflow_body_and_idempotency(emulator: Emulator) -> None:
    source_id = make_source(make_base())
    target_id = make_target()
    ctx = context()
    op = AEPCreateDataflowOperator(
        task_id="flow", name="Zoho CRM Leads to AEP", source_connection_id=source_id,
        target_connection_id=target_id, delta_column="Modified_Time", mapping_id="mapping-1",
        start_time="2025-01-01T00:00:00Z", frequency="day", interval="2", backfill=False,
    )
    flow_id = op.execute(ctx)
    assert ctx["ti"].xcom["etag"]
    assert op.execute(context()) == flow_id
    assert list(emulator.store.flows) == [flow_id]
    assert posts(emulator, "flows") == 1

    post = next(r for r in emulator.requests if r.method == "POST" and r.path == f"{FLOW_PREFIX}/flows")
    body = json.loads(post.body)
    assert "state" not in body
    assert body["flowSpec"]["id"] == "14518937-270c-4525-bdec-c2ba7cce3860"  # resolved, not hard-coded
    assert body["sourceConnectionIds"] == [source_id] and body["targetConnectionIds"] == [target_id]
    assert body["transformations"] == [
        {"name": "Copy", "params": {"deltaColumn": {"name": "Modified_Time"}}},
        {"name": "Mapping", "params": {"mappingId": "mapping-1", "mappingVersion": 0}},
    ]
    assert body["scheduleParams"] == {"startTime": 1735689600, "frequency": "day", "interval": 2, "backfill": False}
    flow_spec_reads = [r for r in emulator.requests if r.path == f"{FLOW_PREFIX}/flowSpecs"]
    assert flow_spec_reads and flow_spec_reads[0].query["property"] == ['name=="CRMToAEP"']
    assert any(r.path == f"{FLOW_PREFIX}/sourceConnections/{source_id}" for r in emulator.requests)


def test_dataflow_default_schedule_and_no_mapping(emulator: Emulator) -> None:
    source_id = make_source(make_base())
    before = int(time.time())
    make_flow(source_id, make_target(), mapping_id="")
    flow = next(iter(emulator.store.flows.values()))
    assert [t["name"] for t in flow["transformations"]] == ["Copy"]
    schedule = flow["scheduleParams"]
    assert schedule["frequency"] == "hour" and schedule["interval"] == 1 and "backfill" not in schedule
    assert before <= schedule["startTime"] <= int(time.time())


def test_dataflow_reads_the_source_and_flow_spec_before_posting(emulator: Emulator) -> None:
    # A target connection ID passed as the source: no such source connection, found before any POST.
    source_id = make_source(make_base())
    target_id = make_target()
    with pytest.raises(AEPAPIError, match="sourceConnections"):
        make_flow(target_id, target_id)
    assert emulator.store.flows == {}
    with pytest.raises(AEPAPIError, match="flow spec 'NoSuchSpec'"):
        make_flow(source_id, target_id, flow_spec_name="NoSuchSpec")
    assert posts(emulator, "flows") == 0


def test_dataflow_checks_the_source_spec_against_the_flow_spec(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    source_id = make_source(make_base())
    target_id = make_target()
    real = AdobeExperiencePlatformHook.find_flow_spec

    def narrow(self: AdobeExperiencePlatformHook, name: str = "CRMToAEP") -> dict[str, Any]:
        spec = real(self, name)
        return {**spec, "sourceConnectionSpecIds": ["cfc0fee1-7dc0-40ef-b73e-d8b134c436f5"]}

    monkeypatch.setattr(AdobeExperiencePlatformHook, "find_flow_spec", narrow)
    with pytest.raises(ConfigurationError, match=r"source_connection_id.*does not accept"):
        make_flow(source_id, target_id)
    assert posts(emulator, "flows") == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"frequency": "monthly"}, "frequency"),
        ({"frequency": "minute", "interval": 5}, "interval"),
        ({"frequency": "once", "interval": 1}, "interval"),
        ({"frequency": "once", "backfill": True}, "backfill"),
        ({"start_time": 1735689600000}, "start_time"),
        ({"start_time": "next tuesday"}, "start_time"),
        ({"delta_column": ""}, "delta_column"),
        ({"mapping_version": "v2"}, "mapping_version"),
        ({"source_connection_id": ""}, "source_connection_id"),
        ({"if_exists": "overwrite"}, "if_exists"),
    ],
)
def test_dataflow_validation_before_any_request(emulator: Emulator, kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {
        "name": "f", "source_connection_id": "s", "target_connection_id": "t", "delta_column": "Modified_Time",
        **kwargs,
    }
    with pytest.raises(ConfigurationError, match=field):
        AEPCreateDataflowOperator(task_id="flow", **args).execute(context())
    assert emulator.requests == []


# -- run sensor: poke mode --------------------------------------------------------------------------------


def test_sensor_poke_mode_returns_the_run_summary(emulator: Emulator, pipeline: dict[str, str]) -> None:
    ctx = context()
    sensor = AEPDataflowRunSensor(task_id="wait", flow_id=pipeline["flow"], poke_interval=0.05, timeout=10,
                                  deferrable=False)
    result = sensor.execute(ctx)
    run_id = next(iter(emulator.store.runs))
    assert result == {
        "run_id": run_id, "status": "success", "input_record_count": LEADS, "output_record_count": LEADS,
        "failed_record_count": 0,
    }
    # the run ID reached XCom first, before the final answer, and only once
    assert ctx["ti"].pushes == [("run_id", run_id)]
    runs_calls = [r for r in emulator.requests if r.path == f"{FLOW_PREFIX}/runs"]
    assert runs_calls[0].query["property"] == [f"flowId=={pipeline['flow']}"]
    assert runs_calls[0].query["orderby"] == ["-createdAt"]


def test_sensor_fails_with_the_run_errors(emulator: Emulator) -> None:
    emulator.fail_runs = True
    source_id = make_source(make_base())
    flow_id = make_flow(source_id, make_target())
    sensor = AEPDataflowRunSensor(task_id="wait", flow_id=flow_id, poke_interval=0.05, timeout=10,
                                  deferrable=False)
    ctx = context()
    with pytest.raises(AirflowException, match=r"CONNECTOR-2001-500: Error reading records") as info:
        sensor.execute(ctx)
    assert "'Failed'" in str(info.value) and f"{LEADS} of {LEADS} records failed" in str(info.value)
    assert ctx["ti"].xcom["run_id"] == next(iter(emulator.store.runs))


def test_sensor_fails_closed_on_an_unknown_status(
    emulator: Emulator, pipeline: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = {"id": "r1", "flowId": pipeline["flow"], "createdAt": 1,
               "metrics": {"statusSummary": {"status": "Cancelled"}}}
    monkeypatch.setattr(AdobeExperiencePlatformHook, "list_runs", lambda self, flow_id, limit=None: [unknown])
    sensor = AEPDataflowRunSensor(task_id="wait", flow_id=pipeline["flow"], poke_interval=0.05, timeout=5,
                                  deferrable=False)
    ctx = context()
    with pytest.raises(AirflowException, match="'Cancelled'"):
        sensor.execute(ctx)
    assert ctx["ti"].xcom["run_id"] == "r1"


def test_sensor_times_out_without_a_run(emulator: Emulator, pipeline: dict[str, str]) -> None:
    sensor = AEPDataflowRunSensor(task_id="wait", flow_id="no-such-flow", poke_interval=0.05, timeout=0.2,
                                  deferrable=False)
    with pytest.raises(AirflowSensorTimeout):
        sensor.execute(context())


def test_sensor_rejects_an_empty_flow_id_before_any_request(emulator: Emulator) -> None:
    sensor = AEPDataflowRunSensor(task_id="wait", flow_id="", poke_interval=0.05, timeout=1, deferrable=False)
    with pytest.raises(ConfigurationError, match="flow_id"):
        sensor.execute(context())
    assert emulator.requests == []


# -- run sensor: deferrable mode --------------------------------------------------------------------------


def defer(sensor: AEPDataflowRunSensor, ctx: dict[str, Any]) -> AEPDataflowRunTrigger:
    with pytest.raises(TaskDeferred) as info:
        sensor.execute(ctx)
    deferred = info.value
    assert deferred.method_name == "execute_complete"
    assert deferred.timeout is None
    trigger = deferred.trigger
    assert isinstance(trigger, AEPDataflowRunTrigger)
    return trigger


async def test_sensor_deferrable_success(emulator: Emulator) -> None:
    emulator.run_duration = 2.0  # still queued at the sensor's first look, milliseconds after the create
    flow_id = make_flow(make_source(make_base()), make_target())
    sensor = AEPDataflowRunSensor(task_id="wait", flow_id=flow_id, poke_interval=0.05, timeout=30, deferrable=True)
    ctx = context()
    trigger = defer(sensor, ctx)
    run_id = next(iter(emulator.store.runs))
    assert ctx["ti"].xcom["run_id"] == run_id  # seen by the first look, before deferring

    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_zoho_aep.triggers.dataflow_run.AEPDataflowRunTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert kwargs["flow_id"] == flow_id and kwargs["poll_interval"] == 0.05
    assert kwargs["end_time"] > time.time()

    event = await trigger.run().__anext__()
    assert event.payload["status"] == "success"
    result = sensor.execute_complete(ctx, event.payload)
    assert result["run_id"] == run_id and result["output_record_count"] == LEADS


async def test_sensor_deferrable_failure_and_timeout(emulator: Emulator) -> None:
    emulator.fail_runs = True
    emulator.run_duration = 2.0
    flow_id = make_flow(make_source(make_base()), make_target())
    sensor = AEPDataflowRunSensor(task_id="wait", flow_id=flow_id, poke_interval=0.05, timeout=30, deferrable=True)
    trigger = defer(sensor, context())
    event = await trigger.run().__anext__()
    assert event.payload["status"] == "failed"
    with pytest.raises(AirflowException, match="CONNECTOR-2001-500"):
        sensor.execute_complete(context(), event.payload)

    late = AEPDataflowRunTrigger(flow_id="no-such-flow", aep_conn_id="aep_default", poll_interval=0.05,
                                 end_time=time.time() + 0.2)
    event = await late.run().__anext__()
    assert event.payload["status"] == "timeout"
    with pytest.raises(AirflowSensorTimeout, match="no run has started"):
        sensor.execute_complete(context(), event.payload)


async def test_trigger_reports_an_error_and_yields_once(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import aep_connection, set_connection

    set_connection(monkeypatch, "aep_wrong", aep_connection(emulator.url, password="not-the-secret"))
    trigger = AEPDataflowRunTrigger(flow_id="f", aep_conn_id="aep_wrong", poll_interval=0.05,
                                    end_time=time.time() + 5)
    events = [event async for event in trigger.run()]
    assert len(events) == 1 and events[0].payload["status"] == "error"
    assert "not-the-secret" not in json.dumps(events[0].payload)
    with pytest.raises(AirflowException, match="IMS"):
        AEPDataflowRunSensor(task_id="wait", flow_id="f").execute_complete(context(), events[0].payload)


@pytest.mark.parametrize(
    "event",
    [None, {}, {"status": "weird"}, {"status": "success"}, {"status": "success", "run": {}}],
)
def test_execute_complete_fails_closed(event: Any) -> None:
    with pytest.raises(AirflowException):
        AEPDataflowRunSensor(task_id="wait", flow_id="f").execute_complete(context(), event)


# -- teardown ---------------------------------------------------------------------------------------------


def test_teardown_deletes_in_adobes_order_and_is_idempotent(emulator: Emulator, pipeline: dict[str, str]) -> None:
    emulator.clear_requests()
    op = AEPDeleteDataflowOperator(task_id="teardown", flow_id=pipeline["flow"], delete_connections=True,
                                   delete_base_connection=True)
    result = op.execute(context())
    deletes = [r.path.removeprefix(FLOW_PREFIX) for r in emulator.requests if r.method == "DELETE"]
    assert deletes == [
        f"/flows/{pipeline['flow']}",
        f"/sourceConnections/{pipeline['source']}",
        f"/targetConnections/{pipeline['target']}",
        f"/connections/{pipeline['base']}",
    ]
    assert all(r.status == 204 for r in emulator.requests if r.method == "DELETE")
    assert len(result["deleted"]) == 4 and result["already_gone"] == []
    store = emulator.store
    assert not (store.flows or store.source_connections or store.target_connections or store.connections)

    again = op.execute(context())
    assert again == {"flow_id": pipeline["flow"], "deleted": [], "already_gone": [f"flow:{pipeline['flow']}"]}


def test_teardown_keeps_connections_unless_asked(emulator: Emulator, pipeline: dict[str, str]) -> None:
    AEPDeleteDataflowOperator(task_id="teardown", flow_id=pipeline["flow"]).execute(context())
    store = emulator.store
    assert store.flows == {} and store.runs == {}
    assert list(store.source_connections) == [pipeline["source"]]
    assert list(store.target_connections) == [pipeline["target"]]
    assert list(store.connections) == [pipeline["base"]]


def test_teardown_skips_connections_already_gone(emulator: Emulator, pipeline: dict[str, str]) -> None:
    del emulator.store.target_connections[pipeline["target"]]
    result = AEPDeleteDataflowOperator(
        task_id="teardown", flow_id=pipeline["flow"], delete_connections=True
    ).execute(context())
    assert result["already_gone"] == [f"targetConnection:{pipeline['target']}"]
    assert list(emulator.store.connections) == [pipeline["base"]]


def test_teardown_validation_before_any_request(emulator: Emulator) -> None:
    with pytest.raises(ConfigurationError, match="delete_base_connection"):
        AEPDeleteDataflowOperator(task_id="t", flow_id="f", delete_base_connection=True).execute(context())
    with pytest.raises(ConfigurationError, match="flow_id"):
        AEPDeleteDataflowOperator(task_id="t", flow_id="").execute(context())
    assert emulator.requests == []


# -- no secret anywhere -----------------------------------------------------------------------------------


def test_no_secret_in_xcom_or_rendered_fields(emulator: Emulator) -> None:
    """Every operator of a pipeline, run for real: after ``execute`` (when its fields hold what Airflow
    renders and records), no template field and no XCom value holds a configured secret or a minted token."""
    creds = EmulatorCredentials()
    before = emulator.minted_tokens()
    runs: list[tuple[Any, dict[str, Any]]] = []

    def run(op: Any) -> Any:
        ctx = context()
        runs.append((op, ctx))
        return op.execute(ctx)

    # The Zoho base-connection operator is the one that handles secrets: it reads both Connections and sends
    # a freshly minted Zoho access token in its create body.
    base_id = run(AEPCreateZohoCRMBaseConnectionOperator(task_id="b", name="Zoho CRM secrets"))
    source_id = run(AEPCreateSourceConnectionOperator(task_id="s", name="n", base_connection_id=base_id,
                                                      table_name="Leads"))
    target_id = run(AEPCreateTargetConnectionOperator(task_id="t", name="n", dataset_id=DATASET_ID,
                                                      schema_id=SCHEMA_ID))
    flow_id = run(AEPCreateDataflowOperator(task_id="f", name="n", source_connection_id=source_id,
                                            target_connection_id=target_id, delta_column="Modified_Time"))
    run(AEPDataflowRunSensor(task_id="w", flow_id=flow_id, poke_interval=0.05, timeout=10))
    run(AEPDeleteDataflowOperator(task_id="d", flow_id=flow_id, delete_connections=True,
                                  delete_base_connection=True))

    minted = emulator.minted_tokens()
    tokens = minted["ims"][len(before["ims"]):] + minted["zoho"][len(before["zoho"]):]
    assert len(minted["zoho"]) > len(before["zoho"])  # the base connection was sent a fresh Zoho token
    secrets = [creds.ims_client_secret, creds.zoho_client_secret, creds.zoho_refresh_token, *tokens]
    for op, ctx in runs:
        rendered = json.dumps({f: getattr(op, f) for f in op.template_fields}, default=repr)
        pushed = json.dumps(ctx["ti"].pushes, default=repr)
        assert [s[:12] for s in secrets if s in rendered] == [], f"{op.task_id}: a secret in a template field"
        assert [s[:12] for s in secrets if s in pushed] == [], f"{op.task_id}: a secret in XCom"


# -- the example DAG, twice, with dag.test() --------------------------------------------------------------


@pytest.fixture(scope="module")
def airflow_db() -> None:
    """A migrated metadata DB under the tests' AIRFLOW_HOME (``dag.test()`` records its runs there)."""
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], env=os.environ.copy(), capture_output=True, text=True,
        timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    reuse_in_process_execution_api()


def test_example_dag_twice_leaves_one_of_everything(
    emulator: Emulator, airflow_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    from tests.conftest import REPO

    # dag.test() syncs the DAG's bundle to the DB first: make the repository's dags/ folder that bundle.
    bundle = {"name": "dags-folder", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
              "kwargs": {"path": str(REPO / "dags")}}
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps([bundle]))
    spec = importlib.util.spec_from_file_location("zoho_crm_to_aep_dag", REPO / "dags" / "zoho_crm_to_aep.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag = module.dag
    assert dag.get_task("ingest_window").deferrable is True
    dag.get_task("ingest_window").poll_interval = 0.05  # the emulator's runs take 0.3 s

    import pendulum

    for _ in range(2):  # the same data interval twice: [04:00, 05:00) on 2026-01-02
        run = dag.test(logical_date=pendulum.datetime(2026, 1, 2, 5, tz="UTC"))
        states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
        assert str(run.state) == "success", states
        assert set(states) == {
            "create_base_connection", "list_tables", "create_source_connection", "create_target_connection",
            "create_dataflow", "ingest_window",
        }
    window_runs = [r for r in emulator.store.runs.values() if r["params"]]
    assert len(window_runs) == 1  # the second DAG run reused the first one's run of the same window
    assert posts(emulator, "runs") == 1

    store = emulator.store
    assert len(store.connections) == 1
    assert len(store.source_connections) == 1
    assert len(store.target_connections) == 1
    assert len(store.flows) == 1
    flow = next(iter(store.flows.values()))
    assert flow["sourceConnectionIds"] == list(store.source_connections)
    assert flow["targetConnectionIds"] == list(store.target_connections)
    assert next(iter(store.source_connections.values()))["baseConnectionId"] == next(iter(store.connections))
    for collection in ("connections", "sourceConnections", "targetConnections", "flows"):
        assert posts(emulator, collection) == 1, collection
