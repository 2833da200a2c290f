"""Under ``-n``, how the shards of a load point are dealt out (no subprocesses: fake workers).

The scheduler is driven as xdist's DSession drives it (``add_node``, ``add_node_collection``,
``schedule``, ``mark_test_complete``, ``remove_node``), and the fake workers behave as xdist's
worker does: a worker runs the test at the head of its queue only once it holds the next one too
or has been told to shut down, and a shard runs only when every shard of its point is running
(they wait for each other at the point's start). What a user relies on:

- every shard of a point goes to a different worker, and every worker holds the points in the
  same order, so shards never wait on each other in one queue (no deadlock);
- every worker runs to the end: none is left holding one test without being shut down;
- a worker that goes down running a shard loses that point (told to the plugin) without the shard
  being run again; the shards it had not started wait for a worker that holds no other shard of
  their point (xdist's replacement), and then run.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any, cast

import pytest

pytest.importorskip("xdist")

from xdist.remote import Producer

from pytest_llmbench.config.load_shard import shard_of
from pytest_llmbench.plugin.xdist_scheduling import BenchScheduling

LOAD = "benchmarks/test_load.py::test_load"


class _Config:
    """Just what xdist's scope scheduler reads: ``--tx`` (``nodes`` workers) and
    ``--loadscope-reorder`` (its default)."""

    def __init__(self, nodes: int) -> None:
        self.option = SimpleNamespace(loadscopereorder=True)
        self._nodes = nodes

    def getvalue(self, name: str) -> Any:
        return [f"{self._nodes}*popen"] if name == "tx" else None


class FakeNode:
    """A worker as the scheduler sees it; its queue is what it was sent and has not finished."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.shutdowns = 0
        #: every index it was sent, in order, and those it has not finished
        self.sent: list[int] = []
        self.queue: list[int] = []
        #: the shard at its head has passed its point's start (its other shards are running)
        self.started = False

    def send_runtest_some(self, indices: Iterable[int]) -> None:
        assert not self.shutting_down, f"{self.gateway.id} sent work after its shutdown"
        self.sent.extend(indices)
        self.queue.extend(indices)

    def shutdown(self) -> None:
        self.shutting_down = True
        self.shutdowns += 1

    def __repr__(self) -> str:
        return f"FakeNode({self.gateway.id})"

    @property
    def runnable(self) -> bool:
        """xdist's worker runs its next test once it holds the one after or is shutting down."""
        return bool(self.queue) and (len(self.queue) >= 2 or self.shutting_down)


class Lost:
    """Records the scheduler's ``on_lost`` calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str | None, str]] = []

    def __call__(self, test: str, index: int, worker: str | None, why: str) -> None:
        self.calls.append((test, index, worker, why))


def ordinary(n: int, module: str = "t") -> list[str]:
    """``n`` tests of their own scope each (a load point that is not sharded, say)."""
    return [f"benchmarks/test_{module}.py::test_x[t-run{i}]" for i in range(n)]


def sharded(point: str, count: int) -> list[str]:
    return [f"{LOAD}[t-{point}-shard{i}of{count}]" for i in range(1, count + 1)]


def scheduler(nodes: int, on_lost: Lost | None = None) -> BenchScheduling:
    config = cast(pytest.Config, _Config(nodes))  # a partial stand-in, see _Config
    return BenchScheduling(config, Producer("test", enabled=False), on_lost=on_lost)


def start(sched: BenchScheduling, names: list[str], collection: list[str]) -> list[FakeNode]:
    """Workers ``names`` up, their collections in, the first distribution done."""
    nodes = [FakeNode(name) for name in names]
    for node in nodes:
        sched.add_node(node)
    for node in nodes:
        sched.add_node_collection(node, collection)
    sched.schedule()
    return nodes


def replace(sched: BenchScheduling, name: str, collection: list[str]) -> FakeNode:
    """A replacement worker, brought in as xdist's DSession brings one in."""
    node = FakeNode(name)
    sched.add_node(node)
    sched.add_node_collection(node, collection)
    sched.schedule()
    return node


def pending(sched: BenchScheduling, node: FakeNode) -> int:
    return sched._pending_of(sched.assigned_work[node])


def lone_and_not_shut_down(sched: BenchScheduling) -> list[FakeNode]:
    """The workers holding a single test without being told to shut down while nothing waits
    for a worker: each would wait for a next test forever."""
    if sched.workqueue:
        return []
    return [n for n in sched.nodes if pending(sched, n) == 1 and not n.shutting_down]


