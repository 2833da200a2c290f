"""A shard's side of a load point spread over pytest-xdist workers (see :mod:`.shard_coordinator`).

On a worker, a sharded load test asks its controller, over the plugin's shard channel
(:func:`.worker_side.shard_channel`), when to start each point (:meth:`ShardClient.barrier`: once
its connections are warm) and, with the point over, sends its records and waits for the merged
figures (:meth:`ShardClient.merge`). The start comes on the controller's clock with this worker's
offset, measured just before: the shard converts it to its own clock.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..config.load_shard import Shard

__all__ = ["MERGE_WAIT_S", "START_WAIT_S", "ShardBroken", "ShardClient", "Started"]

#: How long a shard waits for the other shards of its point to be ready: they may still be
#: running other tests on their workers (the sharded points come after those).
START_WAIT_S = 1800.0
#: How long it waits for the merged figures once it has sent its records.
MERGE_WAIT_S = 600.0


class ShardBroken(Exception):
    """The point cannot run, or be merged, as sharded (the message says why)."""


@dataclass(frozen=True)
class Started:
    """When a shard was told to start, on the controller's clock, and its clock's offset."""

    start_ns: int
    offset_ns: int
    uncertainty_ns: int
    rtt_ns: int

    @property
    def local_start_ns(self) -> int:
        """The start on this process's clock."""
        return self.start_ns + self.offset_ns


class ShardClient:
    """One sharded test's exchanges with the controller (``channel``: the shard channel)."""

    def __init__(self, channel: Any, test: str, shard: Shard) -> None:
        self.channel, self.test, self.shard = channel, test, shard
        #: The last point's start (set by the barrier).
        self.started: Started | None = None
        #: How many points this test has started: with the point's name, its key (a search may
        #: run one value twice, under one name), the same on every shard.
        self._points = 0

    def barrier(self, name: str) -> Callable[[], int]:
        """The runner's barrier for point ``name``: says ready, waits for the start, returns it
        on this process's clock (:class:`ShardBroken` when the point cannot run)."""

        self._points += 1

        def wait() -> int:
            reply = self._ask("ready", name, None, START_WAIT_S)
            _, start, offset, uncertainty, rtt = reply
            self.started = Started(start, offset, uncertainty, rtt)
            return self.started.local_start_ns

        return wait

    def wait_start(self, name: str) -> Started:
        """Take part in point ``name``'s start without sending anything (an empty share)."""
        self.barrier(name)()
        assert self.started is not None
        return self.started

    def merge(self, name: str, part: dict[str, Any]) -> dict[str, Any]:
        """Send this shard's ``part`` of point ``name``; the merged figures come back."""
        reply = self._ask("part", name, part, MERGE_WAIT_S)
        merged: dict[str, Any] = reply[1]
        return merged

    def server_url(self, provider: str, model: str) -> str:
        """Where the controller's server for a managed target listens (it starts it)."""
        reply = self._ask("server", "", (provider, model), START_WAIT_S)
        return str(reply[1])

    def abandon(self, name: str, why: str) -> None:
        """Tell the controller this shard will not run or report point ``name`` (it failed):
        the other shards go on without it, or fail at once if the point has not started."""
        with contextlib.suppress(Exception):  # the controller gone: nobody waits any more
            self._tell("abandon", name, why)

    def _tell(self, kind: str, name: str, body: Any) -> None:
        shard = self.shard
        key = f"{self.test}::{name}#{self._points}"
        self.channel.send((kind, key, self.test, shard.index, shard.count, body))

    def _ask(self, kind: str, name: str, body: Any, wait_s: float) -> tuple[Any, ...]:
        shard = self.shard
        self._tell(kind, name, body)
        begun = time.monotonic()
        try:
            reply = self.channel.receive(wait_s)
        except Exception as exc:  # execnet's TimeoutError, or the channel closed
            waited = time.monotonic() - begun
            raise ShardBroken(
                f"{shard.label} of {name}: no answer from the controller in {waited:.0f} s "
                f"({type(exc).__name__}: {exc})"
            ) from None
        if reply[0] == "broken":
            raise ShardBroken(f"{shard.label} of {name}: {reply[1]}")
        return tuple(reply)
