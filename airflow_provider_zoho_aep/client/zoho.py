"""Zoho accounts (token refresh) and the one CRM call used to validate credentials.

Zoho's token endpoint reports errors in the body, often with HTTP 200: success means an ``access_token`` is
present, whatever the status. Throttling ("Access Denied") is never retried here: the window is up to ten
minutes and every attempt draws on the same budget Adobe uses for the same refresh token.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow_provider_zoho_aep.client.errors import AEPAPIError
from airflow_provider_zoho_aep.client.http import HttpTransport
from airflow_provider_zoho_aep.client.settings import ZohoSettings

log = logging.getLogger(__name__)

CRM_API_VERSION = "v8"
#: Reuse a minted access token until this many seconds before it expires (tokens live one hour).
ACCESS_TOKEN_MARGIN_SECONDS = 300.0

_TOKEN_ERRORS = {
    "invalid_code": "the refresh token is revoked or invalid: generate a new refresh token in Zoho's API console",
    "invalid_client": (
        "Zoho rejected the client ID/secret: check them, and check that extra.accounts_url is the accounts "
        "server of the data centre where the client was registered"
    ),
    "invalid_client_secret": "the client secret is wrong",
    "Access Denied": (
        "Zoho is throttling token refreshes for this refresh token (at most 10 per 10 minutes); wait and retry "
        "later, and avoid refreshing more often than needed"
    ),
    "access_denied": "Zoho refused: too many token requests; wait up to 10 minutes",
}


@dataclass(frozen=True)
class ZohoAccessToken:
    token: str
    expires_at: float


_cache: dict[tuple[str, ...], ZohoAccessToken] = {}
_cache_lock = threading.Lock()


def clear_token_cache() -> None:
    """Forget cached Zoho access tokens (tests)."""
    with _cache_lock:
        _cache.clear()


def parse_expiry(body: dict[str, Any]) -> float:
    """Seconds until expiry from either token shape: ``expires_in_sec``, or ``expires_in`` in s or ms."""
    if isinstance(body.get("expires_in_sec"), (int, float)):
        return float(body["expires_in_sec"])
    value = body.get("expires_in")
    if isinstance(value, (int, float)) and value > 0:
        return float(value) / 1000.0 if value > 86_400 else float(value)
    return 3600.0


class ZohoClient:
    """Refreshes Zoho access tokens and checks them against the CRM API.

    :param settings: validated Zoho settings
    :param transport: the HTTP transport
    :param on_token: called with every new access token first (Airflow's ``mask_secret``)
    """

    def __init__(
        self,
        settings: ZohoSettings,
        transport: HttpTransport,
        on_token: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._on_token = on_token
        self._clock = clock
        digest = hashlib.sha256(settings.refresh_token.encode()).hexdigest()[:16]
        self._key = (settings.accounts_url, settings.client_id, digest)
        for secret in (settings.client_secret, settings.refresh_token, settings.access_token):
            transport.add_secret(secret)

    @property
    def transport(self) -> HttpTransport:
        """The HTTP transport this client sends through (other Zoho clients share it)."""
        return self._transport

    def refresh_access_token(self) -> ZohoAccessToken:
        """Mint a new access token from the refresh token (one call to the accounts server)."""
        s = self.settings
        response = self._transport.request(
            "POST",
            f"{s.accounts_url}/oauth/v2/token",
            service="Zoho accounts",
            data={
                "grant_type": "refresh_token",
                "client_id": s.client_id,
                "client_secret": s.client_secret,
                "refresh_token": s.refresh_token,
            },
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            ok=(200, 400, 401),
        )
        try:
            body = response.json()
        except ValueError:
            body = {}
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            code = str(body.get("error")) if isinstance(body, dict) and body.get("error") else None
            raise AEPAPIError(
                "Zoho token refresh failed",
                status=response.status_code,
                code=code,
                detail=_TOKEN_ERRORS.get(code or "", "the answer carried no access_token"),
                service="Zoho accounts",
            )
        if self._on_token:
            self._on_token(token)
        self._transport.add_secret(token)
        api_domain = body.get("api_domain") if isinstance(body.get("api_domain"), str) else None
        if api_domain and api_domain.rstrip("/") != s.endpoint:
            log.warning("Zoho reports api_domain %s, which differs from the configured endpoint", api_domain)
        minted = ZohoAccessToken(token, self._clock() + parse_expiry(body))
        with _cache_lock:
            _cache[self._key] = minted
        return minted

    def access_token(self, *, refresh: bool) -> str:
        """An access token: minted now when ``refresh``; else the stored or cached one, minted if none."""
        if refresh:
            return self.refresh_access_token().token
        with _cache_lock:
            cached = _cache.get(self._key)
        if cached and cached.expires_at - ACCESS_TOKEN_MARGIN_SECONDS > self._clock():
            return cached.token
        if self.settings.access_token:
            return self.settings.access_token
        return self.refresh_access_token().token

    def current_user(self, access_token: str) -> dict[str, Any]:
        """``GET {endpoint}/crm/v8/users?type=CurrentUser``: the cheapest call that proves a token works."""
        response = self._transport.request(
            "GET",
            f"{self.settings.endpoint}/crm/{CRM_API_VERSION}/users",
            service="Zoho CRM",
            params={"type": "CurrentUser"},
            headers={"Authorization": f"Zoho-oauthtoken {access_token}"},
            ok=(200,),
        )
        body = response.json()
        users = body.get("users") if isinstance(body, dict) else None
        if not users:
            raise AEPAPIError("Zoho CRM returned no current user", status=response.status_code, service="Zoho CRM")
        return users[0]