def step(sched: BenchScheduling, nodes: list[FakeNode], collection: list[str]) -> bool:
    """Let one worker that can finish the test at its head finish it (a shard once every shard
    of its point has been at the head of a runnable worker: then they all run); whether any
    did."""
    live = [n for n in nodes if n in sched.assigned_work]
    heads = {n: collection[n.queue[0]] for n in live if n.runnable}
    for node, nodeid in heads.items():
        found = shard_of(nodeid)
        if found is not None and not node.started:
            gang = [n for n, h in heads.items() if (f := shard_of(h)) and f[0] == found[0]]
            if len(gang) < found[2]:
                continue  # it waits at the point's start for its other shards
            for member in gang:
                member.started = True
        node.queue.pop(0)
        node.started = False
        sched.mark_test_complete(node, collection.index(nodeid))
        return True
    return False


def run(sched: BenchScheduling, nodes: list[FakeNode], collection: list[str]) -> None:
    """Run until no worker can go on, checking that none is ever left holding one test."""
    while step(sched, nodes, collection):
        assert lone_and_not_shut_down(sched) == []


def points_of(node: FakeNode, collection: list[str]) -> list[str]:
    """The points whose shards ``node`` was sent, in the order it got them."""
    return [f[0] for i in node.sent if (f := shard_of(collection[i])) is not None]


def finished(sched: BenchScheduling, nodes: list[FakeNode]) -> bool:
    return not sched.workqueue and all(not n.queue for n in nodes if n in sched.assigned_work)


TWO_POINTS = [
    *ordinary(3, "a"),
    *sharded("c8", 2),
    *ordinary(4, "b"),
    *sharded("r4", 2),
    *ordinary(3, "c"),
]


# --- gangs ---------------------------------------------------------------------------------------


def test_each_shard_of_a_point_goes_to_a_different_worker_in_the_same_order_everywhere():
    sched = scheduler(2)
    nodes = start(sched, ["gw0", "gw1"], TWO_POINTS)
    run(sched, nodes, TWO_POINTS)
    assert finished(sched, nodes)
    points = [f"{LOAD}[t-c8]", f"{LOAD}[t-r4]"]
    for point in points:
        holders = [n for n in nodes for i in n.sent if shard_of(TWO_POINTS[i])[:1] == (point,)]
        assert len(holders) == len(set(holders)) == 2
    orders = [points_of(n, TWO_POINTS) for n in nodes]
    assert orders[0] == orders[1]
    assert sorted(orders[0]) == sorted(points)


def test_every_test_is_sent_once_and_every_worker_is_shut_down():
    sched = scheduler(2)
    nodes = start(sched, ["gw0", "gw1"], TWO_POINTS)
    run(sched, nodes, TWO_POINTS)
    assert finished(sched, nodes)
    assert sorted(i for n in nodes for i in n.sent) == list(range(len(TWO_POINTS)))
    assert all(n.shutting_down for n in nodes)
    assert sched.tests_finished


@pytest.mark.parametrize("first", [0, 2, 5])
def test_three_shards_on_three_workers_one_of_each_point_on_each(first):
    collection = [
        *ordinary(first, "a"),
        *sharded("c9", 3),
        *ordinary(2, "b"),
        *sharded("r6", 3),
        *sharded("c3", 3),
        *ordinary(4, "c"),
    ]
    sched = scheduler(3)
    nodes = start(sched, ["gw0", "gw1", "gw2"], collection)
    run(sched, nodes, collection)
    assert finished(sched, nodes)
    points = [f"{LOAD}[t-c9]", f"{LOAD}[t-r6]", f"{LOAD}[t-c3]"]
    orders = [points_of(n, collection) for n in nodes]
    for order in orders:
        assert sorted(order) == sorted(points)  # exactly one shard of each point
    assert orders[0] == orders[1] == orders[2]


@pytest.mark.parametrize(
    "collection",
    [
        TWO_POINTS,
        sharded("c8", 2),  # nothing but one point
        [*sharded("c8", 2), *sharded("r4", 2)],
        [*ordinary(1), *sharded("c8", 2)],
        [*sharded("c8", 2), *ordinary(1)],
        [*ordinary(7), *sharded("c8", 2), *sharded("c2", 2)],
    ],
    ids=["mixed", "one-point", "two-points", "test-first", "test-last", "points-last"],
)
def test_no_worker_is_left_holding_one_test_without_a_shutdown(collection):
    sched = scheduler(2)
    nodes = start(sched, ["gw0", "gw1"], collection)
    assert lone_and_not_shut_down(sched) == []
    run(sched, nodes, collection)  # checks it after every finished test
    assert finished(sched, nodes)
    assert all(n.shutting_down for n in nodes)


# --- a worker that goes down ---------------------------------------------------------------------

#: gw0 and gw1 each hold a shard of c8 and of r4, c8's first: gw0 goes down running c8.
CRASH = [*sharded("c8", 2), *sharded("r4", 2), *ordinary(6)]


