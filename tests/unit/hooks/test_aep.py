"""AdobeExperiencePlatformHook: the Connection as settings, the form, the Test button, and the Flow Service
resources against a fake FlowServiceClient."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest

from airflow_provider_zoho_aep import (
    BASE_CONNECTIONS,
    DATA_LAKE_CONNECTION_SPEC_ID,
    DATA_LANDING_ZONE_CONNECTION_SPEC_ID,
    DEFAULT_SCHEMA_VERSION,
    FLOWS,
    RUNS,
    SOURCE_CONNECTIONS,
    TARGET_CONNECTIONS,
    ZOHO_CRM_CONNECTION_SPEC_ID,
)
from airflow_provider_zoho_aep.client.errors import (
    AEPAPIError,
    AmbiguousWriteError,
    ConfigurationError,
    DuplicateResourcesError,
    ResourceExistsError,
)
from airflow_provider_zoho_aep.client.flow_service import FlowServiceClient
from airflow_provider_zoho_aep.client.http import RetryPolicy
from airflow_provider_zoho_aep.client.windows import Window, run_params
from airflow_provider_zoho_aep.get_provider_info import AEP_UI_FIELD_BEHAVIOUR
from airflow_provider_zoho_aep.hooks.aep import ZOHO_CRM_RETIREMENT, AdobeExperiencePlatformHook
from tests.conftest import set_connection
from tests.unit.conftest import messages
from tests.unit.hooks.conftest import AEP_CONN, SECRET

AUTH = {"username": "u", "password": "p"}
SCHEMA = "https://ns.adobe.com/tenant/schemas/abc123"
SCHEDULE = {"startTime": 1798761600, "frequency": "hour", "interval": 1}
BASIC_SPEC = {"id": "spec-1", "authSpec": [
    {"name": "Basic Authentication", "spec": {"required": ["username", "password"]}},
    {"name": "OAuth2", "spec": {"required": ["token"]}},
]}
ZOHO_PARAMS = ["endpoint", "accountsUrl", "clientId", "clientSecret", "accessToken", "refreshToken"]
ZOHO_SPEC = {"id": ZOHO_CRM_CONNECTION_SPEC_ID,
             "authSpec": [{"name": "Basic Authentication", "spec": {"required": ZOHO_PARAMS}}]}
FLOW_SPEC = {"id": "fs-1", "name": "CRMToAEP", "version": "1.0",
             "sourceConnectionSpecIds": [ZOHO_CRM_CONNECTION_SPEC_ID],
             "targetConnectionSpecIds": [DATA_LAKE_CONNECTION_SPEC_ID]}


@pytest.fixture
def base_hook(aep_conn: str, client: Any) -> AdobeExperiencePlatformHook:
    hook = AdobeExperiencePlatformHook(aep_conn_id=aep_conn)
    hook.__dict__["client"] = client
    return hook


class TestValidateConnection:
    def test_returns_the_validated_settings(self, aep_conn: str) -> None:
        settings = AdobeExperiencePlatformHook(aep_conn_id=aep_conn).validate_connection()
        assert (settings.client_id, settings.client_secret, settings.ims_org_id, settings.sandbox_name) == (
            "unit-client-id", SECRET, "ORG123@AdobeOrg", "dev-1")
        assert settings.platform_url == "https://platform.example"
        assert settings.ims_token_url == "https://ims.example/ims/token/v3"
        assert settings.timeout == 12.0

    def test_reads_the_connection_once(self, aep_conn: str) -> None:
        hook = AdobeExperiencePlatformHook(aep_conn_id=aep_conn)
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
            AdobeExperiencePlatformHook(aep_conn_id="aep_bad").validate_connection()
        assert raised.value.field == field
        assert raised.value.source == "Airflow Connection 'aep_bad' (Adobe Experience Platform)"
        assert SECRET not in str(raised.value)


class TestClient:
    def test_is_built_from_the_settings_without_a_network_call(self, aep_conn: str) -> None:
        hook = AdobeExperiencePlatformHook(aep_conn_id=aep_conn)
        with mock.patch("airflow_provider_zoho_aep.hooks.aep.mask") as mask, \
                mock.patch("airflow_provider_zoho_aep.client.flow_service.IMSTokenProvider", autospec=True) as tokens, \
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
        client = AdobeExperiencePlatformHook(aep_conn_id=aep_conn, timeout=3, retry_policy=policy).client
        assert client.transport.timeout == 3
        assert client.transport.retry is policy

    def test_a_bad_connection_fails_before_any_client_exists(self, monkeypatch: pytest.MonkeyPatch) -> None:
        set_connection(monkeypatch, "aep_bad", {**AEP_CONN, "extra": {}})
        hook = AdobeExperiencePlatformHook(aep_conn_id="aep_bad")
        with pytest.raises(ConfigurationError, match=r"extra\.ims_org_id"):
            hook.get_conn()
        assert "client" not in hook.__dict__


class TestTestConnection:
    def test_success_names_the_sandbox_and_org(self, base_hook: AdobeExperiencePlatformHook, client: Any) -> None:
        ok, message = base_hook.test_connection()
        assert ok is True
        assert message == ("Authenticated with IMS and reached Flow Service in sandbox 'dev-1' of ORG123@AdobeOrg; "
                           "the Zoho CRM connection spec is available.")
        client.tokens.get_token.assert_called_once_with()
        client.get_connection_spec.assert_called_once_with(ZOHO_CRM_CONNECTION_SPEC_ID)

    def test_a_missing_zoho_spec_still_proves_the_credentials(
        self, base_hook: AdobeExperiencePlatformHook, client: Any
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
        self, base_hook: AdobeExperiencePlatformHook, client: Any, step: str, error: AEPAPIError
    ) -> None:
        target = client.tokens.get_token if step == "token" else client.get_connection_spec
        target.side_effect = error
        assert base_hook.test_connection() == (False, str(error))

    def test_a_bad_connection_fails_with_the_field(self, monkeypatch: pytest.MonkeyPatch, client: Any) -> None:
        set_connection(monkeypatch, "aep_bad", {**AEP_CONN, "extra": {"ims_org_id": "nope"}})
        hook = AdobeExperiencePlatformHook(aep_conn_id="aep_bad")
        hook.__dict__["client"] = client
        ok, message = hook.test_connection()
        assert ok is False
        assert "extra.ims_org_id: does not end with '@AdobeOrg'" in message
        assert client.mock_calls == []

    def test_a_person_waiting_gets_a_short_retry_policy(self, aep_conn: str) -> None:
        hook = AdobeExperiencePlatformHook(aep_conn_id=aep_conn)
        with mock.patch("airflow_provider_zoho_aep.client.flow_service.FlowServiceClient.get_connection_spec"), \
                mock.patch("airflow_provider_zoho_aep.client.flow_service.IMSTokenProvider.get_token"):
            assert hook.test_connection()[0] is True
        assert hook.retry_policy == RetryPolicy(max_attempts=2, max_total_seconds=10)
        assert hook.client.transport.retry == RetryPolicy(max_attempts=2, max_total_seconds=10)

    def test_a_given_retry_policy_is_kept(self, aep_conn: str, client: Any) -> None:
        policy = RetryPolicy(max_attempts=4)
        hook = AdobeExperiencePlatformHook(aep_conn_id=aep_conn, retry_policy=policy)
        hook.__dict__["client"] = client
        hook.test_connection()
        assert hook.retry_policy is policy


class TestConnectionForm:
    def test_field_behaviour_is_the_provider_info_in_snake_case(self) -> None:
        behaviour = AdobeExperiencePlatformHook.get_ui_field_behaviour()
        assert behaviour == {key.replace("-", "_"): value for key, value in AEP_UI_FIELD_BEHAVIOUR.items()}
        assert behaviour["hidden_fields"] == ["schema", "port"]
        assert behaviour["relabeling"]["password"] == "Client Secret"



def existing(resource_id: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"id": resource_id, "name": name, "etag": f'"etag-{resource_id}"', **fields}


# -- every argument is checked before the client is touched ---------------------------------------------------

ONCE = {"startTime": 1735689600, "frequency": "once"}
BAD_CALLS: list[Any] = [
    ("find_base_connections", ("",), {}, "name"),
    ("get_base_connection", ("None",), {}, "base_connection_id"),
    ("create_base_connection", ("", "spec-1", AUTH), {}, "name"),
    ("create_base_connection", ("x" * 256, "spec-1", AUTH), {}, "name"),
    ("create_base_connection", ("n", "spec-1", AUTH), {"if_exists": "sometimes"}, "if_exists"),
    ("create_base_connection", ("n", "spec-1", AUTH), {"description": 7}, "description"),
    ("create_base_connection", ("n", "", AUTH), {}, "connection_spec_id"),
    ("create_base_connection", ("n", "spec-1", {}), {}, "auth_params"),
    ("create_base_connection", ("n", "spec-1", None), {}, "auth_params"),
    ("create_base_connection", ("n", "spec-1", ["username"]), {}, "auth_params"),
    ("test_base_connection", ("",), {}, "base_connection_id"),
    ("check_connection_spec", (" ",), {}, "connection_spec_id"),
    ("list_tables", ("",), {}, "base_connection_id"),
    ("get_table_columns", ("bc-1", ""), {}, "table_path"),
    ("preview_table", ("bc-1", "Leads"), {"count": 0}, "count"),
    ("preview_table", ("bc-1", "Leads"), {"count": 101}, "count"),
    ("preview_table", ("bc-1", "Leads"), {"count": True}, "count"),
    ("get_source_connection", ("",), {}, "source_connection_id"),
    ("get_target_connection", ("",), {}, "target_connection_id"),
    ("create_source_connection", ("n", "None", "Leads"), {}, "base_connection_id"),
    ("create_source_connection", ("n", "bc-1", ""), {}, "table_name"),
    ("create_source_connection", ("n", "bc-1", "Leads"), {"connection_spec_id": ""}, "connection_spec_id"),
    ("create_source_connection", ("n", "bc-1", "Leads"), {"if_exists": "replace"}, "if_exists"),
    ("create_target_connection", ("n", "", SCHEMA), {}, "dataset_id"),
    ("create_target_connection", ("n", "ds-1", "http://example.com/schema"), {}, "schema_id"),
    ("create_target_connection", ("n", "ds-1", "https://ns.adobe.com/"), {}, "schema_id"),
    ("create_target_connection", ("n", "ds-1", SCHEMA), {"schema_version": ""}, "schema_version"),
    ("create_target_connection", ("", "ds-1", SCHEMA), {}, "name"),
    ("find_flow_spec", ("",), {}, "flow_spec_name"),
    ("create_dataflow", ("n", "", "tc", "Modified_Time"), {"schedule_params": SCHEDULE}, "source_connection_id"),
    ("create_dataflow", ("n", "sc", "None", "Modified_Time"), {"schedule_params": SCHEDULE},
     "target_connection_id"),
    ("create_dataflow", ("n", "sc", "tc", ""), {"schedule_params": SCHEDULE}, "delta_column"),
    ("create_dataflow", ("n", "sc", "tc", "M"), {"schedule_params": SCHEDULE, "flow_spec_name": ""},
     "flow_spec_name"),
    ("create_dataflow", ("n", "sc", "tc", "M"), {"schedule_params": SCHEDULE, "mapping_id": ""}, "mapping_id"),
    ("create_dataflow", ("n", "sc", "tc", "M"), {"schedule_params": SCHEDULE, "mapping_version": -1},
     "mapping_version"),
    ("create_dataflow", ("n", "sc", "tc", "M"), {"schedule_params": SCHEDULE, "mapping_version": "1"},
     "mapping_version"),
    ("create_dataflow", ("n", "sc", "tc", "M"), {"schedule_params": SCHEDULE, "mapping_version": True},
     "mapping_version"),
    ("create_dataflow", ("n", "sc", "tc", "M"), {"schedule_params": {"interval": 1}}, "schedule_params"),
    ("create_dataflow", ("n", "sc", "tc", "M"), {"schedule_params": None}, "schedule_params"),
    ("create_dataflow", ("n", "sc", "tc", "M"), {"schedule_params": SCHEDULE, "if_exists": "always"},
     "if_exists"),
    ("get_dataflow", ("",), {}, "flow_id"),
    ("list_runs", ("None",), {}, "flow_id"),
    ("delete_dataflow", ("",), {}, "flow_id"),
    ("delete_source_connection", ("",), {}, "source_connection_id"),
    ("delete_target_connection", ("",), {}, "target_connection_id"),
    ("delete_base_connection", ("",), {}, "base_connection_id"),
    ("create_dataflow", ("n", "sc", "tc"), {"schedule_params": SCHEDULE}, "delta_column"),
    ("create_dataflow", ("n", "sc", "tc", "M"), {"schedule_params": ONCE, "mapping_id": "m",
                                                 "flow_spec_name": "CloudStorageToAEP"}, "delta_column"),
    ("create_dataflow", ("n", "sc", "tc"), {"schedule_params": SCHEDULE, "mapping_id": "m",
                                            "flow_spec_name": "CloudStorageToAEP"}, "frequency"),
    ("create_data_landing_zone_source_connection", ("n", "/abs"), {}, "path"),
    ("create_data_landing_zone_source_connection", ("n", "c/f/"), {"data_format": "xml"}, "data_format"),
    ("create_data_landing_zone_source_connection", ("n", "c/f/"), {"compression_type": "rar"}, "compression_type"),
    ("create_data_landing_zone_source_connection", ("n", "c/f/"), {"encoding": "latin"}, "encoding"),
    ("create_mapping_set", ("not-a-schema", {"a": "b"}), {}, "schema_id"),
    ("create_mapping_set", (SCHEMA, {}), {}, "mappings"),
    ("get_mapping_set", ("",), {}, "mapping_set_id"),
    ("upload_files_to_landing_zone", ([],), {"module": "", "flow_id": "f", "window_start": None,
                                             "window_end": None}, "module"),
]


@pytest.mark.parametrize(("method", "args", "kwargs", "field"), BAD_CALLS,
                         ids=[f"{m}-{f}-{i}" for i, (m, _, _, f) in enumerate(BAD_CALLS)])
def test_arguments_are_checked_before_any_client_call(
    hook: AdobeExperiencePlatformHook, client: Any, method: str, args: tuple[Any, ...], kwargs: dict[str, Any],
    field: str,
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        getattr(hook, method)(*args, **kwargs)
    assert raised.value.field == field
    assert client.mock_calls == []


@pytest.mark.parametrize("create", [
    lambda h: h.create_base_connection("n", "spec-1", AUTH),
    lambda h: h.create_source_connection("n", "bc-1", "Leads"),
    lambda h: h.create_target_connection("n", "ds-1", SCHEMA),
    lambda h: h.create_dataflow("n", "sc-1", "tc-1", "Modified_Time", schedule_params=SCHEDULE),
], ids=["base", "source", "target", "dataflow"])
def test_a_bad_connection_fails_every_create_before_any_client_call(
    monkeypatch: pytest.MonkeyPatch, client: Any, create: Callable[[AdobeExperiencePlatformHook], Any]
) -> None:
    set_connection(monkeypatch, "aep_bad", {"conn_type": "adobe_experience_platform", "login": "id",
                                            "password": "secret", "extra": {"sandbox_name": "prod"}})
    hook = AdobeExperiencePlatformHook(aep_conn_id="aep_bad")
    hook.__dict__["client"] = client
    with pytest.raises(ConfigurationError) as raised:
        create(hook)
    assert raised.value.field == "extra.ims_org_id"
    assert "Airflow Connection 'aep_bad'" in str(raised.value)
    assert client.mock_calls == []


# -- base connections ---------------------------------------------------------------------------------------


class TestCreateBaseConnection:
    def test_creates_the_body_flow_service_expects(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.create.return_value = {"id": "bc-1", "etag": '"e1"'}
        result = hook.create_base_connection("crm-base", "spec-1", AUTH, auth_spec_name="OAuth2",
                                             connection_spec_version="2.0", description="from Zoho")

        assert result == {"id": "bc-1", "etag": '"e1"', "created": True, "updated": False}
        client.list.assert_any_call(BASE_CONNECTIONS, {"name": "crm-base", "connectionSpec.id": "spec-1"})
        client.create.assert_called_once_with(BASE_CONNECTIONS, {
            "name": "crm-base", "description": "from Zoho",
            "auth": {"specName": "OAuth2", "params": AUTH},
            "connectionSpec": {"id": "spec-1", "version": "2.0"},
        })
        client.get_connection_spec.assert_not_called()  # check_connection_spec is off by default
        client.patch.assert_not_called()

    def test_reuses_the_one_with_the_same_name(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.list.return_value = [existing("bc-0", "crm-base"), existing("bc-x", "crm-base-2")]
        result = hook.create_base_connection("crm-base", "spec-1", AUTH)
        assert result == {"id": "bc-0", "etag": '"etag-bc-0"', "created": False, "updated": False}
        client.create.assert_not_called()
        client.patch.assert_not_called()

    def test_update_patches_the_credentials_with_if_match(
        self, hook: AdobeExperiencePlatformHook, client: Any
    ) -> None:
        client.list.return_value = [existing("bc-0", "crm-base", description="old")]
        client.patch.return_value = {"id": "bc-0", "etag": '"e2"'}
        result = hook.create_base_connection("crm-base", "spec-1", AUTH, description="new", if_exists="update")

        assert result == {"id": "bc-0", "etag": '"e2"', "created": False, "updated": True}
        client.patch.assert_called_once_with(BASE_CONNECTIONS, "bc-0", [
            {"op": "replace", "path": "/auth/params", "value": AUTH},
            {"op": "replace", "path": "/description", "value": "new"},
        ], '"etag-bc-0"')
        client.create.assert_not_called()

    def test_fail_refuses_an_existing_name(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.list.return_value = [existing("bc-0", "crm-base")]
        with pytest.raises(ResourceExistsError, match=r"already exists \(bc-0\)"):
            hook.create_base_connection("crm-base", "spec-1", AUTH, if_exists="fail")
        client.create.assert_not_called()

    def test_callable_auth_params_are_called_only_for_a_create(
        self, hook: AdobeExperiencePlatformHook, client: Any
    ) -> None:
        auth = mock.Mock(return_value=AUTH)
        client.list.return_value = [existing("bc-0", "crm-base")]
        hook.create_base_connection("crm-base", "spec-1", auth)
        auth.assert_not_called()  # a reuse sends no credentials, so no Zoho token is minted

        client.list.return_value = []
        client.create.return_value = {"id": "bc-1", "etag": '"e1"'}
        hook.create_base_connection("crm-base", "spec-1", auth)
        auth.assert_called_once_with()
        assert client.create.call_args.args[1]["auth"]["params"] == AUTH

    def test_callable_auth_params_are_called_once_for_an_update(
        self, hook: AdobeExperiencePlatformHook, client: Any
    ) -> None:
        auth = mock.Mock(return_value=AUTH)
        client.list.return_value = [existing("bc-0", "crm-base")]
        client.patch.return_value = {"etag": '"e2"'}
        hook.create_base_connection("crm-base", "spec-1", auth, if_exists="update")
        auth.assert_called_once_with()
        assert client.patch.call_args.args[2] == [{"op": "replace", "path": "/auth/params", "value": AUTH}]

    def test_the_spec_check_runs_first_and_stops_missing_params_before_any_write(
        self, hook: AdobeExperiencePlatformHook, client: Any
    ) -> None:
        client.get_connection_spec.return_value = BASIC_SPEC
        with pytest.raises(ConfigurationError, match="lacks password") as raised:
            hook.create_base_connection("crm-base", "spec-1", {"username": "u"}, check_connection_spec=True)
        assert raised.value.field == "auth_params"
        assert client.mock_calls == [mock.call.get_connection_spec("spec-1")]

    def test_callable_params_are_checked_against_the_spec_once_known(
        self, hook: AdobeExperiencePlatformHook, client: Any
    ) -> None:
        client.get_connection_spec.return_value = ZOHO_SPEC
        partial_params = {name: "v" for name in ZOHO_PARAMS if name != "refreshToken"}
        with pytest.raises(ConfigurationError, match="lacks refreshToken"):
            hook.create_base_connection("zoho-base", ZOHO_CRM_CONNECTION_SPEC_ID, lambda: partial_params,
                                        check_connection_spec=True)
        client.create.assert_not_called()

        client.create.return_value = {"id": "bc-1", "etag": '"e1"'}
        full = dict.fromkeys(ZOHO_PARAMS, "v")
        hook.create_base_connection("zoho-base", ZOHO_CRM_CONNECTION_SPEC_ID, lambda: full,
                                    check_connection_spec=True)
        assert client.create.call_args.args[1]["auth"]["params"] == full

    def test_a_client_error_propagates(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        error = AEPAPIError("forbidden", status=403, code="FLOW-2118-403", service="Flow Service")
        client.create.side_effect = error
        with pytest.raises(AEPAPIError) as raised:
            hook.create_base_connection("crm-base", "spec-1", AUTH)
        assert raised.value is error


class TestCheckConnectionSpec:
    def test_returns_the_spec_when_everything_fits(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.get_connection_spec.return_value = BASIC_SPEC
        assert hook.check_connection_spec("spec-1", "Basic Authentication", {"username", "password"}) == BASIC_SPEC
        client.get_connection_spec.assert_called_once_with("spec-1")

    def test_without_an_auth_spec_name_only_existence_is_checked(
        self, hook: AdobeExperiencePlatformHook, client: Any
    ) -> None:
        client.get_connection_spec.return_value = {"id": "spec-1"}
        assert hook.check_connection_spec("spec-1") == {"id": "spec-1"}

    @pytest.mark.parametrize("error", [
        AEPAPIError("not found", status=404, service="Flow Service"),
        AEPAPIError("retired", status=400, code="FLOW-1413-400", service="Flow Service"),
        AEPAPIError("not entitled", status=403, code="FLOW-1100-403", service="Flow Service"),
    ], ids=["404", "1413", "1100"])
    def test_a_retired_zoho_spec_names_the_data_landing_zone(
        self, hook: AdobeExperiencePlatformHook, client: Any, error: AEPAPIError
    ) -> None:
        client.get_connection_spec.side_effect = error
        with pytest.raises(AEPAPIError) as raised:
            hook.check_connection_spec(ZOHO_CRM_CONNECTION_SPEC_ID)
        message = str(raised.value)
        assert f"connection spec {ZOHO_CRM_CONNECTION_SPEC_ID} is not available in this organization" in message
        assert ZOHO_CRM_RETIREMENT in message
        assert "Data Landing Zone" in message
        assert (raised.value.status, raised.value.code) == (error.status, error.code)

    def test_another_missing_spec_does_not_mention_zoho(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.get_connection_spec.side_effect = AEPAPIError("not found", status=404, service="Flow Service")
        with pytest.raises(AEPAPIError, match="connection spec spec-1 is not available") as raised:
            hook.check_connection_spec("spec-1")
        assert "Zoho" not in str(raised.value)

    def test_other_errors_are_raised_as_they_are(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        error = AEPAPIError("gateway", status=502, service="Flow Service")
        client.get_connection_spec.side_effect = error
        with pytest.raises(AEPAPIError) as raised:
            hook.check_connection_spec(ZOHO_CRM_CONNECTION_SPEC_ID)
        assert raised.value is error

    def test_a_wrong_auth_spec_name_lists_the_offered_ones(
        self, hook: AdobeExperiencePlatformHook, client: Any
    ) -> None:
        client.get_connection_spec.return_value = BASIC_SPEC
        with pytest.raises(ConfigurationError) as raised:
            hook.check_connection_spec("spec-1", "OAuth 2 Refresh Code", {"username", "password"})
        assert raised.value.field == "auth_spec_name"
        assert "'OAuth 2 Refresh Code' is not an auth spec of connection spec spec-1" in str(raised.value)
        assert "use one of 'Basic Authentication', 'OAuth2'" in str(raised.value)

    def test_missing_auth_params_are_named(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.get_connection_spec.return_value = ZOHO_SPEC
        with pytest.raises(ConfigurationError) as raised:
            hook.check_connection_spec(ZOHO_CRM_CONNECTION_SPEC_ID, "Basic Authentication",
                                       {"endpoint", "accountsUrl", "clientId", "accessToken"})
        assert raised.value.field == "auth_params"
        assert "lacks clientSecret, refreshToken, required by 'Basic Authentication'" in str(raised.value)

    def test_unknown_param_names_skip_the_param_check(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.get_connection_spec.return_value = ZOHO_SPEC
        assert hook.check_connection_spec(ZOHO_CRM_CONNECTION_SPEC_ID, "Basic Authentication", None) == ZOHO_SPEC


class TestBaseConnectionReads:
    def test_find_base_connections_keeps_exact_names(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.list.return_value = [existing("bc-1", "crm"), existing("bc-2", "crm-copy")]
        assert hook.find_base_connections("crm", "spec-1") == [existing("bc-1", "crm")]
        client.list.assert_called_once_with(BASE_CONNECTIONS, {"name": "crm", "connectionSpec.id": "spec-1"})

    def test_find_base_connections_without_a_spec(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        hook.find_base_connections("crm")
        client.list.assert_called_once_with(BASE_CONNECTIONS, {"name": "crm"})

    def test_get_and_test_a_base_connection(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.get.return_value = {"id": "bc-1"}
        client.test_connection.return_value = True
        assert hook.get_base_connection("bc-1") == {"id": "bc-1"}
        assert hook.test_base_connection("bc-1") is True
        assert client.mock_calls == [mock.call.get(BASE_CONNECTIONS, "bc-1"), mock.call.test_connection("bc-1")]


# -- explore -------------------------------------------------------------------------------------------------


class TestExplore:
    def test_list_tables_keeps_tables_only(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.explore.return_value = [{"type": "table", "path": "Leads"}, {"type": "folder", "path": "x"},
                                       "junk", {"type": "table", "path": "Deals"}]
        assert hook.list_tables("bc-1") == [{"type": "table", "path": "Leads"}, {"type": "table", "path": "Deals"}]
        client.explore.assert_called_once_with("bc-1", [("objectType", "root")])

    def test_list_tables_of_an_empty_answer(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.explore.return_value = None
        assert hook.list_tables("bc-1") == []

    def test_get_table_columns(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        columns = [{"name": "Modified_Time", "type": "string", "xdm": {"type": "date-time"}}]
        client.explore.return_value = {"schema": {"columns": columns}}
        assert hook.get_table_columns("bc-1", "Leads") == columns
        client.explore.assert_called_once_with("bc-1", [("objectType", "table"), ("object", "Leads")])

    def test_preview_table(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.explore.return_value = {"data": [{"id": "1"}, {"id": "2"}]}
        assert hook.preview_table("bc-1", "Leads", count=2) == [{"id": "1"}, {"id": "2"}]
        client.explore.assert_called_once_with("bc-1", [("objectType", "table"), ("object", "Leads"),
                                                        ("preview", "true"), ("previewCount", "2")])


# -- source and target connections ---------------------------------------------------------------------------


class TestSourceConnection:
    def test_creates_the_body_flow_service_expects(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.create.return_value = {"id": "sc-1", "etag": '"e1"'}
        result = hook.create_source_connection("leads-src", "bc-1", "Leads", connection_spec_version="1.1")
        assert result == {"id": "sc-1", "etag": '"e1"', "created": True, "updated": False}
        client.list.assert_any_call(SOURCE_CONNECTIONS, {"name": "leads-src", "baseConnectionId": "bc-1"})
        client.create.assert_called_once_with(SOURCE_CONNECTIONS, {
            "name": "leads-src",
            "baseConnectionId": "bc-1",
            "data": {"format": "tabular"},
            "params": {"tableName": "Leads"},
            "connectionSpec": {"id": ZOHO_CRM_CONNECTION_SPEC_ID, "version": "1.1"},
        })

    def test_update_is_refused_before_any_call_saying_what_to_do(
        self, hook: AdobeExperiencePlatformHook, client: Any
    ) -> None:
        # Adobe: a source connection changed on its own does not reach the dataflows that use it.
        with pytest.raises(ConfigurationError, match="new name") as info:
            hook.create_source_connection("leads-src", "bc-1", "Leads", if_exists="update")
        assert info.value.field == "if_exists"
        client.list.assert_not_called()
        client.patch.assert_not_called()

    def test_reuse(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.list.return_value = [existing("sc-0", "leads-src")]
        assert hook.create_source_connection("leads-src", "bc-1", "Leads")["created"] is False
        client.create.assert_not_called()

    def test_reads(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.get.side_effect = lambda collection, rid: {"id": rid, "in": collection}
        assert hook.get_source_connection("sc-1") == {"id": "sc-1", "in": SOURCE_CONNECTIONS}
        assert hook.get_target_connection("tc-1") == {"id": "tc-1", "in": TARGET_CONNECTIONS}


class TestTargetConnection:
    def test_creates_the_body_flow_service_expects(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.create.return_value = {"id": "tc-1", "etag": '"e1"'}
        hook.create_target_connection("leads-dl", "ds-1", SCHEMA, description="Leads")
        client.list.assert_any_call(TARGET_CONNECTIONS, {"name": "leads-dl",
                                                         "connectionSpec.id": DATA_LAKE_CONNECTION_SPEC_ID})
        client.create.assert_called_once_with(TARGET_CONNECTIONS, {
            "name": "leads-dl",
            "description": "Leads",
            "data": {"schema": {"id": SCHEMA, "version": DEFAULT_SCHEMA_VERSION}},
            "params": {"dataSetId": "ds-1"},
            "connectionSpec": {"id": DATA_LAKE_CONNECTION_SPEC_ID, "version": "1.0"},
        })

    def test_update_is_refused_before_any_call_saying_what_to_do(
        self, hook: AdobeExperiencePlatformHook, client: Any
    ) -> None:
        with pytest.raises(ConfigurationError, match="change the dataflow itself") as info:
            hook.create_target_connection("leads-dl", "ds-1", SCHEMA, if_exists="update")
        assert info.value.field == "if_exists"
        client.list.assert_not_called()


# -- dataflows and runs --------------------------------------------------------------------------------------


@pytest.fixture
def flow_client(client: Any) -> Any:
    client.find_flow_spec.return_value = [FLOW_SPEC]
    connections = {
        (SOURCE_CONNECTIONS, "sc-1"): {"id": "sc-1", "connectionSpec": {"id": ZOHO_CRM_CONNECTION_SPEC_ID}},
        (TARGET_CONNECTIONS, "tc-1"): {"id": "tc-1", "connectionSpec": {"id": DATA_LAKE_CONNECTION_SPEC_ID}},
    }
    client.get.side_effect = lambda collection, rid: connections[(collection, rid)]
    client.create.return_value = {"id": "flow-1", "etag": '"e1"'}
    return client


class TestDataflow:
    def test_creates_the_body_flow_service_expects(self, hook: AdobeExperiencePlatformHook, flow_client: Any) -> None:
        result = hook.create_dataflow("leads-flow", "sc-1", "tc-1", "Modified_Time", schedule_params=SCHEDULE,
                                      mapping_id="map-1", mapping_version=2)
        assert result == {"id": "flow-1", "etag": '"e1"', "created": True, "updated": False}
        flow_client.find_flow_spec.assert_called_once_with("CRMToAEP")
        flow_client.list.assert_any_call(FLOWS, {"name": "leads-flow", "flowSpec.id": "fs-1"})
        flow_client.create.assert_called_once_with(FLOWS, {
            "name": "leads-flow",
            "flowSpec": {"id": "fs-1", "version": "1.0"},
            "sourceConnectionIds": ["sc-1"],
            "targetConnectionIds": ["tc-1"],
            "transformations": [
                {"name": "Copy", "params": {"deltaColumn": {"name": "Modified_Time"}}},
                {"name": "Mapping", "params": {"mappingId": "map-1", "mappingVersion": 2}},
            ],
            "scheduleParams": SCHEDULE,
        })
        assert "state" not in flow_client.create.call_args.args[1]  # Flow Service rejects it on create

    def test_without_a_mapping_only_copy_is_sent(self, hook: AdobeExperiencePlatformHook, flow_client: Any) -> None:
        hook.create_dataflow("leads-flow", "sc-1", "tc-1", "Modified_Time", schedule_params=SCHEDULE)
        assert flow_client.create.call_args.args[1]["transformations"] == [
            {"name": "Copy", "params": {"deltaColumn": {"name": "Modified_Time"}}}]

    def test_a_reuse_reads_neither_connection(self, hook: AdobeExperiencePlatformHook, flow_client: Any) -> None:
        flow_client.list.return_value = [existing("flow-0", "leads-flow")]
        result = hook.create_dataflow("leads-flow", "sc-1", "tc-1", "Modified_Time", schedule_params=SCHEDULE)
        assert result == {"id": "flow-0", "etag": '"etag-flow-0"', "created": False, "updated": False}
        flow_client.get.assert_not_called()
        flow_client.create.assert_not_called()

    def test_update_patches_transformations_and_schedule(
        self, hook: AdobeExperiencePlatformHook, flow_client: Any
    ) -> None:
        flow_client.list.return_value = [existing("flow-0", "leads-flow")]
        flow_client.patch.return_value = {"etag": '"e2"'}
        hook.create_dataflow("leads-flow", "sc-1", "tc-1", "Created_Time", schedule_params=SCHEDULE,
                             if_exists="update")
        flow_client.patch.assert_called_once_with(FLOWS, "flow-0", [
            {"op": "replace", "path": "/transformations",
             "value": [{"name": "Copy", "params": {"deltaColumn": {"name": "Created_Time"}}}]},
            {"op": "replace", "path": "/scheduleParams", "value": SCHEDULE},
        ], '"etag-flow-0"')

    @pytest.mark.parametrize(("role", "collection", "rid"), [
        ("source", SOURCE_CONNECTIONS, "sc-1"), ("target", TARGET_CONNECTIONS, "tc-1")])
    def test_a_connection_the_flow_spec_does_not_accept_fails_before_the_post(
        self, hook: AdobeExperiencePlatformHook, flow_client: Any, role: str, collection: str, rid: str
    ) -> None:
        right = flow_client.get.side_effect
        flow_client.get.side_effect = lambda c, i: ({"id": i, "connectionSpec": {"id": "other-spec"}}
                                                    if (c, i) == (collection, rid) else right(c, i))
        with pytest.raises(ConfigurationError) as raised:
            hook.create_dataflow("leads-flow", "sc-1", "tc-1", "Modified_Time", schedule_params=SCHEDULE)
        assert raised.value.field == f"{role}_connection_id"
        assert f"{role} connection {rid} uses connection spec other-spec" in str(raised.value)
        flow_client.create.assert_not_called()

    @pytest.mark.parametrize(("found", "problem"), [([], "is not available in this organization"),
                                                     ([FLOW_SPEC, FLOW_SPEC], "matches 2 flow specs")])
    def test_the_flow_spec_must_be_found_exactly_once(
        self, hook: AdobeExperiencePlatformHook, flow_client: Any, found: list[Any], problem: str
    ) -> None:
        flow_client.find_flow_spec.return_value = found
        with pytest.raises(AEPAPIError, match=f"flow spec 'CRMToAEP' {problem}"):
            hook.create_dataflow("leads-flow", "sc-1", "tc-1", "Modified_Time", schedule_params=SCHEDULE)
        flow_client.list.assert_not_called()
        flow_client.create.assert_not_called()

    def test_get_dataflow(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.get.return_value = {"id": "flow-1"}
        assert hook.get_dataflow("flow-1") == {"id": "flow-1"}
        client.get.assert_called_once_with(FLOWS, "flow-1")


class TestRuns:
    def test_list_runs_newest_first_and_of_this_flow_only(
        self, hook: AdobeExperiencePlatformHook, client: Any
    ) -> None:
        client.list.return_value = [{"id": "r2", "flowId": "flow-1"}, {"id": "rx", "flowId": "flow-9"},
                                    {"id": "r1"}]
        assert hook.list_runs("flow-1", limit=5) == [{"id": "r2", "flowId": "flow-1"}, {"id": "r1"}]
        client.list.assert_called_once_with(RUNS, {"flowId": "flow-1"}, orderby="-createdAt", limit=5, max_items=5)

    def test_list_all_runs(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        hook.list_runs("flow-1")
        client.list.assert_called_once_with(RUNS, {"flowId": "flow-1"}, orderby="-createdAt", limit=None,
                                            max_items=None)


# -- deletes -------------------------------------------------------------------------------------------------


class TestDelete:
    @pytest.mark.parametrize(("method", "collection", "noun"), [
        ("delete_dataflow", FLOWS, "dataflow"),
        ("delete_source_connection", SOURCE_CONNECTIONS, "source connection"),
        ("delete_target_connection", TARGET_CONNECTIONS, "target connection"),
        ("delete_base_connection", BASE_CONNECTIONS, "base connection"),
    ])
    @pytest.mark.parametrize(("deleted", "line"), [(True, "Deleted"), (False, "Already gone:")])
    def test_each_delete_goes_to_its_collection(
        self, hook: AdobeExperiencePlatformHook, client: Any, logs: Any, method: str, collection: str, noun: str,
        deleted: bool, line: str,
    ) -> None:
        client.delete.return_value = deleted
        result = getattr(hook, method)("id-1")
        if method != "delete_base_connection":  # it returns None by its signature
            assert result is deleted
        client.delete.assert_called_once_with(collection, "id-1")
        assert f"{line} {noun} id-1" in messages(logs)

    def test_delete_resource(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.delete.return_value = True
        assert hook.delete_resource(BASE_CONNECTIONS, "bc-1") is True
        client.delete.assert_called_once_with(BASE_CONNECTIONS, "bc-1")

    @pytest.mark.parametrize(("collection", "field"), [
        (FLOWS, "flow_id"), (SOURCE_CONNECTIONS, "source_connection_id"),
        (TARGET_CONNECTIONS, "target_connection_id"), (BASE_CONNECTIONS, "base_connection_id"),
    ])
    def test_delete_resource_names_the_field_as_the_public_methods_do(
        self, hook: AdobeExperiencePlatformHook, client: Any, collection: str, field: str
    ) -> None:
        with pytest.raises(ConfigurationError) as raised:
            hook.delete_resource(collection, "None")
        assert raised.value.field == field
        client.delete.assert_not_called()

    def test_an_unknown_collection_is_refused(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        with pytest.raises(KeyError):
            hook.delete_resource("datasets", "ds-1")
        client.delete.assert_not_called()

    def test_a_client_error_propagates(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        error = AEPAPIError("in use", status=400, code="FLOW-1418-400", service="Flow Service")
        client.delete.side_effect = error
        with pytest.raises(AEPAPIError) as raised:
            hook.delete_base_connection("bc-1")
        assert raised.value is error


# -- the Data Landing Zone ----------------------------------------------------------------------------------

CLOUD_FLOW_SPEC = {"id": "fs-cs", "name": "CloudStorageToAEP", "version": "1.0",
                   "sourceConnectionSpecIds": [DATA_LANDING_ZONE_CONNECTION_SPEC_ID],
                   "targetConnectionSpecIds": [DATA_LAKE_CONNECTION_SPEC_ID]}


class TestDataLandingZone:
    def test_source_connection_has_no_base_connection(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.create.return_value = {"id": "sc-9", "etag": '"e"'}
        hook.create_data_landing_zone_source_connection("dlz", "dlz-user-container/zoho/Leads/",
                                                        compression_type="gzip")
        client.list.assert_any_call(SOURCE_CONNECTIONS, {"name": "dlz",
                                                         "connectionSpec.id": DATA_LANDING_ZONE_CONNECTION_SPEC_ID})
        client.create.assert_called_once_with(SOURCE_CONNECTIONS, {
            "name": "dlz",
            "data": {"format": "delimited",
                     "properties": {"encoding": "UTF-8", "columnDelimiter": ",", "compressionType": "gzip"}},
            "params": {"path": "dlz-user-container/zoho/Leads/", "type": "folder", "recursive": True},
            "connectionSpec": {"id": DATA_LANDING_ZONE_CONNECTION_SPEC_ID, "version": "1.0"},
        })

    def test_a_single_file_path_is_not_recursive(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.create.return_value = {"id": "sc-9", "etag": '"e"'}
        hook.create_data_landing_zone_source_connection("dlz", "dlz-user-container/a.csv", data_format="parquet")
        body = client.create.call_args.args[1]
        assert body["params"] == {"path": "dlz-user-container/a.csv", "type": "file"}
        assert body["data"] == {"format": "parquet", "properties": {"encoding": "UTF-8"}}

    def test_cloud_storage_dataflow_sends_mapping_only(self, hook: AdobeExperiencePlatformHook, client: Any) -> None:
        client.find_flow_spec.return_value = [CLOUD_FLOW_SPEC]
        connections = {
            (SOURCE_CONNECTIONS, "sc-1"): {"id": "sc-1",
                                           "connectionSpec": {"id": DATA_LANDING_ZONE_CONNECTION_SPEC_ID}},
            (TARGET_CONNECTIONS, "tc-1"): {"id": "tc-1", "connectionSpec": {"id": DATA_LAKE_CONNECTION_SPEC_ID}},
        }
        client.get.side_effect = lambda collection, rid: connections[(collection, rid)]
        client.create.return_value = {"id": "flow-2", "etag": '"e"'}
        hook.create_dataflow("files", "sc-1", "tc-1", schedule_params=ONCE, mapping_id="map-1",
                             flow_spec_name="CloudStorageToAEP")
        body = client.create.call_args.args[1]
        assert body["transformations"] == [{"name": "Mapping", "params": {"mappingId": "map-1", "mappingVersion": 0}}]
        assert body["scheduleParams"] == ONCE and body["flowSpec"] == {"id": "fs-cs", "version": "1.0"}

    def test_uploads_need_no_network_for_an_empty_file_list(self, hook: AdobeExperiencePlatformHook,
                                                            client: Any) -> None:
        from datetime import datetime, timedelta, timezone

        start = datetime(2025, 1, 1, tzinfo=timezone.utc)
        assert hook.upload_files_to_landing_zone([], module="Leads", flow_id="f", window_start=start,
                                                 window_end=start + timedelta(hours=1)) == []
        assert client.mock_calls == []


# -- create-or-reuse by name (_ensure), on an in-memory Flow Service stand-in -------------------------------


class FakeResources:
    """Just enough of FlowServiceClient: list/create/get/patch/delete on dicts, with scripted failures."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.create_failures: list[str] = []  # "drop" = applied but answer lost; "lost" = not applied
        self.patch_failures: list[int] = []
        self.pending: list[dict[str, Any]] = []
        self.transport = self  # the settle wait goes through transport.sleep / transport.timeout
        self.timeout = 30.0
        self.slept: list[float] = []
        self._ids = itertools.count(1)
        self._clock = itertools.count(1000)

    def add(self, name: str, **fields: Any) -> str:
        rid = f"id-{next(self._ids)}"
        self.items[rid] = {"id": rid, "name": name, "etag": f'"e-{rid}-1"', "createdAt": next(self._clock),
                           **fields}
        return rid

    def list(self, kind: str, filters: dict[str, str] | None = None, **_: Any) -> list[dict[str, Any]]:
        self.calls.append("list")
        filters = filters or {}
        return [dict(i) for i in self.items.values() if all(i.get(k) == v for k, v in filters.items())]

    def create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append("create")
        failure = self.create_failures.pop(0) if self.create_failures else None
        if failure == "lost":
            raise AmbiguousWriteError("POST /connections: 502", service="Flow Service")
        if failure == "slow":  # the server applies it after the client gave up waiting
            self.pending.append(body)
            raise AmbiguousWriteError("POST /connections timed out", timed_out=True, service="Flow Service")
        rid = self.add(body["name"], **{k: v for k, v in body.items() if k != "name"})
        if failure == "drop":
            raise AmbiguousWriteError("POST /connections: connection reset", service="Flow Service")
        return {"id": rid, "etag": self.items[rid]["etag"]}

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        for body in self.pending:  # the slow create lands while we wait
            self.add(body["name"], **{k: v for k, v in body.items() if k != "name"})
        self.pending.clear()

    def get(self, kind: str, rid: str) -> dict[str, Any]:
        self.calls.append("get")
        return dict(self.items[rid])

    def patch(self, kind: str, rid: str, ops: list[dict[str, Any]], etag: str) -> dict[str, Any]:
        self.calls.append("patch")
        if self.patch_failures:
            raise AEPAPIError("stale", status=self.patch_failures.pop(0), code="FLOW-1404-412")
        assert etag == self.items[rid]["etag"]
        self.items[rid]["etag"] = f'"e-{rid}-{len(self.calls)}"'
        self.items[rid]["ops"] = ops
        for op in ops:
            if op["op"] == "replace" and op["path"].count("/") == 1:
                self.items[rid][op["path"][1:]] = op["value"]
        return {"id": rid, "etag": self.items[rid]["etag"]}

    def delete(self, kind: str, rid: str) -> bool:
        self.calls.append("delete")
        return self.items.pop(rid, None) is not None


