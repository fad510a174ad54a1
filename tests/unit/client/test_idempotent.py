"""The create-or-reuse rules of ``client.idempotent``, on an in-memory Flow Service stand-in."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from airflow_provider_zoho_aep.client.errors import (
    AEPAPIError,
    AmbiguousWriteError,
    DuplicateResourcesError,
    ResourceExistsError,
)
from airflow_provider_zoho_aep.client.idempotent import ensure


class FakeFlowService:
    """Just enough of FlowServiceClient: list/create/get/patch/delete on dicts, with scripted failures."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.create_failures: list[str] = []  # "drop" = applied but answer lost; "lost" = not applied
        self.patch_failures: list[int] = []
        self.pending: list[dict[str, Any]] = []
        self.transport = self  # the settle wait goes through transport.sleep / transport.timeout
        self.timeout = 30.0
        self.slept: list[float] = []
        self._ids = itertools.count(1)
        self._clock = itertools.count(1000)

    def add(self, name: str, **fields: Any) -> str:
        rid = f"id-{next(self._ids)}"
        self.items[rid] = {"id": rid, "name": name, "etag": f'"e-{rid}-1"', "createdAt": next(self._clock),
                           **fields}
        return rid

    def list(self, kind: str, filters: dict[str, str] | None = None, **_: Any) -> list[dict[str, Any]]:
        self.calls.append("list")
        filters = filters or {}
        return [dict(i) for i in self.items.values() if all(i.get(k) == v for k, v in filters.items())]

    def create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append("create")
        failure = self.create_failures.pop(0) if self.create_failures else None
        if failure == "lost":
            raise AmbiguousWriteError("POST /connections: 502", service="Flow Service")
        if failure == "slow":  # the server applies it after the client gave up waiting
            self.pending.append(body)
            raise AmbiguousWriteError("POST /connections timed out", timed_out=True, service="Flow Service")
        rid = self.add(body["name"], **{k: v for k, v in body.items() if k != "name"})
        if failure == "drop":
            raise AmbiguousWriteError("POST /connections: connection reset", service="Flow Service")
        return {"id": rid, "etag": self.items[rid]["etag"]}

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        for body in self.pending:  # the slow create lands while we wait
            self.add(body["name"], **{k: v for k, v in body.items() if k != "name"})
        self.pending.clear()

    def get(self, kind: str, rid: str) -> dict[str, Any]:
        self.calls.append("get")
        return dict(self.items[rid])

    def patch(self, kind: str, rid: str, ops: list[dict[str, Any]], etag: str) -> dict[str, Any]:
        self.calls.append("patch")
        if self.patch_failures:
            raise AEPAPIError("stale", status=self.patch_failures.pop(0), code="FLOW-1404-412")
        assert etag == self.items[rid]["etag"]
        self.items[rid]["etag"] = f'"e-{rid}-{len(self.calls)}"'
        self.items[rid]["ops"] = ops
        for op in ops:
            if op["op"] == "replace" and op["path"].count("/") == 1:
                self.items[rid][op["path"][1:]] = op["value"]
        return {"id": rid, "etag": self.items[rid]["etag"]}

    def delete(self, kind: str, rid: str) -> bool:
        self.calls.append("delete")
        return self.items.pop(rid, None) is not None


def run(fs: FakeFlowService, if_exists: str = "reuse", **kw: Any):
    return ensure(fs, "connections", name="crm", filters={"spec": "zoho"}, if_exists=if_exists,  # type: ignore[arg-type]
                  build_body=lambda: {"name": "crm", "spec": "zoho"},
                  build_patch=lambda existing: [{"op": "replace", "path": "/auth/params", "value": {}}], **kw)


def test_creates_when_absent_then_reuses():
    fs = FakeFlowService()
    first = run(fs)
    second = run(fs)
    assert first.created and not second.created and first.id == second.id
    assert len(fs.items) == 1
    assert fs.calls == ["list", "create", "list", "list"]


def test_name_must_match_exactly_and_other_specs_do_not_count():
    fs = FakeFlowService()
    fs.add("crm ", spec="zoho")
    fs.add("crm", spec="other")
    assert run(fs).created and len(fs.items) == 3


