"""What every benchmark shares: the result row and its table, paired medians, the environment, the emulator's
Connections, running an operator outside a task runner."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
WORK = REPO / ".bench"  # git-ignored: Airflow home, the aepp venv
FLOW_PREFIX = "/data/foundation/flowservice"


@dataclass
class Row:
    """One line of the table. ``passed`` is None for a row that has no goal (shown for information)."""

    benchmark: str
    ours: str
    baseline: str
    ratio: float | None
    goal: str = "-"
    passed: bool | None = None
    notes: list[str] = field(default_factory=list)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def paired(reps: int, ours: Callable[[], float], baseline: Callable[[], float]) -> tuple[list[float], list[float]]:
    """``reps`` samples of each, taken side by side and interleaved (the order flips every repetition)."""
    a: list[float] = []
    b: list[float] = []
    for i in range(reps):
        if i % 2:
            b.append(baseline())
            a.append(ours())
        else:
            a.append(ours())
            b.append(baseline())
    return a, b


def paired_ratio(ours: Sequence[float], baseline: Sequence[float]) -> float:
    """Median of the per-pair ratios: robust to the load of a shared machine drifting during the run."""
    return median([o / b for o, b in zip(ours, baseline, strict=True)])


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=4) if len(values) >= 2 else [values[0]] * 3
    return q[0], q[2]


def setup_environment() -> None:
    """A private Airflow home, no example DAGs, quiet logs. Call before anything imports Airflow."""
    home = WORK / "airflow-home"
    home.mkdir(parents=True, exist_ok=True)
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    # One INFO line per request would flood the table; tasks write them to their log file instead.
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    for name in [n for n in os.environ if n.startswith("AIRFLOW_CONN_")]:
        del os.environ[name]


def clean_env() -> dict[str, str]:
    """The environment for a child interpreter: this one's, without any Airflow Connection."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}


def run_json(argv: Sequence[str], env: dict[str, str] | None = None, timeout: float = 300) -> dict:
    """Run a child process that prints one JSON line last on stdout; return it."""
    proc = subprocess.run(list(argv), capture_output=True, text=True, env=env or clean_env(), timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[1] if len(argv) > 1 else argv[0]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def connect_to(url: str) -> None:
    """Point ``aep_default`` and ``zoho_crm_default`` at the emulator (AIRFLOW_CONN_* variables)."""
    from emulator import EmulatorCredentials

    creds = EmulatorCredentials()
    aep = {
        "conn_type": "adobe_experience_platform", "login": creds.ims_client_id, "password": creds.ims_client_secret,
        "host": url,
        "extra": {"ims_org_id": creds.ims_org_id, "sandbox_name": "prod", "ims_token_url": f"{url}/ims/token/v3"},
    }
    zoho = {
        "conn_type": "zoho_crm", "login": creds.zoho_client_id, "password": creds.zoho_client_secret, "host": url,
        "extra": {"accounts_url": url, "refresh_token": creds.zoho_refresh_token},
    }
    os.environ["AIRFLOW_CONN_AEP_DEFAULT"] = json.dumps(aep)
    os.environ["AIRFLOW_CONN_ZOHO_CRM_DEFAULT"] = json.dumps(zoho)


PYTHON = sys.executable


def child_env() -> dict[str, str]:
    """The environment for a child interpreter that plays a task: this one's, with the Connections that
    :func:`connect_to` set, and this checkout first on the path."""
    return {**os.environ, "PYTHONPATH": str(REPO)}


class FakeTI:
    """What an operator uses of a task instance outside a task runner: its identity, XCom push and pull."""

    dag_id, run_id, task_id, map_index = "bench", "bench", "task", -1

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = json.loads(json.dumps(value))  # XCom takes JSON

    def xcom_pull(self, task_ids: str | None = None, key: str = "return_value", **_: Any) -> Any:
        return self.xcom.get(key)


def execute(operator: Any, **context: Any) -> Any:
    """``operator.execute()`` outside a task runner, as the benchmarks set up their flows."""
    from airflow.sdk.bases.operator import ExecutorSafeguard

    ExecutorSafeguard.test_mode = True  # what AIRFLOW__CORE__UNIT_TEST_MODE does for the test suite
    return operator.execute({"ti": FakeTI(), **context})


def table(rows: list[Row]) -> str:
    head = ("benchmark", "ours", "baseline", "ratio", "goal", "result")
    lines = [head]
    for r in rows:
        result = "info" if r.passed is None else ("pass" if r.passed else "FAIL")
        lines.append((r.benchmark, r.ours, r.baseline, "-" if r.ratio is None else f"{r.ratio:.3f}", r.goal, result))
    return markdown(lines)


def markdown(lines: Sequence[Sequence[str]]) -> str:
    """A Markdown table; the first line is the head."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = ["| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |" for line in lines]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)
