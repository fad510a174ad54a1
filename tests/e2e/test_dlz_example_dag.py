"""The Data Landing Zone example DAG under ``airflow dags test`` on an embedded SQLite Airflow, for three hourly
intervals against the emulator: each window's Zoho records land in the dataset once, and no secret (the SAS
token included) reaches the CLI output, a file under AIRFLOW_HOME or the metadata DB."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from emulator import Emulator, EmulatorCredentials
from tests.conftest import REPO
from tests.e2e.test_example_dag import AIRFLOW, assert_no_secret_anywhere, distinct_credentials, secrets_seen

sys.path.insert(0, str(REPO / "scripts"))
from demo import DEMO_DATES, DLZ_DAG_ID, airflow_env, xcom_values

# Each test waits on real Airflow processes (their own subprocess timeouts bound them): on a loaded machine,
# with another Airflow line's suite beside it, they outlast the suite's default 300 s ceiling.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Emulator, EmulatorCredentials, Path]]:
    home = tmp_path_factory.mktemp("airflow-home-dlz")
    creds = distinct_credentials()
    with Emulator(credentials=creds, run_duration=0.05, token_format="opaque") as emu:
        env = airflow_env(emu.url, home, creds)
        subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True)
        yield emu, creds, home


def dags_test(emu: Emulator, creds: EmulatorCredentials, home: Path, logical_date: str) -> subprocess.CompletedProcess:
    env = airflow_env(emu.url, home, creds)
    env["ZOHO_AEP_EXPORT_DIR"] = str(home / "exports")
    return subprocess.run([AIRFLOW, "dags", "test", DLZ_DAG_ID, logical_date], env=env, capture_output=True,
                          text=True, timeout=600)


def test_three_hourly_windows_land_once_each_with_no_secret_anywhere(world):
    emu, creds, home = world
    dataset_id = "5f3c2bfc1a2b3c4d5e6f7a8b"
    outputs = []
    for logical_date in DEMO_DATES:
        run = dags_test(emu, creds, home, logical_date)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        outputs.append(run)
        result = xcom_values(home, DLZ_DAG_ID)["ingest_window"]
        end = datetime.fromisoformat(logical_date)
        want = emu.crm.data.count_modified_in("Leads", end - timedelta(hours=1), end)
        assert want > 0
        assert result["records_exported"] == result["output_record_count"] == want
        assert result["window_start"] == (end - timedelta(hours=1)).isoformat()
    # Record for record: the three hours' modifications, each once.
    first = datetime.fromisoformat(DEMO_DATES[0]) - timedelta(hours=1)
    last = datetime.fromisoformat(DEMO_DATES[-1])
    want_ids = sorted(r["id"] for r in emu.crm.data.modified_in("Leads", first, last))
    assert sorted(row["_emulator"]["zohoId"] for row in emu.dataset_rows(dataset_id)) == want_ids

    # Running a landed window again lands nothing more.
    again = dags_test(emu, creds, home, DEMO_DATES[0])
    assert again.returncode == 0, again.stdout[-3000:]
    assert len(emu.dataset_rows(dataset_id)) == len(want_ids)

    sas = emu.store.dlz.blobs.current_token().token
    secrets = secrets_seen(emu, creds) | {sas, *parse_qs(sas).get("sig", [])}
    for run in [*outputs, again]:
        assert_no_secret_anywhere(run, home, secrets)
    with sqlite3.connect(home / "airflow.db") as db:
        dump = "\n".join(db.iterdump())
    assert [s[:12] for s in secrets if s in dump] == []
