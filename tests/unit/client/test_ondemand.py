"""On-demand runs, idempotent per window, against a scripted Flow Service."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_zoho_aep.client.errors import AEPAPIError, AmbiguousWriteError, ResourceExistsError
from airflow_provider_zoho_aep.client.ondemand import start_run
from airflow_provider_zoho_aep.client.windows import Window, run_params

WINDOW = Window(datetime(2026, 1, 2, tzinfo=timezone.utc), datetime(2026, 1, 2, 1, tzinfo=timezone.utc))
OTHER = Window(datetime(2026, 1, 2, 1, tzinfo=timezone.utc), datetime(2026, 1, 2, 2, tzinfo=timezone.utc))


def item(run_id: str, status: str | None, window: Window = WINDOW, created: int = 1) -> dict[str, Any]:
    return {"id": run_id, "flowId": "f1", "createdAt": created, "params": run_params(window),
            "metrics": {"statusSummary": {"status": status} if status else {}}}


class Answer:
    def __init__(self, body: Any) -> None:
        self.body = body

    def json(self) -> Any:
        return self.body


class Transport:
    timeout = 7.0

    def __init__(self) -> None:
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


class FakeFlowService:
    def __init__(self, runs: list[dict[str, Any]], post_failures: list[str] | None = None) -> None:
        self.runs = list(runs)
        self.post_failures = list(post_failures or [])
        self.posts: list[Any] = []
        self.transport = Transport()

    def list(self, collection: str, filters: dict[str, str], **kwargs: Any) -> list[dict[str, Any]]:
        assert collection == "runs" and filters == {"flowId": "f1"} and kwargs["orderby"] == "-createdAt"
        return sorted(self.runs, key=lambda r: r["createdAt"], reverse=True)

    def request(self, method: str, path: str, **kwargs: Any) -> Answer:
        assert (method, path, kwargs["idempotent"]) == ("POST", "/runs", False)
        self.posts.append(kwargs["json"])
        failure = self.post_failures.pop(0) if self.post_failures else None
        new = item(f"new{len(self.posts)}", "queued", created=100 + len(self.posts))
        if failure in ("lost", None):
            self.runs.append(new)
        if failure:
            raise AmbiguousWriteError("POST /runs failed", timed_out=failure == "lost", service="Flow Service")
        return Answer({"id": new["id"], "etag": '"e"'})


def start(fs: FakeFlowService, if_run_exists: str = "reuse") -> Any:
    return start_run(fs, "f1", WINDOW, run_params(WINDOW), if_run_exists)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", ["success", "inProgress", None])
def test_a_running_or_succeeded_run_of_the_window_is_adopted(status: str | None) -> None:
    fs = FakeFlowService([item("old", status), item("elsewhere", "success", OTHER, created=5)])
    started = start(fs)
    assert (started.id, started.created) == ("old", False) and fs.posts == []


@pytest.mark.parametrize("status", ["failed", "cancelled", "partialSuccess"])
def test_a_failed_or_cancelled_run_is_not_reused(status: str) -> None:
    fs = FakeFlowService([item("old", status)])
    started = start(fs)
    assert (started.id, started.created) == ("new1", True)
    assert fs.posts == [{"flowId": "f1", "params": run_params(WINDOW)}]


def test_the_newest_reusable_run_wins() -> None:
    fs = FakeFlowService([item("a", "success", created=1), item("b", "failed", created=3), item("c", "success",
                                                                                               created=2)])
    assert start(fs).id == "c"


def test_rerun_always_posts_and_fail_refuses_when_any_run_exists() -> None:
    fs = FakeFlowService([item("old", "success")])
    assert start(fs, "rerun").id == "new1"
    with pytest.raises(ResourceExistsError, match="old"):
        start(FakeFlowService([item("old", "failed")]), "fail")
    assert start(FakeFlowService([item("elsewhere", "success", OTHER)]), "fail").id == "new1"


def test_a_lost_answer_is_looked_up_and_adopted_after_one_client_timeout() -> None:
    fs = FakeFlowService([item("old", "failed")], post_failures=["lost"])
    started = start(fs)
    assert (started.id, started.created) == ("new1", True)
    assert len(fs.posts) == 1 and fs.transport.slept == [7.0]


def test_a_post_that_made_nothing_is_sent_again_then_gives_up() -> None:
    fs = FakeFlowService([], post_failures=["refused"])
    assert start(fs).id == "new2" and len(fs.posts) == 2
    stubborn = FakeFlowService([], post_failures=["refused"] * 3)
    with pytest.raises(AmbiguousWriteError):
        start(stubborn)
    assert len(stubborn.posts) == 3


def test_the_tutorials_answer_shape_is_read_too() -> None:
    fs = FakeFlowService([])
    fs.request = lambda *a, **k: Answer({"items": [{"id": "from-items", "etag": '"e"'}]})  # type: ignore[method-assign]
    assert start(fs).id == "from-items"
    fs.request = lambda *a, **k: Answer({})  # type: ignore[method-assign]
    with pytest.raises(AEPAPIError, match="without a run ID"):
        start(fs)
