"""The emulator's Zoho CRM: the seeded data set, fields metadata, Bulk Read jobs, credits and the control calls."""

from __future__ import annotations

import csv
import io
import os
import time
import zipfile
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from emulator import Emulator
from emulator.crm_data import MODULES, CrmDataSet
from emulator.explore import TABLES
from emulator.specs import ZOHO_CRM_SPEC_ID

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


def test_data_set_is_deterministic_and_lazy() -> None:
    a, b = CrmDataSet(seed=3), CrmDataSet(seed=3)
    assert list(a.iter_records("Leads")) == list(b.iter_records("Leads"))
    assert list(CrmDataSet(seed=4).iter_records("Leads")) != list(a.iter_records("Leads"))
    big = CrmDataSet(records_per_module=1_000_000)
    assert big.record("Deals", 999_999)["id"] == big.record_id("Deals", 999_999)
    assert big.count_modified_in("Deals", T0, T0 + timedelta(days=7)) == 1_000_000


def test_fields_match_what_explore_lists() -> None:
    data = CrmDataSet()
    for module in MODULES:
        assert set(data.field_names(module)) == {name for name, _ in TABLES[ZOHO_CRM_SPEC_ID][module]}
        assert {f["api_name"] for f in data.fields(module)} == set(data.field_names(module))


@pytest.mark.parametrize("module", MODULES)
def test_windows_by_binary_search_equal_a_full_scan(module: str) -> None:
    data = CrmDataSet(records_per_module=1500)
    records = list(data.iter_records(module))
    for start, end in [(T0, T0 + HOUR), (T0 + 5 * HOUR + timedelta(seconds=0.5), T0 + 30 * HOUR), (T0 - HOUR, T0)]:
        want = [r for r in records if start <= datetime.fromisoformat(r["Modified_Time"]) < end]
        assert list(data.modified_in(module, start, end)) == want
        assert data.count_modified_in(module, start, end) == len(want)


def test_values_are_awkward_and_times_sit_on_hours() -> None:
    records = list(CrmDataSet().iter_records("Leads"))
    text = "".join(v for r in records for v in r.values())
    for needle in (",", '"', "\n", "ü", "東"):
        assert needle in text
    assert any(v == "" for r in records for v in r.values())
    times = [datetime.fromisoformat(r["Modified_Time"]) for r in records]
    assert times == sorted(times)
    assert all(t.utcoffset() == timedelta(hours=5, minutes=30) for t in times)
    assert sum(1 for t in times if t.timestamp() % 3600 == 0) == 7 * 24


def test_modify_moves_a_record_to_another_window() -> None:
    data = CrmDataSet()
    record = next(data.modified_in("Contacts", T0, T0 + HOUR))
    later = T0 + timedelta(days=2, seconds=7)
    before = data.count_modified_in("Contacts", T0, T0 + HOUR)
    changed = data.modify("Contacts", record["id"], {"Email": "new@example.com"}, later)
    assert changed["Email"] == "new@example.com"
    assert datetime.fromisoformat(changed["Modified_Time"]) == later
    assert data.count_modified_in("Contacts", T0, T0 + HOUR) == before - 1
    assert record["id"] not in {r["id"] for r in data.modified_in("Contacts", T0, T0 + HOUR)}
    assert changed in list(data.modified_in("Contacts", later, later + timedelta(seconds=1)))
    with pytest.raises(ValueError, match="unknown field"):
        data.modify("Contacts", record["id"], {"Nope": "x"})
    with pytest.raises(KeyError):
        data.modify("Contacts", "123", {})


def token(emu: Emulator) -> dict[str, str]:
    c = emu.credentials
    answer = requests.post(f"{emu.url}/oauth/v2/token", data={
        "grant_type": "refresh_token", "client_id": c.zoho_client_id, "client_secret": c.zoho_client_secret,
        "refresh_token": c.zoho_refresh_token}, timeout=10).json()  # fmt: skip
    return {"Authorization": f"Zoho-oauthtoken {answer['access_token']}"}


def criteria(start: datetime, end: datetime) -> dict[str, Any]:
    return {"group_operator": "and", "group": [
        {"field": {"api_name": "Modified_Time"}, "comparator": "greater_equal", "value": start.isoformat()},
        {"field": {"api_name": "Modified_Time"}, "comparator": "less_than", "value": end.isoformat()}]}  # fmt: skip


