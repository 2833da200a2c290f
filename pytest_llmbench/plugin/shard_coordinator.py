"""The controller's side of load points spread over pytest-xdist workers: one start, one merge.

Every shard of a point talks to the controller over the plugin's shard channel to its worker
(:mod:`.worker_link`), two exchanges a point (:mod:`.shard_client` is the other end):

1. ``("ready", key, test, index, count, None)`` once its connections are open and warm. When
   every shard of the point is ready the controller measures each one's worker clock again
   (:data:`POINT_EXCHANGES` ping/pongs on the clock channel), picks one start :data:`LEAD_NS`
   ahead on its own clock (plus the largest round trip) and answers each ``("start", start_ns,
   offset_ns, uncertainty_ns, rtt_ns)``: the shard starts at ``start_ns + offset_ns`` on its own
   clock.
2. ``("part", key, test, index, count, part)`` once the point is over: its records
   (:func:`~..results.load_merge.shard_part`). With every shard's part in, the controller computes
   the point's figures from the merged records (:func:`~..results.load_merge.merge_parts`) and
   answers each ``("merged", reply)``: the figures, and for one shard (``keep``, the first that
   sent) the merged records and samples that its test's report carries to the results (and the
   merged rows of a small point, which a search's bootstrap reads).

A shard of a managed target (the built-in simulator, a managed llama.cpp server) asks first where
the controller's server for it listens (``("server", "", test, index, count, (provider,
model))``, answered ``("server", base_url)``): every shard drives that one server (the
simulator's truth log then holds the whole point), not one each.

A shard that cannot take part is answered ``("broken", why)``; a shard that fails on its own says
``("abandon", key, test, index, count, why)``. :meth:`ShardCoordinator.lose` (the scheduler calls
it when a worker goes down running a shard) breaks that shard's test: its point still gathering
fails at once, a running one merges the shards it has and fails naming the lost worker, and
its later points (a sweep's) fail as they gather.

Messages arrive on execnet's receiving thread of each worker's gateway; measuring a clock waits
for answers that arrive on such a thread, so releasing and merging run on threads of their own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .worker_link import WorkerLink

__all__ = ["LEAD_NS", "POINT_EXCHANGES", "ShardCoordinator"]

#: Ping/pongs per worker before each point.
POINT_EXCHANGES = 50
#: How far ahead of its release a point starts (each shard must hear of it in time).
LEAD_NS = 50_000_000


@dataclass
class _Point:
    """One point's shards as they gather, run and report."""

    test: str
    count: int
    ready: dict[int, WorkerLink] = field(default_factory=dict)
    parts: dict[int, tuple[WorkerLink, dict[str, Any]]] = field(default_factory=dict)
    lost: dict[int, str] = field(default_factory=dict)
    released: bool = False
    merging: bool = False
    #: Why the point will not start (a shard was lost before it did).
    broken: str | None = None


