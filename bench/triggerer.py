"""Benchmark 6: N deferred ``AEPDataflowRunTrigger``s in one process, the way Airflow's triggerer runs them.

The emulator runs in its own process (so its threads do not share the triggers' interpreter), and so do the
triggers (``bench/probes/triggerer_probe.py``: a fresh process, nothing cached, as a triggerer starts). One flow,
N runs of it lasting 5 to 10 s (six equal groups: 5, 6, ..., 10 s), then N triggers, each rebuilt from its
``serialize()`` output as the triggerer does, wait for one run each (``run_id``) in one event loop, polling every
2 s. Measured:

* wall ÷ ideal: the time until the last trigger fired, over the ideal, which is when the last run finished plus
  half a poll interval (the average wait to see it);
* IMS token requests (at the emulator) and mask calls (``mask_secret`` / ``amask_secret``) for the whole process;
* the event loop's worst lag: a heartbeat sleeps 50 ms in a loop and records how late it wakes;
* RSS per waiting trigger: the process's resident memory once all N wait, minus before they started, over N;
* failures: triggers whose single event is not a success, also under a rate limit of 1 request/s (burst 1);
* CPython's garbage-collection pauses: a full collection walks every object of the process (~170,000, mostly
  Airflow's own), and is the one loop stall the triggers cannot avoid. A second run of the largest N calls
  ``gc.freeze()`` first (as Airflow's DAG processor and LocalExecutor do after start-up) to show the lag without
  them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from _common import BENCH, PYTHON, REPO, Row, child_env, connect_to, execute, run_json

PROBE = BENCH / "probes" / "triggerer_probe.py"
#: (N, run durations, poll interval) for the full and quick runs; the rate-limited run's N.
FULL = {"sizes": (100, 1000), "durations": (5, 6, 7, 8, 9, 10), "poll": 2.0, "limited": 100}
QUICK = {"sizes": (50,), "durations": (1, 2), "poll": 0.5, "limited": 5}
GOALS = {"ratio": 1.2, "tokens": 1, "lag": 0.2, "rss_mb": 0.2}


class EmulatorProcess:
    """``python -m emulator`` on a free port, in a child process."""

    def __enter__(self) -> EmulatorProcess:
        self._dir = tempfile.TemporaryDirectory()
        ready = Path(self._dir.name) / "ready"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen([PYTHON, "-m", "emulator", "--port", "0", "--ready-file", str(ready)],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not ready.exists():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.05)
        self.url = ready.read_text().strip()
        self.session = requests.Session()
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self._dir.cleanup()

    def control(self, method: str, what: str, body: Any = None) -> Any:
        answer = self.session.request(method, f"{self.url}/__emulator__/{what}", json=body, timeout=30)
        answer.raise_for_status()
        return answer.json() if answer.content else None


def _make_flow() -> str:
    """A once-scheduled flow, made by the operators a DAG would use."""
    from airflow_provider_zoho_aep.operators.base_connection import AEPCreateZohoCRMBaseConnectionOperator
    from airflow_provider_zoho_aep.operators.dataflow import AEPCreateDataflowOperator
    from airflow_provider_zoho_aep.operators.source_connection import AEPCreateSourceConnectionOperator
    from airflow_provider_zoho_aep.operators.target_connection import AEPCreateTargetConnectionOperator

    base = execute(AEPCreateZohoCRMBaseConnectionOperator(task_id="base", name="bench triggers"))
    source = execute(AEPCreateSourceConnectionOperator(task_id="source", name="bench Leads",
                                                       base_connection_id=base, table_name="Leads"))
    target = execute(AEPCreateTargetConnectionOperator(
        task_id="target", name="bench dataset", dataset_id="5f3c2bfc1a2b3c4d5e6f7a8b",
        schema_id="https://ns.adobe.com/emulator/schemas/zoho-crm-leads"))
    return str(execute(AEPCreateDataflowOperator(task_id="flow", name="bench flow", source_connection_id=source,
                                                 target_connection_id=target, delta_column="Modified_Time",
                                                 frequency="once")))


def _measure(emu: EmulatorProcess, n: int, durations: tuple[float, ...], poll: float, *, rate: float | None = None,
             freeze: bool = False) -> dict[str, Any]:
    emu.control("POST", "reset")
    plan = {"url": emu.url, "flow": _make_flow(), "n": n, "durations": list(durations), "poll": poll,
            "rate": rate, "freeze": freeze}
    return run_json([PYTHON, str(PROBE), json.dumps(plan)], env=child_env(),
                    timeout=max(durations) * 3 + n * 4 + 300)


def run(quick: bool = False) -> list[Row]:
    plan = QUICK if quick else FULL
    rows: list[Row] = []
    with EmulatorProcess() as emu:
        connect_to(emu.url)
        for n in plan["sizes"]:
            r = _measure(emu, n, plan["durations"], plan["poll"])
            ratio = r["wall"] / r["ideal"]
            rss_mb = r["rss_per_trigger"] / 2**20
            passed = (ratio <= GOALS["ratio"] and r["tokens"] <= GOALS["tokens"] and r["lag"] < GOALS["lag"]
                      and rss_mb < GOALS["rss_mb"] and r["failures"] == 0)
            rows.append(Row(
                f"triggerer: {n} deferred triggers",
                f"{r['wall']:.1f} s, {r['tokens']} token req, {r['masks']} masks, lag {r['lag']:.3f} s, "
                f"{rss_mb:.3f} MB/trigger, {r['failures']} failed",
                f"ideal {r['ideal']:.1f} s", ratio,
                "<= 1.2 x ideal, 1 token, lag < 0.2 s, < 0.2 MB/trigger, 0 failed", passed,
                [f"{n} triggers: {r['polls']} run reads, statuses {r['statuses']}, longest full garbage "
                 f"collection {r['gc_pause']:.3f} s"],
            ))
        n = max(plan["sizes"])
        r = _measure(emu, n, plan["durations"], plan["poll"], freeze=True)
        rows.append(Row(
            f"triggerer: {n} triggers, gc.freeze() first",
            f"{r['wall']:.1f} s, lag {r['lag']:.3f} s, {r['failures']} failed", f"ideal {r['ideal']:.1f} s",
            r["wall"] / r["ideal"], "lag < 0.2 s", None,
            [f"with the start-up heap frozen, the longest full garbage collection took {r['gc_pause']:.3f} s"],
        ))
        n = plan["limited"]
        r = _measure(emu, n, plan["durations"], plan["poll"], rate=1.0)
        rows.append(Row(
            f"triggerer: {n} triggers at 1 req/s",
            f"{r['failures']} failed, {r['wall']:.0f} s, {r['tokens']} token req", f"ideal {r['ideal']:.1f} s",
            r["wall"] / r["ideal"], "0 failed", r["failures"] == 0,
            [f"at 1 request/s (burst 1) the {n} triggers need at least {n} s of reads; none gave up before its "
             f"deadline ({r['polls']} run reads, statuses {r['statuses']})"],
        ))
    return rows


if __name__ == "__main__":
    from _common import setup_environment

    setup_environment()
    for row in run(quick="--quick" in sys.argv):
        print(row)
