"""Harness self-tests: need only Airflow + Chromium (no provider code), so they pass before the provider exists."""

from __future__ import annotations

import re
import uuid

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright missing: run tests/ui/install_chromium.sh")

from playwright.sync_api import expect
from ui_pages import (
    choose_connection_type,
    connection_row,
    connection_type_options,
    describe_fields,
    fill_fields,
    open_add_connection,
    open_task_xcom,
    press_test,
    run_url,
    save_connection,
    trigger_with_params,
    wait_run_state,
    xcom_value,
)

pytestmark = pytest.mark.ui

DEMO_DAG = "ui_harness_demo"


def test_login_lands_on_home(page, base_url):
    page.goto(f"{base_url}/")
    assert "/auth/login" not in page.url
    expect(page.get_by_role("link", name="Dags").or_(page.get_by_role("button", name="Dags")).first).to_be_visible()


def test_add_connection_dialog_opens(page, base_url):
    dialog = open_add_connection(page, base_url)
    expect(dialog.get_by_label("Connection ID")).to_be_visible()
    options = connection_type_options(page, dialog)
    assert "Generic" in options, options


def test_generic_connection_form_save_and_test_button(page, base_url):
    """Mechanics of add → save → row Test → toast, on a built-in type."""
    dialog = open_add_connection(page, base_url)
    dialog.get_by_label("Connection ID").fill("ui_generic")
    choose_connection_type(page, dialog, "Generic")
    fields = describe_fields(dialog, "Standard Fields")
    assert fields["Password"]["type"] == "password", fields
    assert fields["Host"]["name"] == "host", fields
    fill_fields(dialog, "Standard Fields", {"Host": "127.0.0.1", "Login": "someone", "Password": "pw"})
    save_connection(page, dialog)
    expect(connection_row(page, "ui_generic")).to_have_count(1)
    body, toast_type, toast_text = press_test(page, base_url, "ui_generic")
    # The generic type has no hook with test_connection: the API answers status=false with a message.
    assert toast_type in ("success", "error"), (body, toast_text)
    assert "Test Connection" in toast_text, toast_text
    assert "status" in body, body


def test_portless_test_button_bug_in_airflow_3_3_2(page, base_url, ui_session):
    """Documents the 3.3.2 UI bug the suite works around (apache/airflow#73298).

    Without the request patch, pressing Test on a saved connection that has no port sends ``port: 0`` and gets
    400 "The host or port to test differs from the stored connection...". xfails while the bug is present.
    """
    status, _ = ui_session.airflow.api(
        "POST",
        "/api/v2/connections",
        {"connection_id": "ui_portless", "conn_type": "generic", "host": "127.0.0.1", "password": "x"},
    )
    assert status in (200, 201), status
    page.route("**/api/v2/connections/test", lambda route: route.continue_())  # bypass the context patch
    body, _toast_type, _toast_text = press_test(page, base_url, "ui_portless")
    if "differs from the stored connection" in str(body):
        pytest.xfail(f"Airflow UI bug apache/airflow#73298 present: {body}")
    assert "status" in body, body


def test_trigger_params_run_and_xcom(page, base_url, ui_session):
    """Trigger a provider-independent DAG through its Params form, wait for success, read XCom."""
    ui_session.airflow.wait_for_dag(DEMO_DAG, timeout=60)
    name = f"ui-{uuid.uuid4().hex[:8]}"
    run = trigger_with_params(page, base_url, DEMO_DAG, {"base_connection_name": name})
    assert run["conf"] == {"base_connection_name": name}, run
    page.wait_for_url(re.compile(r"/runs/"))
    assert wait_run_state(page, base_url, DEMO_DAG, run["dag_run_id"], timeout=90) == "success"
    page.goto(run_url(base_url, DEMO_DAG, run["dag_run_id"]))
    expect(page.get_by_text("Success", exact=True).first).to_be_visible()
    table = open_task_xcom(page, base_url, DEMO_DAG, run["dag_run_id"], "create_base_connection")
    value = xcom_value(table)
    assert value.strip('"') == str(uuid.uuid5(uuid.NAMESPACE_URL, name)), value
