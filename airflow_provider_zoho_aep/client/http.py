"""The one place where HTTP happens, for sync callers (``requests``) and async ones (``httpx``, the triggerer).

Both transports send a timeout and never follow a redirect; retry 429, 500, 502, 503, 504 and connection errors,
honouring ``Retry-After`` (seconds or an HTTP date), else backing off exponentially with full jitter, bounded in
attempts and total time; raise :class:`AEPAPIError` for every other failure, with Adobe's code and request ID and
no secret; and log one line per request, never a body. The decision after each attempt is :class:`_Attempts`,
shared by both. A non-idempotent request (a create) is never retried once it may have reached the server: a
timeout, a reset after sending, or a 5xx raises :class:`AmbiguousWriteError` so the caller can look the resource
up first. The async transport sends only repeatable requests: creates belong to the worker, never to a trigger.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import random
import ssl
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import requests

from airflow_provider_zoho_aep.client.errors import AEPAPIError, AmbiguousWriteError, parse_error_body, redact

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# Flow Service codes that mean "try again" even when the status says otherwise.
RETRYABLE_CODES = ("-1102-", "-1103-", "-1104-")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try.

    :param max_attempts: attempts per request, the first included
    :param backoff_base: first backoff in seconds when the server gives no ``Retry-After``
    :param backoff_max: longest single wait in seconds (a longer ``Retry-After`` ends the retries)
    :param max_total_seconds: total time budget for one request, waits included
    """

    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_total_seconds: float = 120.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff for the given 1-based attempt number."""
        return rng.uniform(0, min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1))))


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` as seconds to wait: an integer/decimal count, or an HTTP date. None when absent or bad."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())


def _retryable(status: int, code: str | None) -> bool:
    """True when an answer with this status / Adobe code is worth another attempt."""
    return status in RETRYABLE_STATUSES or bool(code and any(c in code for c in RETRYABLE_CODES))


def retry_wait(
    policy: RetryPolicy, attempt: int, wait: float | None, elapsed: float, rng: random.Random, *,
    throttles: int = 0, throttled: bool = False,
) -> tuple[float, None] | tuple[None, str]:
    """After failed attempt number ``attempt``: ``(seconds to wait, None)``, or ``(None, why we give up)``.

    A 429 was refused before any processing, so 429s (``throttles`` of the attempts; ``throttled``: the last one)
    do not use up ``max_attempts``, only the time budget (and a cap of ten times ``max_attempts``). Their
    ``Retry-After`` (``wait``; None backs off exponentially) gets up to 100 % (at most 1 s) of jitter on top:
    gateways send whole seconds, and clients throttled together would otherwise come back together.
    ``elapsed`` is the time spent on this request so far, waits included.
    """
    if attempt - throttles >= policy.max_attempts or attempt >= policy.max_attempts * 10:
        return None, "retry limit reached"
    if wait is None:
        wait = policy.backoff(attempt, rng)
    elif throttled:
        wait += rng.uniform(0, min(wait, 1.0))
    if wait > policy.backoff_max:
        return None, f"Retry-After of {wait:.0f} s exceeds backoff_max"
    if elapsed + wait > policy.max_total_seconds:
        return None, "time budget"
    return wait, None


def response_error(
    response: requests.Response | httpx.Response, secrets: set[str], *, service: str, method: str, path: str,
    attempt: int = 1,
) -> AEPAPIError:
    """The error for a non-success answer: Adobe's fields parsed from the body (never logged), scrubbed of
    ``secrets``."""
    try:
        body = response.json()
    except ValueError:
        body = None
    fields = {k: (redact(v, secrets) if v else v) for k, v in parse_error_body(body).items()}
    return AEPAPIError(
        f"{service} {method} {path} failed", status=response.status_code, code=fields["code"],
        title=fields["title"], detail=fields["detail"],
        request_id=fields["request_id"] or response.headers.get("x-request-id"), service=service, attempts=attempt,
    )


class _Attempts:
    """The attempts of one logical request: after each, either the seconds to wait or the error to raise."""

    def __init__(self, transport: _Transport, method: str, url: str, service: str, idempotent: bool) -> None:
        self.transport, self.method, self.service, self.idempotent = transport, method, service, idempotent
        self.path = urlsplit(url).path
        self.start = self.began = transport.clock()
        self.attempt = self.throttles = 0
        self.last: AEPAPIError | None = None

    def begin(self) -> None:
        self.attempt += 1
        self.began = self.transport.clock()

    def no_answer(self, *, timed_out: bool, maybe_sent: bool = True) -> float:
        """After a timeout or a connection error; ``maybe_sent`` is False when the server cannot have seen it."""
        what = "timed out" if timed_out else "could not connect or the connection was reset"
        log.warning("%s %s: %s (attempt %d, timeout %.0f s)", self.method, self.path, what, self.attempt,
                    self.transport.timeout)
        message = f"{self.service} {self.method} {self.path} {what}"
        if not (self.idempotent or not maybe_sent):
            raise AmbiguousWriteError(message, timed_out=timed_out, service=self.service,
                                      attempts=self.attempt) from None
        self.last = AEPAPIError(message, service=self.service, attempts=self.attempt)
        return self._wait(None, throttled=False)

    def answered(self, response: requests.Response | httpx.Response, ok: tuple[int, ...]) -> float | None:
        """None when the answer is one of ``ok``; else the wait before the next attempt (or raise)."""
        status = response.status_code
        log.info("%s %s -> %d (%.2f s)", self.method, self.path, status, self.transport.clock() - self.began)
        if status in ok:
            return None
        error = response_error(response, self.transport.secrets, service=self.service, method=self.method,
                               path=self.path, attempt=self.attempt)
        if not _retryable(status, error.code):
            raise error
        if not self.idempotent and status != 429:
            # The server may have applied the write before failing: let the caller look it up.
            raise error.restated(f"{self.method} {self.path} failed with a server error; it may have been applied",
                                 AmbiguousWriteError)
        self.last = error
        self.throttles += status == 429
        return self._wait(parse_retry_after(response.headers.get("Retry-After")), throttled=status == 429)

    def _wait(self, wait: float | None, *, throttled: bool) -> float:
        t = self.transport
        seconds, give_up = retry_wait(t.retry, self.attempt, wait, t.clock() - self.start, t.rng,
                                      throttles=self.throttles, throttled=throttled)
        if seconds is None:
            base = self.last or AEPAPIError("request failed")
            raise base.restated(f"{base.summary}; gave up: {give_up}", attempts=self.attempt) from None
        log.info("%s %s: retrying in %.2f s", self.method, self.path, seconds)
        return seconds


#: The jitter's generator, one for all: seeding one reads the OS entropy pool, which a thousand triggers starting
#: together would pay inside the event loop.
_JITTER = random.Random()


@dataclass
class _Transport:
    """What both transports hold: the timeout, the retry policy, the secrets to scrub, the clock."""

    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    secrets: set[str] = field(default_factory=set)
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = _JITTER

    def add_secret(self, value: str | None) -> None:
        if value:
            self.secrets.add(value)


@dataclass
class HttpTransport(_Transport):
    """A ``requests`` session with the retry policy and error handling of the whole provider.

    :param timeout: seconds per request (connect and read)
    :param retry: the retry policy
    :param secrets: values to scrub from any error text (client secrets, tokens); add with :meth:`add_secret`
    :param clock: monotonic clock for the time budget (tests inject a fake)
    :param sleep: how to wait (tests inject a fake)
    :param session: the ``requests`` session
    """

    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)

    def request(
        self, method: str, url: str, *, service: str, idempotent: bool = True, headers: Mapping[str, str] | None = None,
        params: Any = None, json: Any = None, data: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 202, 204),
    ) -> requests.Response:
        """Send one logical request, retrying as the policy allows; return the response or raise."""
        attempts = _Attempts(self, method, url, service, idempotent)
        while True:
            attempts.begin()
            try:
                response = self.session.request(method, url, headers=dict(headers or {}), params=params, json=json,
                                                data=data, timeout=self.timeout, allow_redirects=False)
            except requests.ConnectionError as exc:
                wait = attempts.no_answer(timed_out=False, maybe_sent=not _never_sent(exc))
            except requests.Timeout:
                wait = attempts.no_answer(timed_out=True)
            else:
                answer_wait = attempts.answered(response, ok)
                if answer_wait is None:
                    return response
                wait = answer_wait
            self.sleep(wait)

    def error_from_response(
        self, response: requests.Response, service: str, method: str, path: str, attempt: int = 1
    ) -> AEPAPIError:
        """The error for a non-success answer, scrubbed of this transport's secrets."""
        return response_error(response, self.secrets, service=service, method=method, path=path, attempt=attempt)


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection was refused or unresolvable: the request never reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    text = repr(exc)
    return "NewConnectionError" in text or "NameResolutionError" in text or "Connection refused" in text


