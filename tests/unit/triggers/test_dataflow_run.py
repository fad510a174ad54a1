"""AEPDataflowRunTrigger: JSON-only kwargs, async connection access, one event, its own deadline."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from airflow_provider_zoho_aep.client import async_http
from airflow_provider_zoho_aep.triggers import dataflow_run
from airflow_provider_zoho_aep.triggers.dataflow_run import AEPDataflowRunTrigger
from airflow_provider_zoho_aep.version_compat import BaseHook
from tests.conftest import set_connection

SECRET = "trigger-client-secret"
TOKEN = "ims-token-for-the-trigger"
HOST = "https://platform.example"
CONN = {
    "conn_type": "adobe_experience_platform",
    "login": "client-id",
    "password": SECRET,
    "host": HOST,
    "extra": {"ims_org_id": "ORG@AdobeOrg", "ims_token_url": f"{HOST}/ims/token/v3"},
}


def run_item(status: str, run_id: str = "r1", created: int = 1, **extra: Any) -> dict[str, Any]:
    return {"id": run_id, "flowId": "f1", "createdAt": created,
            "metrics": {"statusSummary": {"status": status},
                        "recordSummary": {"inputRecordCount": 7, "outputRecordCount": 7, "failedRecordCount": 0}},
            **extra}


class FakeAEP:
    """A scripted IMS + runs endpoint behind an httpx MockTransport."""

    def __init__(self, run_pages: list[Any]) -> None:
        self.run_pages = run_pages
        self.requests: list[httpx.Request] = []
        self.token_calls = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/ims/token/v3":
            self.token_calls += 1
            return httpx.Response(200, json={"access_token": f"{TOKEN}-{self.token_calls}", "expires_in": 86399})
        assert request.url.path == "/data/foundation/flowservice/runs"
        page = self.run_pages.pop(0) if len(self.run_pages) > 1 else self.run_pages[0]
        if isinstance(page, httpx.Response):
            return page
        return httpx.Response(200, json={"items": page})


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Callable[[list[Any]], FakeAEP]:
    set_connection(monkeypatch, "aep_trigger", CONN)
    masked: list[Any] = []

    async def amask(secret: Any, name: str | None = None) -> None:
        masked.append(secret)

    def install(pages: list[Any]) -> FakeAEP:
        aep = FakeAEP(pages)
        real = async_http.AsyncHttpTransport

        def factory(**kwargs: Any) -> async_http.AsyncHttpTransport:
            async def no_wait(_: float) -> None:
                return None

            client = httpx.AsyncClient(transport=httpx.MockTransport(aep.handler))
            return real(client=client, sleep=no_wait, **kwargs)

        monkeypatch.setattr(dataflow_run, "AsyncHttpTransport", factory)
        import airflow.sdk.log

        # airflow.sdk.log has amask_secret from 3.3 on; the compat module calls it whenever it is there.
        monkeypatch.setattr(airflow.sdk.log, "amask_secret", amask, raising=False)
        aep.masked = masked  # type: ignore[attr-defined]
        return aep

    # The sync API must never run on the event loop's thread (before Airflow 3.3.2 the compat module runs it
    # in a worker thread, where blocking is harmless).
    real_get_connection = BaseHook.get_connection

    def guarded(cls: type, *args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return real_get_connection(*args, **kwargs)
        raise AssertionError("sync get_connection() called on the trigger's event loop")

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(guarded))
    return install


def trigger(end_in: float = 30.0, poll: float = 0.001) -> AEPDataflowRunTrigger:
    return AEPDataflowRunTrigger(flow_id="f1", aep_conn_id="aep_trigger", poll_interval=poll,
                                 end_time=time.time() + end_in)


async def events_of(t: AEPDataflowRunTrigger) -> list[dict[str, Any]]:
    return [event.payload async for event in t.run()]


def test_serialize_round_trips_through_json() -> None:
    t = AEPDataflowRunTrigger(flow_id="f1", aep_conn_id="aep_default", poll_interval=30, end_time=1.7e9)
    classpath, kwargs = t.serialize()
    assert classpath == "airflow_provider_zoho_aep.triggers.dataflow_run.AEPDataflowRunTrigger"
    assert kwargs == {"flow_id": "f1", "aep_conn_id": "aep_default", "poll_interval": 30.0, "end_time": 1.7e9}
    rebuilt = AEPDataflowRunTrigger(**json.loads(json.dumps(kwargs)))
    assert rebuilt.serialize() == (classpath, kwargs)


async def test_waits_through_running_statuses_to_one_success_event(fake: Callable[[list[Any]], FakeAEP]) -> None:
    aep = fake([[], [run_item("queued")], [run_item("inProgress")], [run_item("success")]])
    events = await events_of(trigger())
    assert events == [{"status": "success", "flow_id": "f1", "run": {
        "run_id": "r1", "status": "success", "input_record_count": 7, "output_record_count": 7,
        "failed_record_count": 0,
    }}]
    runs_calls = [r for r in aep.requests if r.url.path.endswith("/runs")]
    assert len(runs_calls) == 4
    assert runs_calls[0].url.params.get_list("property") == ["flowId==f1"]
    assert runs_calls[0].url.params["orderby"] == "-createdAt"
    headers = runs_calls[0].headers
    assert headers["x-api-key"] == "client-id" and headers["x-sandbox-name"] == "prod"
    assert aep.token_calls == 1
    assert SECRET in aep.masked and f"{TOKEN}-1" in aep.masked  # type: ignore[attr-defined]


async def test_failed_run_event_carries_the_errors(fake: Callable[[list[Any]], FakeAEP]) -> None:
    failed = run_item("Failed")
    failed["activities"] = [{"statusSummary": {"errors": [{"code": "CONNECTOR-2001-500", "message": "boom"}]}}]
    fake([[failed]])
    (event,) = await events_of(trigger())
    assert event["status"] == "failed"
    assert "CONNECTOR-2001-500: boom" in event["message"]


async def test_unknown_status_fails_closed(fake: Callable[[list[Any]], FakeAEP]) -> None:
    fake([[run_item("WeirdNewState")]])
    (event,) = await events_of(trigger())
    assert event["status"] == "failed" and "'WeirdNewState'" in event["message"]


async def test_own_deadline_gives_a_timeout_event(fake: Callable[[list[Any]], FakeAEP]) -> None:
    fake([[run_item("inProgress")]])
    (event,) = await events_of(trigger(end_in=0.05, poll=0.01))
    assert event["status"] == "timeout" and event["run_id"] == "r1"
    assert "run r1 has not finished" in event["message"]


async def test_retries_429_and_5xx(fake: Callable[[list[Any]], FakeAEP]) -> None:
    aep = fake([
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.Response(503),
        [run_item("success")],
    ])
    (event,) = await events_of(trigger())
    assert event["status"] == "success"
    assert len([r for r in aep.requests if r.url.path.endswith("/runs")]) == 3


async def test_expired_token_is_refreshed_once(fake: Callable[[list[Any]], FakeAEP]) -> None:
    aep = fake([httpx.Response(401, json={"error_code": "401013", "message": "Oauth token is not valid"}),
                [run_item("success")]])
    (event,) = await events_of(trigger())
    assert event["status"] == "success" and aep.token_calls == 2


async def test_api_error_is_one_error_event_without_secrets(fake: Callable[[list[Any]], FakeAEP]) -> None:
    detail = f"forbidden for {SECRET} and {TOKEN}-1"
    fake([httpx.Response(403, json={"type": "https://x/FLOW-2121-403", "title": "Forbidden",
                                    "report": {"detailed-message": detail}})])
    events = await events_of(trigger())
    assert len(events) == 1 and events[0]["status"] == "error"
    assert "FLOW-2121-403" in events[0]["message"]
    text = json.dumps(events)
    assert SECRET not in text and TOKEN not in text


async def test_bad_connection_is_an_error_event(monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(monkeypatch, "aep_trigger", {**CONN, "extra": {}})
    (event,) = await events_of(trigger())
    assert event["status"] == "error" and "extra.ims_org_id" in event["message"]
