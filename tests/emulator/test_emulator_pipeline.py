"""Source and target connections, flow specs, flows, runs, and the delete order they impose."""

from __future__ import annotations

import time
from typing import Any

import pytest

from emulator import Emulator

ZOHO_SPEC = "929e4450-0237-4ed2-9404-b7e1e0a00309"
CRM_TO_AEP = "14518937-270c-4525-bdec-c2ba7cce3860"


def run_statuses(api, flow_id: str, deadline_s: float = 5.0) -> tuple[list[str], dict[str, Any]]:
    """Poll the newest run of a flow until it is terminal; return the statuses seen and the last run."""
    seen: list[str] = []
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        page = api.get("/runs", params={"property": f"flowId=={flow_id}", "orderby": "-createdAt"}).json()
        run = page["items"][0]
        status = run["metrics"]["statusSummary"]["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status.lower() in ("success", "failed"):
            return seen, run
        time.sleep(0.02)
    raise AssertionError(f"run did not finish; statuses seen: {seen}")


def test_flow_spec_lookup(api) -> None:
    for value in ('"CRMToAEP"', "CRMToAEP"):
        items = api.get("/flowSpecs", params={"property": f"name=={value}"}).json()["items"]
        assert [s["id"] for s in items] == [CRM_TO_AEP]
    # the exact encoding the reference shows
    encoded = api.call("GET", "/flowSpecs?property=name==%22CRMToAEP%22").json()["items"]
    spec = encoded[0]
    assert ZOHO_SPEC in spec["sourceConnectionSpecIds"]
    assert spec["targetConnectionSpecIds"] == ["c604ff05-7f1a-43c0-8e18-33bf874cb11c"]
    assert [t["name"] for t in spec["transformationSpec"]] == ["Copy", "Mapping"]
    frequencies = spec["scheduleSpec"]["spec"]["properties"]["frequency"]["enum"]
    assert frequencies == ["once", "minute", "hour", "day", "week"]
    assert api.get(f"/flowSpecs/{CRM_TO_AEP}").json()["items"][0]["name"] == "CRMToAEP"
    assert api.get("/flowSpecs/unknown").status_code == 404


def test_source_connection(api, emu: Emulator) -> None:
    base = api.create_connection()
    source = api.created_id(api.post("/sourceConnections", api.source_body(base)))
    item = api.get(f"/sourceConnections/{source}").json()["items"][0]
    assert item["baseConnectionId"] == base
    assert item["params"] == {"tableName": "Leads"}
    listed = api.get("/sourceConnections", params={"property": f"baseConnectionId=={base}"}).json()["items"]
    assert [i["id"] for i in listed] == [source]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"baseConnectionId": "00000000-0000-0000-0000-000000000000"}, "FLOW-1439-400"),
        ({"params": {"tableName": "Nope"}}, "FLOW-1400-400"),
        ({"params": {}}, "FLOW-1400-400"),
        ({"data": {"format": "json"}}, "FLOW-1400-400"),
        ({"connectionSpec": {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c", "version": "1.0"}}, "FLOW-1413-400"),
        ({"name": None}, "FLOW-1400-400"),
    ],
)
def test_source_connection_rejections(api, changes: dict, code: str) -> None:
    base = api.create_connection()
    answer = api.post("/sourceConnections", api.source_body(base, **changes))
    assert answer.status_code == 400, answer.text
    assert api.code(answer) == code


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"data": {"schema": {"id": "urn:schema", "version": "1"}}}, "FLOW-1400-400"),
        ({"data": {"schema": {"id": "https://ns.adobe.com/t/schemas/1"}}}, "FLOW-1400-400"),
        ({"params": {"dataSetId": "invalid-dataset"}}, "FLOW-1400-400"),
        ({"params": {"dataSetId": ""}}, "FLOW-1400-400"),
        ({"connectionSpec": {"id": ZOHO_SPEC, "version": "1.0"}}, "FLOW-1413-400"),
    ],
)
def test_target_connection_rejections(api, changes: dict, code: str) -> None:
    answer = api.post("/targetConnections", api.target_body(**changes))
    assert answer.status_code == 400, answer.text
    assert api.code(answer) == code


