"""The transport's retry rules, staged with ``responses`` and a fake clock (no real sleeping)."""

from __future__ import annotations

import email.utils

import pytest
import requests
import responses

from airflow_provider_zoho_aep.client.errors import AEPAPIError, AmbiguousWriteError
from airflow_provider_zoho_aep.client.http import HttpTransport, RetryPolicy, parse_retry_after

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
