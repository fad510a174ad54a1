"""Adobe IMS: ``POST /ims/token/v3`` (OAuth Server-to-Server, client credentials)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from urllib.parse import parse_qs

from .config import EmulatorCredentials
from .messages import Request, Response, json_response
from .state import IssuedToken, Store

TOKEN_PATH = "/ims/token/v3"
_FIELDS = ("grant_type", "client_id", "client_secret", "scope")


def handle(store: Store, creds: EmulatorCredentials, req: Request) -> Response:
    if req.path.rstrip("/") != TOKEN_PATH:
        return _error(404, "not_found", "unknown IMS endpoint")
    if req.method != "POST":
        return _error(405, "invalid_request", "use POST")
    if any(name in req.query for name in _FIELDS):
        return _error(400, "invalid_request", "credentials must be sent in the request body")
    form = {k: v[-1] for k, v in parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True).items()}
    for name in _FIELDS:
        if not form.get(name):
            return _error(400, "invalid_request", f"missing required parameter: {name}")
    if form["grant_type"] != "client_credentials":
        return _error(400, "unsupported_grant_type", "grant_type must be client_credentials")
    if form["client_id"] != creds.ims_client_id or form["client_secret"] != creds.ims_client_secret:
        return _error(400, "invalid_client", "invalid client_id parameter")

    token = mint(store.token_format, form["client_id"], store.ims_token_ttl)
    store.minted.append(("ims", token))
    store.ims_tokens[token] = IssuedToken(form["client_id"], time.monotonic() + store.ims_token_ttl)
    store.ims_tokens_issued += 1
    return json_response(
        200,
        {"access_token": token, "token_type": "bearer", "expires_in": store.ims_token_ttl},
        {"Cache-Control": "no-store"},
    )


def mint(token_format: str, client_id: str, ttl: int) -> str:
    """A new access token: JWT-shaped like Adobe's (header.payload.signature, base64url), or opaque."""
    if token_format == "opaque":
        return f"ims-opaque-{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}"
    header = {"alg": "RS256", "x5u": "ims_na1-key-at-1.cer", "kid": "ims_na1-key-at-1", "itt": "at"}
    payload = {"id": str(uuid.uuid4()), "type": "access_token", "client_id": client_id,
               "created_at": str(int(time.time() * 1000)), "expires_in": str(ttl * 1000), "as": "ims-na1"}
    return ".".join(_b64(part) for part in (json.dumps(header).encode(), json.dumps(payload).encode(),
                                            uuid.uuid4().bytes + uuid.uuid4().bytes))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _error(status: int, error: str, description: str) -> Response:
    return json_response(status, {"error": error, "error_description": description})
