"""Selectors and small page helpers for the Airflow 3.3 React UI (verified against 3.3.2).

Findings this module encodes (see tests/ui/README.md):

* Login (simple auth manager): ``/auth/login``; inputs labelled "Username"/"Password", button "Sign in".
  The session is a cookie, so ``page.request`` calls to ``/api/v2/...`` are authenticated too.
* Connections: ``/connections``; button "Add Connection" opens ``role=dialog``. "Connection Type" is a
  react-select ``role=combobox`` whose options are ``role=option`` named by the provider-info ``hook-name``.
* The form is an accordion with three sections (buttons "Standard Fields", "Extra Fields",
  "Extra Fields JSON"); opening one closes the others, and only the open section's inputs are visible.
* Every field is a ``[data-scope=field][data-part=root]`` group with one ``<label>``; standard inputs are
  ``name=host|login|password|port|schema|description``, ``conn-fields`` inputs are ``name=element_<field>``
  (a ``format: password`` one is ``type=password``; an ``integer`` one is a ``role=spinbutton`` number input;
  an ``enum`` one is a react-select ``role=combobox`` with a hidden ``input[name=element_<field>]``).
  The label's ``for`` does not match the input id for password-format extras, so ``get_by_label`` does not
  work there: go through the field group (``field_group``).
* Test: there is no Test button in the dialog; each row of the list has icon buttons "Test Connection",
  "Edit Connection", "Delete Connection". The result is a toast ``[data-scope=toast][data-part=root]`` with
  ``data-type=success|error``, title "Test Connection Successful" / "Test Connection Failed" and the
  hook's message as description.
* Trigger: DAG page ``/dags/<dag_id>``, button "Trigger" opens a dialog; Params render in "Run Parameters"
  as ``[name=element_<param>]``; the dialog's own "Trigger" button POSTs ``/api/v2/dags/<id>/dagRuns`` and
  the UI then navigates to ``/dags/<id>/runs/<run_id>``.
* XCom: task instance page ``.../runs/<run_id>/tasks/<task_id>`` has a "Storage" tab with sub-tabs
  "Task State Store" and "XCom" (route ``.../xcom``); rows have ``td[data-testid=table-cell-key]`` and the
  value in ``[data-testid=xcom-value]``.
"""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Locator, Page, Route, expect

TOAST = "[data-scope=toast][data-part=root]"
FIELD_GROUP = '[data-scope="field"][data-part="root"]'


# --------------------------------------------------------------------------- login
def login(page: Page, base_url: str, user: str, password: str) -> None:
    page.goto(f"{base_url}/auth/login?next=%2F")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(base_url) + r"/(\?.*)?$"), timeout=30_000)
    # The React shell is up once the left navigation is rendered.
    expect(page.get_by_role("button", name="Admin").or_(page.get_by_role("link", name="Admin"))).to_be_visible()


# --------------------------------------------------------------------------- connection form
def open_add_connection(page: Page, base_url: str) -> Locator:
    page.goto(f"{base_url}/connections")
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Add Connection")).to_be_visible()
    return dialog


def _close_menu(dialog: Locator) -> None:
    # Escape would close the whole dialog (the key event reaches it); a click on the heading only blurs the select.
    dialog.get_by_role("heading").first.click()
    expect(dialog.page.get_by_role("option")).to_have_count(0)


def connection_type_options(page: Page, dialog: Locator) -> list[str]:
    combo = dialog.get_by_role("combobox", name="Connection Type")
    combo.click()
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    names = [t.strip() for t in options.all_inner_texts()]
    _close_menu(dialog)
    return names


def choose_connection_type(page: Page, dialog: Locator, hook_name: str) -> None:
    combo = dialog.get_by_role("combobox", name="Connection Type")
    combo.click()
    combo.fill(hook_name)
    page.get_by_role("option", name=hook_name, exact=True).click()
    expect(dialog.get_by_role("button", name="Standard Fields", exact=True)).to_be_visible()


def open_section(dialog: Locator, name: str) -> None:
    """Open one accordion section ("Standard Fields", "Extra Fields", "Extra Fields JSON")."""
    trigger = dialog.get_by_role("button", name=name, exact=True)
    if trigger.get_attribute("aria-expanded") != "true":
        trigger.click()
    expect(trigger).to_have_attribute("aria-expanded", "true")


def _label_regex(label: str) -> re.Pattern:
    return re.compile(r"^\s*" + re.escape(label) + r"\s*\*?\s*$", re.IGNORECASE)