def _schedule(**values: Any) -> dict[str, Any]:
    return {"scheduleParams": values}


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"state": "enabled"}, "FLOW-1410-400"),
        (_schedule(startTime=1_700_000_000_000, frequency="hour", interval=1), "FLOW-1400-400"),
        (_schedule(startTime="tomorrow", frequency="hour", interval=1), "FLOW-1400-400"),
        (_schedule(startTime=1_700_000_000, frequency="minute", interval=10), "FLOW-1400-400"),
        (_schedule(startTime=1_700_000_000, frequency="hour"), "FLOW-1400-400"),
        (_schedule(startTime=1_700_000_000, frequency="once", interval=1), "FLOW-1400-400"),
        (_schedule(startTime=1_700_000_000, frequency="once", backfill=True), "FLOW-1400-400"),
        (_schedule(startTime=1_700_000_000, frequency="month", interval=1), "FLOW-1400-400"),
        ({"transformations": [{"name": "Copy", "params": {}}]}, "FLOW-1400-400"),
        ({"transformations": []}, "FLOW-1400-400"),
        (
            {
                "transformations": [
                    {"name": "Copy", "params": {"deltaColumn": {"name": "Modified_Time"}}},
                    {"name": "Mapping", "params": {}},
                ]
            },
            "FLOW-1400-400",
        ),
        ({"flowSpec": {"id": "00000000-0000-0000-0000-000000000000", "version": "1.0"}}, "FLOW-1439-400"),
        ({"sourceConnectionIds": []}, "FLOW-1400-400"),
        ({"targetConnectionIds": ["00000000-0000-0000-0000-000000000000"]}, "FLOW-1439-400"),
    ],
)
def test_flow_rejections(api, emu: Emulator, changes: dict, code: str) -> None:
    base = api.create_connection()
    source = api.created_id(api.post("/sourceConnections", api.source_body(base)))
    target = api.created_id(api.post("/targetConnections", api.target_body()))
    answer = api.post("/flows", api.flow_body(source, target, **changes))
    assert answer.status_code == 400, answer.text
    assert api.code(answer) == code
    assert emu.store.flows == {}


def test_flow_rejects_source_spec_not_in_flow_spec(api, emu: Emulator) -> None:
    base = api.create_connection()
    source = api.created_id(api.post("/sourceConnections", api.source_body(base)))
    target = api.created_id(api.post("/targetConnections", api.target_body()))
    emu.retire_connection_spec(ZOHO_SPEC)
    answer = api.post("/flows", api.flow_body(source, target))
    assert answer.status_code == 400
    assert "does not support source connection spec" in answer.json()["report"]["detailed-message"]


def test_flow_once_schedule_is_accepted(api) -> None:
    base = api.create_connection()
    source = api.created_id(api.post("/sourceConnections", api.source_body(base)))
    target = api.created_id(api.post("/targetConnections", api.target_body()))
    body = api.flow_body(source, target, **_schedule(startTime=1_700_000_000, frequency="once"))
    assert api.post("/flows", body).status_code == 201


