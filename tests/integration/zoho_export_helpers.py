"""Helpers of the Zoho CRM export tests: read what an export wrote, check its manifest, compute what it should be."""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from emulator import Emulator

#: The emulator's default data set: 2,000 records per module, Modified_Time over [T0, T0 + 7 days).
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def expected(emu: Emulator, module: str, start: datetime, end: datetime) -> list[dict[str, str]]:
    """The seeded records modified in ``[start, end)``, as the emulator holds them now."""
    return list(emu.crm.data.modified_in(module, start, end))


def iter_rows(manifest: dict[str, Any]) -> Iterator[dict[str, str]]:
    for item in manifest["files"]:
        with open(item["path"], newline="", encoding="utf-8") as f:
            yield from csv.DictReader(f)


def check_manifest(manifest: dict[str, Any]) -> None:
    """Every file exists whole: its bytes, SHA-256 and row count are what the manifest says; totals add up."""
    assert manifest["records"] == sum(f["records"] for f in manifest["files"])
    assert manifest["bytes"] == sum(f["bytes"] for f in manifest["files"])
    for item in manifest["files"]:
        data = Path(item["path"]).read_bytes()
        assert len(data) == item["bytes"] == os.path.getsize(item["path"])
        assert hashlib.sha256(data).hexdigest() == item["sha256"]
        assert data.startswith(",".join(manifest["fields"]).encode() + b"\r\n")
        with open(item["path"], newline="", encoding="utf-8") as f:
            assert sum(1 for _ in csv.reader(f)) - 1 == item["records"] > 0
        assert not os.path.exists(item["path"] + ".partial")


def assert_exact(manifest: dict[str, Any], want: list[dict[str, str]]) -> None:
    """The export holds exactly ``want``: same IDs, each once, every column equal."""
    check_manifest(manifest)
    got = list(iter_rows(manifest))
    ids = [r["id"] for r in got]
    assert len(ids) == len(set(ids)), "a record was exported twice"
    assert sorted(ids) == sorted(r["id"] for r in want)
    by_id = {r["id"]: r for r in want}
    for row in got:
        assert row == {k: by_id[row["id"]][k] for k in manifest["fields"]}, row["id"]
    assert manifest["records"] == len(want)
