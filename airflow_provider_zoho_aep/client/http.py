"""The one place where HTTP happens: timeouts, retries, backoff, error parsing.

Everything that talks to IMS, Flow Service or Zoho goes through :class:`HttpTransport.request`. It

* always sends a timeout;
* retries 429, 500, 502, 503, 504 and connection errors, honouring ``Retry-After`` (seconds or an HTTP date)
  and otherwise backing off exponentially with full jitter, bounded in attempts and in total time;
* never retries a non-idempotent request (a create) once it may have reached the server: a timeout, a reset
  after sending, or a 5xx raises :class:`AmbiguousWriteError` so the caller can look the resource up first.
  A 429 or a refused connection is safe to retry, because the server did not process the request;
* raises :class:`AEPAPIError` for every other failure, with Adobe's code and request ID and no secret;
* logs one line per request (method, path, status, time) and never a body.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from airflow_provider_zoho_aep.client.errors import (
    AEPAPIError,
    AmbiguousWriteError,
    parse_error_body,
    redact,
)

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
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now())


@dataclass
class HttpTransport:
    """A ``requests`` session with the retry policy and error handling of the whole provider.

    :param timeout: seconds per request (connect and read)
    :param retry: the retry policy
    :param secrets: values to scrub from any error text (client secrets, tokens); add with :meth:`add_secret`
    :param sleep: how to wait (tests inject a fake)
    :param clock: monotonic clock for the time budget (tests inject a fake)
    """

    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    secrets: set[str] = field(default_factory=set)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    session: requests.Session = field(default_factory=requests.Session)
    rng: random.Random = field(default_factory=random.Random)

    def add_secret(self, value: str | None) -> None:
        if value:
            self.secrets.add(value)

    def request(
        self,
        method: str,
        url: str,
        *,
        service: str,
        idempotent: bool = True,
        headers: Mapping[str, str] | None = None,
        params: Any = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 202, 204),
    ) -> requests.Response:
        """Send one logical request, retrying as the policy allows; return the response or raise."""
        path = urlsplit(url).path
        start = self.clock()
        attempt = throttles = 0
        last_error: AEPAPIError | None = None
        while True:
            attempt += 1
            throttled = False
            began = self.clock()
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=dict(headers or {}),
                    params=params,
                    json=json,
                    data=data,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.ConnectionError as exc:
                refused = _never_sent(exc)
                log.warning("%s %s: connection failed (attempt %d)", method, path, attempt)
                last_error = self._network_error(method, path, service, exc, attempt, idempotent or refused)
                if not (idempotent or refused):
                    raise last_error from None
                wait = None
            except requests.Timeout:
                log.warning("%s %s: no answer within %.0f s (attempt %d)", method, path, self.timeout, attempt)
                last_error = self._network_error(method, path, service, None, attempt, idempotent)
                if not idempotent:
                    raise last_error from None
                wait = None
            else:
                elapsed = self.clock() - began
                log.info("%s %s -> %d (%.2f s)", method, path, response.status_code, elapsed)
                if response.status_code in ok:
                    return response
                error = self.error_from_response(response, service, method, path, attempt)
                if not _retryable(response.status_code, error.code):
                    raise error
                if not idempotent and response.status_code != 429:
                    # The server may have applied the write before failing: let the caller look it up.
                    raise error.restated(
                        f"{method} {path} failed with a server error; it may have been applied", AmbiguousWriteError
                    )
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
            self.sleep(wait)

    def error_from_response(
        self, response: requests.Response, service: str, method: str, path: str, attempt: int = 1
    ) -> AEPAPIError:
        """Build the error for a non-success answer; the body is parsed, scrubbed, and never logged."""
        try:
            body = response.json()
        except ValueError:
            body = None
        return api_error(
            response.status_code, body, response.headers.get("x-request-id"), self.secrets,
            service=service, method=method, path=path, attempt=attempt,
        )

    def _network_error(
        self,
        method: str,
        path: str,
        service: str,
        exc: Exception | None,
        attempt: int,
        safe_to_retry: bool,
    ) -> AEPAPIError:
        return network_error(service, method, path, timed_out=exc is None, attempt=attempt,
                             safe_to_retry=safe_to_retry)


# -- the retry and error rules, shared with the async transport (client/async_http.py) -------------------


def _retryable(status: int, code: str | None) -> bool:
    """True when an answer with this status / Adobe code is worth another attempt."""
    return status in RETRYABLE_STATUSES or bool(code and any(c in code for c in RETRYABLE_CODES))


def retry_wait(
    policy: RetryPolicy,
    attempt: int,
    wait: float | None,
    elapsed: float,
    rng: random.Random,
    *,
    throttles: int = 0,
    throttled: bool = False,
) -> tuple[float, None] | tuple[None, str]:
    """After failed attempt number ``attempt``: ``(seconds to wait, None)``, or ``(None, why we give up)``.

    A 429 was refused before any processing, so 429s do not use up ``max_attempts``: they are bounded by the
    time budget (and a wide cap of ten times ``max_attempts``). Their ``Retry-After`` gets up to 100 % (at most
    1 s) of random jitter on top, so clients throttled at the same moment do not all come back at the same
    moment: gateways send whole seconds, and a crowd waking together is throttled together again.

    :param wait: the server's ``Retry-After`` in seconds, or None to back off exponentially
    :param elapsed: seconds spent on this request so far, waits included
    :param throttles: how many of the ``attempt`` attempts were answered 429
    :param throttled: the last attempt was answered 429
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


def api_error(
    status: int,
    body: Any,
    header_request_id: str | None,
    secrets: set[str],
    *,
    service: str,
    method: str,
    path: str,
    attempt: int = 1,
) -> AEPAPIError:
    """The error for a non-success answer: Adobe's fields parsed from ``body`` and scrubbed of ``secrets``."""
    fields = {k: (redact(v, secrets) if v else v) for k, v in parse_error_body(body).items()}
    return AEPAPIError(
        f"{service} {method} {path} failed",
        status=status,
        code=fields["code"],
        title=fields["title"],
        detail=fields["detail"],
        request_id=fields["request_id"] or header_request_id,
        service=service,
        attempts=attempt,
    )


def network_error(
    service: str, method: str, path: str, *, timed_out: bool, attempt: int, safe_to_retry: bool
) -> AEPAPIError:
    """The error for a request that got no answer (timeout, refused, reset)."""
    what = "timed out" if timed_out else "could not connect or the connection was reset"
    message = f"{service} {method} {path} {what}"
    if safe_to_retry:
        return AEPAPIError(message, service=service, attempts=attempt)
    return AmbiguousWriteError(message, timed_out=timed_out, service=service, attempts=attempt)


def exhausted_error(last: AEPAPIError | None, attempts: int, why: str) -> AEPAPIError:
    """The final error once the retry policy gives up, keeping the last answer's fields."""
    base = last or AEPAPIError("request failed")
    return base.restated(f"{base.summary}; gave up: {why}", attempts=attempts)


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection was refused or unresolvable: the request never reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    text = repr(exc)
    return "NewConnectionError" in text or "NameResolutionError" in text or "Connection refused" in text