class ShardCoordinator:
    """Barriers and merges of the session's sharded points (see the module)."""

    def __init__(self, server_url: Callable[[str, str], str] | None = None) -> None:
        #: The base URL of the controller's server for a managed target (provider, model),
        #: started on first need: every shard of the target's points drives that one server.
        self.server_url = server_url
        self._lock = threading.Lock()
        self._points: dict[str, _Point] = {}
        #: Tests whose shards cannot all run (a worker went down), with why.
        self._broken: dict[str, str] = {}

    def listen(self, link: WorkerLink) -> None:
        """Take the messages of ``link``'s shard channel."""
        channel = link.shard
        if channel is not None:
            channel.setcallback(lambda message: self._receive(link, message))

    # -- messages ----------------------------------------------------------------------------
    def _receive(self, link: WorkerLink, message: Any) -> None:
        kind, key, test, index, count, body = message
        if kind == "server":
            args = (link, *body)
            threading.Thread(target=self._serve_url, args=args, daemon=True).start()
            return
        replies: list[tuple[WorkerLink, tuple[Any, ...]]] = []
        with self._lock:
            point = self._points.setdefault(key, _Point(test, count))
            # a lost shard breaks its test's points yet to start; a running one merges without it
            broken = point.broken or (None if point.released else self._broken.get(test))
            if broken is None and point.count != count:
                broken = f"shard {index + 1} says {count} shards, another said {point.count}"
            if kind == "abandon":  # the shard failed on its own: the others go on without it
                replies += self._lose_point(point, index, str(body))
            elif broken is not None:
                replies.append((link, ("broken", broken)))
            elif point.merging or (kind == "ready" and point.released):
                late = "merged" if point.merging else "started"
                replies.append((link, ("broken", f"the point {late} without this shard")))
            elif kind == "ready":
                point.ready[index] = link
                if len(point.ready) == count and not point.released:
                    point.released = True
                    self._spawn(self._release, point)
            else:
                point.parts[index] = (link, body)
                self._merge_when_complete(point)
        for to, reply in replies:
            _send(to, reply)

    def lose(self, test: str, index: int, why: str) -> None:
        """Shard ``index`` of ``test`` will not run or report (see the module)."""
        replies: list[tuple[WorkerLink, tuple[Any, ...]]] = []
        with self._lock:
            self._broken.setdefault(test, why)
            for point in self._points.values():
                if point.test == test:
                    replies += self._lose_point(point, index, why)
        for to, reply in replies:
            _send(to, reply)

    def _lose_point(
        self, point: _Point, index: int, why: str
    ) -> list[tuple[WorkerLink, tuple[Any, ...]]]:
        """Shard ``index`` of ``point`` is gone (under the lock): a point not yet started fails
        (the answers to send are returned), a running one merges without it."""
        point.lost.setdefault(index, why)
        if point.released:
            self._merge_when_complete(point)
            return []
        point.released = True  # it never starts: its shards, now and later, hear why
        point.broken = f"shard {index + 1} of {point.count}: {why}"
        return [(link, ("broken", point.broken)) for link in point.ready.values()]

    # -- work on threads of their own -------------------------------------------------------
    def _serve_url(self, link: WorkerLink, provider: str, model: str) -> None:
        """Answer where the controller's server for a managed target listens."""
        if self.server_url is None:
            _send(link, ("broken", "this controller runs no server for its shards"))
            return
        try:
            _send(link, ("server", self.server_url(provider, model)))
        except Exception as exc:  # the server's own start errors, a bad config: the shard's
            _send(link, ("broken", f"the server for {provider}/{model} did not start: {exc}"))

    def _spawn(self, work: Any, point: _Point) -> None:
        threading.Thread(target=work, args=(point,), name="llmbench-shards", daemon=True).start()

    def _release(self, point: _Point) -> None:
        """Measure each ready shard's clock, then tell every one the start."""
        links = sorted(point.ready.items())
        try:
            clocks = [link.measure(POINT_EXCHANGES) for _, link in links]
        except Exception as exc:  # execnet's errors of a worker gone meanwhile
            for _, link in links:
                _send(link, ("broken", f"the clock of a shard's worker could not be read: {exc}"))
            return
        lead = LEAD_NS + max(clock.rtt_ns for clock in clocks)
        start = time.perf_counter_ns() + lead
        for (_, link), clock in zip(links, clocks, strict=True):
            _send(link, ("start", start, clock.offset_ns, clock.uncertainty_ns, clock.rtt_ns))

    def _merge_when_complete(self, point: _Point) -> None:
        """Merge once every shard that is not lost has sent its part (under the lock)."""
        if point.merging or not point.parts:
            return
        if len(point.parts) + len(set(point.lost) - set(point.parts)) >= point.count:
            point.merging = True
            self._spawn(self._merge, point)

    def _merge(self, point: _Point) -> None:
        from ..results.load_merge import merge_parts
        from ..results.load_records import INLINE_RECORDS

        with self._lock:  # merged once: the point's records leave with the answers
            parts = sorted(point.parts.items())
            lost = {i: why for i, why in point.lost.items() if i not in point.parts}
            point.parts = {}
        try:
            result, inline, samples, rows = merge_parts([body for _, (_, body) in parts], lost)
        except Exception as exc:  # a bug here must reach the shards' tests, not this thread
            for _, (link, _) in parts:
                _send(link, ("broken", f"the shards' records could not be merged: {exc!r}"))
            return
        keeper = parts[0][0]
        for index, (link, _) in parts:
            reply: dict[str, Any] = {"result": result, "keep": index == keeper, "lost": lost}
            if index == keeper:  # the rows too, of a point small enough (a search's bootstrap)
                few = len(rows) <= INLINE_RECORDS
                reply.update(inline=inline, samples=samples, rows=rows if few else None)
            _send(link, ("merged", reply))


def _send(link: WorkerLink, message: tuple[Any, ...]) -> None:
    """Answer a shard; a worker gone meanwhile has nobody left to answer."""
    channel = link.shard
    if channel is None:
        return
    try:
        channel.send(message)
    except Exception:  # execnet's closed-channel errors: the worker went down
        return
