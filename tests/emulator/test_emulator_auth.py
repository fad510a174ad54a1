"""IMS and Zoho token endpoints, the Zoho CRM validation call, and the Flow Service header checks."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from emulator import Emulator


def ims_form(emu: Emulator, **changes: str) -> dict[str, str]:
    creds = emu.credentials
    return {
        "grant_type": "client_credentials",
        "client_id": creds.ims_client_id,
        "client_secret": creds.ims_client_secret,
        "scope": "openid,AdobeID",
        **changes,
    }


def zoho_form(emu: Emulator, **changes: str) -> dict[str, str]:
    creds = emu.credentials
    return {
        "grant_type": "refresh_token",
        "client_id": creds.zoho_client_id,
        "client_secret": creds.zoho_client_secret,
        "refresh_token": creds.zoho_refresh_token,
        **changes,
    }


# ---- IMS ------------------------------------------------------------------------------------------


def test_ims_token_ok(emu: Emulator) -> None:
    answer = requests.post(f"{emu.url}/ims/token/v3", data=ims_form(emu), timeout=5)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86399
    header, payload, signature = body["access_token"].split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "=="))["alg"] == "RS256"  # a JWT, like Adobe's
    assert json.loads(base64.urlsafe_b64decode(payload + "=="))["client_id"] == emu.credentials.ims_client_id
    assert body["access_token"].startswith("eyJ") and signature
    assert emu.store.ims_tokens_issued == 1


def test_opaque_tokens_and_the_list_of_every_token_minted(emu: Emulator) -> None:
    control = f"{emu.url}/__emulator__"
    before = emu.minted_tokens()  # the module's emulator has minted tokens for earlier tests
    jwt_ims = requests.post(f"{emu.url}/ims/token/v3", data=ims_form(emu), timeout=5).json()["access_token"]
    assert requests.post(f"{control}/config", json={"token_format": "opaque"}, timeout=5).status_code == 200
    ims = requests.post(f"{emu.url}/ims/token/v3", data=ims_form(emu), timeout=5).json()["access_token"]
    zoho = requests.post(f"{emu.url}/oauth/v2/token", data=zoho_form(emu), timeout=5).json()["access_token"]
    for token in (ims, zoho):  # nothing a log processor would recognise and rewrite on its own
        assert not token.startswith(("eyJ", "1000.")) and "." not in token and len(token) >= 40
    users = requests.get(f"{emu.url}/crm/v8/users", headers={"Authorization": f"Zoho-oauthtoken {zoho}"}, timeout=5)
    assert users.status_code == 200  # an opaque token is as valid as a shaped one
    assert requests.post(f"{control}/config", json={"token_format": "xml"}, timeout=5).status_code == 400

    requests.post(f"{control}/reset", timeout=5)  # forgets the tokens' validity, not that they were minted
    assert emu.token_format == "jwt"
    listed = requests.get(f"{control}/tokens", timeout=5).json()
    assert listed == emu.minted_tokens()
    assert listed == {"ims": [*before["ims"], jwt_ims, ims], "zoho": [*before["zoho"], zoho]}
    with pytest.raises(ValueError, match="token_format"):
        Emulator(token_format="xml")


def test_ims_bad_secret_is_invalid_client_without_echo(emu: Emulator) -> None:
    answer = requests.post(f"{emu.url}/ims/token/v3", data=ims_form(emu, client_secret="s3cr3t-wrong"), timeout=5)
    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid_client", "error_description": "invalid client_id parameter"}
    assert "s3cr3t-wrong" not in answer.text


def test_ims_rejects_credentials_in_query_string(emu: Emulator) -> None:
    form = ims_form(emu)
    answer = requests.post(
        f"{emu.url}/ims/token/v3", params={"client_secret": form.pop("client_secret")}, data=form, timeout=5
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert "request body" in answer.json()["error_description"]


def test_ims_missing_scope(emu: Emulator) -> None:
    form = ims_form(emu)
    del form["scope"]
    answer = requests.post(f"{emu.url}/ims/token/v3", data=form, timeout=5)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


# ---- Zoho -----------------------------------------------------------------------------------------


def test_zoho_refresh_and_current_user(emu: Emulator) -> None:
    answer = requests.post(f"{emu.url}/oauth/v2/token", data=zoho_form(emu), timeout=5)
    body = answer.json()
    assert answer.status_code == 200
    assert body["access_token"].startswith("1000.")
    assert body["expires_in"] == 3600
    assert body["api_domain"] == emu.url
    assert "refresh_token" not in body
    assert emu.store.zoho_tokens_issued == {emu.credentials.zoho_refresh_token: 1}

    users = requests.get(
        f"{emu.url}/crm/v8/users",
        params={"type": "CurrentUser"},
        headers={"Authorization": f"Zoho-oauthtoken {body['access_token']}"},
        timeout=5,
    )
    assert users.status_code == 200
    assert users.json()["users"][0]["email"] == "crm-admin@example.com"

    emu.expire_zoho_tokens()
    expired = requests.get(
        f"{emu.url}/crm/v8/users",
        params={"type": "CurrentUser"},
        headers={"Authorization": f"Zoho-oauthtoken {body['access_token']}"},
        timeout=5,
    )
    assert expired.status_code == 401
    assert expired.json()["code"] == "INVALID_TOKEN"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"client_secret": "wrong"}, "invalid_client"),
        ({"client_id": "1000.OTHER"}, "invalid_client"),
        ({"refresh_token": "1000.revoked"}, "invalid_code"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
    ],
)
def test_zoho_token_errors_are_http_200(emu: Emulator, changes: dict[str, str], error: str) -> None:
    answer = requests.post(f"{emu.url}/oauth/v2/token", data=zoho_form(emu, **changes), timeout=5)
    assert answer.status_code == 200
    assert answer.json() == {"error": error}
    assert emu.store.zoho_tokens_issued == {}


def test_zoho_rejects_query_params_and_throttles(emu: Emulator) -> None:
    in_query = requests.post(f"{emu.url}/oauth/v2/token", params=zoho_form(emu), timeout=5)
    assert in_query.status_code == 200
    assert in_query.json() == {"error": "invalid_request"}

    emu.zoho_throttled = True
    throttled = requests.post(f"{emu.url}/oauth/v2/token", data=zoho_form(emu), timeout=5).json()
    assert throttled["error"] == "Access Denied"
    assert throttled["status"] == "failure"


def test_crm_rejects_unknown_token(emu: Emulator) -> None:
    answer = requests.get(
        f"{emu.url}/crm/v8/users",
        params={"type": "CurrentUser"},
        headers={"Authorization": "Zoho-oauthtoken 1000.unknown"},
        timeout=5,
    )
    assert answer.status_code == 401
    assert answer.json() == {
        "code": "INVALID_TOKEN",
        "details": {},
        "message": "invalid oauth token",
        "status": "error",
    }


# ---- Flow Service header checks --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"Authorization": None}, 403, "403010"),
        ({"Authorization": "Bearer not-a-token"}, 401, "401013"),
        ({"Authorization": "Basic abc"}, 401, "401013"),
        ({"x_api_key": None}, 403, "403000"),
        ({"x_api_key": "someone-else"}, 403, "403003"),
        ({"x_gw_ims_org_id": None}, 400, "400003"),
        ({"x_gw_ims_org_id": "OTHER@AdobeOrg"}, 401, "FLOW-2000-401"),
        ({"x_sandbox_name": None}, 400, "FLOW-2105-400"),
        ({"x_sandbox_name": "Prod"}, 404, "FLOW-2100-404"),
        ({"x_sandbox_name": "stage"}, 404, "FLOW-2100-404"),
    ],
)
def test_header_checks(api, overrides: dict[str, str | None], status: int, code: str) -> None:
    answer = api.get("/connections", headers=api.headers(**overrides))
    assert answer.status_code == status, answer.text
    assert api.code(answer) == code
    assert answer.headers["x-request-id"]
    assert api.token not in answer.text


def test_expired_ims_token_is_401013(api, emu: Emulator) -> None:
    assert api.get("/connections").status_code == 200
    emu.expire_ims_tokens()
    answer = api.get("/connections")
    assert answer.status_code == 401
    assert answer.json() == {"error_code": "401013", "message": "Oauth token is not valid"}


def test_token_ttl_is_honoured() -> None:
    with Emulator(ims_token_ttl=0) as short:
        creds = short.credentials
        token = requests.post(f"{short.url}/ims/token/v3", data=ims_form(short), timeout=5).json()
        assert token["expires_in"] == 0
        answer = requests.get(
            f"{short.url}/data/foundation/flowservice/connections",
            timeout=5,
            headers={
                "Authorization": f"Bearer {token['access_token']}",
                "x-api-key": creds.ims_client_id,
                "x-gw-ims-org-id": creds.ims_org_id,
                "x-sandbox-name": "prod",
            },
        )
        assert answer.status_code == 401


def test_content_type_and_malformed_json(api) -> None:
    wrong_type = api.call("POST", "/connections", data=b"{}", headers=api.headers(Content_Type="text/plain"))
    assert wrong_type.status_code == 400
    assert wrong_type.json() == {
        "type": "/placeholder/type/uri",
        "status": 400,
        "title": "BadRequestError",
        "detail": "A valid content-type must be specified",
    }

    malformed = api.call(
        "POST", "/connections", data=b"{not json", headers=api.headers(Content_Type="application/json")
    )
    assert malformed.status_code == 400
    assert api.code(malformed) == "FLOW-1400-400"
    assert malformed.json()["report"]["request-id"] == malformed.headers["x-request-id"]