def ensure(
    fs: Any, collection: str, *, name: str, filters: dict[str, str], build_body: Callable[[], dict[str, Any]],
    build_patch: Callable[[Any], list[dict[str, Any]]] | None = None, if_exists: str = "reuse",
    description: str | None = None,
) -> SimpleNamespace:
    """The hook's create-or-reuse on a fake client, its answer as attributes."""
    hook = AdobeExperiencePlatformHook()
    hook.__dict__["client"] = fs
    return SimpleNamespace(**hook._ensure(collection, name, filters, build_body, build_patch, if_exists,  # type: ignore[arg-type]
                                          description))


def run(fs: FakeResources, if_exists: str = "reuse", **kw: Any):
    return ensure(fs, "connections", name="crm", filters={"spec": "zoho"}, if_exists=if_exists,  # type: ignore[arg-type]
                  build_body=lambda: {"name": "crm", "spec": "zoho"},
                  build_patch=lambda existing: [{"op": "replace", "path": "/auth/params", "value": {}}], **kw)


def test_ensure_creates_when_absent_then_reuses():
    fs = FakeResources()
    first = run(fs)
    second = run(fs)
    assert first.created and not second.created and first.id == second.id
    assert len(fs.items) == 1
    assert fs.calls == ["list", "create", "list", "list"]


