"""Absolute-deadline pacing on ``time.perf_counter_ns()``.

Relative sleeps each overshoot a little and the error adds up over a stream, so every event has an
absolute deadline (``recv_ns + ttft`` for the first, the previous deadline plus the gap for the
rest) and the server sleeps until that deadline. On Linux ``perf_counter_ns`` reads
CLOCK_MONOTONIC, the same clock in every process, so the server's stamps and a client's stamps
compare directly.

asyncio's epoll selector rounds every timeout up to a whole millisecond, which makes each wake-up
0-1 ms late. :class:`PreciseEpollSelector` waits with ``select()`` on the epoll descriptor itself
(microsecond timeout) and then collects the ready events with a zero-timeout ``epoll_wait``.
"""

from __future__ import annotations

import asyncio
import select
import selectors
import sys
import time

__all__ = ["new_event_loop", "sleep_until"]


async def sleep_until(deadline_ns: int) -> None:
    """Sleep until ``time.perf_counter_ns()`` reaches ``deadline_ns`` (no-op if it has)."""
    delay_ns = deadline_ns - time.perf_counter_ns()
    if delay_ns > 0:
        await asyncio.sleep(delay_ns / 1e9)


if sys.platform == "linux":

    class PreciseEpollSelector(selectors.EpollSelector):
        """An epoll selector whose timeouts have microsecond rather than millisecond resolution."""

        def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
            if timeout is not None and timeout > 0:
                # The epoll fd becomes readable when any registered fd is ready.
                select.select([self.fileno()], [], [], timeout)
                timeout = 0
            return super().select(timeout)

    def new_event_loop() -> asyncio.AbstractEventLoop:
        """An event loop whose timers fire within microseconds rather than a millisecond."""
        return asyncio.SelectorEventLoop(PreciseEpollSelector())

else:  # pragma: no cover - the simulator is meant for Linux; elsewhere it is just less precise

    def new_event_loop() -> asyncio.AbstractEventLoop:
        """The platform's default event loop."""
        return asyncio.new_event_loop()
