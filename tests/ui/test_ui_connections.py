"""Connection forms of the provider, driven through the real UI (contract: DESIGN.md section 2)."""

from __future__ import annotations

import os
import re

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright missing: run tests/ui/install_chromium.sh")

from playwright.sync_api import expect
from ui_pages import (
    choose_connection_type,
    compose_screenshots,
    connection_row,
    connection_type_options,
    describe_fields,
    field_input,
    fill_fields,
    open_add_connection,
    open_edit_connection,
    open_section,
    press_test,
    save_connection,
    select_options,
)

pytestmark = pytest.mark.ui

AEP = "Adobe Experience Platform"
ZOHO = "Zoho CRM"
# label -> input name; extras (conn-fields) render as name="element_<field>"
AEP_STANDARD = {"Platform gateway URL": "host", "Client ID": "login", "Client Secret": "password"}
AEP_EXTRAS = {
    "IMS organization ID": "element_ims_org_id",
    "Sandbox name": "element_sandbox_name",
    "Scopes": "element_scopes",
    "IMS token URL": "element_ims_token_url",
    "Timeout": "element_timeout",
}
ZOHO_STANDARD = {"CRM API endpoint": "host", "Client ID": "login", "Client Secret": "password"}
ZOHO_EXTRAS = {
    "Accounts URL": "element_accounts_url",
    "Region": "element_region",
    "Refresh token": "element_refresh_token",
    "Access token": "element_access_token",
}
ZOHO_REGIONS = ["us", "eu", "in", "au", "cn", "jp", "ca", "sa", "uk"]


def _by_label(fields: dict[str, dict], label: str) -> dict | None:
    """Case-insensitive lookup; "Timeout" also matches e.g. "Timeout (seconds)"."""
    for k, v in fields.items():
        if k.lower() == label.lower() or k.lower().startswith(label.lower() + " ("):
            return v
    return None


def _label_in(fields: dict[str, dict], label: str) -> str:
    for k in fields:
        if k.lower() == label.lower() or k.lower().startswith(label.lower() + " ("):
            return k
    raise AssertionError(f"no field labelled {label!r}; shown: {list(fields)}")


def _assert_fields(fields: dict[str, dict], expected: dict[str, str], section: str) -> None:
    missing = [label for label in expected if _by_label(fields, label) is None]
    assert not missing, f"{section}: labels {missing} not shown; shown: {fields}"
    for label, name in expected.items():
        field = _by_label(fields, label)
        if field["name"] is None and field["role"] == "combobox":
            continue  # Airflow 3.1 renders a dropdown as a button with no name in the DOM; its options are checked
        assert field["name"] == name, f"{section}: {label!r} is not {name}: {fields}"


# ----------------------------------------------------------------------------------------------- AEP
def test_aep_type_offered_and_form_fields(page, base_url):
    dialog = open_add_connection(page, base_url)
    assert AEP in connection_type_options(page, dialog)
    choose_connection_type(page, dialog, AEP)

    std = describe_fields(dialog, "Standard Fields")
    _assert_fields(std, AEP_STANDARD, "Standard Fields")
    assert std["Client Secret"]["type"] == "password", std
    assert std["Client ID"]["type"] != "password", std
    names = {v["name"] for v in std.values()}
    assert "port" not in names and "schema" not in names, f"port/schema should be hidden: {std}"
    assert dialog.locator("input[name=port], input[name=schema]").count() == 0

    extras = describe_fields(dialog, "Extra Fields")
    _assert_fields(extras, AEP_EXTRAS, "Extra Fields")
    for label in ("IMS organization ID", "Sandbox name", "Scopes", "IMS token URL"):
        assert _by_label(extras, label)["type"] != "password", extras
    # defaults from conn-fields are pre-filled
    expect(dialog.locator("[name=element_sandbox_name]")).to_have_value("prod")