def _crashed_running_a_shard() -> tuple[BenchScheduling, Lost, list[FakeNode]]:
    """gw0 down while running its shard of c8 (and holding one of r4 it had not started)."""
    lost = Lost()
    sched = scheduler(2, lost)
    nodes = start(sched, ["gw0", "gw1"], CRASH)
    gw0, gw1 = nodes
    assert [CRASH[i] for i in gw0.queue[:1]] == [f"{LOAD}[t-c8-shard1of2]"]
    assert {CRASH[i] for i in gw1.queue} >= {f"{LOAD}[t-c8-shard2of2]", f"{LOAD}[t-r4-shard1of2]"}
    assert f"{LOAD}[t-r4-shard2of2]" in {CRASH[i] for i in gw0.queue}
    assert gw0.runnable and gw1.runnable  # both running c8
    crashed = sched.remove_node(gw0)
    assert crashed == f"{LOAD}[t-c8-shard1of2]"
    return sched, lost, nodes


def _sent_after(node: FakeNode, before: int, collection: list[str]) -> list[str]:
    return [collection[i] for i in node.sent[before:]]


def test_a_worker_down_running_a_shard_loses_its_point_and_the_shard_is_not_run_again():
    sched, lost, (gw0, gw1) = _crashed_running_a_shard()
    assert lost.calls == [(f"{LOAD}[t-c8]", 0, "gw0", "went down")]
    assert f"{LOAD}[t-c8-shard1of2]" not in sched.workqueue
    # its not-started shard waits in the queue, and so do its tests
    assert f"{LOAD}[t-r4-shard2of2]" in sched.workqueue
    before = len(gw1.sent)
    gw1.queue.pop(0)  # gw1's shard of c8 ends (failed: its point is lost)
    sched.mark_test_complete(gw1, CRASH.index(f"{LOAD}[t-c8-shard2of2]"))
    run(sched, [gw1], CRASH)
    assert f"{LOAD}[t-c8-shard1of2]" not in _sent_after(gw1, before, CRASH)


def test_a_downed_workers_shards_do_not_go_to_a_worker_with_their_points_other_shard():
    sched, _, (gw0, gw1) = _crashed_running_a_shard()
    before = len(gw1.sent)
    gw1.queue.pop(0)
    sched.mark_test_complete(gw1, CRASH.index(f"{LOAD}[t-c8-shard2of2]"))
    run(sched, [gw1], CRASH)
    assert f"{LOAD}[t-r4-shard2of2]" not in _sent_after(gw1, before, CRASH)
    assert list(sched.workqueue) == [f"{LOAD}[t-r4-shard2of2]"]  # it waits for a free worker


def test_a_downed_workers_shards_go_to_its_replacement_and_everything_runs():
    sched, lost, (gw0, gw1) = _crashed_running_a_shard()
    gw1.queue.pop(0)
    sched.mark_test_complete(gw1, CRASH.index(f"{LOAD}[t-c8-shard2of2]"))
    run(sched, [gw1], CRASH)  # gw1 does what it can before the replacement is up
    gw2 = replace(sched, "gw2", CRASH)
    assert f"{LOAD}[t-r4-shard2of2]" in [CRASH[i] for i in gw2.sent]
    assert f"{LOAD}[t-c8-shard1of2]" not in [CRASH[i] for i in gw2.sent]
    assert lone_and_not_shut_down(sched) == []
    run(sched, [gw1, gw2], CRASH)
    assert finished(sched, [gw1, gw2])
    assert len(lost.calls) == 1


def test_a_replacement_up_at_once_takes_the_downed_workers_shards():
    sched, _, (gw0, gw1) = _crashed_running_a_shard()
    gw2 = replace(sched, "gw2", CRASH)
    gw1.queue.pop(0)
    sched.mark_test_complete(gw1, CRASH.index(f"{LOAD}[t-c8-shard2of2]"))
    run(sched, [gw1, gw2], CRASH)
    assert finished(sched, [gw1, gw2])
    assert f"{LOAD}[t-r4-shard2of2]" in [CRASH[i] for i in gw2.sent]
    assert f"{LOAD}[t-c8-shard1of2]" not in [CRASH[i] for i in gw1.sent + gw2.sent]


def test_a_shard_crashed_with_a_third_worker_free_of_its_point_is_not_run_again():
    """With a third worker holding no shard of the point, the crashed shard must not be given
    to it either (it would only fail again: its point is lost)."""
    collection = [*sharded("c8", 2), *ordinary(2)]
    lost = Lost()
    sched = scheduler(3, lost)
    nodes = start(sched, ["gw0", "gw1", "gw2"], collection)
    gw0, gw1, gw2 = nodes
    running = [n for n in nodes if n.queue and shard_of(collection[n.queue[0]])]
    assert len(running) == 2 and all(n.runnable for n in running)
    free = next(n for n in nodes if n not in running)
    down = running[0]
    crashed = sched.remove_node(down)
    assert crashed is not None and shard_of(crashed) is not None
    assert crashed not in sched.workqueue
    assert crashed not in [collection[i] for i in free.sent]
    assert len(lost.calls) == 1
