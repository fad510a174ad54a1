"""AEPCreateBaseConnectionOperator and its Zoho CRM preset, against a mocked hook."""

from __future__ import annotations

from functools import partial
from typing import Any
from unittest import mock

import pytest

from airflow_provider_zoho_aep import ZOHO_CRM_CONNECTION_SPEC_ID
from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook
from airflow_provider_zoho_aep.operators.base_connection import (
    AEPCreateBaseConnectionOperator,
    AEPCreateZohoCRMBaseConnectionOperator,
)
from tests.unit.conftest import CREATE_OUTCOMES, messages, patched_hook

AEP_HOOK = "airflow_provider_zoho_aep.operators.create_resource.AdobeExperiencePlatformHook"
ZOHO_HOOK = "airflow_provider_zoho_aep.hooks.zoho_crm.ZohoCRMHook"
AUTH = {"username": "u", "password": "p"}
CREATED = {"id": "bc-1", "etag": '"e1"', "created": True, "updated": False}


@pytest.fixture
def hook_cls() -> Any:
    with patched_hook(AEP_HOOK, AdobeExperiencePlatformHook) as hook_cls:
        hook_cls.return_value.create_base_connection.return_value = CREATED
        yield hook_cls


@pytest.fixture
def zoho_cls() -> Any:
    with patched_hook(ZOHO_HOOK, ZohoCRMHook) as zoho_cls:
        yield zoho_cls


class TestAEPCreateBaseConnectionOperator:
    def test_renders_its_fields_and_passes_them_to_the_hook(self, hook_cls: Any, context: Any) -> None:
        op = AEPCreateBaseConnectionOperator(
            task_id="create",
            name="{{ params.name }}",
            connection_spec_id="{{ params.spec }}",
            auth_params=AUTH,
            auth_spec_name="{{ params.auth_spec }}",
            connection_spec_version="{{ params.version }}",
            description="{{ params.description }}",
            if_exists="{{ params.if_exists }}",
            check_connection_spec=False,
            aep_conn_id="{{ params.conn }}",
        )
        op.render_template_fields({"params": {
            "name": "crm-base", "spec": "spec-9", "auth_spec": "OAuth2", "version": "2.0",
            "description": "from Zoho", "if_exists": "update", "conn": "aep_rendered",
        }})

        assert op.execute(context) == "bc-1"

        hook_cls.assert_called_once_with(aep_conn_id="aep_rendered")
        hook = hook_cls.return_value
        hook.create_base_connection.assert_called_once_with(
            "crm-base", "spec-9", AUTH, auth_spec_name="OAuth2", connection_spec_version="2.0",
            description="from Zoho", if_exists="update", check_connection_spec=False,
        )

    def test_defaults_reach_the_hook(self, hook_cls: Any, context: Any) -> None:
        op = AEPCreateBaseConnectionOperator(task_id="create", name="n", connection_spec_id="s", auth_params=AUTH)
        op.execute(context)

        hook_cls.assert_called_once_with(aep_conn_id="aep_default")
        hook_cls.return_value.create_base_connection.assert_called_once_with(
            "n", "s", AUTH, auth_spec_name="Basic Authentication", connection_spec_version="1.0",
            description=None, if_exists="reuse", check_connection_spec=True,
        )

    def test_an_empty_rendered_description_is_sent_as_none(self, hook_cls: Any, context: Any) -> None:
        op = AEPCreateBaseConnectionOperator(task_id="create", name="n", connection_spec_id="s", auth_params=AUTH,
                                             description="{{ params.missing or '' }}")
        op.render_template_fields({"params": {}})
        op.execute(context)
        assert hook_cls.return_value.create_base_connection.call_args.kwargs["description"] is None

    def test_auth_params_are_not_templated(self, hook_cls: Any, context: Any) -> None:
        # Secrets must never land in rendered template fields.
        assert "auth_params" not in AEPCreateBaseConnectionOperator.template_fields
        auth = {"password": "{{ params.secret }}"}
        op = AEPCreateBaseConnectionOperator(task_id="create", name="n", connection_spec_id="s", auth_params=auth)
        op.render_template_fields({"params": {"secret": "rendered"}})
        op.execute(context)
        assert hook_cls.return_value.create_base_connection.call_args.args[2] == {"password": "{{ params.secret }}"}

    @pytest.mark.parametrize(("result", "verb"), CREATE_OUTCOMES)
    def test_if_exists_outcome_is_returned_pushed_and_logged(
        self, hook_cls: Any, context: Any, ti: Any, logs: Any, result: dict[str, Any], verb: str
    ) -> None:
        hook_cls.return_value.create_base_connection.return_value = result
        op = AEPCreateBaseConnectionOperator(task_id="create", name="crm-base", connection_spec_id="s",
                                             auth_params=AUTH)

        assert op.execute(context) == result["id"]

        assert ti.xcom_push.call_args_list == [
            mock.call(key="etag", value=result["etag"]),
            mock.call(key="created", value=result["created"]),
        ]
        assert f"{verb} base connection 'crm-base': {result['id']}" in messages(logs)

    @pytest.mark.parametrize("error", [
        AEPAPIError("Flow Service said no", status=400, code="FLOW-1415-400", service="Flow Service"),
        ConfigurationError("auth_spec_name", "is not an auth spec", "use 'Basic Authentication'"),
    ], ids=["api", "configuration"])
    def test_a_hook_error_propagates_and_nothing_is_pushed(
        self, hook_cls: Any, context: Any, ti: Any, error: Exception
    ) -> None:
        hook_cls.return_value.create_base_connection.side_effect = error
        op = AEPCreateBaseConnectionOperator(task_id="create", name="n", connection_spec_id="s", auth_params=AUTH)
        with pytest.raises(type(error)) as raised:
            op.execute(context)
        assert raised.value is error
        ti.xcom_push.assert_not_called()


