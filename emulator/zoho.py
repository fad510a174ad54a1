"""Zoho accounts ``POST /oauth/v2/token`` (refresh grant) and CRM ``GET /crm/v8/users``.

Like Zoho, the token endpoint reports errors in the body with HTTP 200.
"""

from __future__ import annotations

import time
import uuid
from urllib.parse import parse_qs

from .config import EmulatorCredentials
from .messages import Request, Response, json_response
from .state import IssuedToken, Store

TOKEN_PATH = "/oauth/v2/token"
USERS_PATH = "/crm/v8/users"
_FIELDS = ("grant_type", "client_id", "client_secret", "refresh_token", "code")

CURRENT_USER = {
    "id": "5725767000000411001",
    "full_name": "Emulator User",
    "first_name": "Emulator",
    "last_name": "User",
    "email": "crm-admin@example.com",
    "status": "active",
    "role": {"name": "CEO", "id": "5725767000000026005"},
    "profile": {"name": "Administrator", "id": "5725767000000026011"},
}


def handle_token(store: Store, creds: EmulatorCredentials, req: Request) -> Response:
    if req.method != "POST":
        return json_response(405, {"error": "invalid_request"})
    if any(name in req.query for name in _FIELDS):
        return json_response(200, {"error": "invalid_request"})
    if store.zoho_throttled:
        return json_response(
            200,
            {
                "error": "Access Denied",
                "error_description": "You have made too many requests continuously. Please try again after some time.",
                "status": "failure",
            },
        )
    form = {k: v[-1] for k, v in parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True).items()}
    if form.get("grant_type") != "refresh_token":
        return json_response(200, {"error": "unsupported_grant_type"})
    if form.get("client_id") != creds.zoho_client_id or form.get("client_secret") != creds.zoho_client_secret:
        return json_response(200, {"error": "invalid_client"})
    refresh_token = form.get("refresh_token", "")
    if refresh_token != creds.zoho_refresh_token:
        return json_response(200, {"error": "invalid_code"})

    token = f"1000.{uuid.uuid4().hex}.{uuid.uuid4().hex}"
    store.zoho_tokens[token] = IssuedToken(form["client_id"], time.monotonic() + store.zoho_token_ttl)
    store.zoho_tokens_issued[refresh_token] = store.zoho_tokens_issued.get(refresh_token, 0) + 1
    return json_response(
        200,
        {
            "access_token": token,
            "expires_in": store.zoho_token_ttl,
            "api_domain": store.base_url,
            "token_type": "Bearer",
        },
    )


def authorized(store: Store, req: Request) -> bool:
    """True when the request carries a live access token (``Authorization: Zoho-oauthtoken <token>``)."""
    scheme, _, token = (req.header("authorization") or "").partition(" ")
    issued = store.zoho_tokens.get(token.strip()) if scheme == "Zoho-oauthtoken" else None
    return issued is not None and issued.expires_at > time.monotonic()


def handle_crm(store: Store, creds: EmulatorCredentials, req: Request) -> Response:
    if req.path.rstrip("/") != USERS_PATH or req.method != "GET":
        return json_response(
            404,
            {
                "code": "INVALID_URL_PATTERN",
                "details": {},
                "message": "Please check if the URL trying to access is a correct one",
                "status": "error",
            },
        )
    if not authorized(store, req):
        return json_response(
            401,
            {
                "code": "INVALID_TOKEN",
                "details": {},
                "message": "invalid oauth token",
                "status": "error",
            },
        )
    return json_response(
        200, {"users": [CURRENT_USER], "info": {"per_page": 200, "count": 1, "page": 1, "more_records": False}}
    )