def test_ensure_name_must_match_exactly_and_other_specs_do_not_count():
    fs = FakeResources()
    fs.add("crm ", spec="zoho")
    fs.add("crm", spec="other")
    assert run(fs).created and len(fs.items) == 3


def test_ensure_fail_raises_and_writes_nothing():
    fs = FakeResources()
    rid = fs.add("crm", spec="zoho")
    with pytest.raises(ResourceExistsError, match=rid):
        run(fs, if_exists="fail")
    assert fs.calls == ["list"]


def test_ensure_update_patches_with_the_current_etag():
    fs = FakeResources()
    rid = fs.add("crm", spec="zoho")
    result = run(fs, if_exists="update")
    assert result.updated and result.id == rid and result.etag == fs.items[rid]["etag"]
    assert fs.calls == ["list", "patch"]


def test_ensure_stale_etag_rereads_and_retries_once():
    fs = FakeResources()
    fs.add("crm", spec="zoho")
    fs.patch_failures = [412]
    assert run(fs, if_exists="update").updated
    assert fs.calls == ["list", "patch", "get", "patch"]


def test_ensure_second_stale_etag_is_an_error():
    fs = FakeResources()
    fs.add("crm", spec="zoho")
    fs.patch_failures = [412, 412]
    with pytest.raises(AEPAPIError):
        run(fs, if_exists="update")


