"""Measure whether a coroutine ever blocks the event loop it runs on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")

#: How often the heartbeat wants to wake up.
BEAT_S = 0.01


async def run_beside_heartbeat(work: Awaitable[T]) -> tuple[T, float, int]:
    """Run ``work`` while a heartbeat coroutine sleeps ``BEAT_S`` at a time on the same loop.

    Returns ``(result, longest stall, beats)``: the longest time by which a heartbeat woke up late (anything
    the loop ran without yielding, such as a blocking ``time.sleep``, shows up there) and how many beats ran.
    """
    stalls: list[float] = []
    done = asyncio.Event()

    async def heartbeat() -> None:
        while not done.is_set():
            before = time.monotonic()
            await asyncio.sleep(BEAT_S)
            stalls.append(time.monotonic() - before - BEAT_S)

    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0)  # the heartbeat starts before the work does
    try:
        result = await work
    finally:
        done.set()
        await beat
    return result, max(stalls, default=0.0), len(stalls)
