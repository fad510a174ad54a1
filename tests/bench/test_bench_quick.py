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
    for row in ("DAG parse", "requests: create", "throughput", "triggerer", "DLZ window task 10,000 records"):
        assert row in out, f"no {row!r} row in:\n{out}"
    # The window task's own table, one line per size, with the export's CPU measured in the same run.
    head = "| records | files | peak RSS (MB) | wall (s) | export CPU (s per 1M records) |"
    assert head in out, out
    (line,) = [x for x in out.splitlines() if x.startswith("| 10,000 ")]
    records, files, rss, wall, cpu = (cell.strip() for cell in line.strip("|").split("|"))
    assert records == "10,000" and int(files) >= 1 and float(rss) > 0 and float(wall) > 0 and float(cpu) > 0, line


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
