"""ZohoCRMHook.export_modified_records against the emulator's Bulk Read, record for record."""

from __future__ import annotations

import csv
import io
import os
import threading
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook
from emulator import Emulator
from tests.integration.zoho_export_helpers import DAY, HOUR, T0, assert_exact, expected, iter_rows


def export(module: str, start: datetime, end: datetime, out: Path, **kwargs: object) -> dict:
    return ZohoCRMHook().export_modified_records(module, start, end, out_dir=out, **kwargs)  # type: ignore[arg-type]


WINDOWS = [
    ("Leads", T0, T0 + HOUR),  # starts on the data set's first record, ends on an hour-stamped one
    ("Contacts", T0 + 5 * HOUR, T0 + 6 * HOUR),
    ("Accounts", T0 + DAY, T0 + 2 * DAY),
    ("Deals", T0 + timedelta(hours=1, minutes=17, seconds=31.5), T0 + timedelta(hours=4, minutes=2)),
    ("Leads", T0, T0 + 7 * DAY),  # every record
    ("Deals", T0 + 3 * DAY - timedelta(seconds=1), T0 + 3 * DAY + timedelta(seconds=1)),  # one boundary second
]


@pytest.mark.parametrize(("module", "start", "end"), WINDOWS, ids=lambda v: str(v))
def test_export_is_exactly_the_records_modified_in_the_window(
    emulator: Emulator, tmp_path: Path, module: str, start: datetime, end: datetime
) -> None:
    want = expected(emulator, module, start, end)
    assert want, "every window here holds records"
    manifest = export(module, start, end, tmp_path)
    assert_exact(manifest, want)
    assert manifest["module"] == module
    assert manifest["window_start"] == start.isoformat()
    assert manifest["window_end"] == end.isoformat()
    assert manifest["fields"] == emulator.crm.data.field_names(module)  # every field, in Zoho's order


@pytest.mark.parametrize("comparators", ["as_named", "strict", "inclusive"])
def test_export_is_exact_whatever_zoho_comparators_include(
    emulator: Emulator, tmp_path: Path, comparators: str
) -> None:
    """Zoho does not document whether greater_equal/less_equal include the bound: either way, the same export."""
    emulator.configure_crm(comparators=comparators)
    for hour in (0, 1, 2):
        start, end = T0 + hour * HOUR, T0 + (hour + 1) * HOUR
        want = expected(emulator, "Leads", start, end)
        assert any(r["Modified_Time"] == start.astimezone(emulator.crm.data.tz).isoformat() for r in want)
        assert_exact(export("Leads", start, end, tmp_path / f"{comparators}-{hour}"), want)


def test_empty_window_is_a_success_with_no_file(emulator: Emulator, tmp_path: Path) -> None:
    manifest = export("Leads", T0 - 30 * DAY, T0 - 29 * DAY, tmp_path)
    assert manifest["records"] == 0
    assert manifest["bytes"] == 0
    assert manifest["files"] == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("fields", "columns"), [
    (["Company", "Email"], ["id", "Modified_Time", "Company", "Email"]),
    (["Email", "Modified_Time", "Company"], ["id", "Email", "Modified_Time", "Company"]),
    (["Company", "id", "Email", "Modified_Time", "Company"], ["Company", "id", "Email", "Modified_Time"]),
])  # fmt: skip
def test_chosen_fields_keep_their_order(
    emulator: Emulator, tmp_path: Path, fields: list[str], columns: list[str]
) -> None:
    """The user's order; id and Modified_Time put first when missing; a field named twice exported once."""
    start, end = T0 + 2 * HOUR, T0 + 8 * HOUR
    manifest = export("Leads", start, end, tmp_path, fields=fields)
    assert manifest["fields"] == columns
    assert_exact(manifest, expected(emulator, "Leads", start, end))


def test_awkward_values_are_written_in_rfc4180(emulator: Emulator, tmp_path: Path) -> None:
    start, end = T0 + 2 * HOUR, T0 + 8 * HOUR
    manifest = export("Leads", start, end, tmp_path, fields=["Company", "Email"])
    assert_exact(manifest, expected(emulator, "Leads", start, end))
    text = Path(manifest["files"][0]["path"]).read_text(encoding="utf-8")
    for awkward in ('"Acme, Inc."', '"The ""Best"" Widgets"', "Müller & Söhne GmbH", '"Line one\nLine two Ltd"'):
        assert awkward in text  # RFC 4180 quoting of commas, quotes and line breaks; UTF-8


def test_24_hourly_windows_partition_the_day(emulator: Emulator, tmp_path: Path) -> None:
    """Each record modified on the day is in exactly one of the 24 hourly exports; boundary records included."""
    day_start = T0 + 2 * DAY
    seen: dict[str, int] = {}
    rows: dict[str, dict[str, str]] = {}
    for hour in range(24):
        start, end = day_start + hour * HOUR, day_start + (hour + 1) * HOUR
        manifest = export("Deals", start, end, tmp_path / f"h{hour:02d}")
        assert_exact(manifest, expected(emulator, "Deals", start, end))
        for row in iter_rows(manifest):
            seen[row["id"]] = seen.get(row["id"], 0) + 1
            rows[row["id"]] = row
    want = expected(emulator, "Deals", day_start, day_start + DAY)
    assert set(seen) == {r["id"] for r in want}
    assert set(seen.values()) == {1}
    assert [rows[r["id"]] for r in want] == want
    on_the_hour = [r for r in want if datetime.fromisoformat(r["Modified_Time"]).timestamp() % 3600 == 0]
    assert len(on_the_hour) >= 23  # the hour boundaries inside the day, each stamped by a record


