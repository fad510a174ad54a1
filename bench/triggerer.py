"""Benchmark 6: N deferred ``AEPDataflowRunTrigger``s in one process, the way Airflow's triggerer runs them.

The emulator runs in its own process (so its threads do not share this process's interpreter). One flow, N
runs of it lasting 5 to 10 s (six equal groups: 5, 6, ..., 10 s), then N triggers, each rebuilt from its
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

import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from _common import PYTHON, REPO, Row, clear_token_caches

FS = "/data/foundation/flowservice"
#: (N, run durations, poll interval) for the full and quick runs; the rate-limited run's N.
FULL = {"sizes": (100, 1000), "durations": (5, 6, 7, 8, 9, 10), "poll": 2.0, "limited": 100}
QUICK = {"sizes": (50,), "durations": (1, 2), "poll": 0.5, "limited": 5}
GOALS = {"ratio": 1.2, "tokens": 1, "lag": 0.2, "rss_mb": 0.2}


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


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


def _connect(url: str) -> None:
    from emulator import EmulatorCredentials

    creds = EmulatorCredentials()
    os.environ["AIRFLOW_CONN_AEP_DEFAULT"] = json.dumps({
        "conn_type": "adobe_experience_platform", "login": creds.ims_client_id, "password": creds.ims_client_secret,
        "host": url, "extra": {"ims_org_id": creds.ims_org_id, "sandbox_name": "prod",
                               "ims_token_url": f"{url}/ims/token/v3"},
    })


def _make_flow() -> tuple[Any, str]:
    """A once-scheduled flow through the sync hook (its token request happens here, before the measurement)."""
    from airflow_provider_zoho_aep import ZOHO_CRM_CONNECTION_SPEC_ID
    from airflow_provider_zoho_aep.client.schedule import schedule_params
    from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
    from emulator import EmulatorCredentials

    creds = EmulatorCredentials()
    hook = AdobeExperiencePlatformHook()
    base = hook.create_base_connection("bench triggers", ZOHO_CRM_CONNECTION_SPEC_ID, {
        "endpoint": hook.settings.platform_url, "accountsUrl": hook.settings.platform_url,
        "clientId": creds.zoho_client_id, "clientSecret": creds.zoho_client_secret, "accessToken": "bench",
        "refreshToken": creds.zoho_refresh_token})["id"]
    source = hook.create_source_connection("bench Leads", base, "Leads")["id"]
    target = hook.create_target_connection("bench dataset", "5f3c2bfc1a2b3c4d5e6f7a8b",
                                           "https://ns.adobe.com/emulator/schemas/zoho-crm-leads")["id"]
    flow = hook.create_dataflow("bench flow", source, target, "Modified_Time",
                                schedule_params=schedule_params("once"))["id"]
    return hook, flow


def _start_runs(emu: EmulatorProcess, hook: Any, flow: str, n: int, durations: tuple[float, ...]) -> list[tuple[
        str, float]]:
    """N runs in groups of equal duration; returns (run ID, wall-clock time it finishes)."""
    out: list[tuple[str, float]] = []
    groups = [n // len(durations) + (1 if i < n % len(durations) else 0) for i in range(len(durations))]
    for duration, size in zip(durations, groups, strict=True):
        emu.control("POST", "config", {"run_duration": duration})
        for _ in range(size):
            posted = time.time()
            answer = hook.client.request("POST", "/runs", json={"flowId": flow}, idempotent=False, ok=(201,))
            out.append((answer.json()["id"], posted + duration))
    return out


class MaskCounter:
    """Counts Airflow's mask calls in this process (sync and async), passing them on."""

    def __init__(self) -> None:
        import airflow.sdk.execution_time.context as context
        import airflow.sdk.log as sdk_log

        self.calls = 0
        self._patched: list[tuple[Any, str, Any]] = []
        for module in (sdk_log, context):
            for name in ("mask_secret", "amask_secret"):
                real = getattr(module, name, None)
                if real is None:
                    continue
                self._patched.append((module, name, real))
                setattr(module, name, self._wrap(real))

    def _wrap(self, real: Any) -> Any:
        if asyncio.iscoroutinefunction(real):
            async def counted_async(*args: Any, **kwargs: Any) -> Any:
                self.calls += 1
                return await real(*args, **kwargs)
            return counted_async

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return real(*args, **kwargs)
        return counted

    def restore(self) -> None:
        for module, name, real in self._patched:
            setattr(module, name, real)


