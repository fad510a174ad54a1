"""The async transport follows the same retry and error rules as the sync one."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from airflow_provider_zoho_aep.client.async_http import AsyncHttpTransport
from airflow_provider_zoho_aep.client.errors import AEPAPIError
from airflow_provider_zoho_aep.client.http import RetryPolicy

URL = "https://platform.example/data/foundation/flowservice/runs"


def transport(
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
    t, waits, seen = transport([httpx.Response(200, json={"items": []})])
    response = await t.request("GET", URL, service="Flow Service", params=[("property", "flowId==f")])
    assert response.json() == {"items": []}
    assert waits == [] and seen[0].url.params["property"] == "flowId==f"


async def test_429_honours_retry_after_then_succeeds() -> None:
    t, waits, _ = transport([
        httpx.Response(429, headers={"Retry-After": "2"}, json={"error_code": "429050", "message": "slow down"}),
        httpx.Response(200, json={"items": []}),
    ])
    await t.request("GET", URL, service="Flow Service")
    assert len(waits) == 1 and 2.0 <= waits[0] <= 3.0  # Retry-After plus up to 1 s of jitter


async def test_5xx_and_connection_errors_back_off() -> None:
    t, waits, seen = transport([
        httpx.Response(503),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={}),
    ], RetryPolicy(backoff_base=0.5, backoff_max=30))
    await t.request("GET", URL, service="Flow Service")
    assert len(seen) == 4 and len(waits) == 3
    assert all(0 <= w <= 0.5 * 2 ** i for i, w in enumerate(waits))


async def test_client_errors_are_not_retried_and_carry_adobe_fields() -> None:
    t, waits, _ = transport([flow_error(404, "FLOW-1439-404", "flows f not found")])
    with pytest.raises(AEPAPIError) as info:
        await t.request("GET", URL, service="Flow Service")
    err = info.value
    assert (err.status, err.code, err.detail, err.request_id) == (404, "FLOW-1439-404", "flows f not found", "req-1")
    assert waits == []


async def test_gives_up_after_the_attempt_limit() -> None:
    t, waits, seen = transport([httpx.Response(502)] * 3, RetryPolicy(max_attempts=3))
    with pytest.raises(AEPAPIError, match="gave up: retry limit reached") as info:
        await t.request("GET", URL, service="Flow Service")
    assert info.value.status == 502 and info.value.attempts == 3
    assert len(seen) == 3 and len(waits) == 2


async def test_a_long_retry_after_ends_the_retries() -> None:
    t, _, seen = transport([httpx.Response(429, headers={"Retry-After": "3600"})], RetryPolicy(backoff_max=30))
    with pytest.raises(AEPAPIError, match="exceeds backoff_max"):
        await t.request("GET", URL, service="Flow Service")
    assert len(seen) == 1


async def test_time_budget_is_respected() -> None:
    answers: list[httpx.Response | Exception] = [httpx.Response(503, headers={"Retry-After": "20"})] * 10
    t, waits, _ = transport(answers, RetryPolicy(max_attempts=10, max_total_seconds=50))
    with pytest.raises(AEPAPIError, match="time budget"):
        await t.request("GET", URL, service="Flow Service")
    assert waits == [20.0, 20.0]


async def test_secrets_are_scrubbed_from_errors() -> None:
    t, _, _ = transport([flow_error(400, "FLOW-1000-400", "bad value super-secret-value in body")])
    t.add_secret("super-secret-value")
    with pytest.raises(AEPAPIError) as info:
        await t.request("GET", URL, service="Flow Service")
    assert "super-secret-value" not in str(info.value)
    assert "super-secret-value" not in json.dumps(info.value.__dict__, default=str)


async def test_same_rules_as_the_sync_transport() -> None:
    from airflow_provider_zoho_aep.client import async_http, http

    assert async_http._retryable is http._retryable
    assert async_http.retry_wait is http.retry_wait
    assert async_http.parse_retry_after is http.parse_retry_after


async def test_context_manager_closes_the_client() -> None:
    t, _, _ = transport([])
    async with t:
        pass
    assert t.client.is_closed
