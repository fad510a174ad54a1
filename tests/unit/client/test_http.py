"""The transports' retry rules: the sync one staged with ``responses``, the async one with httpx's
MockTransport, each with a fake clock (no real sleeping)."""

from __future__ import annotations

import email.utils
import json
from collections.abc import Callable

import httpx
import pytest
import requests
import responses

from airflow_provider_zoho_aep.client.errors import AEPAPIError, AmbiguousWriteError
from airflow_provider_zoho_aep.client.http import AsyncHttpTransport, HttpTransport, RetryPolicy, parse_retry_after

URL = "https://platform.adobe.io/data/foundation/flowservice/connections"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def transport(clock: FakeClock, **policy: float) -> HttpTransport:
    return HttpTransport(timeout=5, retry=RetryPolicy(**policy), sleep=clock.sleep, clock=clock)


@responses.activate
def test_retries_503_then_succeeds_with_backoff():
    clock = FakeClock()
    responses.get(URL, status=503, json={"type": "x/FLOW-1103-503"})
    responses.get(URL, status=200, json={"items": []})
    answer = transport(clock).request("GET", URL, service="Flow Service")
    assert answer.status_code == 200
    assert len(responses.calls) == 2 and len(clock.waits) == 1 and 0 <= clock.waits[0] <= 0.5


@responses.activate
def test_honours_retry_after_seconds_and_http_date():
    clock = FakeClock()
    responses.get(URL, status=429, headers={"Retry-After": "3"})
    date = email.utils.formatdate(timeval=1_000_000_000 + 7, usegmt=True)
    responses.get(URL, status=429, headers={"Retry-After": date})
    responses.get(URL, status=200, json={})
    t = transport(clock)
    import airflow_provider_zoho_aep.client.http as http

    real = http.parse_retry_after
    http.parse_retry_after = lambda v: real(v, now=lambda: 1_000_000_000)
    try:
        t.request("GET", URL, service="Flow Service")
    finally:
        http.parse_retry_after = real
    # Each 429's Retry-After, plus up to 100 % (at most 1 s) of jitter.
    assert len(clock.waits) == 2 and 3.0 <= clock.waits[0] <= 4.0 and 6.0 <= clock.waits[1] <= 9.0


def test_parse_retry_after_variants():
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.25") == 0.25
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    past = email.utils.formatdate(timeval=0, usegmt=True)
    assert parse_retry_after(past) == 0.0


@responses.activate
def test_gives_up_after_max_attempts_with_last_adobe_error():
    clock = FakeClock()
    for _ in range(3):
        responses.get(URL, status=502, json={"type": "https://ns.adobe.com/aep/errors/FLOW-1102-500",
                                             "title": "Bad gateway"})
    with pytest.raises(AEPAPIError) as info:
        transport(clock, max_attempts=3).request("GET", URL, service="Flow Service")
    assert info.value.attempts == 3 and info.value.status == 502 and info.value.code == "FLOW-1102-500"
    assert "retry limit reached" in str(info.value) and len(responses.calls) == 3


@responses.activate
def test_total_time_budget_bounds_the_retries():
    clock = FakeClock()
    responses.get(URL, status=429, headers={"Retry-After": "20"})
    with pytest.raises(AEPAPIError, match="time budget"):
        transport(clock, max_total_seconds=30).request("GET", URL, service="Flow Service")
    assert len(responses.calls) == 2 and len(clock.waits) == 1 and 20.0 <= clock.waits[0] <= 21.0


@responses.activate
def test_retry_after_beyond_backoff_max_stops_at_once():
    clock = FakeClock()
    responses.get(URL, status=429, headers={"Retry-After": "3600"})
    with pytest.raises(AEPAPIError, match="exceeds backoff_max"):
        transport(clock).request("GET", URL, service="Flow Service")
    assert clock.waits == []


@responses.activate
def test_a_create_is_never_retried_after_a_server_error():
    clock = FakeClock()
    responses.post(URL, status=500, json={"type": "https://ns.adobe.com/aep/errors/FLOW-1102-500"})
    with pytest.raises(AmbiguousWriteError) as info:
        transport(clock).request("POST", URL, service="Flow Service", idempotent=False, json={})
    assert len(responses.calls) == 1 and info.value.code == "FLOW-1102-500"