async def _triggerer(runs: list[tuple[str, float]], flow: str, poll: float, deadline_s: float) -> dict[str, Any]:
    """Run one trigger per run in this loop, as the triggerer does; measure lag, RSS and time."""
    from airflow_provider_zoho_aep.triggers.dataflow_run import AEPDataflowRunTrigger

    loop = asyncio.get_running_loop()
    lag = 0.0
    running = True

    async def heartbeat() -> None:
        nonlocal lag
        while running:
            before = loop.time()
            await asyncio.sleep(0.05)
            lag = max(lag, loop.time() - before - 0.05)

    async def first_event(trigger: AEPDataflowRunTrigger) -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        return {"status": "no event"}

    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0.2)
    rss_before = _rss_bytes()
    started = time.time()
    tasks = []
    for run_id, _ in runs:
        # As TriggerRunner.create_triggers does: yield to the loop, rebuild the trigger from its serialized
        # kwargs, yield again, start its task.
        await asyncio.sleep(0)
        _, kwargs = AEPDataflowRunTrigger(flow_id=flow, aep_conn_id="aep_default", poll_interval=poll,
                                          end_time=started + deadline_s, run_id=run_id).serialize()
        trigger = AEPDataflowRunTrigger(**json.loads(json.dumps(kwargs)))
        await asyncio.sleep(0)
        tasks.append(asyncio.create_task(first_event(trigger)))
    await asyncio.sleep(min(1.0, poll / 2))  # every trigger has polled at least once and is waiting
    rss_waiting = _rss_bytes()
    events = await asyncio.gather(*tasks)
    wall = time.time() - started
    running = False
    await beat
    last_done = max(done for _, done in runs) - started
    return {"wall": wall, "ideal": last_done + poll / 2, "lag": lag,
            "rss_per_trigger": (rss_waiting - rss_before) / len(runs),
            "failures": sum(1 for e in events if e.get("status") != "success"),
            "statuses": sorted({str(e.get("status")) for e in events})}


class GcPauses:
    """The longest full (generation 2) garbage collection while installed."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif info["generation"] == 2:
            self.longest = max(self.longest, time.perf_counter() - self._started)

    def remove(self) -> None:
        gc.callbacks.remove(self._callback)


def _measure(emu: EmulatorProcess, n: int, durations: tuple[float, ...], poll: float, *, rate: float | None = None,
             freeze: bool = False) -> dict[str, Any]:
    from airflow_provider_zoho_aep.client import async_http  # noqa: F401  (the HTTP stack loaded before RSS)
    from airflow_provider_zoho_aep.hooks.aep_base import forget_masked

    emu.control("POST", "reset")
    clear_token_caches()
    forget_masked()
    hook, flow = _make_flow()
    runs = _start_runs(emu, hook, flow, n, durations)
    if rate is not None:
        emu.control("POST", "config", {"rate_limit": {"rate_per_second": rate, "burst": 1}})
    # A fresh process as far as tokens and masking go: the trigger side starts with nothing cached.
    clear_token_caches()
    forget_masked()
    emu.control("DELETE", "requests")
    masks = MaskCounter()
    if freeze:
        gc.collect()
        gc.freeze()
    pauses = GcPauses()
    try:
        result = asyncio.run(_triggerer(runs, flow, poll, deadline_s=max(durations) * 3 + n * 4))
    finally:
        masks.restore()
        pauses.remove()
        if freeze:
            gc.unfreeze()
    result["gc_pause"] = pauses.longest
    requests_seen = emu.control("GET", "requests")
    result["tokens"] = sum(1 for r in requests_seen if r["path"] == "/ims/token/v3")
    result["polls"] = sum(1 for r in requests_seen if r["path"].startswith(f"{FS}/runs/"))
    result["masks"] = masks.calls
    if rate is not None:
        emu.control("POST", "config", {"rate_limit": None})
    return result


def run(quick: bool = False) -> list[Row]:
    plan = QUICK if quick else FULL
    from emulator import EmulatorCredentials  # noqa: F401  (import cost outside the measurement)

    rows: list[Row] = []
    with EmulatorProcess() as emu:
        _connect(emu.url)
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
