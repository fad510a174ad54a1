"""Fault injection, the rate limit, the request log and the /__emulator__/ control API."""

from __future__ import annotations

import time

import pytest
import requests

from emulator import Emulator, Fault

CONNECTIONS = r"/flowservice/connections$"


def wait_for(predicate, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_status_fault_429_with_retry_after(api, emu: Emulator) -> None:
    emu.add_fault(Fault(method="POST", path=CONNECTIONS, kind="status", status=429, retry_after="1"))
    answer = api.post("/connections", api.connection_body())
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "1"
    assert answer.json() == {"error_code": "429050", "message": "Too many requests"}
    assert emu.store.connections == {}  # not applied
    assert api.post("/connections", api.connection_body()).status_code == 201  # count was 1
    assert len(emu.store.connections) == 1


@pytest.mark.parametrize(("status", "code"), [(500, "FLOW-1102-500"), (503, "FLOW-1103-503"), (504, "FLOW-1104-504")])
def test_status_fault_5xx_problem_shape(api, emu: Emulator, status: int, code: str) -> None:
    emu.add_fault(Fault(path=r"/connections", kind="status", status=status))
    answer = api.get("/connections")
    assert answer.status_code == status
    assert api.code(answer) == code
    assert answer.json()["report"]["request-id"] == answer.headers["x-request-id"]
    assert "Retry-After" not in answer.headers


def test_fault_matches_method_and_repeats_forever(api, emu: Emulator) -> None:
    emu.add_fault(Fault(method="GET", path=r"/connections$", kind="status", status=502, count=-1))
    assert api.post("/connections", api.connection_body()).status_code == 201
    assert [api.get("/connections").status_code for _ in range(3)] == [502, 502, 502]
    emu.clear_faults()
    assert api.get("/connections").status_code == 200


def test_fault_can_match_the_query_string_too(api, emu: Emulator) -> None:
    emu.add_fault(Fault(method="GET", path=r"/connections$", query=r"(^|&)limit=7(&|$)", kind="status", status=502,
                        count=-1))
    assert api.get("/connections").status_code == 200
    assert api.get("/connections", params={"limit": "70"}).status_code == 200
    assert api.get("/connections", params={"limit": "7"}).status_code == 502


def test_reset_fault_closes_without_answer(api, emu: Emulator) -> None:
    emu.add_fault(Fault(method="POST", path=CONNECTIONS, kind="reset"))
    with pytest.raises(requests.ConnectionError):
        api.post("/connections", api.connection_body())
    assert emu.store.connections == {}
    assert emu.requests[-1].status == 0
    assert api.get("/connections").status_code == 200  # the session recovers


def test_delay_fault_times_out_client_but_applies(api, emu: Emulator) -> None:
    emu.add_fault(Fault(method="POST", path=CONNECTIONS, kind="delay", delay=0.4))
    with pytest.raises(requests.Timeout):
        api.post("/connections", api.connection_body(), timeout=0.1)
    assert wait_for(lambda: len(emu.store.connections) == 1)


def test_commit_then_drop_creates_but_client_errors(api, emu: Emulator) -> None:
    emu.add_fault(Fault(method="POST", path=CONNECTIONS, kind="commit_then_drop"))
    with pytest.raises(requests.ConnectionError):
        api.post("/connections", api.connection_body("ambiguous"))
    (created,) = emu.store.connections.values()
    assert created["name"] == "ambiguous"
    found = api.get("/connections", params={"property": "name==ambiguous"}).json()["items"]
    assert [c["id"] for c in found] == [created["id"]]


def test_faults_reach_ims_and_zoho_paths(emu: Emulator) -> None:
    emu.add_fault(Fault(path=r"^/ims/", kind="status", status=503, retry_after="2"))
    answer = requests.post(f"{emu.url}/ims/token/v3", data={}, timeout=5)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "2"
    emu.add_fault(Fault(path=r"^/oauth/", kind="reset"))
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{emu.url}/oauth/v2/token", data={}, timeout=5)


def test_fault_validation() -> None:
    with pytest.raises(ValueError):
        Fault(kind="explode")
    with pytest.raises(ValueError):
        Fault(count=0)


def test_rate_limit(api, emu: Emulator) -> None:
    api.token  # noqa: B018 - IMS is outside the default limited paths
    emu.set_rate_limit(2.0, burst=2)
    statuses = [api.get("/connections") for _ in range(3)]
    assert [a.status_code for a in statuses[:2]] == [200, 200]
    limited = statuses[2]
    assert limited.status_code == 429
    assert limited.json() == {"error_code": "429050", "message": "Too many requests"}
    assert int(limited.headers["Retry-After"]) >= 1
    assert 0 < float(limited.headers["X-RateLimit-Reset-After"]) <= 0.5
    assert wait_for(lambda: api.get("/connections").status_code == 200, timeout=2)
    emu.set_rate_limit(None)
    assert all(api.get("/connections").status_code == 200 for _ in range(5))


def test_request_log(api, emu: Emulator) -> None:
    api.token  # noqa: B018
    emu.clear_requests()
    api.post("/connections", api.connection_body())
    api.get("/connections", params={"property": "name==x"})
    first, second = emu.requests
    assert (first.method, first.path, first.status) == ("POST", "/data/foundation/flowservice/connections", 201)
    assert first.headers["x-sandbox-name"] == "prod"
    assert b'"name"' in first.body
    assert second.query == {"property": ["name==x"]}
    assert second.time >= first.time


def test_control_api(emu: Emulator) -> None:
    control = f"{emu.url}/__emulator__"
    assert requests.get(f"{control}/health", timeout=5).json()["status"] == "ok"

    requests.get(f"{emu.url}/crm/v8/users", timeout=5)
    logged = requests.get(f"{control}/requests", timeout=5).json()
    assert logged == [{"method": "GET", "path": "/crm/v8/users", "query": {}, "status": 401}]
    assert requests.delete(f"{control}/requests", timeout=5).status_code == 204
    assert requests.get(f"{control}/requests", timeout=5).json() == []

    fault = {"path": "^/crm/", "kind": "status", "status": 503, "count": -1}
    assert requests.post(f"{control}/faults", json=fault, timeout=5).status_code == 201
    assert requests.get(f"{emu.url}/crm/v8/users", timeout=5).status_code == 503
    assert requests.get(f"{control}/health", timeout=5).status_code == 200  # never faulted
    assert requests.post(f"{control}/faults", json={"kind": "boom"}, timeout=5).status_code == 400
    assert requests.post(f"{control}/faults", json={"nope": 1}, timeout=5).status_code == 400
    assert requests.delete(f"{control}/faults", timeout=5).status_code == 204
    assert requests.get(f"{emu.url}/crm/v8/users", timeout=5).status_code == 401

    config = {
        "run_duration": 0.05,
        "fail_runs": True,
        "zoho_throttled": True,
        "rate_limit": {"rate_per_second": 1, "burst": 1, "paths": "^/crm/"},
    }
    assert requests.post(f"{control}/config", json=config, timeout=5).status_code == 200
    assert (emu.run_duration, emu.fail_runs, emu.zoho_throttled) == (0.05, True, True)
    assert [requests.get(f"{emu.url}/crm/v8/users", timeout=5).status_code for _ in range(2)] == [401, 429]
    assert requests.post(f"{control}/config", json={"rate_limit": None}, timeout=5).status_code == 200
    assert requests.post(f"{control}/config", json={"colour": "red"}, timeout=5).status_code == 400

    assert requests.post(f"{control}/reset", timeout=5).status_code == 200
    assert (emu.run_duration, emu.fail_runs, emu.zoho_throttled) == (0.3, False, False)
    # control calls themselves are never recorded
    assert all(not r.path.startswith("/__emulator__") for r in emu.requests)
    assert requests.get(f"{control}/requests", timeout=5).json() == []


def test_keep_alive_and_content_length(api) -> None:
    answers = [api.get("/connections") for _ in range(3)]
    assert all(a.headers["Content-Length"] == str(len(a.content)) for a in answers)
    assert all(a.headers.get("Connection", "").lower() != "close" for a in answers)


def test_loopback_only() -> None:
    with pytest.raises(ValueError):
        Emulator(host="0.0.0.0")
    with Emulator(host="localhost") as local:
        assert requests.get(f"{local.url}/__emulator__/health", timeout=5).status_code == 200
