"""ZohoCRMHook: the zoho_crm Connection as settings, the six auth params, the Test button; a fake ZohoClient."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.client.http import RetryPolicy
from airflow_provider_zoho_aep.client.zoho import ZohoAccessToken, ZohoClient
from airflow_provider_zoho_aep.get_provider_info import ZOHO_UI_FIELD_BEHAVIOUR
from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook
from tests.conftest import set_connection
from tests.unit.conftest import messages

ZOHO_SECRET = "zoho-client-secret"
REFRESH = "1000.refresh-token-value"
STORED_ACCESS = "1000.stored-access-token"
ZOHO_CONN = {
    "conn_type": "zoho_crm",
    "login": "1000.CLIENTID",
    "password": ZOHO_SECRET,
    "host": "https://www.zohoapis.eu",
    "extra": {"accounts_url": "https://accounts.zoho.eu", "refresh_token": REFRESH},
}


@pytest.fixture
def zoho_conn(monkeypatch: pytest.MonkeyPatch) -> str:
    set_connection(monkeypatch, "zoho_unit", ZOHO_CONN)
    return "zoho_unit"


@pytest.fixture
def zoho_client() -> Any:
    return mock.create_autospec(ZohoClient, instance=True)


@pytest.fixture
def hook(zoho_conn: str, zoho_client: Any) -> ZohoCRMHook:
    hook = ZohoCRMHook(zoho_conn_id=zoho_conn)
    hook.__dict__["client"] = zoho_client
    return hook


class TestSettings:
    def test_validated_and_every_secret_masked(self, monkeypatch: pytest.MonkeyPatch) -> None:
        set_connection(monkeypatch, "zoho_unit", {**ZOHO_CONN, "extra": {**ZOHO_CONN["extra"],
                                                                          "access_token": STORED_ACCESS}})
        with mock.patch("airflow_provider_zoho_aep.hooks.zoho_crm._mask") as mask:
            settings = ZohoCRMHook(zoho_conn_id="zoho_unit").validate_connection()
        assert (settings.client_id, settings.endpoint, settings.accounts_url, settings.region) == (
            "1000.CLIENTID", "https://www.zohoapis.eu", "https://accounts.zoho.eu", "eu")
        assert mask.call_args_list == [mock.call(ZOHO_SECRET), mock.call(REFRESH), mock.call(STORED_ACCESS)]

    def test_a_region_alone_gives_both_urls(self, monkeypatch: pytest.MonkeyPatch) -> None:
        set_connection(monkeypatch, "zoho_unit", {**ZOHO_CONN, "host": None,
                                                  "extra": {"region": "in", "refresh_token": REFRESH}})
        settings = ZohoCRMHook(zoho_conn_id="zoho_unit").validate_connection()
        assert (settings.endpoint, settings.accounts_url) == ("https://www.zohoapis.in", "https://accounts.zoho.in")

    @pytest.mark.parametrize(("region", "warned"), [("jp", True), ("eu", False)])
    def test_a_data_centre_outside_adobes_list_is_a_warning(
        self, monkeypatch: pytest.MonkeyPatch, logs: Any, region: str, warned: bool
    ) -> None:
        set_connection(monkeypatch, "zoho_unit", {**ZOHO_CONN, "host": None,
                                                  "extra": {"region": region, "refresh_token": REFRESH}})
        ZohoCRMHook(zoho_conn_id="zoho_unit").validate_connection()
        warnings = [line for line in messages(logs, "warning") if "Zoho data centre" in line]
        assert bool(warnings) is warned
        if warned:
            assert f"Zoho data centre '{region}' is not among the five" in warnings[0]

    @pytest.mark.parametrize(("override", "field"), [
        ({"login": ""}, "login (Client ID)"),
        ({"password": None}, "password (Client Secret)"),
        ({"extra": {"accounts_url": "https://accounts.zoho.eu"}}, "extra.refresh_token"),
        ({"extra": {"region": "mars", "refresh_token": REFRESH}}, "extra.region"),
    ])
    def test_a_bad_connection_names_the_field(
        self, monkeypatch: pytest.MonkeyPatch, override: dict[str, Any], field: str
    ) -> None:
        set_connection(monkeypatch, "zoho_bad", {**ZOHO_CONN, **override})
        with pytest.raises(ConfigurationError) as raised:
            ZohoCRMHook(zoho_conn_id="zoho_bad").validate_connection()
        assert raised.value.field == field
        assert raised.value.source == "Airflow Connection 'zoho_bad' (Zoho CRM)"
        assert ZOHO_SECRET not in str(raised.value) and REFRESH not in str(raised.value)

    def test_urls_of_two_data_centres_are_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        set_connection(monkeypatch, "zoho_bad", {**ZOHO_CONN, "host": "https://www.zohoapis.com"})
        with pytest.raises(ConfigurationError, match="Zoho CRM"):
            ZohoCRMHook(zoho_conn_id="zoho_bad").validate_connection()


class TestAuthParams:
    @pytest.mark.parametrize("refresh", [True, False])
    def test_the_six_params_of_aeps_zoho_spec(self, hook: ZohoCRMHook, zoho_client: Any, refresh: bool) -> None:
        zoho_client.access_token.return_value = "1000.minted"
        assert hook.get_auth_params(refresh_access_token=refresh) == {
            "endpoint": "https://www.zohoapis.eu",
            "accountsUrl": "https://accounts.zoho.eu",
            "clientId": "1000.CLIENTID",
            "clientSecret": ZOHO_SECRET,
            "accessToken": "1000.minted",
            "refreshToken": REFRESH,
        }
        zoho_client.access_token.assert_called_once_with(refresh=refresh)

    def test_get_access_token_defaults_to_a_fresh_one(self, hook: ZohoCRMHook, zoho_client: Any) -> None:
        zoho_client.access_token.return_value = "1000.minted"
        assert hook.get_access_token() == "1000.minted"
        zoho_client.access_token.assert_called_once_with(refresh=True)

    def test_a_token_error_propagates(self, hook: ZohoCRMHook, zoho_client: Any) -> None:
        error = AEPAPIError("Zoho refused the refresh token", code="invalid_code", service="Zoho accounts")
        zoho_client.access_token.side_effect = error
        with pytest.raises(AEPAPIError) as raised:
            hook.get_auth_params()
        assert raised.value is error

    def test_a_bad_connection_fails_before_any_token_call(
        self, monkeypatch: pytest.MonkeyPatch, zoho_client: Any
    ) -> None:
        set_connection(monkeypatch, "zoho_bad", {**ZOHO_CONN, "extra": {}})
        hook = ZohoCRMHook(zoho_conn_id="zoho_bad")
        hook.__dict__["client"] = zoho_client
        with pytest.raises(ConfigurationError, match=r"extra\.refresh_token"):
            hook.get_auth_params()
        assert zoho_client.mock_calls == []


class TestClient:
    def test_built_with_the_hooks_timeout_and_a_short_retry(self, zoho_conn: str) -> None:
        with mock.patch("requests.Session.request") as request:
            client = ZohoCRMHook(zoho_conn_id=zoho_conn, timeout=7).get_conn()
        request.assert_not_called()
        assert isinstance(client, ZohoClient)
        assert client.settings.client_secret == ZOHO_SECRET
        assert client._transport.timeout == 7
        assert client._transport.retry == RetryPolicy(max_attempts=3, max_total_seconds=60)
        assert {ZOHO_SECRET, REFRESH} <= client._transport.secrets  # scrubbed from any error text


class TestTestConnection:
    @pytest.mark.parametrize(("user", "who"), [
        ({"email": "ada@example.com", "full_name": "Ada", "id": "1"}, "ada@example.com"),
        ({"full_name": "Ada", "id": "1"}, "Ada"),
        ({"id": "1"}, "1"),
        ({}, "the token owner"),
    ])
    def test_success_names_the_user(self, hook: ZohoCRMHook, zoho_client: Any, user: dict[str, Any], who: str) -> None:
        zoho_client.refresh_access_token.return_value = ZohoAccessToken("1000.fresh", 0.0)
        zoho_client.current_user.return_value = user
        assert hook.test_connection() == (
            True, f"Refreshed a Zoho access token at https://accounts.zoho.eu and read the CRM user {who}.")
        zoho_client.current_user.assert_called_once_with("1000.fresh")

    @pytest.mark.parametrize("step", ["refresh_access_token", "current_user"])
    def test_an_api_error_fails_with_its_text(self, hook: ZohoCRMHook, zoho_client: Any, step: str) -> None:
        zoho_client.refresh_access_token.return_value = ZohoAccessToken("1000.fresh", 0.0)
        error = AEPAPIError("Zoho said no", code="INVALID_TOKEN", service="Zoho CRM")
        getattr(zoho_client, step).side_effect = error
        assert hook.test_connection() == (False, str(error))

    def test_a_bad_connection_fails_with_the_field(self, monkeypatch: pytest.MonkeyPatch) -> None:
        set_connection(monkeypatch, "zoho_bad", {**ZOHO_CONN, "extra": {}})
        ok, message = ZohoCRMHook(zoho_conn_id="zoho_bad").test_connection()
        assert ok is False
        assert "extra.refresh_token: is missing" in message

    def test_a_person_waiting_gets_a_short_retry_policy(self, hook: ZohoCRMHook, zoho_client: Any) -> None:
        zoho_client.refresh_access_token.return_value = ZohoAccessToken("1000.fresh", 0.0)
        zoho_client.current_user.return_value = {}
        hook.test_connection()
        assert hook.retry_policy == RetryPolicy(max_attempts=2, max_total_seconds=10)

    def test_a_given_retry_policy_is_kept(self, zoho_conn: str, zoho_client: Any) -> None:
        policy = RetryPolicy(max_attempts=5)
        hook = ZohoCRMHook(zoho_conn_id=zoho_conn, retry_policy=policy)
        hook.__dict__["client"] = zoho_client
        zoho_client.refresh_access_token.return_value = ZohoAccessToken("1000.fresh", 0.0)
        zoho_client.current_user.return_value = {}
        hook.test_connection()
        assert hook.retry_policy is policy


def test_field_behaviour_is_the_provider_info_in_snake_case() -> None:
    behaviour = ZohoCRMHook.get_ui_field_behaviour()
    assert behaviour == {key.replace("-", "_"): value for key, value in ZOHO_UI_FIELD_BEHAVIOUR.items()}
    assert behaviour["relabeling"]["host"] == "CRM API endpoint"
