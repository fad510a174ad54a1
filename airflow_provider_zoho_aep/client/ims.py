"""Adobe IMS access tokens (OAuth Server-to-Server), cached per process with a refresh margin.

IMS issues no refresh token: a new token is asked for with the same credentials. Tokens live about 24 h
(``expires_in`` is in seconds). One cache per process, keyed by token URL, client ID, org and scopes, so every
hook and task in a worker process shares one token instead of asking IMS each time.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho_aep.client.errors import AEPAPIError

if TYPE_CHECKING:
    from airflow_provider_zoho_aep.client.http import AsyncHttpTransport, HttpTransport

#: Refresh this many seconds before expiry (IMS tokens live ~24 h; 5 min is Adobe's own advice).
REFRESH_MARGIN_SECONDS = 300.0


@dataclass(frozen=True)
class _Cached:
    token: str
    expires_at: float


_cache: dict[tuple[str, ...], _Cached] = {}
_cache_lock = threading.Lock()
#: One lock per cache key, so threads that find no token wait for one request instead of each sending theirs.
_fetch_locks: dict[tuple[str, ...], threading.Lock] = {}
#: The same for coroutines, per event loop (an asyncio lock belongs to one loop): a thousand triggers that start
#: together on an empty cache send one token request, not a thousand.
_async_fetch_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, ...], asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def clear_token_cache() -> None:
    """Forget every cached IMS token (tests, and after rotating a client secret)."""
    with _cache_lock:
        _cache.clear()


class IMSTokenProvider:
    """Gives a valid IMS access token, asking IMS only when the cached one is missing or close to expiry.

    Sync callers (:meth:`get_token`, a worker) and async callers (:meth:`aget_token`, the triggerer) share one
    cache per process, so a process asks IMS once per token lifetime whichever way it calls.

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
    """

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        ims_org_id: str,
        scopes: str,
        transport: HttpTransport | None = None,
        on_token: Callable[[str], None] | None = None,
        async_transport: AsyncHttpTransport | None = None,
        on_token_async: Callable[[str], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.time,
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
        secret_digest = hashlib.sha256(client_secret.encode()).hexdigest()[:16]
        self._key = (token_url, client_id, ims_org_id, scopes, secret_digest)
        for each in (transport, async_transport):
            if each is not None:
                each.add_secret(client_secret)

    def get_token(self) -> str:
        """A token valid for at least the refresh margin."""
        token = self._cached()
        if token:
            return token
        with _cache_lock:
            fetch_lock = _fetch_locks.setdefault(self._key, threading.Lock())
        with fetch_lock:
            return self._cached() or self._fetch()  # another thread may have fetched it meanwhile

    def _cached(self) -> str | None:
        with _cache_lock:
            cached = _cache.get(self._key)
        if cached and cached.expires_at - self._margin > self._clock():
            for each in (self._transport, self._async_transport):
                if each is not None:
                    each.add_secret(cached.token)
            return cached.token
        return None

    async def aget_token(self) -> str:
        """:meth:`get_token` for coroutines: the same cache, one request per loop when it is empty."""
        token = self._cached()
        if token:
            return token
        loop = asyncio.get_running_loop()
        locks = _async_fetch_locks.setdefault(loop, {})
        lock = locks.setdefault(self._key, asyncio.Lock())
        async with lock:
            return self._cached() or await self._afetch()

    async def _afetch(self) -> str:
        if self._async_transport is None:
            raise RuntimeError("IMSTokenProvider.aget_token needs an async_transport")
        response = await self._async_transport.request(
            "POST",
            self._token_url,
            service="IMS",
            data=token_form(self._client_id, self._client_secret, self._scopes),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        token, expires_in = read_token_answer(response)
        if self._on_token_async:
            await self._on_token_async(token)
        self._store(token, expires_in)
        return token

    def _store(self, token: str, expires_in: float) -> None:
        for each in (self._transport, self._async_transport):
            if each is not None:
                each.add_secret(token)
        with _cache_lock:
            _cache[self._key] = _Cached(token, self._clock() + expires_in)

    def invalidate(self, token: str) -> None:
        """Drop ``token`` from the cache (after the gateway answered 401 for it)."""
        with _cache_lock:
            cached = _cache.get(self._key)
            if cached and cached.token == token:
                del _cache[self._key]

    def _fetch(self) -> str:
        if self._transport is None:
            raise RuntimeError("IMSTokenProvider.get_token needs a transport")
        response = self._transport.request(
            "POST",
            self._token_url,
            service="IMS",
            data=token_form(self._client_id, self._client_secret, self._scopes),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            ok=(200,),
        )
        token, expires_in = read_token_answer(response)
        if self._on_token:
            self._on_token(token)
        self._store(token, expires_in)
        return token


def token_form(client_id: str, client_secret: str, scopes: str) -> dict[str, str]:
    """The form body of an OAuth Server-to-Server token request (credentials in the body, never the URL)."""
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret,
            "scope": scopes}


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
