"""The checks Adobe's gateway and Flow Service make on every call's headers, in Adobe's order."""

from __future__ import annotations

import json
import time
from typing import Any

from .config import SANDBOXES, EmulatorCredentials
from .messages import ApiError, Request, bad_request, flow_error, gateway_error
from .state import IssuedToken, Store

_BODY_METHODS = ("POST", "PUT", "PATCH")


def authenticate(store: Store, creds: EmulatorCredentials, req: Request) -> IssuedToken:
    """Bearer token, x-api-key, x-gw-ims-org-id, x-sandbox-name, Content-Type. Returns the token info."""
    authorization = req.header("authorization")
    if not authorization:
        raise gateway_error(403, "403010", "Oauth token is missing.")
    scheme, _, token = authorization.partition(" ")
    issued = store.ims_tokens.get(token.strip()) if scheme.lower() == "bearer" else None
    if issued is None or issued.expires_at <= time.monotonic():
        raise gateway_error(401, "401013", "Oauth token is not valid")

    api_key = req.header("x-api-key")
    if not api_key:
        raise gateway_error(403, "403000", "Api Key is required")
    if api_key != issued.client_id:
        raise gateway_error(403, "403003", "Api Key is invalid")

    org_id = req.header("x-gw-ims-org-id")
    if not org_id:
        raise gateway_error(400, "400003", "Missing required header: x-gw-ims-org-id")
    if org_id != creds.ims_org_id:
        raise flow_error(
            "2000-401", "Unauthorized", "The access token has no access to the IMS organization in x-gw-ims-org-id."
        )

    sandbox = req.header("x-sandbox-name")
    if not sandbox:
        raise flow_error("2105-400", "Missing sandbox", "The x-sandbox-name header is required.")
    if sandbox not in SANDBOXES:
        raise flow_error(
            "2100-404",
            "Sandbox not found",
            f"Sandbox '{sandbox}' does not exist in this organization (sandbox names are lower case).",
        )

    if req.method in _BODY_METHODS and req.body:
        content_type = (req.header("content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise ApiError(
                400,
                {
                    "type": "/placeholder/type/uri",
                    "status": 400,
                    "title": "BadRequestError",
                    "detail": "A valid content-type must be specified",
                },
            )
    return issued


def json_body(req: Request) -> Any:
    """The parsed JSON body of a POST/PUT/PATCH, or None when there is none."""
    if req.method not in _BODY_METHODS or not req.body.strip():
        return None
    try:
        return json.loads(req.body)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("The request body is not valid JSON.", title="Malformed JSON") from None