class TestAEPCreateZohoCRMBaseConnectionOperator:
    def test_rendered_connections_and_the_zoho_spec_reach_the_hooks(
        self, hook_cls: Any, zoho_cls: Any, context: Any
    ) -> None:
        op = AEPCreateZohoCRMBaseConnectionOperator(
            task_id="create", name="{{ params.name }}", description="{{ params.description }}",
            zoho_conn_id="{{ params.zoho }}", if_exists="{{ params.if_exists }}", aep_conn_id="{{ params.aep }}",
            refresh_access_token=False, check_connection_spec=False,
        )
        op.render_template_fields({"params": {"name": "zoho-base", "description": "d", "zoho": "zoho_rendered",
                                              "if_exists": "fail", "aep": "aep_rendered"}})

        assert op.execute(context) == "bc-1"

        zoho_cls.assert_called_once_with(zoho_conn_id="zoho_rendered")
        hook_cls.assert_called_once_with(aep_conn_id="aep_rendered")
        call = hook_cls.return_value.create_base_connection.call_args
        assert call.args[:2] == ("zoho-base", ZOHO_CRM_CONNECTION_SPEC_ID)
        assert call.kwargs == {"auth_spec_name": "Basic Authentication", "connection_spec_version": "1.0",
                               "description": "d", "if_exists": "fail", "check_connection_spec": False}

    @pytest.mark.parametrize("refresh", [True, False])
    def test_auth_params_go_as_a_callable_and_the_operator_mints_no_token(
        self, hook_cls: Any, zoho_cls: Any, context: Any, refresh: bool
    ) -> None:
        zoho = zoho_cls.return_value
        zoho.get_auth_params.return_value = {"accessToken": "minted"}
        op = AEPCreateZohoCRMBaseConnectionOperator(task_id="create", name="zoho-base",
                                                    refresh_access_token=refresh)
        op.execute(context)

        auth = hook_cls.return_value.create_base_connection.call_args.args[2]
        assert callable(auth)
        assert isinstance(auth, partial)
        # The hook decides whether the params are sent; the operator itself never minted a token.
        zoho.get_auth_params.assert_not_called()
        zoho.get_access_token.assert_not_called()

        assert auth() == {"accessToken": "minted"}
        zoho.get_auth_params.assert_called_once_with(refresh_access_token=refresh)

    def test_defaults(self, hook_cls: Any, zoho_cls: Any, context: Any) -> None:
        AEPCreateZohoCRMBaseConnectionOperator(task_id="create", name="zoho-base").execute(context)
        zoho_cls.assert_called_once_with(zoho_conn_id="zoho_crm_default")
        hook_cls.assert_called_once_with(aep_conn_id="aep_default")
        call = hook_cls.return_value.create_base_connection.call_args
        assert call.kwargs["check_connection_spec"] is True
        assert call.kwargs["if_exists"] == "reuse"
        assert call.args[2].keywords == {"refresh_access_token": True}

    def test_the_zoho_connection_is_checked_before_anything_else(
        self, hook_cls: Any, zoho_cls: Any, context: Any, ti: Any
    ) -> None:
        zoho_cls.return_value.validate_connection.side_effect = ConfigurationError(
            "extra.refresh_token", "is missing", "set it", "Airflow Connection 'zoho_crm_default' (Zoho CRM)")
        op = AEPCreateZohoCRMBaseConnectionOperator(task_id="create", name="zoho-base")
        with pytest.raises(ConfigurationError, match=r"extra\.refresh_token"):
            op.execute(context)
        hook_cls.assert_not_called()
        zoho_cls.return_value.get_auth_params.assert_not_called()
        ti.xcom_push.assert_not_called()

    def test_zoho_conn_id_is_templated_and_no_hook_is_built_at_init(self, zoho_cls: Any) -> None:
        assert "zoho_conn_id" in AEPCreateZohoCRMBaseConnectionOperator.template_fields
        AEPCreateZohoCRMBaseConnectionOperator(task_id="create", name="zoho-base", zoho_conn_id="{{ params.z }}")
        zoho_cls.assert_not_called()

    @pytest.mark.parametrize(("result", "verb"), CREATE_OUTCOMES)
    def test_if_exists_outcome_is_returned_pushed_and_logged(
        self, hook_cls: Any, zoho_cls: Any, context: Any, ti: Any, logs: Any, result: dict[str, Any], verb: str
    ) -> None:
        hook_cls.return_value.create_base_connection.return_value = result
        op = AEPCreateZohoCRMBaseConnectionOperator(task_id="create", name="zoho-base")
        assert op.execute(context) == result["id"]
        ti.xcom_push.assert_any_call(key="etag", value=result["etag"])
        ti.xcom_push.assert_any_call(key="created", value=result["created"])
        assert f"{verb} base connection 'zoho-base': {result['id']}" in messages(logs)

    def test_a_hook_error_propagates(self, hook_cls: Any, zoho_cls: Any, context: Any) -> None:
        error = AEPAPIError("connection spec is not available", status=404, service="Flow Service")
        hook_cls.return_value.create_base_connection.side_effect = error
        with pytest.raises(AEPAPIError) as raised:
            AEPCreateZohoCRMBaseConnectionOperator(task_id="create", name="zoho-base").execute(context)
        assert raised.value is error