def field_group(dialog: Locator, label: str) -> Locator:
    return dialog.locator(FIELD_GROUP).filter(has=dialog.page.locator("label", has_text=_label_regex(label)))


def field_input(dialog: Locator, label: str) -> Locator:
    return field_group(dialog, label).locator("input:not([type=hidden]), textarea").first


def visible_field_labels(dialog: Locator) -> list[str]:
    labels = []
    for lab in dialog.locator(f"{FIELD_GROUP} label").all():
        if lab.is_visible():
            labels.append(re.sub(r"\s*\*\s*$", "", lab.inner_text()).strip())
    return labels


def describe_fields(dialog: Locator, section: str) -> dict[str, dict]:
    """Open ``section`` and return {label: {name, type, role}} for its visible fields."""
    open_section(dialog, section)
    dialog.page.wait_for_timeout(200)  # accordion animation
    out: dict[str, dict] = {}
    for group in dialog.locator(FIELD_GROUP).all():
        if not group.is_visible():
            continue
        label = re.sub(r"\s*\*\s*$", "", group.locator("label").first.inner_text()).strip()
        # 3.1 renders an enum as a select with no text input inside: its combobox element stands for it.
        inp = group.locator("input:not([type=hidden]), textarea, [role=combobox]").first
        hidden = group.locator("input[type=hidden], select[name]")  # 3.1's select keeps its name on a <select>
        out[label] = {
            "name": inp.get_attribute("name") or (hidden.first.get_attribute("name") if hidden.count() else None),
            "type": inp.get_attribute("type"),
            "role": inp.get_attribute("role"),
        }
    return out


def select_options(page: Page, dialog: Locator, label: str) -> list[str]:
    """Options of a react-select (``enum``) field."""
    combo = field_group(dialog, label).get_by_role("combobox")
    combo.click()
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    names = [t.strip() for t in options.all_inner_texts()]
    _close_menu(dialog)
    return names


def select_option(page: Page, dialog: Locator, label: str, value: str) -> None:
    combo = field_group(dialog, label).get_by_role("combobox")
    combo.click()
    page.get_by_role("option", name=value, exact=True).click()


def fill_fields(dialog: Locator, section: str, values: dict[str, str]) -> None:
    open_section(dialog, section)
    for label, value in values.items():
        inp = field_input(dialog, label)
        expect(inp).to_be_visible()
        inp.fill(str(value))


def save_connection(page: Page, dialog: Locator) -> None:
    save = dialog.get_by_role("button", name="Save")
    expect(save).to_be_enabled()
    with page.expect_response(
        lambda r: (
            re.search(r"/api/v2/connections(/[^/]+)?$", r.url) is not None and r.request.method in ("POST", "PATCH")
        )
    ) as resp:
        save.click()
    assert resp.value.ok, f"saving the connection failed: {resp.value.status} {resp.value.text()}"
    expect(page.get_by_role("dialog")).to_have_count(0)


def connection_row(page: Page, conn_id: str) -> Locator:
    return page.get_by_role("row").filter(
        has=page.get_by_test_id("table-cell-connection_id").get_by_text(conn_id, exact=True)
    )


def open_edit_connection(page: Page, base_url: str, conn_id: str) -> Locator:
    page.goto(f"{base_url}/connections")
    connection_row(page, conn_id).get_by_role("button", name="Edit Connection").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Edit Connection")).to_be_visible()
    return dialog


def press_test(page: Page, base_url: str, conn_id: str, timeout: float = 60_000) -> tuple[dict, str, str]:
    """Press the row's "Test Connection" button; return (API response JSON, toast type, toast text)."""
    page.goto(f"{base_url}/connections")
    row = connection_row(page, conn_id)
    expect(row).to_have_count(1)
    page.locator(TOAST).evaluate_all("ts => ts.forEach(t => t.remove())")
    with page.expect_response("**/api/v2/connections/test", timeout=timeout) as resp:
        row.get_by_role("button", name="Test Connection").click()
    try:
        body = resp.value.json()
    except Exception:
        body = {"status_code": resp.value.status, "text": resp.value.text()}
    toast = page.locator(TOAST).filter(has_text=re.compile(r"Test Connection|Bad Request|Error", re.I)).first
    expect(toast).to_be_visible()
    return body, toast.get_attribute("data-type") or "", toast.inner_text()