def test_ensure_preexisting_duplicates_are_refused_not_guessed():
    fs = FakeResources()
    fs.add("crm", spec="zoho")
    fs.add("crm", spec="zoho")
    with pytest.raises(DuplicateResourcesError, match="2 base connections"):
        run(fs)


def test_ensure_create_applied_but_answer_lost_is_adopted_without_a_second_post():
    fs = FakeResources()
    fs.create_failures = ["drop"]
    result = run(fs)
    assert result.created and len(fs.items) == 1
    assert fs.calls == ["list", "create", "list"]


def test_ensure_create_not_applied_is_sent_again_after_looking():
    fs = FakeResources()
    fs.create_failures = ["lost"]
    result = run(fs)
    assert result.created and len(fs.items) == 1
    assert fs.calls == ["list", "create", "list", "create", "list"]


def test_ensure_create_attempts_are_bounded():
    fs = FakeResources()
    fs.create_failures = ["lost", "lost", "lost", "lost"]
    with pytest.raises(AmbiguousWriteError):
        run(fs)
    assert fs.calls.count("create") == 3 and not fs.items


def test_ensure_a_concurrent_create_converges_on_the_oldest_and_deletes_ours():
    fs = FakeResources()
    real_create = fs.create

    def racing_create(kind, body):
        other = fs.add("crm", spec="zoho")  # another worker's create lands first
        mine = real_create(kind, body)
        assert other != mine["id"]
        return mine

    fs.create = racing_create  # type: ignore[method-assign]
    result = run(fs)
    assert not result.created and len(fs.items) == 1 and result.id == next(iter(fs.items))
    assert fs.calls[-1] == "delete"


