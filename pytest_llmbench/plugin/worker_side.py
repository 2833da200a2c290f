"""The worker's end of the plugin's channel to each pytest-xdist worker (stdlib only).

The controller sends this module with ``gateway.remote_exec`` when it configures a worker (before
pytest-xdist's own code starts there: both run in the worker's main thread, one after the other).
It reads the worker's id, opens a second channel, sends it back and serves it from a daemon
thread, so the channel stays open while the worker runs its tests: a ping (``"ping"``) is
answered with the worker's monotonic clock, ``None`` ends it.

``LLMBENCH_TEST_CLOCK_SHIFT=gw1:5000000`` (ns, comma-separated per worker) shifts a worker's
clock as the plugin reads it: a test hook, so that a test can check the offset is recovered.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

__all__ = ["SHIFT_ENV", "clock_shift_ns", "serve_clock"]

SHIFT_ENV = "LLMBENCH_TEST_CLOCK_SHIFT"


def clock_shift_ns(worker_id: str) -> int:
    """The test hook's shift of ``worker_id``'s clock (0 when none is set)."""
    for part in os.environ.get(SHIFT_ENV, "").split(","):
        name, _, value = part.partition(":")
        if name.strip() == worker_id and value.strip():
            return int(value)
    return 0


def serve_clock(side: Any, shift_ns: int) -> None:
    """Answer pings on ``side`` with this process's clock (plus the test hook's shift)."""
    clock = time.perf_counter_ns
    while True:
        message = side.receive()
        if message is None:
            return
        side.send(clock() + shift_ns)


if __name__ == "__channelexec__":
    _channel: Any = globals()["channel"]  # execnet's, in the namespace it runs this module in
    _worker = str(_channel.receive())
    _side = _channel.gateway.newchannel()
    _channel.send(_side)
    threading.Thread(target=serve_clock, args=(_side, clock_shift_ns(_worker)), daemon=True).start()
