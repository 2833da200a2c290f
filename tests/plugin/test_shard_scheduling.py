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

import random
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
    return int(sched._pending_of(sched.assigned_work[node]))


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
        node.started = False
        sched.mark_test_complete(node, node.queue.pop(0))
        return True
    return False


def run(sched: BenchScheduling, nodes: list[FakeNode], collection: list[str]) -> None:
    """Run until no worker can go on, checking that none is ever left holding one test."""
    while step(sched, nodes, collection):
        assert lone_and_not_shut_down(sched) == []


def point_of(nodeid: str) -> str | None:
    found = shard_of(nodeid)
    return found[0] if found is not None else None


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
        holders = [n for n in nodes for i in n.sent if point_of(TWO_POINTS[i]) == point]
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


def mixed(seed: int) -> tuple[int, list[str]]:
    """A seeded session: 2 to 4 workers, 1 to 4 points of 2 shards up to one a worker, and
    ordinary tests, in some order."""
    rng = random.Random(seed)
    nodes = rng.randint(2, 4)
    groups = [sharded(f"c{k}", rng.randint(2, nodes)) for k in range(rng.randint(1, 4))]
    groups += [ordinary(rng.randint(1, 3), f"m{k}") for k in range(rng.randint(0, 5))]
    rng.shuffle(groups)
    return nodes, [nodeid for group in groups for nodeid in group]


@pytest.mark.parametrize("seed", range(40))
def test_any_mix_of_points_and_tests_runs_to_the_end_without_deadlock(seed):
    count, collection = mixed(seed)
    sched = scheduler(count)
    nodes = start(sched, [f"gw{i}" for i in range(count)], collection)
    run(sched, nodes, collection)
    assert finished(sched, nodes)
    assert sorted(i for n in nodes for i in n.sent) == list(range(len(collection)))
    orders = [points_of(n, collection) for n in nodes]
    for order in orders:
        assert len(order) == len(set(order))  # never two shards of a point on one worker
    for one in orders:  # any two workers hold the points they share in the same order
        for other in orders:
            common = set(one) & set(other)
            assert [p for p in one if p in common] == [p for p in other if p in common]


# --- a worker that goes down ---------------------------------------------------------------------

#: gw0 and gw1 each hold a shard of c8 and of r4, c8's first: gw0 goes down running c8.
CRASH = [*sharded("c8", 2), *sharded("r4", 2), *ordinary(6)]
C8_1, C8_2, R4_1, R4_2 = CRASH[:4]


def _crashed_running_a_shard() -> tuple[BenchScheduling, Lost, list[FakeNode]]:
    """gw0 down while running its shard of c8, holding one of r4 it had not started."""
    lost = Lost()
    sched = scheduler(2, lost)
    nodes = start(sched, ["gw0", "gw1"], CRASH)
    gw0, gw1 = nodes
    assert [CRASH[i] for i in gw0.queue[:2]] == [C8_1, R4_2]
    assert [CRASH[i] for i in gw1.queue[:2]] == [C8_2, R4_1]
    assert gw0.runnable and gw1.runnable  # both running c8
    assert sched.remove_node(gw0) == C8_1
    return sched, lost, nodes


def _finish_head(sched: BenchScheduling, node: FakeNode) -> None:
    """``node`` finishes the test it is running (a shard of a lost point fails at once)."""
    sched.mark_test_complete(node, node.queue.pop(0))
    node.started = False


def names(node: FakeNode, collection: list[str], since: int = 0) -> list[str]:
    return [collection[i] for i in node.sent[since:]]


def test_a_worker_down_running_a_shard_loses_its_point_and_the_shard_is_not_run_again():
    sched, lost, (_, gw1) = _crashed_running_a_shard()
    assert lost.calls == [(f"{LOAD}[t-c8]", 0, "gw0", "went down")]
    assert C8_1 not in sched.workqueue
    assert R4_2 in sched.workqueue  # the shard it had not started waits for a worker
    before = len(gw1.sent)
    _finish_head(sched, gw1)
    run(sched, [gw1], CRASH)
    gw2 = replace(sched, "gw2", CRASH)
    run(sched, [gw1, gw2], CRASH)
    assert C8_1 not in names(gw1, CRASH, before) + names(gw2, CRASH)
    assert len(lost.calls) == 1


