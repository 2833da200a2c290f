"""The controller's own channel to each pytest-xdist worker, and that worker's clock offset.

When pytest-xdist configures a worker (``pytest_configure_node``) the plugin sends it
:mod:`.worker_side` over the worker's execnet gateway and keeps the channel it answers with: the
worker serves it from a thread of its own for the whole session (load points spread over
workers need it to start together). Right away the controller measures the worker's clock against
its own over it (:data:`EXCHANGES` ping/pongs, the smallest round trip:
:mod:`~..measure.clock_offset`); the results' metadata keep each worker's offset and
uncertainty. A worker that cannot be reached this way is noted, never fatal: the session goes on.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

from ..measure.clock_offset import ClockOffset, estimate_offset

__all__ = ["EXCHANGES", "WorkerLink", "open_link", "version_problem"]

#: Ping/pongs per measurement.
EXCHANGES = 100
#: How long opening the channel, or one answer, may take (a remote host on ssh included).
TIMEOUT_S = 30.0


@dataclass
class WorkerLink:
    """One worker's channels (``None`` when they could not be opened), where it runs, and its
    measured clock."""

    worker: str
    side: Any | None
    clock: ClockOffset | None = None
    error: str | None = None
    #: The channel the worker's sharded points talk over (:mod:`.shard_coordinator`).
    shard: Any | None = None
    host: str | None = None
    pid: int | None = None
    version: str | None = None

    def measure(self, exchanges: int = EXCHANGES) -> ClockOffset:
        """Measure the worker's clock offset now (see :mod:`~..measure.clock_offset`)."""
        assert self.side is not None
        clock, side, found = time.perf_counter_ns, self.side, []
        for _ in range(exchanges):
            sent = clock()
            side.send("ping")
            remote = side.receive(TIMEOUT_S)
            found.append((sent, int(remote), clock()))
        self.clock = estimate_offset(found)
        return self.clock

    @property
    def where(self) -> str:
        """The worker as a person reads it: ``gw1 (host, pid 4242)``."""
        if self.host is None:
            return self.worker
        return f"{self.worker} ({self.host}, pid {self.pid})"

    def close(self) -> None:
        """Tell the worker's thread to end (a worker already gone is no error)."""
        if self.side is not None:
            # execnet's own errors for a closed channel or a gone gateway: nothing left to end
            with contextlib.suppress(Exception):
                self.side.send(None)
            self.side = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: where it runs, the offset, its uncertainty and round trip in ms, or the
        error."""
        about: dict[str, Any] = {"host": self.host, "pid": self.pid} if self.host else {}
        if self.clock is None:
            return {**about, "error": self.error or "not measured"}
        return {**about, **self.clock.as_dict()}


def version_problem(link: WorkerLink, ours: str) -> str | None:
    """Why ``link``'s worker cannot take part (its plugin version differs from ``ours``)."""
    if link.side is None or link.version == ours:
        return None
    theirs = link.version or "not installed"
    return (
        f"worker {link.where} runs pytest-llmbench {theirs}, this controller {ours}: install "
        f"the same version on every host (pip install pytest-llmbench=={ours})"
    )


def open_link(gateway: Any, worker: str) -> WorkerLink:
    """Open the plugin's channels to ``worker`` over its execnet ``gateway`` and measure its
    clock; any failure comes back as the link's ``error``."""
    from . import worker_side

    try:
        channel = gateway.remote_exec(worker_side)
        channel.send(worker)
        side, shard, about = channel.receive(TIMEOUT_S)
        # xdist's own remote_exec follows in the worker's main thread: this one must be done
        channel.waitclose(TIMEOUT_S)
        link = WorkerLink(
            worker, side, shard=shard, host=about["host"], pid=about["pid"],
            version=about["version"],
        )  # fmt: skip
        link.measure()
    except Exception as exc:  # execnet raises its own kinds (RemoteError, TimeoutError, …)
        return WorkerLink(worker, None, error=f"no clock channel to {worker}: {exc}")
    return link