def wait(emu: Emulator, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    states = []
    deadline = time.monotonic() + 120  # a page of 200,000 records takes a while to render on a busy machine
    while time.monotonic() < deadline:
        job = requests.get(f"{emu.url}/crm/bulk/v8/read/{job_id}", headers=headers, timeout=10).json()["data"][0]
        states.append(job["state"])
        if job["state"] in ("COMPLETED", "FAILURE"):
            return {**job, "states": states}
        time.sleep(0.01 if len(states) < 50 else 0.2)
    raise AssertionError(states[-5:])


def test_bulk_read_job_lifecycle_and_zip(emu: Emulator) -> None:
    emu.configure_crm(job_seconds=0.2)
    headers = token(emu)
    fields = requests.get(f"{emu.url}/crm/v8/settings/fields", params={"module": "Leads"}, headers=headers,
                          timeout=10).json()["fields"]  # fmt: skip
    assert [f["api_name"] for f in fields] == emu.crm.data.field_names("Leads")
    body = {"query": {"module": {"api_name": "Leads"}, "fields": ["Last_Name", "Modified_Time"],
                      "criteria": criteria(T0, T0 + 3 * HOUR)}}  # fmt: skip
    created = requests.post(f"{emu.url}/crm/bulk/v8/read", json=body, headers=headers, timeout=10)
    assert created.status_code == 201
    job = wait(emu, headers, created.json()["data"][0]["details"]["id"])
    assert job["states"][0] == "ADDED" and "IN PROGRESS" in job["states"] and job["state"] == "COMPLETED"
    want = list(emu.crm.data.modified_in("Leads", T0, T0 + 3 * HOUR))
    assert job["result"]["count"] == len(want) and job["result"]["more_records"] is False
    answer = requests.get(emu.url + job["result"]["download_url"], headers=headers, timeout=10)
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        rows = list(csv.reader(io.TextIOWrapper(archive.open(archive.namelist()[0]), encoding="utf-8", newline="")))
    assert rows[0] == ["id", "Last_Name", "Modified_Time"]
    assert rows[1:] == [[r["id"], r["Last_Name"], r["Modified_Time"]] for r in want]


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("ZOHO_AEP_SLOW_TESTS"), reason="slow: make test-slow")
def test_pages_of_200000_chain_with_next_page_token() -> None:
    with Emulator(crm_data=CrmDataSet(records_per_module=250_000)) as emu:
        headers = token(emu)
        body: dict[str, Any] = {"query": {"module": {"api_name": "Accounts"}, "fields": ["Modified_Time"]}}
        first = wait(emu, headers, requests.post(f"{emu.url}/crm/bulk/v8/read", json=body, headers=headers,
                                                 timeout=10).json()["data"][0]["details"]["id"])  # fmt: skip
        assert first["result"]["count"] == 200_000 and first["result"]["more_records"] is True
        body["query"]["page_token"] = first["result"]["next_page_token"]
        second = wait(emu, headers, requests.post(f"{emu.url}/crm/bulk/v8/read", json=body, headers=headers,
                                                  timeout=10).json()["data"][0]["details"]["id"])  # fmt: skip
        assert second["result"]["count"] == 50_000 and second["result"]["more_records"] is False
        assert "next_page_token" not in second["result"]


def test_errors_unknown_module_field_token_and_credits(emu: Emulator) -> None:
    headers = token(emu)
    url = f"{emu.url}/crm/bulk/v8/read"
    assert requests.post(url, json={"query": {"module": {"api_name": "Nope"}}}, headers=headers,
                         timeout=10).json()["code"] == "INVALID_MODULE"  # fmt: skip
    bad_field = {"query": {"module": {"api_name": "Leads"}, "fields": ["Nope"]}}
    assert requests.post(url, json=bad_field, headers=headers, timeout=10).json()["details"] == {"api_name": "Nope"}
    assert requests.post(url, json=bad_field, timeout=10).status_code == 401
    emu.configure_crm(credit_limit=emu.crm.credits_used() + 1)
    assert requests.get(f"{emu.url}/crm/bulk/v8/read/1", headers=headers, timeout=10).json()["code"] == "INVALID_DATA"
    refused = requests.get(f"{emu.url}/crm/bulk/v8/read/1", headers=headers, timeout=10)
    assert refused.status_code == 429 and refused.json()["code"] == "LIMIT_EXCEEDED"
    assert refused.json()["details"]["reset_time"]


def test_control_api_configures_modifies_and_counts(emu: Emulator) -> None:
    control = f"{emu.url}/__emulator__/crm"
    ok = requests.post(f"{control}/config", json={"records_per_module": 500, "seed": 11, "span_seconds": 86400,
                                                   "start": "2026-02-01T00:00:00+00:00", "job_seconds": 0.01},
                       timeout=10)  # fmt: skip
    assert ok.status_code == 200
    start = "2026-02-01T00:00:00+00:00"
    end = "2026-02-02T00:00:00+00:00"
    count = requests.get(f"{control}/count", params={"module": "Deals", "start": start, "end": end}, timeout=10).json()
    assert count == {"count": 500}
    record_id = emu.crm.data.record_id("Deals", 10)
    changed = requests.post(f"{control}/modify", json={"module": "Deals", "id": record_id,
                            "changes": {"Stage": "Closed Won"}, "modified_time": "2026-03-01T00:00:00+00:00"},
                            timeout=10).json()["record"]  # fmt: skip
    assert changed["Stage"] == "Closed Won" and changed["Modified_Time"].startswith("2026-03-01T05:30:00")
    assert requests.get(f"{control}/count", params={"module": "Deals", "start": start,
                        "end": "2026-02-02T00:00:00+00:00"}, timeout=10).json() == {"count": 499}  # fmt: skip
    assert requests.post(f"{control}/config", json={"nope": 1}, timeout=10).status_code == 400
    emu.reset()
    assert emu.crm.data.records_per_module == 2000
