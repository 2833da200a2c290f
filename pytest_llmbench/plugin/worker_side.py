"""The worker's end of the plugin's channels to each pytest-xdist worker (stdlib only).

The controller sends this module with ``gateway.remote_exec`` when it configures a worker (before
pytest-xdist's own code starts there: both run in the worker's main thread, one after the other).
It reads the worker's id, opens two channels and sends them back with the worker's host name, its
process id and its installed plugin version (read from its metadata: importing the plugin this
early would keep pytest from rewriting its asserts):

- the *clock* channel, served from a daemon thread for the whole session: a ping (``"ping"``)
  is answered with the worker's monotonic clock, ``None`` ends it;
- the *shard* channel, which the worker's tests use (:mod:`.shard_client`) to wait for a
  sharded point's start and to send its records. It is left in :data:`HOLDER` (a module of
  ``sys.modules``) for the plugin's code to find (:func:`shard_channel`).

Test hooks (comma-separated per worker, ``gw1:value``): ``LLMBENCH_TEST_CLOCK_SHIFT`` shifts a
worker's clock as the plugin reads it (ns), so that a test can check the offset is recovered;
``LLMBENCH_TEST_WORKER_VERSION`` makes a worker report another plugin version.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import types
from typing import Any

__all__ = ["HOLDER", "SHIFT_ENV", "VERSION_ENV", "clock_shift_ns", "serve_clock", "shard_channel"]

SHIFT_ENV = "LLMBENCH_TEST_CLOCK_SHIFT"
VERSION_ENV = "LLMBENCH_TEST_WORKER_VERSION"
#: The ``sys.modules`` entry that holds the worker's shard channel.
HOLDER = "_llmbench_worker_link"
#: The distribution whose version a worker reports.
DISTRIBUTION = "pytest-llmbench"


def hook_value(name: str, worker_id: str) -> str | None:
    """A test hook's value for ``worker_id`` (``None`` when it names no such worker)."""
    for part in os.environ.get(name, "").split(","):
        worker, _, value = part.partition(":")
        if worker.strip() == worker_id and value.strip():
            return value.strip()
    return None


def clock_shift_ns(worker_id: str) -> int:
    """The test hook's shift of ``worker_id``'s clock (0 when none is set)."""
    return int(hook_value(SHIFT_ENV, worker_id) or 0)


def installed_version(worker_id: str) -> str | None:
    """The plugin version installed here (``None`` when it is not), or the test hook's."""
    from importlib import metadata

    hooked = hook_value(VERSION_ENV, worker_id)
    if hooked is not None:
        return hooked
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


def serve_clock(side: Any, shift_ns: int) -> None:
    """Answer pings on ``side`` with this process's clock (plus the test hook's shift)."""
    clock = time.perf_counter_ns
    while True:
        try:
            message = side.receive()
        except Exception:  # execnet's EOFError or closed channel: the session is over
            return
        if message is None:
            return
        side.send(clock() + shift_ns)


def shard_channel() -> Any | None:
    """This worker's shard channel (``None`` outside a worker the plugin's controller set up)."""
    holder = sys.modules.get(HOLDER)
    return getattr(holder, "shard", None) if holder is not None else None


if __name__ == "__channelexec__":
    _channel: Any = globals()["channel"]  # execnet's, in the namespace it runs this module in
    _worker = str(_channel.receive())
    _clock, _shard = _channel.gateway.newchannel(), _channel.gateway.newchannel()
    _holder = types.ModuleType(HOLDER, "the plugin's shard channel to its controller")
    _holder.shard = _shard  # type: ignore[attr-defined]
    sys.modules[HOLDER] = _holder
    _about = {
        "host": socket.gethostname(), "pid": os.getpid(), "version": installed_version(_worker),
    }  # fmt: skip
    _channel.send((_clock, _shard, _about))
    _serve = threading.Thread(target=serve_clock, args=(_clock, clock_shift_ns(_worker)))
    _serve.daemon = True
    _serve.start()
