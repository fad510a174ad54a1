"""AEPCreateSourceConnectionOperator against a mocked hook."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from airflow_provider_zoho_aep import ZOHO_CRM_CONNECTION_SPEC_ID
from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.operators.source_connection import AEPCreateSourceConnectionOperator
from tests.unit.conftest import CREATE_OUTCOMES, messages, patched_hook

AEP_HOOK = "airflow_provider_zoho_aep.operators.create_resource.AdobeExperiencePlatformHook"


@pytest.fixture
def hook_cls() -> Any:
    with patched_hook(AEP_HOOK, AdobeExperiencePlatformHook) as hook_cls:
        hook_cls.return_value.create_source_connection.return_value = {
            "id": "sc-1", "etag": '"e1"', "created": True, "updated": False}
        yield hook_cls


def test_renders_its_fields_and_passes_them_to_the_hook(hook_cls: Any, context: Any) -> None:
    op = AEPCreateSourceConnectionOperator(
        task_id="source",
        name="{{ params.name }}",
        base_connection_id="{{ params.base }}",
        table_name="{{ params.table }}",
        connection_spec_id="{{ params.spec }}",
        connection_spec_version="{{ params.version }}",
        description="{{ params.description }}",
        if_exists="{{ params.if_exists }}",
        aep_conn_id="{{ params.conn }}",
    )
    op.render_template_fields({"params": {"name": "leads-src", "base": "bc-7", "table": "Leads", "spec": "spec-2",
                                          "version": "1.1", "description": "the Leads module",
                                          "if_exists": "update", "conn": "aep_rendered"}})

    assert op.execute(context) == "sc-1"

    hook_cls.assert_called_once_with(aep_conn_id="aep_rendered")
    hook_cls.return_value.create_source_connection.assert_called_once_with(
        "leads-src", "bc-7", "Leads", connection_spec_id="spec-2", connection_spec_version="1.1",
        description="the Leads module", if_exists="update",
    )


def test_defaults_reach_the_hook(hook_cls: Any, context: Any) -> None:
    AEPCreateSourceConnectionOperator(task_id="source", name="n", base_connection_id="bc", table_name="Deals"
                                      ).execute(context)
    hook_cls.assert_called_once_with(aep_conn_id="aep_default")
    hook_cls.return_value.create_source_connection.assert_called_once_with(
        "n", "bc", "Deals", connection_spec_id=ZOHO_CRM_CONNECTION_SPEC_ID, connection_spec_version="1.0",
        description=None, if_exists="reuse",
    )


class _UpstreamTI:
    """A task instance whose ``xcom_pull`` answers like an upstream create task (Jinja's sandbox calls it)."""

    def __init__(self) -> None:
        self.pulled: list[str] = []

    def xcom_pull(self, task_ids: str) -> str:
        self.pulled.append(task_ids)
        return "bc-from-upstream"


def test_the_base_connection_id_renders_from_upstream_xcom(hook_cls: Any, context: Any) -> None:
    upstream = _UpstreamTI()
    op = AEPCreateSourceConnectionOperator(
        task_id="source", name="n", table_name="Leads",
        base_connection_id="{{ ti.xcom_pull(task_ids='create_base_connection') }}",
    )
    op.render_template_fields({"ti": upstream})
    assert upstream.pulled == ["create_base_connection"]
    op.execute(context)
    assert hook_cls.return_value.create_source_connection.call_args.args[1] == "bc-from-upstream"


@pytest.mark.parametrize(("result", "verb"), CREATE_OUTCOMES)
def test_if_exists_outcome_is_returned_pushed_and_logged(
    hook_cls: Any, context: Any, ti: Any, logs: Any, result: dict[str, Any], verb: str
) -> None:
    hook_cls.return_value.create_source_connection.return_value = result
    op = AEPCreateSourceConnectionOperator(task_id="source", name="leads-src", base_connection_id="bc",
                                           table_name="Leads")
    assert op.execute(context) == result["id"]
    assert ti.xcom_push.call_args_list == [
        mock.call(key="etag", value=result["etag"]),
        mock.call(key="created", value=result["created"]),
    ]
    assert f"{verb} source connection 'leads-src': {result['id']}" in messages(logs)


@pytest.mark.parametrize("error", [
    AEPAPIError("table not found", status=400, code="FLOW-1101-400", service="Flow Service"),
    ConfigurationError("table_name", "is empty", "pass a table path from explore, e.g. 'Leads'"),
], ids=["api", "configuration"])
def test_a_hook_error_propagates_and_nothing_is_pushed(hook_cls: Any, context: Any, ti: Any, error: Exception) -> None:
    hook_cls.return_value.create_source_connection.side_effect = error
    op = AEPCreateSourceConnectionOperator(task_id="source", name="n", base_connection_id="bc", table_name="None")
    with pytest.raises(type(error)) as raised:
        op.execute(context)
    assert raised.value is error
    ti.xcom_push.assert_not_called()
