"""Adobe IMS: ``POST /ims/token/v3`` (OAuth Server-to-Server, client credentials)."""

from __future__ import annotations

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

    token = f"eyJ-emu-{uuid.uuid4().hex}"
    store.ims_tokens[token] = IssuedToken(form["client_id"], time.monotonic() + store.ims_token_ttl)
    store.ims_tokens_issued += 1
    return json_response(
        200,
        {"access_token": token, "token_type": "bearer", "expires_in": store.ims_token_ttl},
        {"Cache-Control": "no-store"},
    )


def _error(status: int, error: str, description: str) -> Response:
    return json_response(status, {"error": error, "error_description": description})