def test_ensure_after_a_timed_out_create_the_lookup_waits_one_timeout_for_the_server_to_finish():
    fs = FakeResources()
    fs.create_failures = ["slow"]
    result = run(fs)
    assert fs.slept == [30.0] and result.created and len(fs.items) == 1
    assert fs.calls == ["list", "create", "list"]


def test_ensure_name_and_description_head_the_body_and_a_changed_description_is_patched():
    fs = FakeResources()
    ensure(fs, "connections", name="crm", filters={"spec": "zoho"}, description="first",
           build_body=lambda: {"spec": "zoho"}, build_patch=lambda existing: [])
    (item,) = fs.items.values()
    assert [k for k in item if k in ("name", "description", "spec")] == ["name", "description", "spec"]
    ensure(fs, "connections", name="crm", filters={"spec": "zoho"}, description="second", if_exists="update",
           build_body=lambda: {"spec": "zoho"}, build_patch=lambda existing: [])
    assert item["ops"] == [{"op": "replace", "path": "/description", "value": "second"}]
    ensure(fs, "connections", name="crm", filters={"spec": "zoho"}, description="first", if_exists="update",
           build_body=lambda: {"spec": "zoho"}, build_patch=lambda existing: [])
    assert item["ops"] == [{"op": "replace", "path": "/description", "value": "first"}]
    calls = len(fs.calls)
    result = ensure(fs, "connections", name="crm", filters={"spec": "zoho"}, if_exists="update",
                    build_body=lambda: {"spec": "zoho"}, build_patch=lambda existing: [])
    # No description given and nothing else changed: no PATCH at all (an empty one would only churn the etag).
    assert "patch" not in fs.calls[calls:] and not result.updated


