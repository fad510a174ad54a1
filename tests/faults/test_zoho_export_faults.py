"""The Zoho CRM export under Zoho's limits and failures: the right outcome, and an exact file or none."""

from __future__ import annotations

import json
import logging
import tempfile
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.hooks import zoho_crm
from airflow_provider_zoho_aep.hooks.zoho_crm import BulkReadJobFailedError, ZohoCreditsExhaustedError, ZohoCRMHook
from emulator import Emulator, Fault
from tests.integration.zoho_export_helpers import DAY, HOUR, T0, assert_exact, expected

WINDOW = (T0 + 30 * HOUR, T0 + 36 * HOUR)
READ = r"^/crm/bulk/v8/read$"
STATUS = r"^/crm/bulk/v8/read/\d+$"
RESULT = r"^/crm/bulk/v8/read/\d+/result$"


def export(out: Path, module: str = "Leads", window: tuple[datetime, datetime] = WINDOW, **options: Any) -> dict:
    hook = ZohoCRMHook(bulk_read_options=options or None)
    return hook.export_modified_records(module, *window, out_dir=out)


def calls(emu: Emulator, method: str, pattern: str) -> list[int]:
    import re

    return [r.status for r in emu.requests if r.method == method and re.search(pattern, r.path)]


def assert_no_file(out: Path) -> None:
    assert not out.exists() or list(out.iterdir()) == []


# -- 429: concurrency and download limits -----------------------------------------------------------------


@pytest.mark.parametrize("retry_after", ["1", None], ids=["with-retry-after", "without-retry-after"])
@pytest.mark.parametrize(
    "where", [("POST", READ), ("GET", STATUS), ("GET", RESULT)], ids=["create", "poll", "download"]
)
def test_429_is_waited_out_and_the_file_is_exact(
    emulator: Emulator, tmp_path: Path, retry_after: str | None, where: tuple[str, str]
) -> None:
    method, path = where
    emulator.add_fault(Fault(method=method, path=path, kind="status", status=429, retry_after=retry_after, count=2))
    manifest = export(tmp_path)
    assert_exact(manifest, expected(emulator, "Leads", *WINDOW))
    assert calls(emulator, method, path).count(429) == 2
    assert calls(emulator, "POST", READ).count(201) == 1  # a throttled create was not processed: one job


def test_the_download_limit_beyond_the_budget_is_a_clear_error(emulator: Emulator, tmp_path: Path) -> None:
    """Zoho allows 10 downloads a minute; a wait longer than the budget is not slept through."""
    emulator.configure_crm(downloads_per_minute=1)
    export(tmp_path / "1", window=(T0, T0 + HOUR))
    with pytest.raises(AEPAPIError, match="still throttled"):
        export(tmp_path / "2", window=(T0 + HOUR, T0 + 2 * HOUR), throttle_budget=5)
    assert calls(emulator, "GET", RESULT) == [200, 429]
    assert_no_file(tmp_path / "2")


def test_endless_429_ends_in_a_clear_error_within_the_budget(emulator: Emulator, tmp_path: Path) -> None:
    emulator.add_fault(Fault(method="POST", path=READ, kind="status", status=429, retry_after="1", count=-1))
    with pytest.raises(AEPAPIError, match="still throttled") as info:
        export(tmp_path, throttle_budget=2.5)
    assert info.value.status == 429
    assert 2 <= len(calls(emulator, "POST", READ)) <= 4
    assert_no_file(tmp_path)


# -- credits ----------------------------------------------------------------------------------------------


def test_exhausted_credits_fail_at_once_saying_when_they_reset(emulator: Emulator, tmp_path: Path) -> None:
    emulator.configure_crm(credit_limit=2)  # the fields metadata and the job's creation, then nothing
    with pytest.raises(ZohoCreditsExhaustedError) as info:
        export(tmp_path)
    message = str(info.value)
    assert "credits are exhausted" in message
    assert info.value.reset_time and info.value.reset_time in message
    reset = datetime.fromisoformat(info.value.reset_time)
    assert timedelta(hours=23) < reset - datetime.now(timezone.utc) <= timedelta(hours=24)
    refused = [r for r in emulator.requests if r.status == 429]
    assert len(refused) == 1, "no retry loop on exhausted credits"
    assert_no_file(tmp_path)


# -- jobs that fail ---------------------------------------------------------------------------------------


def test_a_failed_job_gets_one_new_job(emulator: Emulator, tmp_path: Path) -> None:
    emulator.add_fault(Fault(method="POST", path=READ, kind="job_failure", count=1))
    manifest = export(tmp_path)
    assert_exact(manifest, expected(emulator, "Leads", *WINDOW))
    assert [j.state for j in emulator.crm.jobs.values()] == ["FAILURE", "COMPLETED"]