@responses.activate
def test_a_create_is_retried_after_429_because_nothing_was_applied():
    clock = FakeClock()
    responses.post(URL, status=429, headers={"Retry-After": "1"})
    responses.post(URL, status=201, json={"id": "x"})
    answer = transport(clock).request("POST", URL, service="Flow Service", idempotent=False, json={})
    assert answer.status_code == 201 and len(clock.waits) == 1 and 1.0 <= clock.waits[0] <= 2.0


@responses.activate
def test_a_create_that_times_out_is_ambiguous():
    responses.post(URL, body=requests.ReadTimeout("slow"))
    with pytest.raises(AmbiguousWriteError, match="timed out"):
        transport(FakeClock()).request("POST", URL, service="Flow Service", idempotent=False, json={})
    assert len(responses.calls) == 1


@responses.activate
def test_a_refused_connection_is_retried_even_for_a_create():
    responses.post(URL, body=requests.ConnectionError("NewConnectionError: Connection refused"))
    responses.post(URL, status=201, json={"id": "x"})
    answer = transport(FakeClock()).request("POST", URL, service="Flow Service", idempotent=False, json={})
    assert answer.status_code == 201


@responses.activate
def test_other_4xx_fail_at_once_and_secrets_are_scrubbed_from_the_error():
    responses.get(URL, status=400, json={"title": "Bad", "detail": "value s3cr3t-value is wrong"})
    t = transport(FakeClock())
    t.add_secret("s3cr3t-value")
    with pytest.raises(AEPAPIError) as info:
        t.request("GET", URL, service="Flow Service")
    assert "s3cr3t-value" not in str(info.value) and "***" in str(info.value)
    assert len(responses.calls) == 1


def test_every_request_carries_a_timeout(monkeypatch):
    seen = {}

    def fake_request(self, method, url, **kwargs):
        seen.update(kwargs)
        resp = requests.Response()
        resp.status_code = 200
        return resp

    monkeypatch.setattr(requests.Session, "request", fake_request)
    HttpTransport(timeout=7).request("GET", URL, service="Flow Service")
    assert seen["timeout"] == 7 and seen["allow_redirects"] is False


@responses.activate
def test_429s_do_not_use_up_the_attempts_only_the_time_budget():
    clock = FakeClock()
    for _ in range(5):
        responses.get(URL, status=429, headers={"Retry-After": "0"})
    responses.get(URL, status=200, json={})
    answer = transport(clock, max_attempts=2).request("GET", URL, service="Flow Service")
    assert answer.status_code == 200 and len(responses.calls) == 6


@responses.activate
def test_other_failures_still_count_after_429s():
    clock = FakeClock()
    responses.get(URL, status=429, headers={"Retry-After": "0"})
    responses.get(URL, status=503)
    responses.get(URL, status=503)
    with pytest.raises(AEPAPIError, match="retry limit reached"):
        transport(clock, max_attempts=2).request("GET", URL, service="Flow Service")
    assert len(responses.calls) == 3


def test_clients_throttled_together_come_back_spread_out():
    import random

    from airflow_provider_zoho_aep.client.http import retry_wait

    waits = [retry_wait(RetryPolicy(), 1, 1.0, 0.0, random.Random(seed), throttles=1, throttled=True)[0]
             for seed in range(20)]
    assert all(1.0 <= w <= 2.0 for w in waits)  # type: ignore[operator]
    assert len(set(waits)) == 20


# -- the async transport ---------------------------------------------------------------------------------

ASYNC_URL = "https://platform.example/data/foundation/flowservice/runs"


def async_transport(
    answers: list[httpx.Response | Exception], policy: RetryPolicy | None = None
) -> tuple[AsyncHttpTransport, list[float], list[httpx.Request]]:
    waits: list[float] = []
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    clock: Callable[[], float] = lambda: sum(waits)  # noqa: E731 - time passes only while "sleeping"
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return (
        AsyncHttpTransport(timeout=5, retry=policy or RetryPolicy(), sleep=sleep, clock=clock, client=client),
        waits,
        seen,
    )