# -- on-demand runs, one per window (start_dataflow_run), on a stand-in -------------------------------------

WINDOW = Window(datetime(2026, 1, 2, tzinfo=timezone.utc), datetime(2026, 1, 2, 1, tzinfo=timezone.utc))
OTHER = Window(datetime(2026, 1, 2, 1, tzinfo=timezone.utc), datetime(2026, 1, 2, 2, tzinfo=timezone.utc))


def run_item(run_id: str, status: str | None, window: Window = WINDOW, created: int = 1) -> dict[str, Any]:
    return {"id": run_id, "flowId": "f1", "createdAt": created, "params": run_params(window),
            "metrics": {"statusSummary": {"status": status} if status else {}}}


class Answer:
    def __init__(self, body: Any) -> None:
        self.body = body

    def json(self) -> Any:
        return self.body


class RunsTransport:
    timeout = 7.0

    def __init__(self) -> None:
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


class FakeRuns:
    def __init__(self, runs: list[dict[str, Any]], post_failures: list[str] | None = None) -> None:
        self.runs = list(runs)
        self.post_failures = list(post_failures or [])
        self.posts: list[Any] = []
        self.transport = RunsTransport()

    def list(self, collection: str, filters: dict[str, str], **kwargs: Any) -> list[dict[str, Any]]:
        assert collection == "runs" and filters == {"flowId": "f1"} and kwargs["orderby"] == "-createdAt"
        return sorted(self.runs, key=lambda r: r["createdAt"], reverse=True)

    def request(self, method: str, path: str, **kwargs: Any) -> Answer:
        assert (method, path, kwargs["idempotent"]) == ("POST", "/runs", False)
        self.posts.append(kwargs["json"])
        failure = self.post_failures.pop(0) if self.post_failures else None
        new = run_item(f"new{len(self.posts)}", "queued", created=100 + len(self.posts))
        if failure in ("lost", None):
            self.runs.append(new)
        if failure:
            raise AmbiguousWriteError("POST /runs failed", timed_out=failure == "lost", service="Flow Service")
        return Answer({"id": new["id"], "etag": '"e"'})


