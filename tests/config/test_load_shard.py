"""One shard's share of a load point spread over several workers. What a user relies on:

- the shards together send the point as one process would: their slots, requests and in-flight
  caps add up to the point's, split as evenly as can be (the first shards one more);
- a rate point's shards each send every ``count``-th arrival of the one planned schedule, so the
  shards' arrivals together are exactly that schedule;
- a point's window and arrival process are the same in every shard; one shard is the point;
- a shard with nothing to send says so;
- a shard's test id (``…-c64-shard2of4]``) names its point and which shard it is.
"""

from __future__ import annotations

import dataclasses

import pytest

from pytest_llmbench.config.load_shard import SHARD_ID, Shard, shard_of
from pytest_llmbench.config.load_spec import LoadPoint
from pytest_llmbench.measure.schedule import arrival_offsets

COUNTS = (1, 2, 3, 4, 7)


def _shards(count: int) -> list[Shard]:
    return [Shard(index, count) for index in range(count)]


def _parts(total: int, count: int) -> list[int]:
    return [shard.share(total) for shard in _shards(count)]


# --- share ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 8, 13])
@pytest.mark.parametrize("total", [0, 1, 2, 3, 7, 8, 64, 100, 1001])
def test_the_parts_add_up_to_the_total_as_evenly_as_can_be_larger_first(total, count):
    parts = _parts(total, count)
    assert sum(parts) == total
    assert max(parts) - min(parts) <= 1
    assert parts == sorted(parts, reverse=True)


# --- point ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", COUNTS)
@pytest.mark.parametrize(("concurrency", "requests"), [(64, None), (10, 7), (3, 100), (1, 1)])
def test_a_concurrency_points_slots_and_requests_are_divided(concurrency, requests, count):
    point = LoadPoint("concurrency", concurrency=concurrency, requests=requests)
    parts = [shard.point(point) for shard in _shards(count)]
    assert [p.concurrency for p in parts] == _parts(concurrency, count)
    if requests is None:
        assert all(p.requests is None for p in parts)
    else:
        assert [p.requests for p in parts] == _parts(requests, count)
    assert all(p.kind == "concurrency" and p.rate is None for p in parts)


@pytest.mark.parametrize("count", [2, 3, 4, 7])
@pytest.mark.parametrize("cap", [None, 1, 2, 5, 16])
def test_a_rate_points_rate_and_cap_are_divided_with_at_least_one_in_flight_each(cap, count):
    point = LoadPoint("rate", rate=8.0, arrival="poisson", max_in_flight=cap, requests=50)
    parts = [shard.point(point) for shard in _shards(count)]
    assert all(p.rate == point.rate / count for p in parts)
    assert [p.requests for p in parts] == _parts(50, count)
    if cap is None:
        assert all(p.max_in_flight is None for p in parts)
        return
    caps = [p.max_in_flight or 0 for p in parts]
    assert caps == [max(1, share) for share in _parts(cap, count)]
    assert min(caps) >= 1
    if cap >= count:  # enough for everyone: the caps add up to the point's
        assert sum(caps) == cap


POINTS = [
    LoadPoint("concurrency", concurrency=64, duration_s=30.0, warmup_s=2.0, cooldown_s=1.5),
    LoadPoint("concurrency", concurrency=8, requests=40, duration_s=None, warmup_s=0.5),
    LoadPoint("rate", rate=10.0, arrival="poisson", max_in_flight=16, warmup_s=1.0, cooldown_s=2),
    LoadPoint("rate", rate=4.0, arrival="gamma", burstiness=0.5, duration_s=None, requests=9),
    LoadPoint("rate", rate=2.5, arrival="constant", duration_s=12.0),
]


@pytest.mark.parametrize("point", POINTS, ids=[p.id for p in POINTS])
def test_one_shard_is_the_whole_point(point):
    assert Shard(0, 1).point(point) == point


@pytest.mark.parametrize("count", [2, 3, 5])
@pytest.mark.parametrize("point", POINTS, ids=[p.id for p in POINTS])
def test_every_shard_keeps_the_points_window_and_arrival_process(point, count):
    kept = ("kind", "duration_s", "warmup_s", "cooldown_s", "arrival", "burstiness", "over")
    for shard in _shards(count):
        part = shard.point(point)
        assert {f: getattr(part, f) for f in kept} == {f: getattr(point, f) for f in kept}


def test_a_shards_point_is_a_new_point_and_leaves_the_original_alone():
    point = LoadPoint("concurrency", concurrency=9, requests=30)
    before = dataclasses.replace(point)
    part = Shard(1, 2).point(point)
    assert point == before
    assert (part.concurrency, part.requests) == (Shard(1, 2).share(9), Shard(1, 2).share(30))


