"""Timers that fire on time: an event loop whose selector waits with microsecond resolution.

asyncio's epoll selector rounds every timeout up to a whole millisecond, so each timer wakes
0–1 ms late: a rate paced by it drifts, and a send due at t leaves up to a millisecond after.
:class:`PreciseEpollSelector` waits the whole milliseconds of a timeout in ``epoll_wait``
(rounded down, so never late: the loop then finds its timer not yet due and asks again with
what is left) and the last fraction of a millisecond with ``select()`` on the epoll descriptor
itself (microsecond resolution; the descriptor is readable when any registered one is ready),
then collects the ready events with a zero-timeout ``epoll_wait``. So a wait costs one system
call as before, two only in its last millisecond. The built-in server paces its events with it
and the measuring loop schedules load with it.

A base module: it imports nothing of the package, and every folder may import it.
"""

from __future__ import annotations

import asyncio
import math
import select
import selectors
import sys

__all__ = ["new_event_loop"]

if sys.platform == "linux":

    class PreciseEpollSelector(selectors.EpollSelector):
        """An epoll selector whose timeouts have microsecond rather than millisecond resolution."""

        def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
            if timeout is not None and timeout > 0:
                whole_ms = math.floor(timeout * 1e3)
                if whole_ms >= 1:
                    # EpollSelector rounds up: half a millisecond less rounds to whole_ms
                    timeout = (whole_ms - 0.5) * 1e-3
                else:
                    select.select([self.fileno()], [], [], timeout)
                    timeout = 0
            return super().select(timeout)

    def new_event_loop() -> asyncio.AbstractEventLoop:
        """An event loop whose timers fire within microseconds rather than a millisecond."""
        return asyncio.SelectorEventLoop(PreciseEpollSelector())

else:  # pragma: no cover - elsewhere the default loop: timers up to its own resolution late

    def new_event_loop() -> asyncio.AbstractEventLoop:
        """The platform's default event loop."""
        return asyncio.new_event_loop()
