"""AdobeExperiencePlatformBaseHook: the Connection as settings, the client it builds, the form, the Test button."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from airflow_provider_zoho_aep import ZOHO_CRM_CONNECTION_SPEC_ID
from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.client.flow_service import FlowServiceClient
from airflow_provider_zoho_aep.client.http import RetryPolicy
from airflow_provider_zoho_aep.get_provider_info import AEP_UI_FIELD_BEHAVIOUR
from airflow_provider_zoho_aep.hooks.aep_base import ZOHO_CRM_RETIREMENT, AdobeExperiencePlatformBaseHook
from tests.conftest import set_connection
from tests.unit.hooks.conftest import AEP_CONN, SECRET


@pytest.fixture
def base_hook(aep_conn: str, client: Any) -> AdobeExperiencePlatformBaseHook:
    hook = AdobeExperiencePlatformBaseHook(aep_conn_id=aep_conn)
    hook.__dict__["client"] = client
    return hook


class TestValidateConnection:
    def test_returns_the_validated_settings(self, aep_conn: str) -> None:
        settings = AdobeExperiencePlatformBaseHook(aep_conn_id=aep_conn).validate_connection()
        assert (settings.client_id, settings.client_secret, settings.ims_org_id, settings.sandbox_name) == (
            "unit-client-id", SECRET, "ORG123@AdobeOrg", "dev-1")
        assert settings.platform_url == "https://platform.example"
        assert settings.ims_token_url == "https://ims.example/ims/token/v3"
        assert settings.timeout == 12.0

    def test_reads_the_connection_once(self, aep_conn: str) -> None:
        hook = AdobeExperiencePlatformBaseHook(aep_conn_id=aep_conn)
        with mock.patch.object(hook, "get_connection", wraps=hook.get_connection) as get_connection:
            first = hook.validate_connection()
            assert hook.validate_connection() is first
        get_connection.assert_called_once_with(aep_conn)

    @pytest.mark.parametrize(("override", "field"), [
        ({"login": None}, "login (Client ID)"),
        ({"password": ""}, "password (Client Secret)"),
        ({"extra": {}}, "extra.ims_org_id"),
        ({"extra": {"ims_org_id": "ORG123"}}, "extra.ims_org_id"),
        ({"extra": {"ims_org_id": "ORG123@AdobeOrg", "sandbox_name": "Prod"}}, "extra.sandbox_name"),
        ({"extra": {"ims_org_id": "ORG123@AdobeOrg", "timeout": 0}}, "extra.timeout"),
    ])
    def test_a_bad_connection_names_the_field_and_the_connection(
        self, monkeypatch: pytest.MonkeyPatch, override: dict[str, Any], field: str
    ) -> None:
        set_connection(monkeypatch, "aep_bad", {**AEP_CONN, **override})
        with pytest.raises(ConfigurationError) as raised:
            AdobeExperiencePlatformBaseHook(aep_conn_id="aep_bad").validate_connection()
        assert raised.value.field == field
        assert raised.value.source == "Airflow Connection 'aep_bad' (Adobe Experience Platform)"
        assert SECRET not in str(raised.value)


class TestClient:
    def test_is_built_from_the_settings_without_a_network_call(self, aep_conn: str) -> None:
        hook = AdobeExperiencePlatformBaseHook(aep_conn_id=aep_conn)
        with mock.patch("airflow_provider_zoho_aep.hooks.aep_base.mask") as mask, \
                mock.patch("airflow_provider_zoho_aep.client.ims.IMSTokenProvider", autospec=True) as tokens, \
                mock.patch("requests.Session.request") as request:
            client = hook.client
        request.assert_not_called()
        assert isinstance(client, FlowServiceClient)
        assert hook.get_conn() is client
        assert client.base_url == "https://platform.example/data/foundation/flowservice"
        assert client.transport.timeout == 12.0  # the Connection's timeout extra
        assert client.transport.retry == RetryPolicy()
        tokens.assert_called_once_with(
            token_url="https://ims.example/ims/token/v3", client_id="unit-client-id", client_secret=SECRET,
            ims_org_id="ORG123@AdobeOrg", scopes=client.settings.scopes, transport=client.transport, on_token=mask,
        )
        assert client.tokens is tokens.return_value
        mask.assert_called_once_with(SECRET)

    def test_the_hooks_timeout_and_retry_policy_win(self, aep_conn: str) -> None:
        policy = RetryPolicy(max_attempts=1)
        client = AdobeExperiencePlatformBaseHook(aep_conn_id=aep_conn, timeout=3, retry_policy=policy).client
        assert client.transport.timeout == 3
        assert client.transport.retry is policy

    def test_a_bad_connection_fails_before_any_client_exists(self, monkeypatch: pytest.MonkeyPatch) -> None:
        set_connection(monkeypatch, "aep_bad", {**AEP_CONN, "extra": {}})
        hook = AdobeExperiencePlatformBaseHook(aep_conn_id="aep_bad")
        with pytest.raises(ConfigurationError, match=r"extra\.ims_org_id"):
            hook.get_conn()
        assert "client" not in hook.__dict__


class TestTestConnection:
    def test_success_names_the_sandbox_and_org(self, base_hook: AdobeExperiencePlatformBaseHook, client: Any) -> None:
        ok, message = base_hook.test_connection()
        assert ok is True
        assert message == ("Authenticated with IMS and reached Flow Service in sandbox 'dev-1' of ORG123@AdobeOrg; "
                           "the Zoho CRM connection spec is available.")
        client.tokens.get_token.assert_called_once_with()
        client.get_connection_spec.assert_called_once_with(ZOHO_CRM_CONNECTION_SPEC_ID)

    def test_a_missing_zoho_spec_still_proves_the_credentials(
        self, base_hook: AdobeExperiencePlatformBaseHook, client: Any
    ) -> None:
        client.get_connection_spec.side_effect = AEPAPIError("not found", status=404, service="Flow Service")
        ok, message = base_hook.test_connection()
        assert ok is True
        assert "Authenticated with IMS and reached Flow Service (sandbox 'dev-1')" in message
        assert ZOHO_CRM_RETIREMENT in message

    @pytest.mark.parametrize(("step", "error"), [
        ("token", AEPAPIError("IMS refused the client", status=400, code="invalid_client", service="IMS")),
        ("token", AEPAPIError("IMS not found", status=404, service="IMS")),
        ("spec", AEPAPIError("sandbox unknown", status=403, code="FLOW-2100-403", service="Flow Service")),
        ("spec", AEPAPIError("timed out", service="Flow Service")),
    ], ids=["ims-400", "ims-404", "flow-403", "timeout"])
    def test_an_api_error_fails_with_its_text(
        self, base_hook: AdobeExperiencePlatformBaseHook, client: Any, step: str, error: AEPAPIError
    ) -> None:
        target = client.tokens.get_token if step == "token" else client.get_connection_spec
        target.side_effect = error
        assert base_hook.test_connection() == (False, str(error))

    def test_a_bad_connection_fails_with_the_field(self, monkeypatch: pytest.MonkeyPatch, client: Any) -> None:
        set_connection(monkeypatch, "aep_bad", {**AEP_CONN, "extra": {"ims_org_id": "nope"}})
        hook = AdobeExperiencePlatformBaseHook(aep_conn_id="aep_bad")
        hook.__dict__["client"] = client
        ok, message = hook.test_connection()
        assert ok is False
        assert "extra.ims_org_id: does not end with '@AdobeOrg'" in message
        assert client.mock_calls == []

    def test_a_person_waiting_gets_a_short_retry_policy(self, aep_conn: str) -> None:
        hook = AdobeExperiencePlatformBaseHook(aep_conn_id=aep_conn)
        with mock.patch("airflow_provider_zoho_aep.client.flow_service.FlowServiceClient.get_connection_spec"), \
                mock.patch("airflow_provider_zoho_aep.client.ims.IMSTokenProvider.get_token"):
            assert hook.test_connection()[0] is True
        assert hook.retry_policy == RetryPolicy(max_attempts=2, max_total_seconds=10)
        assert hook.client.transport.retry == RetryPolicy(max_attempts=2, max_total_seconds=10)

    def test_a_given_retry_policy_is_kept(self, aep_conn: str, client: Any) -> None:
        policy = RetryPolicy(max_attempts=4)
        hook = AdobeExperiencePlatformBaseHook(aep_conn_id=aep_conn, retry_policy=policy)
        hook.__dict__["client"] = client
        hook.test_connection()
        assert hook.retry_policy is policy


class TestConnectionForm:
    def test_field_behaviour_is_the_provider_info_in_snake_case(self) -> None:
        behaviour = AdobeExperiencePlatformBaseHook.get_ui_field_behaviour()
        assert behaviour == {key.replace("-", "_"): value for key, value in AEP_UI_FIELD_BEHAVIOUR.items()}
        assert behaviour["hidden_fields"] == ["schema", "port"]
        assert behaviour["relabeling"]["password"] == "Client Secret"
