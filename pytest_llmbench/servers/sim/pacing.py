"""Absolute-deadline pacing on ``time.perf_counter_ns()``.

Relative sleeps each overshoot a little and the error adds up over a stream, so every event has an
absolute deadline (``recv_ns + ttft`` for the first, the previous deadline plus the gap for the
rest) and the server sleeps until that deadline. On Linux ``perf_counter_ns`` reads
CLOCK_MONOTONIC, the same clock in every process, so the server's stamps and a client's stamps
compare directly.

asyncio's epoll selector rounds every timeout up to a whole millisecond, which makes each wake-up
0-1 ms late; the server's loop is :mod:`pytest_llmbench.timers`'s, whose wake-ups are not.
"""

from __future__ import annotations

import asyncio
import time

from pytest_llmbench.timers import new_event_loop

__all__ = ["new_event_loop", "sleep_until"]


async def sleep_until(deadline_ns: int) -> None:
    """Sleep until ``time.perf_counter_ns()`` reaches ``deadline_ns`` (no-op if it has)."""
    delay_ns = deadline_ns - time.perf_counter_ns()
    if delay_ns > 0:
        await asyncio.sleep(delay_ns / 1e9)
