"""The plugin's scheduler under ``--dist load``: conversations whole, local servers whole, and
each sharded load point on several workers at once.

A conversation's turns share a history that lives in one process, so all of its turns must run on
one worker, in order. xdist's default ``--dist load`` deals tests out one by one, and its
``loadgroup`` mode is unreliable on pytest 9.2 (pytest-xdist issue 1386), so under ``--dist load``
the plugin supplies the scheduler: xdist's own scope scheduler, with each conversation (every
``…-turnNNN`` test of one target) as one scope and every other test as a scope of its own. Every
test of a target whose server the plugin runs on this machine (``managed: llama_cpp``) is one
scope too: one worker starts one server for it, instead of one server per worker. Under
``--llm-parallel providers`` every test of a provider is one scope: its models run one after
another on one worker, so that they do not compete with each other, and the providers run side
by side (sharded load points excepted: they spread over workers by design).

A load point spread over N workers is collected as N tests, its shards (``…-c64-shard1of2]``).
They are a *gang*: when the first of them is due, all N are sent at once, each to a different
worker (the asking one, then the least loaded), so every worker's queue holds the gangs in the
same order and no two shards of one point wait on each other in one queue. The shards then wait
for each other at the point's start (:mod:`.shard_coordinator`). A worker that goes down while
running a shard loses that point (:meth:`~.shard_coordinator.ShardCoordinator.lose`): its other
shards fail naming the worker instead of waiting for it. The shards it had not started go back to
the queue and wait there for a worker holding no other shard of their point: xdist's replacement
of the dead worker.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

from ..config.load_shard import shard_of

__all__ = ["BenchScheduling"]

_TURN = re.compile(r"-turn\d{3,}\]$")
#: Told when a worker goes down running a shard: ``(test, shard index, worker id, why)``.
OnLost = Callable[[str, int, str | None, str], None]


class BenchScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """Load scheduling in which one conversation's turns form a single unit of work, and so do
    all the tests of each target in ``local_targets`` (their test-id prefixes); sharded load
    points go out as gangs (see the module)."""

    def __init__(
        self,
        config: pytest.Config,
        log: Any,
        local_targets: Iterable[str] = (),
        on_lost: OnLost | None = None,
        provider_of: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(config, log)
        ids = "|".join(re.escape(i) for i in sorted(local_targets, key=len, reverse=True))
        self._local = re.compile(rf"\[({ids})-(?:ctx|run|turn)\d") if ids else None
        #: ``--llm-parallel providers``: each target's provider (its tests one scope).
        self._provider_of = dict(provider_of or {})
        names = "|".join(re.escape(i) for i in sorted(self._provider_of, key=len, reverse=True))
        self._target = re.compile(rf"\[({names})-") if names else None
        self._on_lost = on_lost
        #: The scopes of shards a downed worker was running (never sent again).
        self._crashed: set[str] = set()

    def _split_scope(self, nodeid: str) -> str:
        target = self._target.search(nodeid) if self._target is not None else None
        if target is not None and shard_of(nodeid) is None:
            return f"provider {self._provider_of[target.group(1)]}"
        local = self._local.search(nodeid) if self._local is not None else None
        if local is not None:
            return f"local server {local.group(1)}"
        match = _TURN.search(nodeid)
        return nodeid[: match.start()] if match else nodeid

    def _assign_work_unit(self, node: Any) -> None:
        """Send ``node`` the next unit it can take: a conversation or a test, or a shard's whole
        gang (see the module); a gang that has not enough workers free of its shards waits."""
        self._drop_finished()
        for scope in list(self.workqueue):
            found = shard_of(scope)
            if found is None:
                self._send(node, scope)
                return
            if self._send_gang(node, found[0]):
                return

    def _drop_finished(self) -> None:
        """Take out of the queue what must not run: the units a downed worker had finished
        (xdist's scope scheduler puts its whole workload back) and the shard it crashed in."""
        for scope, unit in list(self.workqueue.items()):
            if scope in self._crashed or all(unit.values()):
                del self.workqueue[scope]

    def _reschedule(self, node: Any) -> None:
        """xdist's top-up, and then: a worker runs a test only once it holds the next one too (or
        is told to shut down), so a worker left holding one test or none (a replacement given
        one orphaned shard) gets another unit it can take, or is shut down when none is left."""
        super()._reschedule(node)
        while not node.shutting_down and self._pending_of(self.assigned_work[node]) < 2:
            self._drop_finished()
            if not self.workqueue:
                node.shutdown()
                return
            waiting = len(self.workqueue)
            self._assign_work_unit(node)
            if len(self.workqueue) == waiting:
                return  # nothing it can take yet: a gang waits for workers free of its shards

    def _send_gang(self, node: Any, test: str) -> bool:
        """Send every queued shard of ``test`` to workers holding no other shard of it, the
        asking ``node`` first, then the least loaded; ``False`` when too few are free."""
        gang = [s for s in self.workqueue if (f := shard_of(s)) is not None and f[0] == test]
        free = [
            n
            for n in self.nodes
            if not n.shutting_down
            and not any((f := shard_of(s)) and f[0] == test for s in self.assigned_work[n])
        ]
        free.sort(key=lambda n: (n is not node, self._pending_of(self.assigned_work[n])))
        if len(free) < len(gang) or node not in free:
            return False
        for shard, to in zip(gang, free, strict=False):
            self._send(to, shard)
        return True

    def _send(self, node: Any, scope: str) -> None:
        """Send one unit of work (by its scope) to ``node``, as xdist's scheduler does."""
        work_unit = self.workqueue.pop(scope)
        self.assigned_work.setdefault(node, {})[scope] = work_unit
        collection = self.registered_collections[node]
        node.send_runtest_some(
            [collection.index(nodeid) for nodeid, done in work_unit.items() if not done]
        )

    def remove_node(self, node: Any) -> str | None:
        """Take a node out (it finished, or went down). The shard it was running loses its
        point (and is not run again); the shards it had not started go back to the queue, for a
        worker (its replacement) that holds no other shard of their point."""
        running = next(
            (nodeid for unit in self.assigned_work.get(node, {}).values()
             for nodeid, done in unit.items() if not done),
            None,
        )  # fmt: skip
        if running is not None and shard_of(running) is not None:
            # xdist reports it crashed; run again, it would only fail again: its point is lost
            self._crashed.add(self._split_scope(running))
        crashed: str | None = super().remove_node(node)
        found = shard_of(crashed) if crashed is not None else None
        if found is not None and self._on_lost is not None:
            self._on_lost(found[0], found[1], str(node.gateway.id), "went down")
        self._drop_finished()
        for other in self.nodes:  # the queue may have emptied: whoever waits is told
            self._reschedule(other)
        return crashed
