"""Parallel task instances of a mapped task, under a real scheduler and LocalExecutor, converge on one base
connection, as the Guarantees table promises for concurrent creators. No browser needed: the run is triggered
through the REST API.

The instances are released together from a barrier, but on two cores they do not always overlap within the
few milliseconds between a look-up and a create, so the test asserts the outcome (one base connection, one ID
for all sixteen) and reports how many creates raced. The race itself is forced deterministically in
``tests/faults/test_tokens_etags_concurrency.py``."""

from __future__ import annotations

import time
import uuid

import pytest

pytestmark = pytest.mark.ui

DAG_ID = "mapped_base_connection_race"
FS = "/data/foundation/flowservice"


def test_sixteen_mapped_task_instances_converge_on_one_base_connection(ui_session, tmp_path):
    airflow, emulator = ui_session.airflow, ui_session.emulator
    airflow.wait_for_dag(DAG_ID, timeout=60)
    name = f"mapped race {uuid.uuid4().hex[:6]}"
    # The instances meet at a barrier (marker files) and are released together, however slowly they started.
    conf = {"name": name, "barrier_dir": str(tmp_path / "barrier"), "parties": 16}
    status, run = airflow.api("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": conf})
    assert status == 200, run
    run_id = run["dag_run_id"]
    deadline = time.monotonic() + 240
    state = None
    while time.monotonic() < deadline:
        _, body = airflow.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}")
        state = body.get("state")
        if state in ("success", "failed"):
            break
        time.sleep(2)
    _, tis = airflow.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances?limit=100")
    instances = tis.get("task_instances", [])
    assert state == "success", {t["map_index"]: t["state"] for t in instances}
    assert len(instances) == 16

    ids = set()
    for ti in instances:
        status, xcom = airflow.api(
            "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/create_base_connection/xcomEntries/"
            f"return_value?map_index={ti['map_index']}")
        assert status == 200, xcom
        ids.add(str(xcom["value"]).strip('"'))
    survivors = [cid for cid, c in emulator.store.connections.items() if c["name"] == name]
    assert len(ids) == 1 and survivors == list(ids)
    posts = [r for r in emulator.requests if r.method == "POST" and r.path == f"{FS}/connections"]
    starts = sorted(t["start_date"] for t in instances)
    print(f"{len(posts)} creates raced; task starts from {starts[0]} to {starts[-1]}")
    assert len(list((tmp_path / "barrier").iterdir())) == 16  # all sixteen ran at once