def start(fs: FakeRuns, if_run_exists: str = "reuse") -> SimpleNamespace:
    """The hook's run start on a fake client, its answer as attributes (``id``, ``created``)."""
    hook = AdobeExperiencePlatformHook(aep_conn_id="unused")
    hook.__dict__.update(client=fs, settings=None)
    started = hook.start_dataflow_run("f1", WINDOW.start, WINDOW.end, if_run_exists=if_run_exists)
    return SimpleNamespace(id=started["run_id"], created=started["created"])


@pytest.mark.parametrize("status", ["success", "inProgress", None])
def test_start_run_a_running_or_succeeded_run_of_the_window_is_adopted(status: str | None) -> None:
    fs = FakeRuns([run_item("old", status), run_item("elsewhere", "success", OTHER, created=5)])
    started = start(fs)
    assert (started.id, started.created) == ("old", False) and fs.posts == []


@pytest.mark.parametrize("status", ["failed", "cancelled", "partialSuccess"])
def test_start_run_a_failed_or_cancelled_run_is_not_reused(status: str) -> None:
    fs = FakeRuns([run_item("old", status)])
    started = start(fs)
    assert (started.id, started.created) == ("new1", True)
    assert fs.posts == [{"flowId": "f1", "params": run_params(WINDOW)}]


