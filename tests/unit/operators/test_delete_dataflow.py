"""AEPDeleteDataflowOperator against a mocked hook: Adobe's order, already-gone resources, its own check."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from airflow_provider_zoho_aep import BASE_CONNECTIONS
from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.operators.delete_dataflow import AEPDeleteDataflowOperator
from tests.unit.conftest import messages, patched_hook

AEP_HOOK = "airflow_provider_zoho_aep.operators.delete_dataflow.AdobeExperiencePlatformHook"
FLOW = {"id": "flow-1", "sourceConnectionIds": ["sc-1", "sc-2"], "targetConnectionIds": ["tc-1"]}
NOT_FOUND = AEPAPIError("not found", status=404, code="FLOW-1101-404", service="Flow Service")


@pytest.fixture
def hook_cls() -> Any:
    with patched_hook(AEP_HOOK, AdobeExperiencePlatformHook) as hook_cls:
        hook = hook_cls.return_value
        hook.get_dataflow.return_value = FLOW
        hook.get_source_connection.side_effect = lambda sid: {"id": sid, "baseConnectionId": "bc-1"}
        for method in ("delete_dataflow", "delete_source_connection", "delete_target_connection",
                       "delete_resource"):
            getattr(hook, method).return_value = True
        yield hook_cls


def calls(hook_cls: Any) -> list[Any]:
    """The hook calls, in order."""
    return list(hook_cls.return_value.mock_calls)


def test_renders_its_fields_and_deletes_only_the_dataflow_by_default(hook_cls: Any, context: Any, ti: Any) -> None:
    op = AEPDeleteDataflowOperator(task_id="delete", flow_id="{{ params.flow }}", aep_conn_id="{{ params.conn }}")
    op.render_template_fields({"params": {"flow": "flow-1", "conn": "aep_rendered"}})

    assert op.execute(context) == {"flow_id": "flow-1", "deleted": ["flow:flow-1"], "already_gone": []}

    hook_cls.assert_called_once_with(aep_conn_id="aep_rendered")
    assert calls(hook_cls) == [mock.call.get_dataflow("flow-1"), mock.call.delete_dataflow("flow-1")]
    ti.xcom_push.assert_not_called()


def test_with_connections_deletes_in_adobes_order(hook_cls: Any, context: Any) -> None:
    result = AEPDeleteDataflowOperator(task_id="delete", flow_id="flow-1", delete_connections=True).execute(context)

    assert calls(hook_cls) == [
        mock.call.get_dataflow("flow-1"),
        mock.call.delete_dataflow("flow-1"),
        mock.call.delete_source_connection("sc-1"),
        mock.call.delete_source_connection("sc-2"),
        mock.call.delete_target_connection("tc-1"),
    ]
    assert result == {"flow_id": "flow-1", "already_gone": [], "deleted": [
        "flow:flow-1", "sourceConnection:sc-1", "sourceConnection:sc-2", "targetConnection:tc-1"]}


def test_the_base_connection_goes_last_and_once(hook_cls: Any, context: Any) -> None:
    op = AEPDeleteDataflowOperator(task_id="delete", flow_id="flow-1", delete_connections=True,
                                   delete_base_connection=True)
    result = op.execute(context)

    # The base connection is read from each source connection before that source connection is deleted, and
    # deleted after everything that used it; both sources share bc-1, so it is deleted once.
    assert calls(hook_cls) == [
        mock.call.get_dataflow("flow-1"),
        mock.call.delete_dataflow("flow-1"),
        mock.call.get_source_connection("sc-1"),
        mock.call.delete_source_connection("sc-1"),
        mock.call.get_source_connection("sc-2"),
        mock.call.delete_source_connection("sc-2"),
        mock.call.delete_target_connection("tc-1"),
        mock.call.delete_resource(BASE_CONNECTIONS, "bc-1"),
    ]
    assert result["deleted"][-1] == "baseConnection:bc-1"


def test_already_gone_resources_are_reported_not_failed(hook_cls: Any, context: Any) -> None:
    hook = hook_cls.return_value
    hook.delete_dataflow.return_value = False
    hook.delete_target_connection.return_value = False
    hook.delete_resource.return_value = False
    hook.get_source_connection.side_effect = [NOT_FOUND, {"id": "sc-2", "baseConnectionId": "bc-2"}]

    result = AEPDeleteDataflowOperator(task_id="delete", flow_id="flow-1", delete_connections=True,
                                       delete_base_connection=True).execute(context)

    assert result == {
        "flow_id": "flow-1",
        "deleted": ["sourceConnection:sc-1", "sourceConnection:sc-2"],
        "already_gone": ["flow:flow-1", "targetConnection:tc-1", "baseConnection:bc-2"],
    }
    hook.delete_resource.assert_called_once_with(BASE_CONNECTIONS, "bc-2")


def test_a_dataflow_already_gone_deletes_nothing_else(hook_cls: Any, context: Any, logs: Any) -> None:
    hook_cls.return_value.get_dataflow.side_effect = NOT_FOUND
    result = AEPDeleteDataflowOperator(task_id="delete", flow_id="flow-1", delete_connections=True,
                                       delete_base_connection=True).execute(context)
    assert result == {"flow_id": "flow-1", "deleted": [], "already_gone": ["flow:flow-1"]}
    assert calls(hook_cls) == [mock.call.get_dataflow("flow-1")]
    assert "Dataflow flow-1 is already gone; nothing else can be found from it" in messages(logs)


def test_delete_base_connection_without_delete_connections_fails_before_any_hook(
    hook_cls: Any, context: Any
) -> None:
    op = AEPDeleteDataflowOperator(task_id="delete", flow_id="flow-1", delete_base_connection=True)
    with pytest.raises(ConfigurationError, match="needs delete_connections=True") as raised:
        op.execute(context)
    assert raised.value.field == "delete_base_connection"
    hook_cls.assert_not_called()


@pytest.mark.parametrize("step", ["get_dataflow", "delete_dataflow", "delete_source_connection",
                                  "get_source_connection", "delete_target_connection", "delete_resource"])
def test_any_other_hook_error_propagates(hook_cls: Any, context: Any, step: str) -> None:
    error = AEPAPIError("still in use", status=400, code="FLOW-1418-400", service="Flow Service")
    getattr(hook_cls.return_value, step).side_effect = error
    op = AEPDeleteDataflowOperator(task_id="delete", flow_id="flow-1", delete_connections=True,
                                   delete_base_connection=True)
    with pytest.raises(AEPAPIError) as raised:
        op.execute(context)
    assert raised.value is error


def test_a_bad_connection_or_flow_id_from_the_hook_propagates(hook_cls: Any, context: Any) -> None:
    error = ConfigurationError("flow_id", "is empty", "pass the flow id, e.g. from upstream XCom")
    hook_cls.return_value.get_dataflow.side_effect = error
    with pytest.raises(ConfigurationError) as raised:
        AEPDeleteDataflowOperator(task_id="delete", flow_id="").execute(context)
    assert raised.value is error
    hook_cls.return_value.delete_dataflow.assert_not_called()