def test_flow_run_progresses_to_success(api, emu: Emulator) -> None:
    ids = api.create_pipeline()
    created = api.get(f"/flows/{ids['flow']}").json()["items"][0]
    assert created["state"] == "enabled"
    assert created["runs"] == f"/runs?property=flowId=={ids['flow']}"
    assert created["lastRunDetails"]["state"] in ("queued", "inProgress")

    seen, run = run_statuses(api, ids["flow"])
    assert seen[-1] == "success"
    assert set(seen) <= {"queued", "inProgress", "success"}
    assert "inProgress" in seen or "queued" in seen
    # A scheduled run reads every record of the module (Leads) modified before it started: the whole data set.
    everything = emu.store.crm_data.records_per_module
    assert run["metrics"]["recordSummary"] == {
        "inputRecordCount": everything,
        "outputRecordCount": everything,
        "failedRecordCount": 0,
    }
    durations = run["metrics"]["durationSummary"]
    assert durations["completedAtUTC"] >= durations["startedAtUTC"] >= run["createdAt"]
    assert run["activities"][0]["statusSummary"]["status"] == "success"
    assert api.get(f"/runs/{run['id']}").json()["items"][0]["id"] == run["id"]

    details = api.get(f"/flows/{ids['flow']}").json()["items"][0]["lastRunDetails"]
    assert details["id"] == run["id"]
    assert details["state"] == "success"
    assert details["completedAtUTC"] == durations["completedAtUTC"]


def test_failed_run_reports_its_errors_where_adobe_does(api, emu: Emulator) -> None:
    emu.fail_runs = True
    emu.run_duration = 0.1
    ids = api.create_pipeline()
    seen, run = run_statuses(api, ids["flow"])
    assert seen[-1] == "Failed"
    summary = run["metrics"]["statusSummary"]
    assert "errors" not in summary  # Adobe's run object has them in extensions and recordSummary.failedInfo
    assert summary["extensions"]["errors"][0]["code"] == "CONNECTOR-2001-500"
    records = run["metrics"]["recordSummary"]
    assert records["failedRecordCount"] > 0
    assert records["failedInfo"][0]["code"] == "CONNECTOR-2001-500"


def test_flow_accepts_schedule_and_mapping_version_as_strings_like_adobe(api) -> None:
    base = api.create_connection()
    source = api.created_id(api.post("/sourceConnections", api.source_body(base)))
    target = api.created_id(api.post("/targetConnections", api.target_body()))
    body = api.flow_body(source, target, **_schedule(startTime="1700000000", frequency="minute", interval="30"))
    body["transformations"][1]["params"]["mappingVersion"] = "0"
    answer = api.post("/flows", body)
    assert answer.status_code == 201, answer.text


def _once_flow(api) -> str:
    base = api.create_connection()
    source = api.created_id(api.post("/sourceConnections", api.source_body(base)))
    target = api.created_id(api.post("/targetConnections", api.target_body()))
    return api.created_id(api.post("/flows", api.flow_body(
        source, target, **_schedule(startTime=1_700_000_000, frequency="once"))))


def test_on_demand_runs_count_the_records_modified_in_their_window(api, emu: Emulator) -> None:
    from datetime import datetime, timedelta, timezone

    emu.run_duration = 0.05
    flow = _once_flow(api)
    data = emu.store.crm_data
    start = datetime(2026, 1, 2, 5, tzinfo=timezone.utc)
    end = start + timedelta(hours=1)
    expected = data.count_modified_in("Leads", start, end)
    assert 0 < expected < data.records_per_module
    window = {"windowStartTime": int(start.timestamp()), "windowEndTime": int(end.timestamp())}
    in_seconds = api.created_id(api.post("/runs", {"flowId": flow, "params": {"startTime": 1_800_000_000, **window}}))
    in_ms = api.created_id(api.post("/runs", {"flowId": flow, "params": {
        "startTime": "1800000000000", **{k: str(v * 1000) for k, v in window.items()}}}))
    time.sleep(0.1)
    for run_id in (in_seconds, in_ms):
        run = api.get(f"/runs/{run_id}").json()["items"][0]
        assert run["metrics"]["statusSummary"]["status"] == "success"
        assert run["metrics"]["recordSummary"]["inputRecordCount"] == expected
        assert run["metrics"]["recordSummary"]["outputRecordCount"] == expected


