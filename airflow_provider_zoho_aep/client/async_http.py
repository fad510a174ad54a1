"""The async twin of :class:`~airflow_provider_zoho_aep.client.http.HttpTransport`, for the trigger.

Same rules, same code: what is retryable, how long to wait (``Retry-After`` or jittered exponential backoff,
bounded in attempts and total time) and how an error is built all come from :mod:`.http`. Only the I/O
differs (httpx and ``asyncio.sleep``, so the triggerer's event loop never blocks).

It sends only requests that are safe to repeat (reads, and the IMS token request): creates belong to the
worker, never to a trigger.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
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


class AsyncHttpTransport:
    """An ``httpx.AsyncClient`` with the provider's timeout, retry policy and error handling.

    :param timeout: seconds per request
    :param retry: the retry policy (shared with the sync transport)
    :param secrets: values to scrub from any error text; add with :meth:`add_secret`
    :param sleep: how to wait (tests inject a fake)
    :param clock: monotonic clock for the time budget
    :param client: an httpx client to use (tests pass one with a mock transport); closed by :meth:`aclose`
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
        self.rng = rng or random.Random()
        self.client = client or httpx.AsyncClient(follow_redirects=False)

    def add_secret(self, value: str | None) -> None:
        if value:
            self.secrets.add(value)

    async def aclose(self) -> None:
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
        start = self.clock()
        attempt = throttles = 0
        last_error: AEPAPIError | None = None
        while True:
            attempt += 1
            throttled = False
            wait: float | None = None
            try:
                response = await self.client.request(
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
