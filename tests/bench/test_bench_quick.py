"""``bench/run.py --quick`` runs end to end and prints its table (the goals are the benchmarks' business, not a
test's: timings on a shared machine are not pass/fail material), and a DAG file's import stays isolated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
PROBE = REPO / "bench" / "probes" / "parse_probe.py"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env.update(AIRFLOW_HOME=str(tmp_path / "airflow"), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    return env


@pytest.mark.timeout(240)
def test_quick_benchmark_runs_and_prints_the_table(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--quick"],
        capture_output=True, text=True, timeout=230, cwd=REPO, env=_env(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "| benchmark" in out and "| ratio" in out and "| goal" in out
    assert "Machine:" in out and "Airflow" in out
    for row in ("DAG parse", "requests: create", "throughput", "overhead", "aepp", "DLZ pipeline", "triggerer"):
        assert row in out, f"no {row!r} row in:\n{out}"


@pytest.mark.timeout(120)
def test_example_dag_imports_without_network_connections_registry_or_http_stack(tmp_path: Path) -> None:
    """Importing the example DAG must not connect anywhere, read a Connection, start the providers manager, or
    load an HTTP client the DAG file does not need (the probe blocks sockets and records the rest)."""
    proc = subprocess.run(
        [sys.executable, str(PROBE), "isolate", str(REPO / "dags" / "zoho_crm_to_aep.py")],
        capture_output=True, text=True, timeout=110, env=_env(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["tasks"] == 6
    assert result["touched"] == []
    heavy = {"requests", "urllib3", "charset_normalizer", "aiohttp", "numpy", "zlib_ng"}
    loaded = {name.split(".")[0] for name in result["loaded"]}
    assert not heavy & loaded, sorted(heavy & loaded)


def test_the_raw_baselines_ask_for_the_providers_bounds_without_loading_its_export_code() -> None:
    """The raw sides restate the provider's query bounds (the same bounds make the same jobs and zips) so that
    they load none of its export code: numpy's threads would otherwise run in the baseline's process too."""
    code = """
import sys
from datetime import datetime, timedelta, timezone
sys.path.insert(0, sys.argv[1])
import by_hand
assert not {"numpy", "zlib_ng"} & {m.split(".")[0] for m in sys.modules}, "by_hand loads the export code"
from airflow_provider_zoho_aep.client.windows import Window
from airflow_provider_zoho_aep.client.zoho_bulk_read import query_bounds
ist = timezone(timedelta(hours=5, minutes=30))
start = datetime(2026, 1, 1, tzinfo=timezone.utc)
for a, b in [(start, start + timedelta(hours=1)), (start.astimezone(ist), start + timedelta(days=7)),
             (start + timedelta(microseconds=500), start + timedelta(seconds=59, microseconds=1))]:
    assert by_hand.query_bounds(a, b) == query_bounds(Window(a, b)), (a, b)
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code, str(REPO / "bench" / "probes")], capture_output=True,
                          text=True, timeout=60, cwd=REPO)
    assert proc.stdout.strip() == "ok", proc.stderr[-3000:]