# A triggerer runs thousands of triggers in one event loop, so nothing here may block it or grow per trigger:
# transports without a client of their own share one ``httpx.AsyncClient`` per event loop, whose SSL context
# (a CA bundle load) is built once per process, in a worker thread, never inside the loop.
_ssl_context: ssl.SSLContext | None = None
_ssl_lock = threading.Lock()
_shared_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)
_shared_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()
#: Requests one shared client has in flight (and connections it keeps open): the triggers all talk to the same
#: two hosts, and httpcore scans its whole pool on each request and its whole queue when a connection frees up,
#: so a small pool and an asyncio semaphore in front of it (O(1) per waiting request) cost less.
MAX_IN_FLIGHT = 20
POOL_LIMITS = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT)


def _prepare() -> ssl.SSLContext:
    """What a first request would otherwise do inside the loop: build the SSL context and import the modules
    httpx imports on its first request."""
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


@dataclass
class AsyncHttpTransport(_Transport):
    """An ``httpx.AsyncClient`` with the provider's timeout, retry policy and error handling (repeatable requests).

    :param timeout: seconds per request
    :param retry: the retry policy (shared with the sync transport)
    :param secrets: values to scrub from any error text; add with :meth:`add_secret`
    :param clock: monotonic clock for the time budget
    :param sleep: how to wait (tests inject a fake)
    :param client: an httpx client of its own (tests pass one with a mock transport), closed by :meth:`aclose`;
        without one, the loop's shared client is used and left open for the other transports
    """

    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    client: httpx.AsyncClient | None = None

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()

    async def __aenter__(self) -> AsyncHttpTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def request(
        self, method: str, url: str, *, service: str, headers: Mapping[str, str] | None = None, params: Any = None,
        data: Mapping[str, str] | None = None, ok: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        """Send one logical (repeatable) request, retrying as the policy allows; return the response or raise."""
        client = self.client or await shared_client()
        slot: Any = (None if self.client else _shared_slots.get(asyncio.get_running_loop())) or contextlib.nullcontext()
        attempts = _Attempts(self, method, url, service, idempotent=True)
        while True:
            attempts.begin()
            try:
                async with slot:
                    response = await client.request(method, url, headers=dict(headers or {}), params=params,
                                                    data=data, timeout=self.timeout)
            except httpx.TimeoutException:
                wait = attempts.no_answer(timed_out=True)
            except httpx.TransportError:
                wait = attempts.no_answer(timed_out=False)
            else:
                answer_wait = attempts.answered(response, ok)
                if answer_wait is None:
                    return response
                wait = answer_wait
            await self.sleep(wait)