def test_fail_raises_and_writes_nothing():
    fs = FakeFlowService()
    rid = fs.add("crm", spec="zoho")
    with pytest.raises(ResourceExistsError, match=rid):
        run(fs, if_exists="fail")
    assert fs.calls == ["list"]


def test_update_patches_with_the_current_etag():
    fs = FakeFlowService()
    rid = fs.add("crm", spec="zoho")
    result = run(fs, if_exists="update")
    assert result.updated and result.id == rid and result.etag == fs.items[rid]["etag"]
    assert fs.calls == ["list", "patch"]


def test_stale_etag_rereads_and_retries_once():
    fs = FakeFlowService()
    fs.add("crm", spec="zoho")
    fs.patch_failures = [412]
    assert run(fs, if_exists="update").updated
    assert fs.calls == ["list", "patch", "get", "patch"]


def test_second_stale_etag_is_an_error():
    fs = FakeFlowService()
    fs.add("crm", spec="zoho")
    fs.patch_failures = [412, 412]
    with pytest.raises(AEPAPIError):
        run(fs, if_exists="update")


def test_preexisting_duplicates_are_refused_not_guessed():
    fs = FakeFlowService()
    fs.add("crm", spec="zoho")
    fs.add("crm", spec="zoho")
    with pytest.raises(DuplicateResourcesError, match="2 base connections"):
        run(fs)


def test_create_applied_but_answer_lost_is_adopted_without_a_second_post():
    fs = FakeFlowService()
    fs.create_failures = ["drop"]
    result = run(fs)
    assert result.created and len(fs.items) == 1
    assert fs.calls == ["list", "create", "list"]


def test_create_not_applied_is_sent_again_after_looking():
    fs = FakeFlowService()
    fs.create_failures = ["lost"]
    result = run(fs)
    assert result.created and len(fs.items) == 1
    assert fs.calls == ["list", "create", "list", "create", "list"]


def test_create_attempts_are_bounded():
    fs = FakeFlowService()
    fs.create_failures = ["lost", "lost", "lost", "lost"]
    with pytest.raises(AmbiguousWriteError):
        run(fs)
    assert fs.calls.count("create") == 3 and not fs.items


def test_a_concurrent_create_converges_on_the_oldest_and_deletes_ours():
    fs = FakeFlowService()
    real_create = fs.create

    def racing_create(kind, body):
        other = fs.add("crm", spec="zoho")  # another worker's create lands first
        mine = real_create(kind, body)
        assert other != mine["id"]
        return mine

    fs.create = racing_create  # type: ignore[method-assign]
    result = run(fs)
    assert not result.created and len(fs.items) == 1 and result.id == next(iter(fs.items))
    assert fs.calls[-1] == "delete"


def test_after_a_timed_out_create_the_lookup_waits_one_timeout_for_the_server_to_finish():
    fs = FakeFlowService()
    fs.create_failures = ["slow"]
    result = run(fs)
    assert fs.slept == [30.0] and result.created and len(fs.items) == 1
    assert fs.calls == ["list", "create", "list"]


def test_name_and_description_head_the_body_and_a_changed_description_is_patched():
    fs = FakeFlowService()
    ensure(fs, "connections", name="crm", filters={"spec": "zoho"}, description="first",
           build_body=lambda: {"spec": "zoho"}, build_patch=lambda existing: [])
    (item,) = fs.items.values()
    assert [k for k in item if k in ("name", "description", "spec")] == ["name", "description", "spec"]
    ensure(fs, "connections", name="crm", filters={"spec": "zoho"}, description="second", if_exists="update",
           build_body=lambda: {"spec": "zoho"}, build_patch=lambda existing: [])
    assert item["ops"] == [{"op": "replace", "path": "/description", "value": "second"}]
    ensure(fs, "connections", name="crm", filters={"spec": "zoho"}, description="first", if_exists="update",
           build_body=lambda: {"spec": "zoho"}, build_patch=lambda existing: [])
    assert item["ops"] == [{"op": "replace", "path": "/description", "value": "first"}]
    ensure(fs, "connections", name="crm", filters={"spec": "zoho"}, if_exists="update",
           build_body=lambda: {"spec": "zoho"}, build_patch=lambda existing: [])
    assert item["ops"] == []  # no description given: left as it is