def test_two_failed_jobs_end_in_a_clear_error(emulator: Emulator, tmp_path: Path) -> None:
    emulator.add_fault(Fault(method="POST", path=READ, kind="job_failure", count=-1))
    with pytest.raises(BulkReadJobFailedError, match="both ended in FAILURE"):
        export(tmp_path)
    assert calls(emulator, "POST", READ) == [201, 201]
    assert_no_file(tmp_path)


# -- downloads --------------------------------------------------------------------------------------------


def test_an_expired_link_is_read_again_from_the_job(emulator: Emulator, tmp_path: Path) -> None:
    emulator.add_fault(Fault(method="GET", path=RESULT, kind="link_expired", count=1))
    manifest = export(tmp_path)
    assert_exact(manifest, expected(emulator, "Leads", *WINDOW))
    trail = [(r.path.rsplit("/", 1)[-1], r.status, bool(r.query.get("key"))) for r in emulator.requests
             if "/bulk/" in r.path and r.method == "GET"]  # fmt: skip
    assert trail[-3:] == [("result", 400, False), (trail[-2][0], 200, False), ("result", 200, True)]


def test_a_link_expired_by_age_is_read_again(emulator: Emulator, tmp_path: Path) -> None:
    emulator.configure_crm(link_seconds=0.0)  # every link has expired by the time it is used
    with pytest.raises(AEPAPIError, match="expired again"):
        export(tmp_path)
    assert_no_file(tmp_path)