def patch_portless_test_requests(route: Route) -> None:
    """Work around Airflow 3.3.2's row "Test Connection" bug for connections without a port.

    The UI posts ``port: Number(null) == 0``; the API then sees a different port from the stored NULL and
    answers 400 "The host or port to test differs from the stored connection..." (fixed upstream by
    apache/airflow#73298, which normalises 0 like ""). Dropping ``port: 0`` reproduces the fixed behaviour.
    """
    try:
        body = route.request.post_data_json
    except Exception:
        body = None
    if isinstance(body, dict) and body.get("port") == 0:
        body.pop("port")
        route.continue_(post_data=json.dumps(body))
    else:
        route.continue_()


# --------------------------------------------------------------------------- DAG trigger / runs / XCom
def trigger_with_params(page: Page, base_url: str, dag_id: str, params: dict[str, str]) -> dict:
    page.goto(f"{base_url}/dags/{dag_id}")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=re.compile(r"Trigger Dag"))).to_be_visible()
    for name, value in params.items():
        inp = dialog.locator(f"[name='element_{name}']")
        if not inp.is_visible():
            open_section(dialog, "Run Parameters")
        expect(inp).to_be_visible()
        inp.fill(str(value))
    with page.expect_response(
        lambda r: r.url.endswith(f"/dags/{dag_id}/dagRuns") and r.request.method == "POST"
    ) as resp:
        dialog.get_by_role("button", name="Trigger", exact=True).click()
    assert resp.value.ok, f"trigger failed: {resp.value.status} {resp.value.text()}"
    return resp.value.json()


def wait_run_state(page: Page, base_url: str, dag_id: str, run_id: str, timeout: float = 150) -> str:
    deadline = time.monotonic() + timeout
    state = "?"
    while time.monotonic() < deadline:
        r = page.request.get(f"{base_url}/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")
        state = r.json().get("state", "?") if r.ok else f"HTTP {r.status}"
        if state in ("success", "failed"):
            return state
        time.sleep(1)
    return state


def run_url(base_url: str, dag_id: str, run_id: str) -> str:
    return f"{base_url}/dags/{dag_id}/runs/{quote(run_id, safe='')}"


def open_task_xcom(page: Page, base_url: str, dag_id: str, run_id: str, task_id: str) -> Locator:
    """Open the task instance's page in the run, then its Storage → XCom tab by clicking; return the XCom table.

    The page is opened by URL: the run page has two links named after the task (the task instance, and the
    task's overview across runs, which has no XCom tab), and which one renders last varies.
    """
    page.goto(f"{run_url(base_url, dag_id, run_id)}/tasks/{quote(task_id, safe='')}")
    direct = page.get_by_role("link", name="XCom", exact=True)
    storage = page.get_by_role("link", name="Storage", exact=True)  # 3.3: XCom is a sub-tab of "Storage"
    expect(direct.or_(storage).first).to_be_visible(timeout=20_000)
    if storage.count():
        storage.click()
        page.get_by_text("XCom", exact=True).last.click()
    else:
        direct.click()
    page.wait_for_url(re.compile(r"/xcom$"))
    table = page.get_by_role("table")
    expect(table.get_by_test_id("table-cell-key").first).to_be_visible()
    return table


def xcom_value(table: Locator, key: str = "return_value") -> str:
    row = table.get_by_role("row").filter(has=table.page.get_by_test_id("table-cell-key").get_by_text(key, exact=True))
    expect(row).to_have_count(1)
    return (
        row.get_by_test_id("xcom-value")
        .evaluate(
            "e => { const c = e.cloneNode(true);"
            " c.querySelectorAll('[data-scope=clipboard], button').forEach(b => b.remove());"
            " return c.innerText || c.textContent; }"
        )
        .strip()
    )


# --------------------------------------------------------------------------- screenshots
def compose_screenshots(page: Page, shots: list[bytes], path: Path, caption: str = "") -> None:
    """Put several PNGs side by side in one image (rendered by the browser itself, no PIL)."""
    imgs = "".join(
        f'<img src="data:image/png;base64,{base64.b64encode(s).decode()}" style="margin:8px;'
        f'border:1px solid #ccc;vertical-align:top"/>'
        for s in shots
    )
    html = (
        "<html><body style='margin:0;background:#f5f5f5;font:14px sans-serif;white-space:nowrap'>"
        f"<div style='padding:8px 8px 0'>{caption}</div>{imgs}</body></html>"
    )
    tmp = page.context.new_page()
    try:
        tmp.set_content(html)
        tmp.wait_for_function("Array.from(document.images).every(i => i.complete)")
        w, h = tmp.evaluate("[document.body.scrollWidth, document.body.scrollHeight]")
        tmp.set_viewport_size({"width": int(w), "height": int(h)})
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.screenshot(path=str(path), full_page=True)
    finally:
        tmp.close()
