"""The triggerer side of ``bench/triggerer.py``, in a process of its own as Airflow's triggerer is; prints one
JSON line.

argv: one JSON object: ``url`` (the emulator), ``flow``, ``n``, ``durations``, ``poll``, ``rate`` (a rate limit
in requests/s for the triggers' phase, or null), ``freeze`` (``gc.freeze()`` before the triggers start). Starts
``n`` runs of the flow by hand (plain ``requests``: nothing of the provider is used or cached before the
triggers start), then runs one ``AEPDataflowRunTrigger`` per run in one event loop and measures it.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import time
from typing import Any

import requests

FS = "/data/foundation/flowservice"
SCOPES = "openid,session,AdobeID,read_organizations,additional_info.projectedProductContext"


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Control:
    """The emulator's control API (``/__emulator__/``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def __call__(self, method: str, what: str, body: Any = None) -> Any:
        answer = self.session.request(method, f"{self.url}/__emulator__/{what}", json=body, timeout=30)
        answer.raise_for_status()
        return answer.json() if answer.content else None


def _start_runs(control: Control, flow: str, n: int, durations: list[float]) -> list[tuple[str, float]]:
    """N runs in groups of equal duration, started by hand; returns (run ID, wall-clock time it finishes)."""
    from emulator import EmulatorCredentials

    creds, session, url = EmulatorCredentials(), requests.Session(), control.url
    token = session.post(f"{url}/ims/token/v3", data={
        "grant_type": "client_credentials", "client_id": creds.ims_client_id,
        "client_secret": creds.ims_client_secret, "scope": SCOPES}, timeout=30).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "x-api-key": creds.ims_client_id,
               "x-gw-ims-org-id": creds.ims_org_id, "x-sandbox-name": "prod"}
    out: list[tuple[str, float]] = []
    groups = [n // len(durations) + (1 if i < n % len(durations) else 0) for i in range(len(durations))]
    for duration, size in zip(durations, groups, strict=True):
        control("POST", "config", {"run_duration": duration})
        for _ in range(size):
            posted = time.time()
            answer = session.post(f"{url}{FS}/runs", json={"flowId": flow}, headers=headers, timeout=30)
            answer.raise_for_status()
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


def main() -> None:
    plan = json.loads(sys.argv[1])
    masks = MaskCounter()  # before the provider is imported, so that every mask call is counted
    import httpx  # noqa: F401  (the async HTTP stack loaded before RSS is measured)

    from airflow_provider_zoho_aep.triggers.dataflow_run import AEPDataflowRunTrigger  # noqa: F401

    control = Control(plan["url"])
    durations = plan["durations"]
    runs = _start_runs(control, plan["flow"], plan["n"], durations)
    if plan["rate"] is not None:
        control("POST", "config", {"rate_limit": {"rate_per_second": plan["rate"], "burst": 1}})
    control("DELETE", "requests")
    masks.calls = 0
    if plan["freeze"]:
        gc.collect()
        gc.freeze()
    pauses = GcPauses()
    try:
        result = asyncio.run(_triggerer(runs, plan["flow"], plan["poll"],
                                        deadline_s=max(durations) * 3 + plan["n"] * 4))
    finally:
        masks.restore()
        pauses.remove()
    result["gc_pause"] = pauses.longest
    requests_seen = control("GET", "requests")
    result["tokens"] = sum(1 for r in requests_seen if r["path"] == "/ims/token/v3")
    result["polls"] = sum(1 for r in requests_seen if r["path"].startswith(f"{FS}/runs/"))
    result["masks"] = masks.calls
    print(json.dumps(result))


if __name__ == "__main__":
    main()