@pytest.mark.parametrize("home", ["memory", "disk"])
@pytest.mark.parametrize("resets", [1, 3])
def test_a_reset_mid_download_is_retried_into_an_exact_file(
    emulator: Emulator, tmp_path: Path, resets: int, home: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether the zip is held in memory or has gone on to a temporary file, a new attempt starts it afresh."""
    on_disk = []
    temporary_file = tempfile.TemporaryFile

    def spy(*args: Any, **kwargs: Any) -> Any:
        on_disk.append(1)
        return temporary_file(*args, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", spy)
    offsets = []  # where the member starts in each zip written out: after a stale prefix, it would not be 0
    write_page = zoho_crm.write_page

    def check_then_write(zip_file: Any, *args: Any) -> Any:
        with zipfile.ZipFile(zip_file) as archive:
            offsets.extend(info.header_offset for info in archive.infolist())
        zip_file.seek(0)
        return write_page(zip_file, *args)

    monkeypatch.setattr(zoho_crm, "write_page", check_then_write)
    if home == "disk":  # the zip outgrows memory before the connection breaks, half way through the body
        monkeypatch.setattr(zoho_crm, "ZIP_IN_MEMORY", 1024)
    emulator.add_fault(Fault(method="GET", path=RESULT, kind="reset_mid_body", count=resets))
    # Small chunks: the first half of the body is written before the reset, as with a large page.
    manifest = export(tmp_path, window=(T0, T0 + 3 * DAY), chunk_size=256)
    assert_exact(manifest, expected(emulator, "Leads", T0, T0 + 3 * DAY))
    assert len(calls(emulator, "GET", RESULT)) == resets + 1
    assert len(on_disk) == (1 if home == "disk" else 0)  # one page, one temporary file however many attempts
    assert offsets == [0]
    assert sorted(p.name for p in tmp_path.iterdir()) == [Path(f["path"]).name for f in manifest["files"]]


@pytest.mark.parametrize("damage", ["truncated", "flipped"])
def test_a_damaged_zip_is_downloaded_again_into_an_exact_file(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    """A zip that arrived whole by its length but fails zipfile's checks (no central directory, a bad CRC or
    deflate stream) is fetched again: never a file from it."""
    write_page = zoho_crm.write_page
    damaged = []

    def damage_once(zip_file: Any, *args: Any) -> Any:
        if not damaged:
            data = bytearray(zip_file.read())
            if damage == "truncated":
                data = data[: len(data) - 30]
            else:
                data[len(data) // 3] ^= 0xFF
            zip_file.seek(0)
            zip_file.truncate()
            zip_file.write(bytes(data))
            zip_file.seek(0)
            damaged.append(1)
        return write_page(zip_file, *args)

    monkeypatch.setattr(zoho_crm, "write_page", damage_once)
    manifest = export(tmp_path, window=(T0, T0 + DAY))
    assert_exact(manifest, expected(emulator, "Leads", T0, T0 + DAY))
    assert calls(emulator, "GET", RESULT) == [200, 200]
    assert sorted(p.name for p in tmp_path.iterdir()) == [Path(f["path"]).name for f in manifest["files"]]


def test_resets_without_end_leave_no_file(emulator: Emulator, tmp_path: Path) -> None:
    emulator.add_fault(Fault(method="GET", path=RESULT, kind="reset_mid_body", count=-1))
    with pytest.raises(AEPAPIError, match="could not be downloaded whole in 3 attempts"):
        export(tmp_path, download_attempts=3)
    assert len(calls(emulator, "GET", RESULT)) == 3
    assert_no_file(tmp_path)


def test_a_server_error_on_the_download_is_retried(emulator: Emulator, tmp_path: Path) -> None:
    emulator.add_fault(Fault(method="GET", path=RESULT, kind="status", status=503, count=1))
    assert_exact(export(tmp_path), expected(emulator, "Leads", *WINDOW))


# -- tokens -----------------------------------------------------------------------------------------------


def test_an_expired_access_token_is_refreshed_once(emulator: Emulator, tmp_path: Path) -> None:
    export(tmp_path / "1")
    emulator.expire_zoho_tokens()
    assert_exact(export(tmp_path / "2"), expected(emulator, "Leads", *WINDOW))
    assert [r.path for r in emulator.requests].count("/oauth/v2/token") == 2


def test_throttled_token_refresh_is_not_retried(emulator: Emulator, tmp_path: Path) -> None:
    emulator.zoho_throttled = True
    with pytest.raises(AEPAPIError, match="Access Denied"):
        export(tmp_path)
    assert [r.path for r in emulator.requests] == ["/oauth/v2/token"]


# -- bad input: before any call ---------------------------------------------------------------------------

NOW = datetime.now(timezone.utc)
BAD_INPUT = [
    ("module", {"module": ""}),
    ("module", {"module": "Leads; DROP"}),
    ("module", {"module": None}),
    ("window_start", {"start": datetime(2026, 1, 1)}),  # naive
    ("window_end", {"end": datetime(2026, 1, 2)}),  # naive
    ("window_end", {"end": T0}),  # end == start
    ("window_end", {"end": T0 - HOUR}),  # end before start
    ("window_end", {"end": NOW + DAY}),  # the future
    ("window_start", {"start": "2026-01-01"}),  # not a datetime
    ("fields", {"fields": "Last_Name"}),  # a string, not a list
    ("fields", {"fields": []}),
]


@pytest.mark.parametrize(("field", "change"), BAD_INPUT, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_INPUT)])
def test_bad_input_fails_before_any_call_naming_the_field(
    emulator: Emulator, tmp_path: Path, field: str, change: dict[str, Any]
) -> None:
    args = {"module": "Leads", "start": T0, "end": T0 + HOUR, "fields": None, **change}
    with pytest.raises(ConfigurationError) as info:
        ZohoCRMHook().export_modified_records(
            args["module"], args["start"], args["end"], fields=args["fields"], out_dir=tmp_path
        )
    assert info.value.field == field
    assert "Fix:" in str(info.value)
    assert emulator.requests == []
    assert_no_file(tmp_path)


@pytest.mark.parametrize(("field", "module", "fields"), [("module", "Leadz", None), ("fields", "Leads", ["Nope"])])
def test_unknown_module_or_field_fails_before_any_bulk_job(
    emulator: Emulator, tmp_path: Path, field: str, module: str, fields: list[str] | None
) -> None:
    with pytest.raises(ConfigurationError) as info:
        ZohoCRMHook().export_modified_records(module, T0, T0 + HOUR, fields=fields, out_dir=tmp_path)
    assert info.value.field == field
    assert (module if field == "module" else "Nope") in str(info.value)
    assert [r.path for r in emulator.requests] == ["/oauth/v2/token", "/crm/v8/settings/fields"]
    assert_no_file(tmp_path)


# -- secrets ----------------------------------------------------------------------------------------------


def test_no_secret_in_logs_manifest_files_or_names(
    emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.add_fault(Fault(method="GET", path=RESULT, kind="link_expired", count=1))
    emulator.add_fault(Fault(method="GET", path=STATUS, kind="status", status=429, retry_after="1", count=1))
    with caplog.at_level(logging.DEBUG):
        manifest = export(tmp_path)
        tokens = list(emulator.store.zoho_tokens)
        emulator.expire_zoho_tokens()
        emulator.configure_crm(credit_limit=0)
        with pytest.raises(ZohoCreditsExhaustedError) as info:
            export(tmp_path / "again")
    creds = emulator.credentials
    secrets = [creds.zoho_client_secret, creds.zoho_refresh_token, *tokens, *emulator.store.zoho_tokens]
    assert len(secrets) == 4  # two access tokens were minted
    haystacks = [caplog.text, json.dumps(manifest), str(info.value), repr(info.value)]
    for path in tmp_path.rglob("*"):
        haystacks.append(str(path))
        if path.is_file():
            haystacks.append(path.read_text(encoding="utf-8"))
    for secret in secrets:
        assert not any(secret in text for text in haystacks)
