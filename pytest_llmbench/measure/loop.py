"""The session's measuring loop: an asyncio loop in a thread of its own.

Measurement runs on an event loop of its own, in a thread that lives for the whole session. Tests
await it through :func:`asyncio.wrap_future`, so it does not matter which loop (or loop scope)
pytest-asyncio gives the test: connections stay pooled and warm from one test to the next, and
the loop that stamps arrivals does nothing else. Its timers fire within microseconds
(:mod:`pytest_llmbench.timers`), which a load point's schedule needs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from ..timers import new_event_loop

__all__ = ["MeasureLoop"]

T = TypeVar("T")


class MeasureLoop:
    """An asyncio loop running in a daemon thread for the session."""

    def __init__(self) -> None:
        self.loop = new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="llmbench-measure", daemon=True
        )
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return self.submit(coro).result(timeout)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self.loop.close()
