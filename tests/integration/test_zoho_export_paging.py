"""A window of more than 400,000 records: three Bulk Read jobs chained by next_page_token, compared record for record.

Slow (about a minute on two cores): run with ``make test-slow``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook
from emulator import Emulator
from emulator.crm_data import CrmDataSet
from tests.conftest import set_connection, zoho_connection
from tests.integration.zoho_export_helpers import DAY, T0, check_manifest, iter_rows

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("ZOHO_AEP_SLOW_TESTS"), reason="slow: make test-slow"),
]


@pytest.fixture(scope="module")
def big_emulator() -> Iterator[Emulator]:
    with Emulator(crm_data=CrmDataSet(records_per_module=1_000_000)) as emu:
        yield emu


def test_a_window_of_more_than_400000_records_crosses_pages_and_jobs(
    big_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_connection(monkeypatch, "zoho_crm_default", zoho_connection(big_emulator.url))
    start, end = T0 + DAY, T0 + 4 * DAY  # 3 of the 7 days: about 428,600 records
    data = big_emulator.crm.data
    count = data.count_modified_in("Deals", start, end)
    assert count > 400_000

    manifest = ZohoCRMHook().export_modified_records("Deals", start, end, out_dir=tmp_path)

    check_manifest(manifest)
    posts = [json.loads(r.body)["query"] for r in big_emulator.requests if r.path == "/crm/bulk/v8/read"]
    assert len(posts) == 3
    assert "page_token" not in posts[0] and posts[1]["page_token"] and posts[2]["page_token"]
    assert len(manifest["files"]) == 3
    assert manifest["records"] == count
    # Record for record, in order, without holding either side in memory.
    seen = 0
    for got, want in zip(iter_rows(manifest), data.modified_in("Deals", start, end), strict=True):
        assert got == want
        seen += 1
    assert seen == count
