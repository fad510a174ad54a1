"""Every curated break still matches the code (``make test-mutations`` reports a stale one; this says it in
``make test`` too, the moment a change moves the code a break names)."""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from tests.mutations.breaks import BREAKS, Break
from tests.mutations.run import problems


@pytest.mark.parametrize("brk", BREAKS, ids=[b.name for b in BREAKS])
def test_the_break_applies_to_the_current_code(brk: Break) -> None:
    assert problems(brk, REPO) == "", f"stale entry {brk.name!r} in tests/mutations/breaks.py"
    assert brk.replacement != brk.original and brk.tests and brk.promise


def test_names_are_unique_and_no_fast_entry_runs_the_e2e_suite() -> None:
    names = [b.name for b in BREAKS]
    assert len(names) == len(set(names))
    assert not any(b.fast and any(t.startswith("tests/e2e/") for t in b.tests) for b in BREAKS)