# --- arrivals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", COUNTS)
@pytest.mark.parametrize("requests", [1, 2, 103, 500])
def test_the_shards_arrivals_together_are_exactly_the_points_schedule(requests, count):
    point = LoadPoint("rate", rate=50.0, arrival="poisson", duration_s=None, requests=requests)
    offsets = arrival_offsets(point, seed=7)
    assert len(offsets) == requests
    parts = [shard.arrivals(offsets) for shard in _shards(count)]
    # each shard's own times in order, as many as its share of the point's requests
    for shard, part in zip(_shards(count), parts, strict=True):
        assert list(part) == sorted(part)
        assert len(part) == shard.share(requests) == shard.point(point).requests
    # together: every arrival once, none added (the whole schedule, as a multiset and in turn)
    assert sorted(t for part in parts for t in part) == list(offsets)
    dealt = [parts[k % count][k // count] for k in range(requests)]
    assert dealt == list(offsets)


def test_a_shard_computes_its_arrivals_from_the_whole_points_schedule_not_its_own():
    """Its own point (a lower rate) would have another schedule: the shards' would not add up."""
    point = LoadPoint("rate", rate=20.0, arrival="poisson", duration_s=None, requests=60)
    shard = Shard(0, 3)
    whole = arrival_offsets(point, seed=3)
    own = arrival_offsets(shard.point(point), seed=3)
    assert list(shard.arrivals(whole)) == list(whole[::3])
    assert list(own) != list(shard.arrivals(whole))


# --- empty ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("slots", "count"), [(1, 2), (2, 4), (3, 7), (4, 4), (9, 4)])
def test_a_shard_without_a_slot_has_nothing_to_send(slots, count):
    point = LoadPoint("concurrency", concurrency=slots)
    empty = [shard.empty(point) for shard in _shards(count)]
    assert empty == [index >= slots for index in range(count)]


def _bounded(kind: str, requests: int) -> LoadPoint:
    """A point of ``kind`` ended by its ``requests`` only, with slots to spare."""
    if kind == "rate":
        return LoadPoint("rate", rate=5.0, requests=requests, duration_s=None)
    return LoadPoint("concurrency", concurrency=8, requests=requests, duration_s=None)


@pytest.mark.parametrize(("requests", "count"), [(1, 3), (2, 3), (3, 3)])
@pytest.mark.parametrize("kind", ["concurrency", "rate"])
def test_a_shard_without_a_request_has_nothing_to_send(kind, requests, count):
    point = _bounded(kind, requests)
    empty = [shard.empty(point) for shard in _shards(count)]
    assert empty == [index >= requests for index in range(count)]


def test_a_timed_rate_point_is_never_empty():
    point = LoadPoint("rate", rate=0.5, duration_s=10.0)
    assert not any(shard.empty(point) for shard in _shards(7))


# --- test ids ------------------------------------------------------------------------------------

TEST = "benchmarks/test_load.py::test_load"


def test_a_shards_test_id_names_its_point_and_which_shard_it_is():
    assert Shard(1, 4).label == "shard2of4"
    assert shard_of(f"{TEST}[local-sim-c64-shard2of4]") == (f"{TEST}[local-sim-c64]", 1, 4)


@pytest.mark.parametrize("count", COUNTS)
@pytest.mark.parametrize("params", ["sim-c64", "local-sim-r8poisson-m16", "p-m-r2.5gamma0.5"])
def test_label_and_shard_of_round_trip(params, count):
    for shard in _shards(count):
        nodeid = f"{TEST}[{params}-{shard.label}]"
        assert shard_of(nodeid) == (f"{TEST}[{params}]", shard.index, shard.count)
        assert SHARD_ID.search(nodeid) is not None


@pytest.mark.parametrize(
    "nodeid",
    [
        f"{TEST}[local-sim-c64]",
        f"{TEST}[sim-c64-shard2of4-run1]",  # not at the end of the id
        f"{TEST}[sim-c64-shard2of4]::sub",
        f"{TEST}[sim-c64shard2of4]",  # not its own part of the id
        f"{TEST}[sim-c64-shardXof4]",
        f"{TEST}[sim-c64-shard2of]",
        "benchmarks/test_load.py::test_shard2of4",
        "",
    ],
)
def test_other_test_ids_are_no_shard(nodeid):
    assert shard_of(nodeid) is None


@pytest.mark.parametrize(("index", "count"), [(2, 2), (4, 4), (5, 3), (-1, 2), (0, 0)])
def test_a_shard_outside_its_count_is_refused(index, count):
    with pytest.raises(ValueError, match=f"shard {index} of {count}"):
        Shard(index, count)
