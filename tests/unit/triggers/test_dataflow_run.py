"""AEPDataflowRunTrigger: JSON-only kwargs, the hook's async methods, one event, its own deadline."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from airflow_provider_zoho_aep.client import http as async_http
from airflow_provider_zoho_aep.hooks import aep as aep_base
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
        self.masked: list[Any] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/ims/token/v3":
            self.token_calls += 1
            return httpx.Response(200, json={"access_token": f"{TOKEN}-{self.token_calls}", "expires_in": 86399})
        assert request.url.path.startswith("/data/foundation/flowservice/runs")
        page = self.run_pages.pop(0) if len(self.run_pages) > 1 else self.run_pages[0]
        if isinstance(page, httpx.Response):
            return page
        if request.url.path.endswith("/runs"):
            return httpx.Response(200, json={"items": page})
        return httpx.Response(200, json={"items": page[:1]})


def masked_strings(aep: FakeAEP) -> list[Any]:
    """What the provider masked: everything but Airflow's own masking of the Connection's extra as it reads it.

    Airflow 3.1+ masks the extra once as it reads the Connection (once per process, see the many-triggers test);
    3.0 does not mask it at all."""
    rest = list(aep.masked)
    assert rest.count(CONN["extra"]) <= 1
    if CONN["extra"] in rest:
        rest.remove(CONN["extra"])
    return rest


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Callable[[list[Any]], FakeAEP]:
    set_connection(monkeypatch, "aep_trigger", CONN)
    aep_base.forget_masked()

    def install(pages: list[Any]) -> FakeAEP:
        aep = FakeAEP(pages)
        client = httpx.AsyncClient(transport=httpx.MockTransport(aep.handler))
        real = async_http.AsyncHttpTransport

        async def no_wait(_: float) -> None:
            return None

        async def shared() -> httpx.AsyncClient:
            return client

        def transport(**kwargs: Any) -> async_http.AsyncHttpTransport:
            return real(sleep=no_wait, **kwargs)

        # The hook builds its transport without a client of its own: the loop's shared one is the fake.
        monkeypatch.setattr(async_http, "shared_client", shared)
        monkeypatch.setattr(async_http, "AsyncHttpTransport", transport)
        import airflow.sdk.log

        async def amask(secret: Any, name: str | None = None) -> None:
            aep.masked.append(secret)

        monkeypatch.setattr(airflow.sdk.log, "amask_secret", amask, raising=False)
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
    yield install
    aep_base.forget_masked()


def trigger(end_in: float = 30.0, poll: float = 0.001, run_id: str | None = None) -> AEPDataflowRunTrigger:
    return AEPDataflowRunTrigger(flow_id="f1", aep_conn_id="aep_trigger", poll_interval=poll,
                                 end_time=time.time() + end_in, run_id=run_id)


async def events_of(t: AEPDataflowRunTrigger) -> list[dict[str, Any]]:
    return [event.payload async for event in t.run()]


def test_serialize_round_trips_through_json() -> None:
    t = AEPDataflowRunTrigger(flow_id="f1", aep_conn_id="aep_default", poll_interval=30, end_time=1.7e9,
                              run_id="r9")
    classpath, kwargs = t.serialize()
    assert classpath == "airflow_provider_zoho_aep.triggers.dataflow_run.AEPDataflowRunTrigger"
    assert kwargs == {"flow_id": "f1", "aep_conn_id": "aep_default", "poll_interval": 30.0, "end_time": 1.7e9,
                      "run_id": "r9"}
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
    assert masked_strings(aep) == [SECRET, f"{TOKEN}-1"]


async def test_waits_for_the_given_run_by_id(fake: Callable[[list[Any]], FakeAEP]) -> None:
    aep = fake([[run_item("queued", "r2")], [run_item("inProgress", "r2")], [run_item("success", "r2")]])
    (event,) = await events_of(trigger(run_id="r2"))
    assert event["status"] == "success" and event["run"]["run_id"] == "r2"
    paths = {r.url.path for r in aep.requests if "flowservice" in r.url.path}
    assert paths == {"/data/foundation/flowservice/runs/r2"}


async def test_failed_run_event_carries_the_errors_where_adobe_puts_them(fake: Callable[[list[Any]], FakeAEP]
                                                                        ) -> None:
    failed = run_item("Failed")
    failed["metrics"]["statusSummary"]["extensions"] = {"errors": [{"code": "CONNECTOR-2001-500", "message": "boom"}]}
    failed["metrics"]["recordSummary"]["failedInfo"] = [{"code": "MAPPER-3700-400", "message": "bad row", "count": 3}]
    fake([[failed]])
    (event,) = await events_of(trigger())
    assert event["status"] == "failed"
    assert "CONNECTOR-2001-500: boom" in event["message"]
    assert "MAPPER-3700-400: bad row (3 records)" in event["message"]


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


async def test_a_transient_error_is_not_final_before_the_deadline(fake: Callable[[list[Any]], FakeAEP]) -> None:
    # More 503s than one request's retry budget: the transport gives up, the trigger polls on and sees the end.
    aep = fake([*[httpx.Response(503)] * 9, [run_item("success")]])
    (event,) = await events_of(trigger())
    assert event["status"] == "success"
    assert len([r for r in aep.requests if r.url.path.endswith("/runs")]) == 10


async def test_a_transient_error_at_the_deadline_is_a_timeout_naming_it(fake: Callable[[list[Any]], FakeAEP]
                                                                       ) -> None:
    fake([httpx.Response(503)])
    (event,) = await events_of(trigger(end_in=0.05, poll=0.01))
    assert event["status"] == "timeout" and "503" in event["message"]


async def test_many_triggers_in_one_loop_share_one_token_masked_once(fake: Callable[[list[Any]], FakeAEP]) -> None:
    aep = fake([[run_item("inProgress")], [run_item("success")]])
    events = await asyncio.gather(*(events_of(trigger(poll=0.01)) for _ in range(50)))
    assert all(e == [events[0][0]] and e[0]["status"] == "success" for e in events)
    assert aep.token_calls == 1
    assert masked_strings(aep) == [SECRET, f"{TOKEN}-1"]


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