def test_a_downed_workers_shards_do_not_go_to_a_worker_with_their_points_other_shard():
    sched, _, (_, gw1) = _crashed_running_a_shard()
    before = len(gw1.sent)
    _finish_head(sched, gw1)
    run(sched, [gw1], CRASH)  # gw1 goes on until its shard of r4 waits for the other
    assert [CRASH[i] for i in gw1.queue[:1]] == [R4_1]
    assert R4_2 not in names(gw1, CRASH, before)
    assert R4_2 in sched.workqueue


def test_a_downed_workers_shards_go_to_its_replacement_and_everything_runs():
    sched, _, (_, gw1) = _crashed_running_a_shard()
    _finish_head(sched, gw1)
    run(sched, [gw1], CRASH)  # gw1 does what it can before the replacement is up
    gw2 = replace(sched, "gw2", CRASH)
    assert lone_and_not_shut_down(sched) == []
    run(sched, [gw1, gw2], CRASH)
    assert finished(sched, [gw1, gw2])
    assert R4_2 in names(gw2, CRASH)
    assert all(n.shutting_down for n in (gw1, gw2))


def test_a_replacement_up_before_the_other_shard_ends_takes_the_downed_workers_shards():
    sched, _, (_, gw1) = _crashed_running_a_shard()
    gw2 = replace(sched, "gw2", CRASH)
    _finish_head(sched, gw1)
    run(sched, [gw1, gw2], CRASH)
    assert finished(sched, [gw1, gw2])
    assert R4_2 in names(gw2, CRASH)
    assert R4_2 not in names(gw1, CRASH)


def test_a_shard_crashed_with_a_third_worker_free_of_its_point_is_not_run_again():
    """The crashed shard must not go to a worker holding no shard of its point either (it
    would only fail again: its point is lost)."""
    collection = [*sharded("c8", 2), *ordinary(6)]
    lost = Lost()
    sched = scheduler(3, lost)
    gw0, gw1, gw2 = start(sched, ["gw0", "gw1", "gw2"], collection)
    assert [collection[i] for i in (gw0.queue[0], gw1.queue[0])] == collection[:2]
    assert gw0.runnable and gw1.runnable  # both running c8
    _finish_head(sched, gw2)  # gw2 takes the last test: nothing waits any more
    assert not sched.workqueue and pending(sched, gw2) == 2 and not gw2.shutting_down
    before = len(gw2.sent)
    assert sched.remove_node(gw0) == collection[0]
    assert lost.calls == [(f"{LOAD}[t-c8]", 0, "gw0", "went down")]
    assert collection[0] not in sched.workqueue
    assert collection[0] not in names(gw2, collection, before)


def test_a_downed_workers_shard_reaches_its_replacement_after_it_finished_a_test():
    """A worker that goes down has finished tests before: they are done, and must not keep
    its not-started shard from its replacement (whose shard's other half waits for it)."""
    collection = [*ordinary(2), *sharded("p", 2), *sharded("q", 2)]
    p1, p2, q1, q2 = collection[2:]
    lost = Lost()
    sched = scheduler(2, lost)
    gw0, gw1 = start(sched, ["gw0", "gw1"], collection)
    assert [collection[i] for i in gw0.queue] == [collection[0], p1, q2]
    assert [collection[i] for i in gw1.queue] == [collection[1], p2, q1]
    for node in (gw0, gw1):
        _finish_head(sched, node)  # each finishes its ordinary test
    assert gw0.runnable and gw1.runnable  # both running p
    assert sched.remove_node(gw1) == p2
    assert lost.calls == [(f"{LOAD}[t-p]", 1, "gw1", "went down")]
    _finish_head(sched, gw0)  # gw0's shard of p fails: its point is lost
    gw2 = replace(sched, "gw2", collection)
    run(sched, [gw0, gw2], collection)
    assert q1 in names(gw2, collection)
    assert finished(sched, [gw0, gw2])
