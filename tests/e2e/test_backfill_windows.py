"""A backfill of the example DAG over 24 hourly data intervals, on a real embedded Airflow (``dag.test()`` per
logical date, SQLite), against the emulator: one on-demand run per interval, each reading exactly the records of
its window, and a succeeded window run again is not ingested twice."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from emulator import Emulator, EmulatorCredentials
from tests.conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))
from demo import airflow_env

# Each test waits on real Airflow processes (their own subprocess timeouts bound them): on a loaded machine,
# with another Airflow line's suite beside it, they outlast the suite's default 300 s ceiling.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
AIRFLOW = str(Path(sys.executable).parent / "airflow")
FIRST_WINDOW = datetime(2026, 1, 2, tzinfo=timezone.utc)
HOURS = 24
RUNS_PATH = "/data/foundation/flowservice/runs"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Emulator, dict[str, str]]]:
    home = tmp_path_factory.mktemp("airflow-home")
    creds = EmulatorCredentials()
    with Emulator(credentials=creds, run_duration=0.05) as emu:
        env = airflow_env(emu.url, home, creds)
        env["PYTHONPATH"] = str(REPO)
        subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True)
        yield emu, env


def dag_runs(env: dict[str, str], first_logical_date: datetime, count: int) -> list[dict[str, Any]]:
    run = subprocess.run(
        [sys.executable, str(REPO / "tests" / "e2e" / "backfill_runner.py"), first_logical_date.isoformat(),
         str(count)], env=env, capture_output=True, text=True, timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith('{"state"')]
    assert len(lines) == count, run.stdout[-3000:]
    for line in lines:
        if isinstance(line["result"], str):
            line["result"] = json.loads(line["result"])
    return lines


def record_ids(emu: Emulator, start: datetime, end: datetime) -> list[str]:
    return [record["id"] for record in emu.store.crm_data.modified_in("Leads", start, end)]


def test_a_backfill_makes_one_run_per_interval_with_the_records_of_its_window(world) -> None:
    emu, env = world
    results = dag_runs(env, FIRST_WINDOW + timedelta(hours=1), HOURS)
    assert [r["state"] for r in results] == ["success"] * HOURS

    windows = [(FIRST_WINDOW + timedelta(hours=h), FIRST_WINDOW + timedelta(hours=h + 1)) for h in range(HOURS)]
    # Each DAG run ingested its own data interval, and nothing else.
    assert [(r["start"], r["end"]) for r in results] == [(s.isoformat(), e.isoformat()) for s, e in windows]
    assert [(r["result"]["window_start"], r["result"]["window_end"]) for r in results] == [
        (s.isoformat(), e.isoformat()) for s, e in windows]

    on_demand = [run for run in emu.store.runs.values() if run["params"]]
    assert len(on_demand) == HOURS
    assert len({(run["params"]["windowStartTime"], run["params"]["windowEndTime"]) for run in on_demand}) == HOURS
    by_id = {run["id"]: run for run in on_demand}
    for result, (start, end) in zip(results, windows, strict=True):
        run = by_id[result["result"]["run_id"]]
        assert (run["params"]["windowStartTime"], run["params"]["windowEndTime"]) == (
            int(start.timestamp()), int(end.timestamp()))
        expected = emu.store.crm_data.count_modified_in("Leads", start, end)
        assert result["result"]["input_record_count"] == expected == run["_records"]
        assert result["result"]["output_record_count"] == expected
        assert result["result"]["failed_record_count"] == 0

    # The windows tile the day: every record modified in it belongs to exactly one window (none lost, none twice).
    per_window = [record_ids(emu, start, end) for start, end in windows]
    flat = [record_id for ids in per_window for record_id in ids]
    assert len(flat) == len(set(flat))
    assert sorted(flat) == sorted(record_ids(emu, windows[0][0], windows[-1][1]))
    assert sum(r["result"]["input_record_count"] for r in results) == len(flat) > HOURS

    # A succeeded window run again (a new DAG run over the same interval) is not ingested twice.
    emu.clear_requests()
    (again,) = dag_runs(env, FIRST_WINDOW + timedelta(hours=5), 1)
    assert again["state"] == "success"
    assert again["result"]["run_id"] == results[4]["result"]["run_id"]
    assert [r for r in emu.requests if r.method == "POST" and r.path == RUNS_PATH] == []
    assert len([run for run in emu.store.runs.values() if run["params"]]) == HOURS
