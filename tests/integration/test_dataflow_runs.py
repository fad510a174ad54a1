"""AEPRunDataflowOperator against the emulator: one on-demand run per window, counted record for record."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pendulum
import pytest

from airflow_provider_zoho_aep.client.errors import ConfigurationError, ResourceExistsError
from airflow_provider_zoho_aep.operators.dataflow_run import AEPRunDataflowOperator
from airflow_provider_zoho_aep.operators.target_connection import AEPCreateTargetConnectionOperator
from airflow_provider_zoho_aep.version_compat import AirflowException, TaskDeferred
from emulator import Emulator, Fault
from tests.integration.test_pipeline import (
    DATASET_ID,
    FLOW_PREFIX,
    SCHEMA_ID,
    FakeTI,
    make_base,
    make_flow,
    make_source,
    make_target,
)

UTC = timezone.utc
#: The emulator's CRM data set covers 2026-01-01 to 2026-01-08 (UTC).
DAY = datetime(2026, 1, 3, tzinfo=UTC)


def ctx(start: datetime | None = DAY, end: datetime | None = DAY + timedelta(hours=1)) -> dict[str, Any]:
    return {"ti": FakeTI(), "data_interval_start": start, "data_interval_end": end}


@pytest.fixture
def once_flow(emulator: Emulator) -> str:
    emulator.run_duration = 0.05
    return make_flow(make_source(make_base()), make_target(), frequency="once", name="Leads on demand")


def run_posts(emulator: Emulator) -> list[Any]:
    return [r for r in emulator.requests if r.method == "POST" and r.path == f"{FLOW_PREFIX}/runs"]


def op(flow_id: str, **kwargs: Any) -> AEPRunDataflowOperator:
    kwargs.setdefault("poll_interval", 0.02)
    kwargs.setdefault("timeout", 20)
    return AEPRunDataflowOperator(task_id="ingest", flow_id=flow_id, **kwargs)


def test_a_run_ingests_exactly_the_records_of_its_data_interval(emulator: Emulator, once_flow: str) -> None:
    context = ctx()
    result = op(once_flow).execute(context)
    expected = emulator.store.crm_data.count_modified_in("Leads", DAY, DAY + timedelta(hours=1))
    assert expected > 0
    assert result == {
        "run_id": context["ti"].xcom["run_id"], "status": "success",
        "window_start": "2026-01-03T00:00:00+00:00", "window_end": "2026-01-03T01:00:00+00:00",
        "input_record_count": expected, "output_record_count": expected, "failed_record_count": 0,
    }
    assert context["ti"].pushes[0] == ("run_id", result["run_id"])  # pushed before waiting
    (post,) = run_posts(emulator)
    params = json.loads(post.body)["params"]
    assert (params["windowStartTime"], params["windowEndTime"]) == (int(DAY.timestamp()),
                                                                     int(DAY.timestamp()) + 3600)
    assert emulator.store.runs[result["run_id"]]["params"] == params


def test_a_succeeded_window_is_reused_not_run_twice(emulator: Emulator, once_flow: str) -> None:
    first = op(once_flow).execute(ctx())
    emulator.clear_requests()
    again = op(once_flow).execute(ctx())
    assert again == first and run_posts(emulator) == []
    rerun = op(once_flow, if_run_exists="rerun").execute(ctx())
    assert rerun["run_id"] != first["run_id"] and len(run_posts(emulator)) == 1
    with pytest.raises(ResourceExistsError, match="if_run_exists='fail'"):
        op(once_flow, if_run_exists="fail").execute(ctx())
    assert len(run_posts(emulator)) == 1


def test_a_running_run_of_the_window_is_adopted(emulator: Emulator, once_flow: str) -> None:
    emulator.run_duration = 1.0
    started = op(once_flow, wait_for_completion=False).execute(ctx())
    assert started["status"] in ("queued", "inProgress")
    adopted = op(once_flow).execute(ctx())
    assert adopted["run_id"] == started["run_id"] and adopted["status"] == "success"
    assert len(run_posts(emulator)) == 1


def test_a_failed_window_fails_the_task_with_adobes_errors_and_a_retry_runs_it_again(
    emulator: Emulator, once_flow: str
) -> None:
    emulator.fail_runs = True
    context = ctx()
    with pytest.raises(AirflowException, match="CONNECTOR-2001-500") as info:
        op(once_flow).execute(context)
    assert "'Failed'" in str(info.value)
    failed_id = context["ti"].xcom["run_id"]
    emulator.fail_runs = False
    retried = op(once_flow).execute(ctx())
    assert retried["run_id"] != failed_id and retried["status"] == "success"
    assert len(run_posts(emulator)) == 2


def test_a_lost_answer_to_the_post_is_looked_up_not_posted_again(emulator: Emulator, once_flow: str) -> None:
    emulator.add_fault(Fault(method="POST", path=r"/runs$", kind="commit_then_drop"))
    result = op(once_flow).execute(ctx())
    assert result["status"] == "success"
    assert len(emulator.store.runs) == 2  # the flow's own first run, and one run for the window
    assert len(run_posts(emulator)) == 1


def test_a_refused_post_is_sent_again(emulator: Emulator, once_flow: str) -> None:
    emulator.add_fault(Fault(method="POST", path=r"/runs$", kind="status", status=503))
    result = op(once_flow).execute(ctx())
    assert result["status"] == "success" and len(run_posts(emulator)) == 2
    windows = [r for r in emulator.store.runs.values() if r["params"]]
    assert len(windows) == 1


def test_explicit_window_arguments_override_the_interval_and_accept_iso_strings(
    emulator: Emulator, once_flow: str
) -> None:
    result = op(once_flow, window_start="2026-01-04T06:00:00+01:00", window_end="2026-01-04T07:30:00Z").execute(
        ctx(None, None))
    start, end = datetime(2026, 1, 4, 5, tzinfo=UTC), datetime(2026, 1, 4, 7, 30, tzinfo=UTC)
    assert (result["window_start"], result["window_end"]) == (start.isoformat(), end.isoformat())
    assert result["input_record_count"] == emulator.store.crm_data.count_modified_in("Leads", start, end)


def test_milliseconds_when_asked(emulator: Emulator, once_flow: str) -> None:
    result = op(once_flow, time_unit="milliseconds").execute(ctx())
    params = json.loads(run_posts(emulator)[0].body)["params"]
    assert params["windowStartTime"] == int(DAY.timestamp()) * 1000
    assert result["input_record_count"] == emulator.store.crm_data.count_modified_in(
        "Leads", DAY, DAY + timedelta(hours=1))
    # The same window in seconds is recognised as the same window: reused.
    assert op(once_flow).execute(ctx())["run_id"] == result["run_id"]


@pytest.mark.parametrize(
    ("kwargs", "context", "field"),
    [
        ({}, (None, None), "window_start and window_end"),
        ({"window_start": "2026-01-03T00:00:00", "window_end": DAY}, (None, None), "window_start"),
        ({"window_start": DAY}, (DAY, DAY + timedelta(hours=1)), "window_end"),
        ({"window_start": datetime(2026, 1, 3), "window_end": DAY}, (None, None), "window_start"),
        ({}, (DAY, DAY - timedelta(hours=1)), "window_end"),
        ({}, (DAY, DAY), "window_start and window_end"),
        ({"window_start": DAY, "window_end": DAY}, (None, None), "window_end"),
        ({"window_start": DAY, "window_end": pendulum.now("UTC").add(hours=1)}, (None, None), "window_end"),
        ({"window_start": "yesterday", "window_end": DAY}, (None, DAY), "window_start"),
        ({"if_run_exists": "again"}, (DAY, DAY + timedelta(hours=1)), "if_run_exists"),
        ({"time_unit": "hours"}, (DAY, DAY + timedelta(hours=1)), "time_unit"),
        ({"flow_id": "None"}, (DAY, DAY + timedelta(hours=1)), "flow_id"),
    ],
)
def test_bad_windows_and_arguments_are_refused_before_any_request(
    emulator: Emulator, once_flow: str, kwargs: dict[str, Any], context: tuple[Any, Any], field: str
) -> None:
    emulator.clear_requests()
    args = {"flow_id": once_flow, **kwargs}
    with pytest.raises(ConfigurationError) as info:
        AEPRunDataflowOperator(task_id="ingest", **args).execute(ctx(*context))
    assert info.value.field == field and info.value.fix
    assert emulator.requests == []


async def test_deferrable_waits_in_the_triggerer_for_that_run(emulator: Emulator, once_flow: str) -> None:
    emulator.run_duration = 1.0
    task = op(once_flow, deferrable=True)
    context = ctx()
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    run_id = context["ti"].xcom["run_id"]
    trigger = deferred.value.trigger
    _, kwargs = trigger.serialize()
    assert kwargs["run_id"] == run_id and json.loads(json.dumps(kwargs)) == kwargs
    # Another run of the same flow starts meanwhile: the trigger still reports its own run.
    op(once_flow, if_run_exists="rerun", wait_for_completion=False).execute(ctx(DAY + timedelta(hours=5),
                                                                              DAY + timedelta(hours=6)))
    event = await trigger.run().__anext__()
    assert event.payload["status"] == "success" and event.payload["run"]["run_id"] == run_id
    result = task.execute_complete(ctx(), event.payload)
    assert result["run_id"] == run_id
    assert result["input_record_count"] == emulator.store.crm_data.count_modified_in(
        "Leads", DAY, DAY + timedelta(hours=1))
    assert task.aep_ui_links["run"].endswith(f"/runs/{run_id}")


def test_extra_links_point_at_the_dataflow_and_run_in_the_aep_ui(emulator: Emulator, once_flow: str) -> None:
    from airflow_provider_zoho_aep.operators.dataflow_run import AEPDataflowLink, AEPDataflowRunLink

    task = op(once_flow)
    result = task.execute(ctx())
    dataflow = AEPDataflowLink().get_link(task, ti_key=None)  # type: ignore[arg-type]
    run = AEPDataflowRunLink().get_link(task, ti_key=None)  # type: ignore[arg-type]
    assert dataflow == f"https://experience.adobe.com/#/sname:prod/platform/source/dataflows/{once_flow}"
    assert run == f"{dataflow}/runs/{result['run_id']}"


def test_openlineage_names_the_zoho_module_and_the_aep_dataset(emulator: Emulator, once_flow: str) -> None:
    pytest.importorskip("airflow.providers.openlineage")
    task = op(once_flow)
    task.execute(ctx())
    lineage = task.get_openlineage_facets_on_complete(None)
    assert [(d.namespace, d.name) for d in lineage.inputs] == [
        (f"zohocrm://{emulator.url.removeprefix('http://')}", "Leads")]
    assert [(d.namespace, d.name) for d in lineage.outputs] == [
        (f"aep://{emulator.credentials.ims_org_id}", f"prod.{DATASET_ID}")]


def test_openlineage_without_the_provider_is_none(emulator: Emulator, once_flow: str, monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_openlineage(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("airflow.providers.openlineage"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_openlineage)
    assert op(once_flow).get_openlineage_facets_on_complete(None) is None


# -- updates Adobe accepts --------------------------------------------------------------------------------


def test_dataflow_update_patches_what_changed_and_never_a_past_start_time(emulator: Emulator) -> None:
    source, target = make_source(make_base()), make_target()
    flow_id = make_flow(source, target, start_time="2026-01-01T00:00:00Z", frequency="hour", interval=1)
    stored = emulator.store.flows[flow_id]
    start = stored["scheduleParams"]["startTime"]
    emulator.clear_requests()
    # start_time defaults to "now": Adobe refuses to move a start time that has passed, so it is left alone.
    assert make_flow(source, target, frequency="day", interval=2, if_exists="update",
                     mapping_id="mapping-7") == flow_id
    assert stored["scheduleParams"] == {"startTime": start, "frequency": "day", "interval": 2}
    assert stored["transformations"][1]["params"]["mappingId"] == "mapping-7"
    (patch,) = [r for r in emulator.requests if r.method == "PATCH"]
    assert {op["path"] for op in json.loads(patch.body)} == {
        "/transformations", "/scheduleParams/frequency", "/scheduleParams/interval"}
    emulator.clear_requests()
    assert make_flow(source, target, frequency="day", interval=2, if_exists="update",
                     mapping_id="mapping-7") == flow_id
    assert [r for r in emulator.requests if r.method == "PATCH"] == []  # nothing changed: nothing sent


def test_target_connection_update_is_refused_saying_what_to_do(emulator: Emulator) -> None:
    make_target()
    emulator.clear_requests()
    with pytest.raises(ConfigurationError, match="new name") as info:
        AEPCreateTargetConnectionOperator(task_id="target", name="Leads dataset", dataset_id=DATASET_ID,
                                          schema_id=SCHEMA_ID, if_exists="update").execute({"ti": FakeTI()})
    assert info.value.field == "if_exists" and emulator.requests == []


def test_a_record_edited_in_zoho_crm_moves_to_the_window_of_its_new_time(emulator: Emulator, once_flow: str) -> None:
    data = emulator.crm.data
    before = data.count_modified_in("Leads", DAY, DAY + timedelta(hours=1))
    record = next(data.modified_in("Leads", DAY + timedelta(hours=5), DAY + timedelta(hours=6)))
    emulator.modify_record("Leads", record["id"], {"Company": "Edited"}, DAY + timedelta(minutes=30))
    result = op(once_flow).execute(ctx())
    assert result["input_record_count"] == before + 1
    moved = op(once_flow).execute(ctx(DAY + timedelta(hours=5), DAY + timedelta(hours=6)))
    assert moved["input_record_count"] == data.count_modified_in("Leads", DAY + timedelta(hours=5),
                                                                 DAY + timedelta(hours=6))
