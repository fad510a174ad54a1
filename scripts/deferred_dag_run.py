"""The example DAG end to end with dataflow runs slow enough that its window task really defers.

``make demo`` lets the emulator finish runs in 50 ms, so the window task finds the run done at its first look
and never defers. Here each run takes ``--run-seconds`` (40 by default, so that even a slow machine reaches the
window task, ``AEPRunDataflowOperator(deferrable=True)``, before the run ends; the trigger's 60-second poll
interval sets the wall time anyway): the task's first look sees the run in progress, it defers, the trigger
polls Flow Service from the event loop (with httpx, while the operators use requests), the run finishes, and the
task resumes in ``execute_complete``. The script checks each of those steps and prints one JSON line,
``{"ok": ..., "checks": {...}}``; exit status 0 only when every check holds.

``airflow dags test`` runs the trigger inline, in the same process, on every Airflow 3 line: the same trigger
code, serialized and rebuilt from its kwargs, as the triggerer would run it.

    python scripts/deferred_dag_run.py [--run-seconds 40] [--home DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo import DAG_ID, DEMO_DATES, airflow_env, xcom_values

from emulator import Emulator, EmulatorCredentials


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-seconds", type=float, default=40.0)
    parser.add_argument("--home", type=Path, default=None, help="AIRFLOW_HOME (default: a new temporary folder)")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="deferred-dag-run-"))
    home.mkdir(parents=True, exist_ok=True)
    airflow = str(Path(sys.executable).parent / "airflow")
    creds = EmulatorCredentials()
    with Emulator(credentials=creds, run_duration=args.run_seconds) as emu:
        env = airflow_env(emu.url, home, creds)
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=600)
        started = time.monotonic()
        run = subprocess.run([airflow, "dags", "test", DAG_ID, DEMO_DATES[0]], env=env, capture_output=True, text=True,
                             timeout=900)
        seconds = time.monotonic() - started
        requests = emu.requests
    output = run.stdout + run.stderr
    (home / "deferred-dag-run.log").write_text(output)
    values = xcom_values(home, DAG_ID)
    result = values.get("ingest_window") if isinstance(values.get("ingest_window"), dict) else {}
    run_reads = [r for r in requests if r.method == "GET" and "/runs" in r.path]
    by_trigger = [r for r in run_reads if r.headers.get("user-agent", "").startswith("python-httpx")]
    flow_created = min((r.time for r in requests if r.method == "POST" and r.path.endswith("/flows")), default=0)
    checks = {
        "dags test exit status 0": run.returncode == 0,
        "the window task returned a successful run": result.get("status") == "success" and bool(result.get("run_id")),
        # The trigger is the only code that reads Flow Service with httpx: these are its polls.
        "trigger polled the runs (httpx)": len(by_trigger) >= 2,
        "trigger saw the run in progress": "is inProgress" in output or "is queued" in output,
        "the window task resumed in execute_complete": f"run {result.get('run_id')} of window" in output
        and "succeeded" in output,
        f"the run took at least {args.run_seconds:g} s": bool(by_trigger)
        and by_trigger[-1].time - flow_created >= args.run_seconds,
        "no import error": "ImportError" not in output,
    }
    ok = all(checks.values())
    print(json.dumps({"ok": ok, "seconds": round(seconds, 1), "trigger_polls": len(by_trigger),
                      "run": result, "checks": checks, "log": str(home / "deferred-dag-run.log")}))
    if not ok:
        print(output[-5000:], file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
