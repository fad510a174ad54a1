"""The async twin of :class:`~airflow_provider_zoho_aep.client.http.HttpTransport`, for the trigger.

Same rules, same code: what is retryable, how long to wait (``Retry-After`` or jittered exponential backoff,
bounded in attempts and total time) and how an error is built all come from :mod:`.http`. Only the I/O
differs (httpx and ``asyncio.sleep``, so the triggerer's event loop never blocks).

It sends only requests that are safe to repeat (reads, and the IMS token request): creates belong to the
worker, never to a trigger.

A triggerer runs thousands of triggers in one event loop, so nothing here may block it or grow per trigger:
every transport without a client of its own shares one ``httpx.AsyncClient`` per event loop (one connection
pool), and that client's SSL context, whose CA bundle load takes tens of milliseconds, is built once per
process, in a worker thread, never inside the loop.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from airflow_provider_zoho_aep.client.errors import AEPAPIError
from airflow_provider_zoho_aep.client.http import (
    RetryPolicy,
    _retryable,
    api_error,
    exhausted_error,
    network_error,
    parse_retry_after,
    retry_wait,
)

log = logging.getLogger(__name__)

_JITTER = random.Random()
_ssl_context: ssl.SSLContext | None = None
_ssl_lock = threading.Lock()
_shared_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)
_shared_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()
#: Requests one shared client has in flight (and connections it keeps open): a triggerer's triggers all talk to
#: the same two hosts, and httpcore checks every pooled connection on each request, so a small pool is cheaper.
#: More requests wait for a slot in an asyncio semaphore, whose queue costs O(1) per request, rather than in
#: httpcore's pool queue, which is scanned whole every time a connection frees up.
MAX_IN_FLIGHT = 20
POOL_LIMITS = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT)


def _prepare() -> ssl.SSLContext:
    """Everything slow a first request would otherwise do inside the loop: the SSL context (CA bundle) and the
    modules httpx imports on its first request (anyio's asyncio backend, httpcore's HTTP/1.1), ~0.4 s."""
    global _ssl_context
    with _ssl_lock:
        if _ssl_context is None:
            import anyio._backends._asyncio  # noqa: F401
            import httpcore._async.http11  # noqa: F401

            _ssl_context = httpx.create_ssl_context()
        return _ssl_context


async def shared_client() -> httpx.AsyncClient:
    """The running loop's ``httpx.AsyncClient``, built on first use (the slow parts off the loop)."""
    loop = asyncio.get_running_loop()
    client = _shared_clients.get(loop)
    if client is None or client.is_closed:
        context = _ssl_context if _ssl_context is not None else await asyncio.to_thread(_prepare)
        client = _shared_clients.get(loop)  # another coroutine may have built it while we waited
        if client is None or client.is_closed:
            client = httpx.AsyncClient(follow_redirects=False, verify=context, limits=POOL_LIMITS)
            _shared_clients[loop] = client
            _shared_slots[loop] = asyncio.Semaphore(MAX_IN_FLIGHT)
    return client


class _NoSlot:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


class AsyncHttpTransport:
    """An ``httpx.AsyncClient`` with the provider's timeout, retry policy and error handling.

    :param timeout: seconds per request
    :param retry: the retry policy (shared with the sync transport)
    :param secrets: values to scrub from any error text; add with :meth:`add_secret`
    :param sleep: how to wait (tests inject a fake)
    :param clock: monotonic clock for the time budget
    :param client: an httpx client of its own (tests pass one with a mock transport), closed by :meth:`aclose`;
        without one, the loop's shared client is used and left open for the other transports
    """

    def __init__(
        self,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        *,
        secrets: set[str] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        client: httpx.AsyncClient | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.secrets = set(secrets or ())
        self.sleep = sleep
        self.clock = clock
        # One generator for all: seeding a Random reads the OS entropy pool and fills 2.5 KB of state (~0.4 ms),
        # which a thousand triggers starting together would pay inside the loop.
        self.rng = rng or _JITTER
        self.client = client

    def add_secret(self, value: str | None) -> None:
        if value:
            self.secrets.add(value)

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()

    async def __aenter__(self) -> AsyncHttpTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        service: str,
        headers: Mapping[str, str] | None = None,
        params: Any = None,
        data: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        """Send one logical (repeatable) request, retrying as the policy allows; return the response or raise."""
        path = urlsplit(url).path
        client = self.client or await shared_client()
        slot = _NoSlot() if self.client else _shared_slots.get(asyncio.get_running_loop()) or _NoSlot()
        start = self.clock()
        attempt = throttles = 0
        last_error: AEPAPIError | None = None
        while True:
            attempt += 1
            throttled = False
            wait: float | None = None
            try:
                async with slot:
                    response = await client.request(
                        method, url, headers=dict(headers or {}), params=params, data=data, timeout=self.timeout
                    )
            except httpx.TimeoutException:
                log.warning("%s %s: no answer within %.0f s (attempt %d)", method, path, self.timeout, attempt)
                last_error = network_error(service, method, path, timed_out=True, attempt=attempt,
                                           safe_to_retry=True)
            except httpx.TransportError:
                log.warning("%s %s: connection failed (attempt %d)", method, path, attempt)
                last_error = network_error(service, method, path, timed_out=False, attempt=attempt,
                                           safe_to_retry=True)
            else:
                log.info("%s %s -> %d", method, path, response.status_code)
                if response.status_code in ok:
                    return response
                try:
                    body = response.json()
                except ValueError:
                    body = None
                error = api_error(response.status_code, body, response.headers.get("x-request-id"), self.secrets,
                                  service=service, method=method, path=path, attempt=attempt)
                if not _retryable(response.status_code, error.code):
                    raise error
                last_error = error
                throttled = response.status_code == 429
                throttles += throttled
                wait = parse_retry_after(response.headers.get("Retry-After"))
            wait, give_up = retry_wait(self.retry, attempt, wait, self.clock() - start, self.rng,
                                       throttles=throttles, throttled=throttled)
            if give_up is not None:
                raise exhausted_error(last_error, attempt, give_up)
            assert wait is not None  # retry_wait returns a wait whenever it does not give up
            log.info("%s %s: retrying in %.2f s", method, path, wait)
            await self.sleep(wait)
