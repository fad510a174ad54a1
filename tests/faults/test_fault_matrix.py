"""Fault matrix: every fault on every kind of call ends with the right outcome and exactly one resource.

Faults come from the emulator (status codes with and without Retry-After, resets, slow answers past the
client timeout, a create applied on the server whose answer never arrives). Retry-After values are small
and the client's backoff is scaled down, so the suite stays fast; no assertion depends on wall-clock timing.
"""

from __future__ import annotations

import email.utils
import time

import pytest

from airflow_provider_zoho_aep import ZOHO_CRM_CONNECTION_SPEC_ID
from airflow_provider_zoho_aep.client.errors import AEPAPIError
from airflow_provider_zoho_aep.client.http import RetryPolicy
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook
from emulator import Fault

TIMEOUT = 0.4
FAST = RetryPolicy(max_attempts=6, backoff_base=0.02, backoff_max=3.0, max_total_seconds=20.0)
FS = "/data/foundation/flowservice"
NAME = "fault matrix"

CALLS = {
    "ims token": ("POST", r"^/ims/token/v3$"),
    "spec read": ("GET", rf"^{FS}/connectionSpecs/"),
    "lookup": ("GET", rf"^{FS}/connections$"),
    "create": ("POST", rf"^{FS}/connections$"),
    "zoho token": ("POST", r"^/oauth/v2/token$"),
}


def faults() -> dict[str, dict[str, object]]:
    soon = email.utils.formatdate(time.time() + 1, usegmt=True)
    return {
        "429 Retry-After seconds": {"kind": "status", "status": 429, "retry_after": "0.05"},
        "429 Retry-After date": {"kind": "status", "status": 429, "retry_after": soon},
        "429 no Retry-After": {"kind": "status", "status": 429},
        "500": {"kind": "status", "status": 500},
        "502": {"kind": "status", "status": 502},
        "503": {"kind": "status", "status": 503, "retry_after": "0.05"},
        "504": {"kind": "status", "status": 504},
        "reset": {"kind": "reset"},
        "slow answer": {"kind": "delay", "delay": TIMEOUT + 0.1},
        "applied, answer lost": {"kind": "commit_then_drop"},
    }


def hook() -> AdobeExperiencePlatformHook:
    return AdobeExperiencePlatformHook(timeout=TIMEOUT, retry_policy=FAST)


def create(if_exists: str = "reuse") -> dict:
    zoho = ZohoCRMHook(timeout=TIMEOUT, retry_policy=FAST)
    aep = hook()
    aep.check_connection_spec(ZOHO_CRM_CONNECTION_SPEC_ID)
    return aep.create_base_connection(NAME, ZOHO_CRM_CONNECTION_SPEC_ID, zoho.get_auth_params, if_exists=if_exists)


def named(emulator, fault_name: str = "") -> list[str]:
    if fault_name == "slow answer":
        time.sleep(TIMEOUT + 0.3)  # let the request the client gave up on finish on the server first
    return [cid for cid, c in emulator.store.connections.items() if c["name"] == NAME]


@pytest.mark.parametrize("fault_name", list(faults()))
@pytest.mark.parametrize("call", list(CALLS))
def test_create_survives_each_fault_with_exactly_one_base_connection(emulator, call, fault_name):
    method, path = CALLS[call]
    emulator.add_fault(Fault(method=method, path=path, **faults()[fault_name]))
    result = create()
    assert named(emulator, fault_name) == [result["id"]]
    assert result["created"] is True
    # The fault fired (it is used up) and the call it hit was made again or its result adopted.
    assert not emulator.faults._faults


@pytest.mark.parametrize("fault_name", list(faults()))
def test_update_survives_each_fault_on_the_patch(emulator, fault_name):
    first = create()
    emulator.add_fault(Fault(method="PATCH", path=rf"^{FS}/connections/", **faults()[fault_name]))
    result = create(if_exists="update")
    assert result["id"] == first["id"] and result["updated"] is True
    assert named(emulator, fault_name) == [first["id"]]
    assert emulator.store.connections[first["id"]]["etag"] == result["etag"]


@pytest.mark.parametrize("fault_name", list(faults()))
def test_reuse_survives_each_fault_on_the_lookup(emulator, fault_name):
    first = create()
    emulator.add_fault(Fault(method="GET", path=rf"^{FS}/connections$", **faults()[fault_name]))
    assert create()["id"] == first["id"]
    assert named(emulator, fault_name) == [first["id"]]


def test_total_retry_time_is_bounded_and_the_error_says_what_was_tried(emulator):
    emulator.add_fault(Fault(method="GET", path=rf"^{FS}/connections$", kind="status", status=503, count=-1,
                             retry_after="0.05"))
    aep = AdobeExperiencePlatformHook(timeout=TIMEOUT, retry_policy=RetryPolicy(max_attempts=50, backoff_max=1,
                                                                                 max_total_seconds=0.5))
    started = time.monotonic()
    with pytest.raises(AEPAPIError) as info:
        aep.find_base_connections(NAME)
    assert time.monotonic() - started < 5
    err = info.value
    assert err.status == 503 and err.code == "FLOW-1103-503" and err.attempts >= 2
    assert "gave up: time budget" in str(err) and "GET /data/foundation/flowservice/connections" in str(err)


def test_attempts_are_bounded_too(emulator):
    emulator.add_fault(Fault(method="GET", path=rf"^{FS}/connections$", kind="status", status=502, count=-1))
    aep = AdobeExperiencePlatformHook(timeout=TIMEOUT, retry_policy=RetryPolicy(max_attempts=3, backoff_base=0.01))
    with pytest.raises(AEPAPIError, match="retry limit reached") as info:
        aep.find_base_connections(NAME)
    assert info.value.attempts == 3
    assert len([r for r in emulator.requests if r.path == f"{FS}/connections"]) == 3


def test_a_create_failing_every_time_is_sent_at_most_three_times(emulator):
    emulator.add_fault(Fault(method="POST", path=rf"^{FS}/connections$", kind="status", status=500, count=-1))
    with pytest.raises(AEPAPIError):
        create()
    assert len([r for r in emulator.requests if r.method == "POST" and r.path == f"{FS}/connections"]) == 3
    assert named(emulator) == []