def test_record_modified_while_its_export_runs_lands_in_its_new_window_once(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The job picks its records when it is added and renders them later: a record edited in between comes back
    with a Modified_Time outside the window. The export drops it there; the window of its new time has it."""
    emulator.configure_crm(job_seconds=1.0)
    window_a = (T0 + 10 * HOUR, T0 + 11 * HOUR)
    window_b = (T0 + 4 * DAY, T0 + 4 * DAY + HOUR)
    before_a = expected(emulator, "Leads", *window_a)
    moved = before_a[len(before_a) // 2]
    new_time = window_b[0] + timedelta(minutes=7)

    result: dict[str, dict] = {}
    worker = threading.Thread(target=lambda: result.update(a=export("Leads", *window_a, tmp_path / "a")))
    worker.start()
    deadline = time.monotonic() + 10
    while not any(r.method == "POST" and r.path.endswith("/bulk/v8/read") for r in emulator.requests):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    modified = emulator.modify_record("Leads", moved["id"], {"Company": "Edited, mid-export"}, new_time)
    worker.join(30)

    job = next(iter(emulator.crm.jobs.values()))
    assert job.result is not None
    with zipfile.ZipFile(job.result.path) as archive:
        zoho_rows = list(csv.DictReader(io.StringIO(archive.read(archive.namelist()[0]).decode(), newline="")))
    assert [r["Modified_Time"] for r in zoho_rows if r["id"] == moved["id"]] == [modified["Modified_Time"]], (
        "Zoho's file has the edit")
    manifest_a = result["a"]
    assert_exact(manifest_a, [r for r in before_a if r["id"] != moved["id"]])
    manifest_b = export("Leads", *window_b, tmp_path / "b")
    assert_exact(manifest_b, expected(emulator, "Leads", *window_b))
    in_b = [r for r in iter_rows(manifest_b) if r["id"] == moved["id"]]
    assert in_b == [{k: modified[k] for k in manifest_b["fields"]}]
    assert in_b[0]["Company"] == "Edited, mid-export"


def test_record_modified_between_two_runs_is_exported_again_in_its_new_window(
    emulator: Emulator, tmp_path: Path
) -> None:
    start, end = T0 + 20 * HOUR, T0 + 21 * HOUR
    first = export("Contacts", start, end, tmp_path / "1")
    record = next(iter_rows(first))
    later = T0 + 6 * DAY + timedelta(seconds=5)
    emulator.modify_record("Contacts", record["id"], {"Email": ""}, later)
    second = export("Contacts", start, end, tmp_path / "2")  # a re-run of the same window
    assert record["id"] not in {r["id"] for r in iter_rows(second)}
    assert_exact(second, expected(emulator, "Contacts", start, end))
    new_window = export("Contacts", T0 + 6 * DAY, T0 + 6 * DAY + HOUR, tmp_path / "3")
    assert next(r for r in iter_rows(new_window) if r["id"] == record["id"])["Email"] == ""


def test_one_token_serves_the_whole_export(emulator: Emulator, tmp_path: Path) -> None:
    export("Accounts", T0, T0 + DAY, tmp_path / "1")
    export("Accounts", T0 + DAY, T0 + 2 * DAY, tmp_path / "2")
    assert [r.path for r in emulator.requests].count("/oauth/v2/token") == 1
    assert sum(emulator.store.zoho_tokens_issued.values()) == 1


def test_times_are_sent_in_zoho_format_with_offset(emulator: Emulator, tmp_path: Path) -> None:
    import json

    start = datetime(2026, 1, 2, 5, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))  # 00:00 UTC
    export("Leads", start, start + HOUR, tmp_path)
    post = next(r for r in emulator.requests if r.method == "POST" and r.path.endswith("/read"))
    group = json.loads(post.body)["query"]["criteria"]["group"]
    assert [(c["comparator"], c["value"]) for c in group] == [
        ("greater_equal", "2026-01-01T23:59:59+00:00"),
        ("less_equal", "2026-01-02T01:00:00+00:00"),
    ]


def test_small_pages_chain_jobs_with_next_page_token(emulator: Emulator, tmp_path: Path) -> None:
    """Paging as with Zoho's 200,000, at 150 records a job: the window takes several chained jobs."""
    import json

    emulator.configure_crm(per_page=150)
    start, end = T0 + 3 * HOUR, T0 + 2 * DAY
    want = expected(emulator, "Contacts", start, end)
    manifest = export("Contacts", start, end, tmp_path)
    assert_exact(manifest, want)
    queries = [json.loads(r.body)["query"] for r in emulator.requests if r.path == "/crm/bulk/v8/read"]
    asked = emulator.crm.data.count_modified_in("Contacts", start - timedelta(seconds=1), end + timedelta(seconds=1))
    assert len(queries) == -(-asked // 150) >= 4  # the query is a second wider on each side
    assert len(manifest["files"]) >= len(queries) - 1
    assert "page_token" not in queries[0]
    assert len({q["page_token"] for q in queries[1:]}) == len(queries) - 1


def test_an_export_changes_no_environment_variable(emulator: Emulator, tmp_path: Path) -> None:
    before = dict(os.environ)
    export("Leads", T0, T0 + DAY, tmp_path)
    assert dict(os.environ) == before


def test_importing_the_hook_starts_no_thread_and_sets_no_environment_variable() -> None:
    import subprocess
    import sys

    code = ("import os, threading\nbefore = dict(os.environ)\nimport airflow_provider_zoho_aep.hooks.zoho_crm\n"
            "print(threading.active_count(), dict(os.environ) == before)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split()[-2:] == ["1", "True"]
