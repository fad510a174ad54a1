"""The run trigger never blocks the triggerer's event loop: it runs here beside a heartbeat coroutine, with
its own sleep between polls (nothing injected), against the emulator over loopback, for runs of seconds."""

from __future__ import annotations

import time

from airflow.sdk import BaseHook

from airflow_provider_zoho_aep.triggers.dataflow_run import AEPDataflowRunTrigger
from emulator import Emulator
from tests.event_loop import run_beside_heartbeat
from tests.integration.test_pipeline import make_base, make_flow, make_source, make_target


async def first_event(trigger: AEPDataflowRunTrigger) -> dict:
    return (await trigger.run().__anext__()).payload


async def test_the_trigger_never_blocks_the_event_loop_while_a_run_takes_seconds(emulator: Emulator) -> None:
    emulator.run_duration = 2.5
    flow_id = make_flow(make_source(make_base()), make_target())  # the flow's first run starts now
    trigger = AEPDataflowRunTrigger(flow_id=flow_id, aep_conn_id="aep_default", poll_interval=0.5,
                                    end_time=time.time() + 30)
    # Airflow loads its secrets backends once per process, on the first Connection look-up (a triggerer has
    # done it long before): done here too, so only the trigger's own work is measured.
    await BaseHook.aget_connection("aep_default")
    start = time.monotonic()
    event, stall, beats = await run_beside_heartbeat(first_event(trigger))
    elapsed = time.monotonic() - start
    assert event["status"] == "success"
    polls = [r for r in emulator.requests if r.method == "GET" and r.path.endswith("/runs")]
    assert len(polls) >= 3 and elapsed >= 1.5  # it polled, and waited between polls, for seconds
    assert beats > 50 and stall < 0.1, f"the event loop was blocked for {stall:.2f} s"