@pytest.mark.parametrize(
    "params",
    [
        {"startTime": 1_800_000_000, "windowStartTime": 1_767_000_000},  # no end
        {"startTime": 1_800_000_000, "windowStartTime": 1_767_000_000, "windowEndTime": 1_766_000_000},
        {"startTime": 1_800_000_000, "windowStartTime": "soon", "windowEndTime": 1_767_003_600},
        {"startTime": 1_800_000_000, "windowStartTime": 1, "windowEndTime": 2, "status": "x"},
    ],
)
def test_on_demand_run_rejections(api, params: dict[str, Any]) -> None:
    flow = _once_flow(api)
    answer = api.post("/runs", {"flowId": flow, "params": params})
    assert answer.status_code == 400 and api.code(answer) == "FLOW-1400-400"


def test_on_demand_run_needs_a_flow_scheduled_once(api) -> None:
    ids = api.create_pipeline()  # hourly
    answer = api.post("/runs", {"flowId": ids["flow"], "params": {
        "startTime": 1_800_000_000, "windowStartTime": 1_767_000_000, "windowEndTime": 1_767_003_600}})
    assert answer.status_code == 400 and "one-time" in answer.json()["report"]["detailed-message"]
    missing = api.post("/runs", {"flowId": "00000000-0000-0000-0000-000000000000"})
    assert missing.status_code == 400


def test_a_past_start_time_cannot_be_patched_but_a_future_one_can(api) -> None:
    ids = api.create_pipeline()  # startTime 1_700_000_000: in the past
    flow = api.get(f"/flows/{ids['flow']}").json()["items"][0]
    patch = [{"op": "replace", "path": "/scheduleParams/startTime", "value": 1_900_000_000}]
    refused = api.patch(f"/flows/{ids['flow']}", patch, flow["etag"])
    assert refused.status_code == 400 and "startTime" in refused.json()["report"]["detailed-message"]
    other = [{"op": "replace", "path": "/scheduleParams/interval", "value": 2}]
    assert api.patch(f"/flows/{ids['flow']}", other, flow["etag"]).status_code == 200


def test_flow_list_patch_and_filters(api) -> None:
    ids = api.create_pipeline()
    by_source = api.get("/flows", params={"property": f"sourceConnectionIds[]=={ids['source']}"}).json()
    assert [f["id"] for f in by_source["items"]] == [ids["flow"]]
    assert api.get("/flows", params={"property": "sourceConnectionIds[]==other"}).json()["items"] == []
    by_spec = api.get("/flows", params={"property": f"flowSpec.id=={CRM_TO_AEP}"}).json()["items"]
    assert len(by_spec) == 1

    etag = by_spec[0]["etag"]
    path = f"/flows/{ids['flow']}"
    ok = api.patch(path, [{"op": "replace", "path": "/scheduleParams/interval", "value": 2}], etag=etag)
    assert ok.status_code == 200, ok.text
    assert api.get(path).json()["items"][0]["scheduleParams"]["interval"] == 2
    bad = api.patch(path, [{"op": "replace", "path": "/scheduleParams/interval", "value": 0}], etag=ok.json()["etag"])
    assert bad.status_code == 400


def test_delete_order(api, emu: Emulator) -> None:
    ids = api.create_pipeline()
    for path in (
        f"/connections/{ids['base']}",
        f"/sourceConnections/{ids['source']}",
        f"/targetConnections/{ids['target']}",
    ):
        blocked = api.delete(path)
        assert blocked.status_code == 400, path
        assert api.code(blocked) == "FLOW-1418-400"
        assert ids["flow"] in blocked.json()["report"]["detailed-message"]

    assert api.delete(f"/flows/{ids['flow']}").status_code == 204
    assert emu.store.runs == {}
    assert api.get(f"/flows/{ids['flow']}").status_code == 404
    for path in (
        f"/sourceConnections/{ids['source']}",
        f"/targetConnections/{ids['target']}",
        f"/connections/{ids['base']}",
    ):
        assert api.delete(path).status_code == 204, path
        assert api.delete(path).status_code == 404, path
