"""AEPListTablesOperator against a mocked hook."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.operators.list_tables import AEPListTablesOperator
from tests.unit.conftest import messages, patched_hook

AEP_HOOK = "airflow_provider_zoho_aep.operators.list_tables.AdobeExperiencePlatformHook"
TABLES = [{"path": "Leads", "type": "table"}, {"path": "Deals", "type": "table"}]


@pytest.fixture
def hook_cls() -> Any:
    with patched_hook(AEP_HOOK, AdobeExperiencePlatformHook) as hook_cls:
        hook_cls.return_value.list_tables.return_value = TABLES
        yield hook_cls


def test_renders_its_fields_and_returns_the_table_paths(hook_cls: Any, context: Any, ti: Any, logs: Any) -> None:
    op = AEPListTablesOperator(task_id="tables", base_connection_id="{{ params.base }}",
                               required_table="{{ params.table }}", aep_conn_id="{{ params.conn }}")
    op.render_template_fields({"params": {"base": "bc-3", "table": "Deals", "conn": "aep_rendered"}})

    assert op.execute(context) == ["Leads", "Deals"]

    hook_cls.assert_called_once_with(aep_conn_id="aep_rendered")
    hook_cls.return_value.list_tables.assert_called_once_with("bc-3")
    ti.xcom_push.assert_not_called()  # the list is the return value, nothing else
    assert "Base connection bc-3 exposes 2 tables: Leads, Deals" in messages(logs)


def test_without_a_required_table_any_list_passes(hook_cls: Any, context: Any) -> None:
    hook_cls.return_value.list_tables.return_value = []
    assert AEPListTablesOperator(task_id="tables", base_connection_id="bc").execute(context) == []
    hook_cls.assert_called_once_with(aep_conn_id="aep_default")


@pytest.mark.parametrize(("tables", "fix"), [(TABLES, "use one of Leads, Deals"), ([], r"use one of \(none\)")])
def test_a_missing_required_table_fails_and_names_the_tables(
    hook_cls: Any, context: Any, tables: list[dict[str, Any]], fix: str
) -> None:
    hook_cls.return_value.list_tables.return_value = tables
    op = AEPListTablesOperator(task_id="tables", base_connection_id="bc-3", required_table="Contacts")
    with pytest.raises(ConfigurationError, match=fix) as raised:
        op.execute(context)
    assert raised.value.field == "required_table"
    assert "'Contacts' is not a table of base connection bc-3" in str(raised.value)


@pytest.mark.parametrize("error", [
    AEPAPIError("the base connection does not exist", status=404, code="FLOW-1101-404", service="Flow Service"),
    ConfigurationError("base_connection_id", "is empty", "pass the base connection id, e.g. from upstream XCom"),
], ids=["api", "configuration"])
def test_a_hook_error_propagates(hook_cls: Any, context: Any, error: Exception) -> None:
    hook_cls.return_value.list_tables.side_effect = error
    with pytest.raises(type(error)) as raised:
        AEPListTablesOperator(task_id="tables", base_connection_id="None").execute(context)
    assert raised.value is error
