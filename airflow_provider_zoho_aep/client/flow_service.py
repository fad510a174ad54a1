"""IMS tokens and Flow Service calls for one organization and sandbox.

:class:`IMSTokenProvider` caches OAuth Server-to-Server tokens per process, keyed by token URL, client ID, org,
scopes and secret, so every hook and task of a worker and every trigger of a triggerer share one token (IMS issues
no refresh token: a new one is asked for with the same credentials). :class:`FlowServiceClient` serves workers
(any call), :class:`AsyncFlowServiceClient` the triggerer (reads only), with the same headers and 401 refresh.
Resources are addressed by collection, the path segment of their URL (``connections`` for base connections,
``sourceConnections``, ``targetConnections``, ``flows``, ``runs``); the name-based idempotency on top of these
calls lives in :mod:`airflow_provider_zoho_aep.hooks.aep`.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import requests

from airflow_provider_zoho_aep.client.errors import AEPAPIError
from airflow_provider_zoho_aep.client.http import AsyncHttpTransport, HttpTransport
from airflow_provider_zoho_aep.client.settings import AEPSettings

#: Refresh this many seconds before expiry (IMS tokens live ~24 h; 5 min is Adobe's own advice).
REFRESH_MARGIN_SECONDS = 300.0


@dataclass(frozen=True)
class _Cached:
    token: str
    expires_at: float


_cache: dict[tuple[str, ...], _Cached] = {}
_cache_lock = threading.Lock()
#: One lock per cache key (per event loop for coroutines, as an asyncio lock belongs to one loop), so callers that
#: find no token wait for one request instead of each sending theirs.
_fetch_locks: dict[tuple[str, ...], threading.Lock] = {}
_async_fetch_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, ...], asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def clear_token_cache() -> None:
    """Forget every cached IMS token (tests, and after rotating a client secret)."""
    with _cache_lock:
        _cache.clear()


class IMSTokenProvider:
    """Gives a valid IMS access token, asking IMS only when the cached one is missing or close to expiry.

    :param token_url: IMS token endpoint
    :param client_id: OAuth client ID
    :param client_secret: OAuth client secret (sent in the form body, never the URL)
    :param ims_org_id: organization, part of the cache key
    :param scopes: comma-separated scopes
    :param transport: the HTTP transport of :meth:`get_token`
    :param on_token: called with every new token before anything else sees it (Airflow's ``mask_secret``)
    :param async_transport: the async HTTP transport of :meth:`aget_token`
    :param on_token_async: awaited with every token :meth:`aget_token` mints (Airflow's ``amask_secret``)
    :param clock: wall clock, injectable for tests
    :param refresh_margin: seconds before expiry at which a token counts as expired
    """

    def __init__(
        self, *, token_url: str, client_id: str, client_secret: str, ims_org_id: str, scopes: str,
        transport: HttpTransport | None = None, on_token: Callable[[str], None] | None = None,
        async_transport: AsyncHttpTransport | None = None,
        on_token_async: Callable[[str], Awaitable[None]] | None = None, clock: Callable[[], float] = time.time,
        refresh_margin: float = REFRESH_MARGIN_SECONDS,
    ) -> None:
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._scopes = scopes
        self._transport = transport
        self._on_token = on_token
        self._async_transport = async_transport
        self._on_token_async = on_token_async
        self._clock = clock
        self._margin = refresh_margin
        self._key = (token_url, client_id, ims_org_id, scopes, hashlib.sha256(client_secret.encode()).hexdigest()[:16])
        self._scrub(client_secret)

    def _scrub(self, secret: str) -> None:
        for each in (self._transport, self._async_transport):
            if each is not None:
                each.add_secret(secret)

    def get_token(self) -> str:
        """A token valid for at least the refresh margin."""
        token = self._cached()
        if token:
            return token
        with _cache_lock:
            fetch_lock = _fetch_locks.setdefault(self._key, threading.Lock())
        with fetch_lock:
            return self._cached() or self._fetch()  # another thread may have fetched it meanwhile

    async def aget_token(self) -> str:
        """:meth:`get_token` for coroutines: the same cache, one request per loop when it is empty."""
        token = self._cached()
        if token:
            return token
        locks = _async_fetch_locks.setdefault(asyncio.get_running_loop(), {})
        async with locks.setdefault(self._key, asyncio.Lock()):
            return self._cached() or await self._afetch()

    def invalidate(self, token: str) -> None:
        """Drop ``token`` from the cache (after the gateway answered 401 for it)."""
        with _cache_lock:
            cached = _cache.get(self._key)
            if cached and cached.token == token:
                del _cache[self._key]

    def _cached(self) -> str | None:
        with _cache_lock:
            cached = _cache.get(self._key)
        if cached and cached.expires_at - self._margin > self._clock():
            self._scrub(cached.token)
            return cached.token
        return None

    def _fetch(self) -> str:
        if self._transport is None:
            raise RuntimeError("IMSTokenProvider.get_token needs a transport")
        response = self._transport.request("POST", self._token_url, **self._token_request())
        token, expires_in = read_token_answer(response)
        if self._on_token:
            self._on_token(token)
        return self._store(token, expires_in)

    async def _afetch(self) -> str:
        if self._async_transport is None:
            raise RuntimeError("IMSTokenProvider.aget_token needs an async_transport")
        response = await self._async_transport.request("POST", self._token_url, **self._token_request())
        token, expires_in = read_token_answer(response)
        if self._on_token_async:
            await self._on_token_async(token)
        return self._store(token, expires_in)

    def _store(self, token: str, expires_in: float) -> str:
        self._scrub(token)
        with _cache_lock:
            _cache[self._key] = _Cached(token, self._clock() + expires_in)
        return token

    def _token_request(self) -> dict[str, Any]:
        """The token request, sync or async: the credentials in the form body, never in the URL."""
        form = {"grant_type": "client_credentials", "client_id": self._client_id,
                "client_secret": self._client_secret, "scope": self._scopes}
        return {"service": "IMS", "ok": (200,), "headers": {"Content-Type": "application/x-www-form-urlencoded"},
                "data": form}


def read_token_answer(response: Any) -> tuple[str, float]:
    """``(access_token, expires_in seconds)`` from IMS's 200 answer (a requests or httpx response)."""
    try:
        body = response.json()
        token = body["access_token"]
        expires_in = float(body.get("expires_in", 86399))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise AEPAPIError("IMS answered 200 without an access_token", status=response.status_code,
                          service="IMS") from None
    if not isinstance(token, str) or not token:
        raise AEPAPIError("IMS answered an empty access_token", status=response.status_code, service="IMS")
    # JWT-era IMS answered milliseconds; a value beyond a few days can only be that.
    if expires_in > 7 * 86400:
        expires_in /= 1000.0
    return token, expires_in


SERVICE = "Flow Service"
MAX_PAGES = 100


def list_params(filters: Mapping[str, str] | None, orderby: str | None, limit: int | None) -> list[tuple[str, str]]:
    """The query of a list call: ``{"name": "x", "flowId": "y"}`` as repeated ``property=name==x`` filters (AND),
    then ``orderby`` and ``limit`` when given. Flow Service splits a filter value on commas (OR), so a value with a
    comma is not filtered server-side (callers check names exactly anyway)."""
    params = [("property", f"{key}=={value}") for key, value in (filters or {}).items() if "," not in value]
    if orderby:
        params.append(("orderby", orderby))
    if limit:
        params.append(("limit", str(limit)))
    return params


def first_item(body: Any, what: str) -> dict[str, Any]:
    """The one item of a Flow Service GET (it wraps even one resource as ``{"items": [...]}``)."""
    items = body.get("items") if isinstance(body, Mapping) else None
    if not items or not isinstance(items[0], dict):
        raise AEPAPIError(f"Flow Service GET {what} returned no item", status=200, service=SERVICE)
    return items[0]


def segment(value: str) -> str:
    """An ID as one URL path segment, so a stray '/' or '?' in a templated ID cannot change the call."""
    return quote(str(value), safe="")


def flow_service_headers(
    settings: AEPSettings, token: str, *, body: bool = False, if_match: str | None = None
) -> dict[str, str]:
    """The headers every Flow Service call carries (Adobe's "getting started with Platform APIs")."""
    headers = {
        "Authorization": f"Bearer {token}",
        "x-api-key": settings.client_id,
        "x-gw-ims-org-id": settings.ims_org_id,
        "x-sandbox-name": settings.sandbox_name,
        "Accept": "application/json",
    }
    if body:
        headers["Content-Type"] = "application/json"
    if if_match is not None:
        headers["If-Match"] = if_match
    return headers


class FlowServiceClient:
    """Calls Flow Service for one organization and sandbox.

    :param settings: validated AEP settings (client ID, org, sandbox, URLs, timeout)
    :param transport: the HTTP transport (retries, timeouts, errors)
    :param tokens: the IMS token provider
    """

    def __init__(self, settings: AEPSettings, transport: HttpTransport, tokens: IMSTokenProvider) -> None:
        self.settings = settings
        self.transport = transport
        self.tokens = tokens
        self.base_url = settings.flow_service_url

    def request(
        self, method: str, path: str, *, params: Any = None, json: Any = None, idempotent: bool = True,
        if_match: str | None = None, ok: tuple[int, ...] = (200, 201, 204), base_url: str | None = None,
        service: str = SERVICE,
    ) -> requests.Response:
        """One call; a 401 for an expired token refreshes the token once and retries once. ``base_url`` and
        ``service`` serve the other Platform APIs that take the same headers (Data Landing Zone, Data Prep)."""
        token = self.tokens.get_token()
        url = (base_url or self.base_url) + path
        headers = flow_service_headers(self.settings, token, body=json is not None, if_match=if_match)
        try:
            return self.transport.request(
                method, url, service=service, idempotent=idempotent, headers=headers, params=params,
                json=json, ok=ok,
            )
        except AEPAPIError as err:
            if err.status != 401:
                raise
        # The gateway refused the token before doing anything, so even a create is safe to send again.
        self.tokens.invalidate(token)
        headers["Authorization"] = f"Bearer {self.tokens.get_token()}"
        return self.transport.request(
            method, url, service=service, idempotent=idempotent, headers=headers, params=params, json=json, ok=ok
        )

    def list(
        self, collection: str, filters: Mapping[str, str] | None = None, *, orderby: str | None = None,
        limit: int | None = None, max_items: int | None = None,
    ) -> list[dict[str, Any]]:
        """All items of ``collection`` matching the ``property`` filters, following ``_links.next`` pages."""
        params = list_params(filters, orderby, limit)
        items: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            body = self.request("GET", f"/{collection}", params=params, ok=(200,)).json()
            items.extend(body.get("items") or [])
            if max_items is not None and len(items) >= max_items:
                return items[:max_items]
            next_href = ((body.get("_links") or {}).get("next") or {}).get("href")
            if not next_href:
                return items
            # Parse the continuation token out of the href's query; never split on '='.
            params = parse_qsl(urlsplit(next_href).query, keep_blank_values=True)
        raise AEPAPIError(f"Flow Service GET /{collection}: more than {MAX_PAGES} pages", service=SERVICE)

    def get(self, collection: str, resource_id: str) -> dict[str, Any]:
        """One resource; Flow Service wraps it as ``{"items": [...]}``."""
        body = self.request("GET", f"/{collection}/{segment(resource_id)}", ok=(200,)).json()
        return first_item(body, f"/{collection}/{resource_id}")

    def create(self, collection: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST a new resource; returns ``{"id", "etag"}``. Never retried once it may have reached the server."""
        return self.request("POST", f"/{collection}", json=dict(body), idempotent=False, ok=(200, 201)).json()

    def patch(
        self, collection: str, resource_id: str, operations: Sequence[Mapping[str, Any]], etag: str | None
    ) -> dict[str, Any]:
        """PATCH with ``If-Match`` (the etag exactly as received, quotes included); returns the new etag."""
        return self.request(
            "PATCH", f"/{collection}/{segment(resource_id)}", json=[dict(op) for op in operations], if_match=etag,
            ok=(200,),
        ).json()

    def delete(self, collection: str, resource_id: str) -> bool:
        """DELETE; True when deleted, False when it was already gone: a 404, or a 400 with ``FLOW-1439-400``
        (Adobe's catalogue calls 1439 "Resource not found" and Flow Service answers it with either status)."""
        try:
            self.request("DELETE", f"/{collection}/{segment(resource_id)}", ok=(200, 202, 204))
        except AEPAPIError as err:
            if err.status == 404 or (err.status == 400 and bool(err.code) and "-1439-" in f"-{err.code}"):
                return False
            raise
        return True

    def get_connection_spec(self, spec_id: str) -> dict[str, Any]:
        body = self.request("GET", f"/connectionSpecs/{segment(spec_id)}", ok=(200,)).json()
        items = body.get("items") if isinstance(body, dict) else None
        if not items:
            raise AEPAPIError(f"connection spec {spec_id} not found", status=404, service=SERVICE)
        return items[0]

    def find_flow_spec(self, name: str) -> builtins.list[dict[str, Any]]:
        body = self.request("GET", "/flowSpecs", params=[("property", f'name=="{name}"')], ok=(200,)).json()
        return [item for item in body.get("items") or [] if item.get("name") == name]

    def test_connection(self, connection_id: str) -> bool:
        body = self.request("GET", f"/connections/{segment(connection_id)}/test", ok=(200,)).json()
        return bool(body.get("result"))

    def explore(self, connection_id: str, params: Iterable[tuple[str, str]]) -> Any:
        return self.request("GET", f"/connections/{segment(connection_id)}/explore", params=list(params),
                            ok=(200,)).json()


class AsyncFlowServiceClient:
    """Reads Flow Service without blocking the event loop.

    :param settings: validated AEP settings
    :param transport: the async transport (retries, timeouts, errors)
    :param tokens: the IMS token provider (its ``aget_token``)
    """

    def __init__(self, settings: AEPSettings, transport: AsyncHttpTransport, tokens: IMSTokenProvider) -> None:
        self.settings = settings
        self.transport = transport
        self.tokens = tokens
        self.base_url = settings.flow_service_url

    async def get_json(self, path: str, params: Any = None) -> Any:
        """GET a Flow Service path. A 401 for an expired token refreshes the token once and retries once."""
        url, token = self.base_url + path, await self.tokens.aget_token()
        try:
            response = await self.transport.request(
                "GET", url, service=SERVICE, headers=flow_service_headers(self.settings, token), params=params)
        except AEPAPIError as err:
            if err.status != 401:
                raise
            self.tokens.invalidate(token)
            token = await self.tokens.aget_token()
            response = await self.transport.request(
                "GET", url, service=SERVICE, headers=flow_service_headers(self.settings, token), params=params)
        return response.json()

    async def list(
        self, collection: str, filters: Mapping[str, str], *, orderby: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """One page of ``collection`` (``limit`` items at most), filtered with ``property``."""
        body = await self.get_json(f"/{collection}", list_params(filters, orderby, limit))
        items = body.get("items") if isinstance(body, Mapping) else None
        return [item for item in items or [] if isinstance(item, dict)]

    async def get(self, collection: str, resource_id: str) -> dict[str, Any]:
        """One resource; Flow Service wraps it as ``{"items": [...]}``."""
        return first_item(await self.get_json(f"/{collection}/{segment(resource_id)}"), f"/{collection}/{resource_id}")