def flow_error(status: int, code: str, detail: str) -> httpx.Response:
    body = {"type": f"https://ns.adobe.com/aep/errors/{code}", "title": "Error", "status": status,
            "report": {"detailed-message": detail, "request-id": "req-1"}}
    return httpx.Response(status, json=body)


async def test_success_passes_through() -> None:
    t, waits, seen = async_transport([httpx.Response(200, json={"items": []})])
    response = await t.request("GET", ASYNC_URL, service="Flow Service", params=[("property", "flowId==f")])
    assert response.json() == {"items": []}
    assert waits == [] and seen[0].url.params["property"] == "flowId==f"


async def test_429_honours_retry_after_then_succeeds() -> None:
    t, waits, _ = async_transport([
        httpx.Response(429, headers={"Retry-After": "2"}, json={"error_code": "429050", "message": "slow down"}),
        httpx.Response(200, json={"items": []}),
    ])
    await t.request("GET", ASYNC_URL, service="Flow Service")
    assert len(waits) == 1 and 2.0 <= waits[0] <= 3.0  # Retry-After plus up to 1 s of jitter


async def test_5xx_and_connection_errors_back_off() -> None:
    t, waits, seen = async_transport([
        httpx.Response(503),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={}),
    ], RetryPolicy(backoff_base=0.5, backoff_max=30))
    await t.request("GET", ASYNC_URL, service="Flow Service")
    assert len(seen) == 4 and len(waits) == 3
    assert all(0 <= w <= 0.5 * 2 ** i for i, w in enumerate(waits))


async def test_client_errors_are_not_retried_and_carry_adobe_fields() -> None:
    t, waits, _ = async_transport([flow_error(404, "FLOW-1439-404", "flows f not found")])
    with pytest.raises(AEPAPIError) as info:
        await t.request("GET", ASYNC_URL, service="Flow Service")
    err = info.value
    assert (err.status, err.code, err.detail, err.request_id) == (404, "FLOW-1439-404", "flows f not found", "req-1")
    assert waits == []


async def test_gives_up_after_the_attempt_limit() -> None:
    t, waits, seen = async_transport([httpx.Response(502)] * 3, RetryPolicy(max_attempts=3))
    with pytest.raises(AEPAPIError, match="gave up: retry limit reached") as info:
        await t.request("GET", ASYNC_URL, service="Flow Service")
    assert info.value.status == 502 and info.value.attempts == 3
    assert len(seen) == 3 and len(waits) == 2


async def test_a_long_retry_after_ends_the_retries() -> None:
    t, _, seen = async_transport([httpx.Response(429, headers={"Retry-After": "3600"})], RetryPolicy(backoff_max=30))
    with pytest.raises(AEPAPIError, match="exceeds backoff_max"):
        await t.request("GET", ASYNC_URL, service="Flow Service")
    assert len(seen) == 1


async def test_time_budget_is_respected() -> None:
    answers: list[httpx.Response | Exception] = [httpx.Response(503, headers={"Retry-After": "20"})] * 10
    t, waits, _ = async_transport(answers, RetryPolicy(max_attempts=10, max_total_seconds=50))
    with pytest.raises(AEPAPIError, match="time budget"):
        await t.request("GET", ASYNC_URL, service="Flow Service")
    assert waits == [20.0, 20.0]


async def test_secrets_are_scrubbed_from_errors() -> None:
    t, _, _ = async_transport([flow_error(400, "FLOW-1000-400", "bad value super-secret-value in body")])
    t.add_secret("super-secret-value")
    with pytest.raises(AEPAPIError) as info:
        await t.request("GET", ASYNC_URL, service="Flow Service")
    assert "super-secret-value" not in str(info.value)
    assert "super-secret-value" not in json.dumps(info.value.__dict__, default=str)


async def test_context_manager_closes_the_client() -> None:
    t, _, _ = async_transport([])
    async with t:
        pass
    assert t.client.is_closed
