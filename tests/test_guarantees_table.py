"""docs/guarantees.md names real tests and real breaks: a renamed test or break cannot leave the table stale."""

from __future__ import annotations

import re
from pathlib import Path

from tests.mutations.breaks import BREAKS

REPO = Path(__file__).resolve().parent.parent
TABLE = (REPO / "docs" / "guarantees.md").read_text()
ROWS = [line for line in TABLE.splitlines() if line.startswith("| ") and not line.startswith("| Guarantee")]
TEST_SOURCES = {path: path.read_text() for path in (REPO / "tests").rglob("test_*.py")}


def cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def test_every_row_names_tests_and_a_break() -> None:
    assert len(ROWS) >= 25
    for row in ROWS:
        _, proven_by, breaks = cells(row)
        assert "`" in proven_by and "`" in breaks, row


def test_every_test_file_and_test_named_exists() -> None:
    missing = []
    for row in ROWS:
        for name in re.findall(r"`([^`]+)`", cells(row)[1]):
            if name.startswith(("tests/", "bench/")):
                if not (REPO / name.split("::")[0].split(" ")[0]).exists():
                    missing.append(name)
            elif name.startswith("test_"):  # a test's name, or ``test_prefix_*`` for a family of them
                pattern = rf"def {re.escape(name[:-1])}\w" if name.endswith("*") else rf"def {re.escape(name)}\b"
                if not any(re.search(pattern, source) for source in TEST_SOURCES.values()):
                    missing.append(name)
    assert missing == []


def test_every_break_named_is_a_curated_break() -> None:
    known = {b.name for b in BREAKS}
    named = {name for row in ROWS for name in re.findall(r"`([a-z0-9-]+)`", cells(row)[2])}
    assert named and named - known == set()
