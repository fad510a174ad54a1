"""AEPCreateTargetConnectionOperator against a mocked hook."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from airflow_provider_zoho_aep import DEFAULT_SCHEMA_VERSION
from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.operators.target_connection import AEPCreateTargetConnectionOperator
from tests.unit.conftest import CREATE_OUTCOMES, messages, patched_hook

AEP_HOOK = "airflow_provider_zoho_aep.operators.create_resource.AdobeExperiencePlatformHook"
SCHEMA = "https://ns.adobe.com/tenant/schemas/abc123"


@pytest.fixture
def hook_cls() -> Any:
    with patched_hook(AEP_HOOK, AdobeExperiencePlatformHook) as hook_cls:
        hook_cls.return_value.create_target_connection.return_value = {
            "id": "tc-1", "etag": '"e1"', "created": True, "updated": False}
        yield hook_cls


def test_renders_its_fields_and_passes_them_to_the_hook(hook_cls: Any, context: Any) -> None:
    op = AEPCreateTargetConnectionOperator(
        task_id="target",
        name="{{ params.name }}",
        dataset_id="{{ params.dataset }}",
        schema_id="{{ params.schema }}",
        schema_version="{{ params.version }}",
        description="{{ params.description }}",
        if_exists="{{ params.if_exists }}",
        aep_conn_id="{{ params.conn }}",
    )
    op.render_template_fields({"params": {"name": "leads-dl", "dataset": "ds-5", "schema": SCHEMA,
                                          "version": "application/vnd.adobe.xed-full+json;version=2",
                                          "description": "Leads dataset", "if_exists": "fail",
                                          "conn": "aep_rendered"}})

    assert op.execute(context) == "tc-1"

    hook_cls.assert_called_once_with(aep_conn_id="aep_rendered")
    hook_cls.return_value.create_target_connection.assert_called_once_with(
        "leads-dl", "ds-5", SCHEMA, schema_version="application/vnd.adobe.xed-full+json;version=2",
        description="Leads dataset", if_exists="fail",
    )


def test_defaults_reach_the_hook(hook_cls: Any, context: Any) -> None:
    AEPCreateTargetConnectionOperator(task_id="target", name="n", dataset_id="ds", schema_id=SCHEMA).execute(context)
    hook_cls.assert_called_once_with(aep_conn_id="aep_default")
    hook_cls.return_value.create_target_connection.assert_called_once_with(
        "n", "ds", SCHEMA, schema_version=DEFAULT_SCHEMA_VERSION, description=None, if_exists="reuse",
    )


@pytest.mark.parametrize(("result", "verb"), CREATE_OUTCOMES)
def test_if_exists_outcome_is_returned_pushed_and_logged(
    hook_cls: Any, context: Any, ti: Any, logs: Any, result: dict[str, Any], verb: str
) -> None:
    hook_cls.return_value.create_target_connection.return_value = result
    op = AEPCreateTargetConnectionOperator(task_id="target", name="leads-dl", dataset_id="ds", schema_id=SCHEMA)
    assert op.execute(context) == result["id"]
    assert ti.xcom_push.call_args_list == [
        mock.call(key="etag", value=result["etag"]),
        mock.call(key="created", value=result["created"]),
    ]
    assert f"{verb} target connection 'leads-dl': {result['id']}" in messages(logs)


@pytest.mark.parametrize("error", [
    AEPAPIError("dataset not found", status=400, service="Flow Service"),
    ConfigurationError("schema_id", "'x' is not an XDM schema URI", "use the schema's $id"),
], ids=["api", "configuration"])
def test_a_hook_error_propagates_and_nothing_is_pushed(hook_cls: Any, context: Any, ti: Any, error: Exception) -> None:
    hook_cls.return_value.create_target_connection.side_effect = error
    op = AEPCreateTargetConnectionOperator(task_id="target", name="n", dataset_id="ds", schema_id="x")
    with pytest.raises(type(error)) as raised:
        op.execute(context)
    assert raised.value is error
    ti.xcom_push.assert_not_called()
