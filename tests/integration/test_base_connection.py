"""The base-connection operators against the emulator over loopback."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_zoho_aep import ZOHO_CRM_CONNECTION_SPEC_ID
from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError, ResourceExistsError
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook
from airflow_provider_zoho_aep.operators.base_connection import (
    AEPCreateBaseConnectionOperator,
    AEPCreateZohoCRMBaseConnectionOperator,
)
from emulator import EmulatorCredentials
from tests.conftest import aep_connection, set_connection, zoho_connection


class FakeTI:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def run(op) -> tuple[str, FakeTI]:
    ti = FakeTI()
    return op.execute({"ti": ti}), ti


def zoho_op(**kw: Any) -> AEPCreateZohoCRMBaseConnectionOperator:
    return AEPCreateZohoCRMBaseConnectionOperator(task_id="create", name=kw.pop("name", "Zoho CRM"), **kw)


def test_creates_then_reuses_the_same_base_connection(emulator):
    first_id, ti = run(zoho_op(description="Base Connection for Zoho CRM"))
    assert ti.pushed["etag"].startswith('"') and ti.pushed["created"] is True
    tokens_after_create = len([r for r in emulator.requests if r.path == "/oauth/v2/token"])
    second_id, ti2 = run(zoho_op())
    assert second_id == first_id and ti2.pushed["created"] is False
    assert list(emulator.store.connections) == [first_id]
    # A reuse spends none of Zoho's token budget.
    assert len([r for r in emulator.requests if r.path == "/oauth/v2/token"]) == tokens_after_create == 1
    stored = emulator.store.connections[first_id]
    assert stored["auth"]["params"]["refreshToken"] == EmulatorCredentials().zoho_refresh_token


def test_update_patches_fresh_credentials_with_if_match(emulator):
    first_id, ti = run(zoho_op())
    updated_id, ti2 = run(zoho_op(if_exists="update"))
    assert updated_id == first_id and ti2.pushed["etag"] != ti.pushed["etag"]
    patch = [r for r in emulator.requests if r.method == "PATCH"]
    assert len(patch) == 1 and {k.lower() for k in patch[0].headers} >= {"if-match"}
    assert {k.lower(): v for k, v in patch[0].headers.items()}["if-match"] == ti.pushed["etag"]


def test_fail_mode_raises_when_the_name_exists(emulator):
    run(zoho_op())
    with pytest.raises(ResourceExistsError, match="already exists"):
        run(zoho_op(if_exists="fail"))
    assert len(emulator.store.connections) == 1


def test_a_retired_connection_spec_fails_before_anything_is_written(emulator):
    emulator.retire_connection_spec(ZOHO_CRM_CONNECTION_SPEC_ID)
    with pytest.raises(AEPAPIError, match="deprecated the Zoho CRM source at the end of June 2025"):
        run(zoho_op())
    assert not emulator.store.connections
    assert not [r for r in emulator.requests if r.method == "POST" and "flowservice" in r.path]


def test_without_preflight_a_retired_spec_fails_at_create_with_adobes_code(emulator):
    emulator.retire_connection_spec(ZOHO_CRM_CONNECTION_SPEC_ID)
    with pytest.raises(AEPAPIError) as info:
        run(zoho_op(check_connection_spec=False))
    assert info.value.code and "1413" in info.value.code and "Data Landing Zone" in str(info.value)


def test_generic_operator_creates_for_any_spec_and_checks_auth_spec_name(emulator):
    spec_id = ZOHO_CRM_CONNECTION_SPEC_ID
    with pytest.raises(ConfigurationError, match="auth_spec_name"):
        run(AEPCreateBaseConnectionOperator(task_id="t", name="x", connection_spec_id=spec_id,
                                            auth_params={"a": "b"}, auth_spec_name="OAuth 2 Refresh Code"))
    with pytest.raises(ConfigurationError, match="lacks accessToken"):
        run(AEPCreateBaseConnectionOperator(task_id="t", name="x", connection_spec_id=spec_id,
                                            auth_params={"endpoint": "e"}))
    assert not emulator.store.connections
    params = ZohoCRMHook().get_auth_params()
    conn_id, _ = run(AEPCreateBaseConnectionOperator(task_id="t", name="x", connection_spec_id=spec_id,
                                                     auth_params=params))
    assert emulator.store.connections[conn_id]["connectionSpec"]["id"] == spec_id


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"if_exists": "replace"}, "if_exists"),
        ({"description": 42}, "description"),
    ],
)
def test_bad_arguments_fail_before_any_request(emulator, kwargs, field):
    with pytest.raises(ConfigurationError) as info:
        run(zoho_op(**kwargs))
    assert info.value.field == field
    assert emulator.requests == []


def test_bad_zoho_connection_fails_before_any_request(emulator, monkeypatch):
    set_connection(monkeypatch, "zoho_crm_default", zoho_connection(emulator.url, extra={"region": "mars",
                                                                                         "refresh_token": "r"}))
    with pytest.raises(ConfigurationError, match=r"extra\.region"):
        run(zoho_op())
    assert emulator.requests == []


def test_bad_aep_connection_fails_before_any_request(emulator, monkeypatch):
    set_connection(monkeypatch, "aep_default", aep_connection(emulator.url, extra={"sandbox_name": "prod"}))
    with pytest.raises(ConfigurationError, match=r"extra\.ims_org_id"):
        run(zoho_op())
    assert emulator.requests == []


def test_wrong_client_secret_is_a_clear_error_without_the_secret(emulator, monkeypatch):
    set_connection(monkeypatch, "aep_default", aep_connection(emulator.url, password="wrong-secret-1234"))
    with pytest.raises(AEPAPIError) as info:
        run(zoho_op())
    assert "invalid_client" in str(info.value) and "wrong-secret-1234" not in str(info.value)
    assert not emulator.store.connections


def test_test_connection_buttons(emulator, monkeypatch):
    ok, message = AdobeExperiencePlatformHook().test_connection()
    assert ok and "sandbox 'prod'" in message
    ok, message = ZohoCRMHook().test_connection()
    assert ok and "crm-admin@example.com" in message  # the Zoho CRM user the token belongs to
    set_connection(monkeypatch, "zoho_crm_default", zoho_connection(emulator.url, password="bad-zoho-secret"))
    ok, message = ZohoCRMHook().test_connection()
    assert not ok and "invalid_client" in message and "bad-zoho-secret" not in message
    set_connection(monkeypatch, "aep_default", aep_connection(emulator.url, extra={}))
    ok, message = AdobeExperiencePlatformHook().test_connection()
    assert not ok and "extra.ims_org_id" in message


def test_find_get_delete_hook_methods(emulator):
    hook = AdobeExperiencePlatformHook()
    created = hook.create_base_connection("n", ZOHO_CRM_CONNECTION_SPEC_ID, ZohoCRMHook().get_auth_params)
    assert [c["id"] for c in hook.find_base_connections("n", ZOHO_CRM_CONNECTION_SPEC_ID)] == [created["id"]]
    assert hook.find_base_connections("other") == []
    item = hook.get_base_connection(created["id"])
    assert item["name"] == "n" and EmulatorCredentials().zoho_client_secret not in str(item)
    hook.delete_base_connection(created["id"])
    hook.delete_base_connection(created["id"])  # already gone: fine
    assert not emulator.store.connections
