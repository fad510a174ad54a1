"""Every Flow Service request of the base-connection life cycle matches Adobe's OpenAPI file,
and the create body is exactly the one of Adobe's Zoho CRM tutorial."""

from __future__ import annotations

import json

from airflow_provider_zoho_aep import ZOHO_CRM_CONNECTION_SPEC_ID
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook
from tests.contract.openapi_contract import contract

ZOHO_KEYS = ["endpoint", "accountsUrl", "clientId", "clientSecret", "accessToken", "refreshToken"]


def flow_service_requests(emulator):
    return [r for r in emulator.requests if r.path.startswith("/data/foundation/flowservice")]


def test_base_connection_life_cycle_matches_the_openapi_file(emulator):
    hook, zoho = AdobeExperiencePlatformHook(), ZohoCRMHook()
    hook.check_connection_spec(ZOHO_CRM_CONNECTION_SPEC_ID, "Basic Authentication", set(ZOHO_KEYS))
    made = hook.create_base_connection("contract", ZOHO_CRM_CONNECTION_SPEC_ID, zoho.get_auth_params,
                                       description="d")
    hook.create_base_connection("contract", ZOHO_CRM_CONNECTION_SPEC_ID, zoho.get_auth_params)
    hook.create_base_connection("contract", ZOHO_CRM_CONNECTION_SPEC_ID, zoho.get_auth_params,
                                description="d2", if_exists="update")
    hook.get_base_connection(made["id"])
    hook.test_base_connection(made["id"])
    tables = hook.list_tables(made["id"])
    hook.get_table_columns(made["id"], tables[0]["path"])
    hook.preview_table(made["id"], tables[0]["path"], 3)
    hook.delete_base_connection(made["id"])
    hook.delete_base_connection(made["id"])

    sent = flow_service_requests(emulator)
    assert {(r.method, r.path.split("/")[4]) for r in sent} >= {
        ("GET", "connectionSpecs"), ("GET", "connections"), ("POST", "connections"), ("PATCH", "connections"),
        ("DELETE", "connections")}
    problems = [p for r in sent for p in contract().problems(r.method, r.path, r.query, r.headers, r.body)]
    assert problems == []


def test_the_create_body_and_headers_are_exactly_adobes_tutorial(emulator):
    AdobeExperiencePlatformHook().create_base_connection(
        "Zoho CRM base connection", ZOHO_CRM_CONNECTION_SPEC_ID, ZohoCRMHook().get_auth_params,
        description="Base Connection for Zoho CRM")
    (post,) = [r for r in flow_service_requests(emulator) if r.method == "POST"]
    body = json.loads(post.body)
    assert list(body) == ["name", "description", "auth", "connectionSpec"]
    assert body["name"] == "Zoho CRM base connection" and body["description"] == "Base Connection for Zoho CRM"
    assert body["auth"]["specName"] == "Basic Authentication"
    assert list(body["auth"]["params"]) == ZOHO_KEYS
    assert body["connectionSpec"] == {"id": ZOHO_CRM_CONNECTION_SPEC_ID, "version": "1.0"}
    headers = {k.lower(): v for k, v in post.headers.items()}
    assert headers["authorization"].startswith("Bearer ")
    assert headers["content-type"] == "application/json"
    assert headers["x-sandbox-name"] == "prod" and headers["x-gw-ims-org-id"].endswith("@AdobeOrg")
    assert headers["x-api-key"] == json.loads(__import__("os").environ["AIRFLOW_CONN_AEP_DEFAULT"])["login"]


def test_the_validator_catches_a_bad_request():
    problems = contract().problems(
        "POST", "/data/foundation/flowservice/connections", {"limit": ["x"]}, {"Authorization": "Bearer t"},
        json.dumps({"name": 3}).encode())
    text = "\n".join(problems)
    assert "x-api-key missing" in text and "'limit' is not declared" in text
    assert "'connectionSpec' is a required property" in text and "3 is not of type 'string'" in text


def test_no_secret_travels_in_a_url(emulator):
    AdobeExperiencePlatformHook().create_base_connection(
        "n", ZOHO_CRM_CONNECTION_SPEC_ID, ZohoCRMHook().get_auth_params)
    for request in emulator.requests:
        assert not request.query or all(
            k not in request.query for k in ("client_secret", "refresh_token", "access_token", "client_id"))
