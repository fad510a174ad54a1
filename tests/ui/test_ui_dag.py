"""Trigger the provider's example DAG from the UI with its Params form; read the base connection ID in XCom."""

from __future__ import annotations

import re
import uuid

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright missing: run tests/ui/install_chromium.sh")

from playwright.sync_api import expect
from ui_pages import open_task_xcom, run_url, trigger_with_params, wait_run_state, xcom_value

pytestmark = pytest.mark.ui

DAG_ID = "zoho_crm_to_aep"
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _create_task_id(ui_session) -> str:
    status, body = ui_session.airflow.api("GET", f"/api/v2/dags/{DAG_ID}/tasks")
    assert status == 200, body
    ids = [t["task_id"] for t in body["tasks"]]
    for tid in ids:
        if re.search(r"create.*base", tid):
            return tid
    raise AssertionError(f"no create-base-connection task in {ids}")


def test_trigger_example_dag_with_params(page, base_url, ui_session, emulator, docs_dir):
    ui_session.airflow.wait_for_dag(DAG_ID, timeout=60)
    task_id = _create_task_id(ui_session)
    name = f"UI test base connection {uuid.uuid4().hex[:6]}"
    run = trigger_with_params(page, base_url, DAG_ID, {"base_connection_name": name})
    assert run["conf"].get("base_connection_name") == name, run
    run_id = run["dag_run_id"]

    state = wait_run_state(page, base_url, DAG_ID, run_id, timeout=150)
    page.goto(run_url(base_url, DAG_ID, run_id))
    expect(page.get_by_role("table").get_by_role("link", name=task_id, exact=True)).to_be_visible()
    if state == "success":
        expect(page.get_by_text("Success", exact=True).first).to_be_visible()
    page.wait_for_timeout(800)  # let the grid and durations settle for the screenshot
    page.screenshot(path=str(docs_dir / "ui-dag-run.png"))
    if state != "success":
        _, tis = ui_session.airflow.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")
        states = {t["task_id"]: t["state"] for t in tis.get("task_instances", [])}
        pytest.fail(f"run ended {state!r}; task states {states}\n{ui_session.airflow.log_tail('scheduler')}")

    table = open_task_xcom(page, base_url, DAG_ID, run_id, task_id)
    value = xcom_value(table).strip('"')
    assert UUID_RE.fullmatch(value), f"return_value of {task_id} is not a base connection ID: {value!r}"