def test_aep_save_test_success_then_broken_secret(page, base_url, emulator, creds, docs_dir):
    conn_id = "ui_aep"
    dialog = open_add_connection(page, base_url)
    dialog.get_by_label("Connection ID").fill(conn_id)
    choose_connection_type(page, dialog, AEP)
    fill_fields(
        dialog,
        "Standard Fields",
        {
            "Platform gateway URL": emulator.url,
            "Client ID": creds.ims_client_id,
            "Client Secret": creds.ims_client_secret,
        },
    )
    shot_std = dialog.screenshot()
    extras = describe_fields(dialog, "Extra Fields")
    fill_fields(
        dialog,
        "Extra Fields",
        {
            "IMS organization ID": creds.ims_org_id,
            "Sandbox name": "prod",
            "IMS token URL": f"{emulator.url}/ims/token/v3",
            _label_in(extras, "Timeout"): "10",
        },
    )
    shot_extra = dialog.screenshot()
    compose_screenshots(
        page,
        [shot_std, shot_extra],
        docs_dir / "ui-aep-connection-form.png",
        caption="Airflow 3.3 — Add Connection — Adobe Experience Platform (Standard Fields | Extra Fields)",
    )
    save_connection(page, dialog)
    expect(connection_row(page, conn_id)).to_have_count(1)

    body, toast_type, text = press_test(page, base_url, conn_id)
    assert body.get("status") is True, body
    assert toast_type == "success", text
    assert "Test Connection Successful" in text, text

    # break the secret through the Edit dialog (the stored secret shows as ***)
    dialog = open_edit_connection(page, base_url, conn_id)
    open_section(dialog, "Standard Fields")
    secret = field_input(dialog, "Client Secret")
    expect(secret).to_have_attribute("type", "password")
    secret.fill("definitely-not-the-secret")
    save_connection(page, dialog)
    body, toast_type, text = press_test(page, base_url, conn_id)
    assert body.get("status") is False, body
    assert toast_type == "error", text
    assert "Test Connection Failed" in text, text
    message = text.split("Test Connection Failed", 1)[1].strip()
    assert message, f"no failure message shown: {text!r}"
    assert "definitely-not-the-secret" not in text and creds.ims_client_secret not in text


# ----------------------------------------------------------------------------------------------- Zoho
def test_zoho_type_offered_and_form_fields(page, base_url):
    dialog = open_add_connection(page, base_url)
    assert ZOHO in connection_type_options(page, dialog)
    choose_connection_type(page, dialog, ZOHO)

    std = describe_fields(dialog, "Standard Fields")
    _assert_fields(std, ZOHO_STANDARD, "Standard Fields")
    assert std["Client Secret"]["type"] == "password", std
    assert dialog.locator("input[name=port], input[name=schema]").count() == 0

    extras = describe_fields(dialog, "Extra Fields")
    _assert_fields(extras, ZOHO_EXTRAS, "Extra Fields")
    # Airflow 3.1's UI renders a password-format extra as a plain input (its own limitation: the hook_meta
    # schema does say format password; the unit tests check that). Checked on 3.3, where it is masked.
    if os.environ.get("ZOHO_AEP_UI_AIRFLOW_LINE", "3.3") != "3.1":
        assert _by_label(extras, "Refresh token")["type"] == "password", extras
        assert _by_label(extras, "Access token")["type"] == "password", extras
    assert _by_label(extras, "Accounts URL")["type"] != "password", extras
    assert _by_label(extras, "Region")["role"] == "combobox", f"Region should be a dropdown: {extras}"
    shown = select_options(page, dialog, _label_in(extras, "Region"))
    assert "null" not in shown, (
        f"the Region dropdown offers a literal 'null' entry: {shown}. A None in the conn-fields enum renders as "
        "'null' in 3.3; drop it (the select is clearable and the type already allows null) or label it with "
        "schema values_display {'null': '...'}"
    )
    assert [o for o in shown if o.strip()] == ZOHO_REGIONS, shown


def test_zoho_save_and_test_success(page, base_url, emulator, creds, docs_dir):
    conn_id = "ui_zoho"
    dialog = open_add_connection(page, base_url)
    dialog.get_by_label("Connection ID").fill(conn_id)
    choose_connection_type(page, dialog, ZOHO)
    fill_fields(
        dialog,
        "Standard Fields",
        {
            "CRM API endpoint": emulator.url,
            "Client ID": creds.zoho_client_id,
            "Client Secret": creds.zoho_client_secret,
        },
    )
    shot_std = dialog.screenshot()
    fill_fields(
        dialog,
        "Extra Fields",
        {"Accounts URL": emulator.url, "Refresh token": creds.zoho_refresh_token},
    )
    shot_extra = dialog.screenshot()
    compose_screenshots(
        page,
        [shot_std, shot_extra],
        docs_dir / "ui-zoho-connection-form.png",
        caption="Airflow 3.3 — Add Connection — Zoho CRM (Standard Fields | Extra Fields)",
    )
    save_connection(page, dialog)

    body, toast_type, text = press_test(page, base_url, conn_id)
    assert body.get("status") is True, body
    assert toast_type == "success", text
    assert "Test Connection Successful" in text, text
    assert creds.zoho_refresh_token not in text and creds.zoho_client_secret not in text

    # what was stored: extras under their bare names, secrets masked by the API
    r = page.request.get(f"{base_url}/api/v2/connections/{conn_id}")
    assert r.ok, r.text()
    stored = r.json()
    assert stored["conn_type"] == "zoho_crm", stored
    assert re.search(r'"accounts_url"', stored["extra"] or ""), stored