def test_start_run_the_newest_reusable_run_wins() -> None:
    fs = FakeRuns([run_item("a", "success", created=1), run_item("b", "failed", created=3), run_item("c", "success",
                                                                                               created=2)])
    assert start(fs).id == "c"


def test_start_run_rerun_always_posts_and_fail_refuses_when_any_run_exists() -> None:
    fs = FakeRuns([run_item("old", "success")])
    assert start(fs, "rerun").id == "new1"
    with pytest.raises(ResourceExistsError, match="old"):
        start(FakeRuns([run_item("old", "failed")]), "fail")
    assert start(FakeRuns([run_item("elsewhere", "success", OTHER)]), "fail").id == "new1"


def test_start_run_a_lost_answer_is_looked_up_and_adopted_after_one_client_timeout() -> None:
    fs = FakeRuns([run_item("old", "failed")], post_failures=["lost"])
    started = start(fs)
    assert (started.id, started.created) == ("new1", True)
    assert len(fs.posts) == 1 and fs.transport.slept == [7.0]


def test_start_run_a_post_that_made_nothing_is_sent_again_then_gives_up() -> None:
    fs = FakeRuns([], post_failures=["refused"])
    assert start(fs).id == "new2" and len(fs.posts) == 2
    stubborn = FakeRuns([], post_failures=["refused"] * 3)
    with pytest.raises(AmbiguousWriteError):
        start(stubborn)
    assert len(stubborn.posts) == 3


def test_start_run_the_tutorials_answer_shape_is_read_too() -> None:
    fs = FakeRuns([])
    fs.request = lambda *a, **k: Answer({"items": [{"id": "from-items", "etag": '"e"'}]})  # type: ignore[method-assign]
    assert start(fs).id == "from-items"
    fs.request = lambda *a, **k: Answer({})  # type: ignore[method-assign]
    with pytest.raises(AEPAPIError, match="without a run ID"):
        start(fs)
