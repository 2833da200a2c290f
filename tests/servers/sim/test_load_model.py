"""The load model, read from the truth log of a server of its own, and its expectation helpers.

Planned deadlines (``due_ns``) are held exactly where the formula fixes them; send times only
loosely (never early, a few ms late in the median), as the machine is shared and busy.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from pytest_llmbench.servers.sim.batch import ModelLoad
from pytest_llmbench.servers.sim.profile import SimProfile
from pytest_llmbench.servers.sim.server import SimServer
from pytest_llmbench.validation import ValidationError

from .sim_client import SimClient

MS = 1_000_000
ID = "x-llmbench-request-id"
#: The most a slot may take from a request's last write to the next one's admission (a busy
#: machine may hold the server up for a few ms between the two).
HAND_OFF = 20 * MS
PLAIN: dict[str, object] = {"ttft_ms": 10, "itl_ms": 5, "output_tokens": 10}
B1: dict[str, object] = {"ttft_ms": 5, "itl_ms": 5, "max_batch": 1}
LANE: dict[str, object] = {"ttft_ms": 20, "itl_ms": 5, "prefill_serial": True}
PROFILES: dict[str, dict[str, object]] = {
    "plain": PLAIN,
    "batch2": {**PLAIN, "max_batch": 2},
    "slowdown": {"ttft_ms": 5, "itl_ms": 5, "output_tokens": 20, "decode_slowdown": 0.5},
    "serial": {**LANE, "output_tokens": 4},
    "stalls": {**LANE, "output_tokens": 20, "prefill_stalls_decode": True},
    "knee": {**PLAIN, "max_batch": 2, "decode_slowdown": 0.5},
    "b1-cut": {**B1, "output_tokens": 10, "fault": "cut", "fault_after_tokens": 2},
    "b1-error": {**B1, "output_tokens": 10, "fault": "error_event", "fault_after_tokens": 2},
    "b1-429": {**B1, "output_tokens": 10, "fault": "http_429"},
    "b1-long": {**B1, "output_tokens": 100},
    "b1-hold": {**B1, "output_tokens": 30},
}


@pytest.fixture(scope="module")
def loadsim() -> Iterator[SimServer]:
    with SimServer.start(profiles=PROFILES) as server:
        yield server


@pytest_asyncio.fixture
async def client(loadsim: SimServer) -> AsyncIterator[SimClient]:
    async with aiohttp.ClientSession() as session:
        yield SimClient(loadsim.base_url, session)


def served(test: Any) -> Any:
    """An integration test on the module's server."""
    return pytest.mark.integration(pytest.mark.asyncio(test))


def _due_gaps(record) -> list[int]:
    return [b["due_ns"] - a["due_ns"] for a, b in itertools.pairwise(record["events"])]


def _punctual(records) -> None:
    """Never early, and in the median no more than a few ms late."""
    late = [e["sent_ns"] - e["due_ns"] for r in records for e in r["events"]]
    assert min(late) >= 0
    assert statistics.median(late) < 5 * MS, statistics.median(late)


async def _fire(sim, client, model, n, stagger_s=0.0, ok=True, **extra) -> list[dict[str, Any]]:
    """``n`` concurrent requests (``stagger_s`` apart); their truth-log records, sent order."""
    tasks = []
    for i in range(n):
        if i and stagger_s:
            await asyncio.sleep(stagger_s)
        tasks.append(asyncio.create_task(client.chat(model, **extra)))
    replies = await asyncio.gather(*tasks)
    if ok:
        assert all(r.status == 200 and r.error is None for r in replies), replies
    return [sim.request(r.headers[ID]) for r in replies]


@served
async def test_defaults_serve_every_request_as_if_alone(loadsim, client):
    records = await _fire(loadsim, client, "plain", 5)
    for record in records:
        assert record["admit_ns"] == record["recv_ns"]
        assert record["events"][0]["due_ns"] - record["recv_ns"] == 10 * MS
        assert set(_due_gaps(record)) == {5 * MS}
    assert sorted(r["batch_at_admit"] for r in records) == [1, 2, 3, 4, 5]
    _punctual(records)


@served
async def test_max_batch_admits_b_at_once_and_queues_the_rest_in_order(loadsim, client):
    records = await _fire(loadsim, client, "batch2", 6, stagger_s=0.002)
    by_recv = sorted(records, key=lambda r: r["recv_ns"])
    assert [r["batch_at_admit"] for r in by_recv] == [1, 2, 2, 2, 2, 2]
    assert all(r["admit_ns"] == r["recv_ns"] for r in by_recv[:2])
    assert all(r["admit_ns"] > r["recv_ns"] for r in by_recv[2:])
    admits = [r["admit_ns"] for r in by_recv]
    assert admits == sorted(admits)  # first come, first served
    assert max(sum(r["admit_ns"] <= t < r["done_ns"] for r in records) for t in admits) == 2
    # Each waiter got in as a slot freed: right after an earlier request's last write.
    dones = [r["done_ns"] for r in records]
    assert all(any(0 <= r["admit_ns"] - d < HAND_OFF for d in dones) for r in by_recv[2:])
    for r in records:  # the TTFT clock starts at admission; decoding is untouched
        assert r["events"][0]["due_ns"] - r["admit_ns"] == 10 * MS
        assert set(_due_gaps(r)) == {5 * MS}
    # Queue time grows wave by wave (by about one service time, 10 + 9 * 5 = 55 ms, less the
    # spread of the arrivals).
    waits = [(r["admit_ns"] - r["recv_ns"]) / MS for r in by_recv]
    assert waits[:2] == [0.0, 0.0]
    assert 0 < min(waits[2:4]) <= max(waits[2:4]) < min(waits[4:]), waits
    _punctual(records)


def _batch_range(records, prev, eps=3 * MS) -> range:
    """The batch sizes possibly in effect when the gap after event ``prev`` started: between
    its send and ``eps`` later (a release follows ``done_ns`` within ``eps``)."""
    at = prev["sent_ns"]
    low = sum(1 for r in records if r["admit_ns"] <= at and r["done_ns"] > at + eps)
    high = sum(1 for r in records if r["admit_ns"] <= at + eps and r["done_ns"] + eps > at)
    return range(low, high + 1)


@served
async def test_decode_gaps_stretch_with_the_batch_in_effect(loadsim, client):
    records = await _fire(loadsim, client, "slowdown", 3)
    profile = SimProfile.from_mapping(PROFILES["slowdown"])
    exact = []
    for record in records:
        assert record["events"][0]["due_ns"] - record["recv_ns"] == 5 * MS
        for prev, event in itertools.pairwise(record["events"]):
            gap = event["due_ns"] - prev["due_ns"]
            sizes = _batch_range(records, prev)
            allowed = {round(5 * MS * event["tokens"] * profile.batch_factor(b)) for b in sizes}
            assert gap in allowed, (gap, sizes)
            if len(sizes) == 1:
                exact.append(sizes[0])
    # Most gaps ran with all three admitted: 5 ms * (1 + 0.5 * 2) = 10 ms.
    assert exact.count(3) > 0.7 * 3 * 19, exact
    _punctual(records)


@served
async def test_a_serial_prefill_lane_spaces_first_tokens_by_the_ttft_target(loadsim, client):
    records = await _fire(loadsim, client, "serial", 4)
    lane = sorted(records, key=lambda r: r["events"][0]["due_ns"])
    free = 0
    for r in lane:
        due = r["events"][0]["due_ns"]
        assert due == max(r["admit_ns"], free) + 20 * MS
        assert r["admit_ns"] == r["recv_ns"]  # no max_batch: no queue
        free = due
    ttfts = [(r["events"][0]["sent_ns"] - r["recv_ns"]) / MS for r in lane]
    assert ttfts == sorted(ttfts)
    assert ttfts[-1] > 60.0  # the last of the burst waits for three prefills before its own
    _punctual(records)


@served
async def test_a_prefill_holds_up_the_others_decode_steps(loadsim, client):
    first = asyncio.create_task(client.chat("stalls"))
    await asyncio.sleep(0.04)  # the first one is decoding when the second arrives
    replies = [await client.chat("stalls"), await first]
    second, held = (loadsim.request(r.headers[ID]) for r in replies)
    lane_free = second["events"][0]["due_ns"]
    assert lane_free == second["admit_ns"] + 20 * MS  # the first one's prefill was long over
    assert set(_due_gaps(second)) == {5 * MS}
    gaps = _due_gaps(held)
    stalled = [i for i, gap in enumerate(gaps) if gap != 5 * MS]
    assert len(stalled) == 1, gaps  # one step, the one starting during the prefill, waits
    i = stalled[0]
    prev, event = held["events"][i], held["events"][i + 1]
    assert event["due_ns"] == lane_free + 5 * MS
    assert prev["due_ns"] < lane_free
    assert prev["sent_ns"] + 5 * MS >= second["admit_ns"]
    _punctual([second, held])


@served
async def test_a_closed_loop_meets_the_expectation(loadsim, client):
    profile = SimProfile.from_mapping(PROFILES["knee"])
    expected = profile.closed_loop_expectation(4)
    assert (expected.batch, expected.ttft_ms, expected.tpot_ms) == pytest.approx((2, 87.5, 7.5))

    async def user() -> list[str]:
        ids = []
        for _ in range(4):
            reply = await client.chat("knee")
            assert reply.status == 200 and reply.error is None
            ids.append(reply.headers[ID])
        return ids

    ids = [i for batch in await asyncio.gather(*(user() for _ in range(4))) for i in batch]
    records = sorted((loadsim.request(i) for i in ids), key=lambda r: r["recv_ns"])
    steady = records[4:]  # past the start-up burst
    ttft = statistics.median((r["events"][0]["due_ns"] - r["recv_ns"]) / MS for r in steady)
    queue = statistics.median((r["admit_ns"] - r["recv_ns"]) / MS for r in steady)
    tpot = statistics.median(g / MS for r in steady for g in _due_gaps(r))
    assert ttft == pytest.approx(expected.ttft_ms, rel=0.1)
    assert queue == pytest.approx(expected.queue_ms, rel=0.1)
    assert tpot == expected.tpot_ms
    assert all(r["batch_at_admit"] == 2 for r in steady)


@served
@pytest.mark.parametrize(
    ("model", "stream"), [("b1-cut", True), ("b1-cut", False), ("b1-error", True)]
)
async def test_a_faulted_request_gives_its_slot_back(loadsim, client, model, stream):
    since = time.perf_counter_ns()  # a cut sends a broken body, or none at all (no request id)
    await asyncio.gather(*(client.chat(model, stream=stream) for _ in range(3)))
    mine = (r for r in loadsim.requests(since) if r["model"] == model)
    records = sorted(mine, key=lambda r: r["admit_ns"])
    assert [r["batch_at_admit"] for r in records] == [1, 1, 1]
    for a, b in itertools.pairwise(records):
        assert 0 <= b["admit_ns"] - a["done_ns"] < HAND_OFF


@served
async def test_a_refused_request_is_never_admitted(loadsim, client):
    refused = await _fire(loadsim, client, "b1-429", 3, ok=False)
    assert {(r["status"], r["admit_ns"], r["batch_at_admit"]) for r in refused} == {(429, None, 0)}


@served
async def test_a_client_gone_mid_stream_frees_its_slot(loadsim, client):
    url = loadsim.base_url + "/v1/chat/completions"
    body = {"model": "b1-long", "stream": True, "messages": [{"role": "user", "content": "x"}]}
    async with client.session.post(url, json=body) as response:
        gone_id = response.headers[ID]
        async for line in response.content:
            if b'"content":" ' in line:
                break
        waiter = asyncio.create_task(client.chat("b1-long", max_tokens=3))
        await asyncio.sleep(0.1)  # the waiter is queued behind the open stream (500 ms long)
        left_ns = time.perf_counter_ns()
        response.close()
    reply = await waiter
    assert reply.status == 200 and reply.error is None
    gone, queued = loadsim.request(gone_id), loadsim.request(reply.headers[ID])
    # The next write failed and the slot went on (to a waiter queued by then, as it usually is).
    assert queued["admit_ns"] - max(left_ns, queued["recv_ns"]) < 50 * MS
    assert gone["done_ns"] - left_ns < 50 * MS
    assert (gone["finish_reason"], gone["status"]) == (None, 200)


@served
async def test_a_client_gone_while_queued_does_not_keep_the_slot(loadsim, client):
    holder = asyncio.create_task(client.chat("b1-hold"))
    await asyncio.sleep(0.02)
    body = {"model": "b1-hold", "stream": True, "messages": [{"role": "user", "content": "x"}]}
    leaver = await client.post("/v1/chat/completions", body, timeout=0.05)
    assert isinstance(leaver.error, asyncio.TimeoutError)
    late = await client.chat("b1-hold", max_tokens=3)
    first = await holder
    assert late.status == 200 and late.error is None
    held, served = loadsim.request(first.headers[ID]), loadsim.request(late.headers[ID])
    assert 0 <= served["admit_ns"] - held["done_ns"] < HAND_OFF


# --- the admission queue and the lane, without a server ---------------------------------------


@pytest.mark.asyncio
async def test_admission_is_first_come_first_served_and_survives_cancellation():
    load = ModelLoad(SimProfile(max_batch=1))
    first = await load.admit(0, 10)
    assert (first.admit_ns, first.batch, first.first_due_ns) == (0, 1, 10)
    waiters = [asyncio.create_task(load.admit(i, 10)) for i in (1, 2, 3)]
    await asyncio.sleep(0)
    assert (load.admitted, load.waiting) == (1, 3)
    waiters[0].cancel()  # gone while queued: it leaves the queue
    await asyncio.sleep(0)
    assert load.waiting == 2
    first.release()
    first.release()  # only the first release counts
    second = await waiters[1]
    assert (second.batch, load.admitted, load.waiting) == (1, 1, 1)
    assert second.first_due_ns - second.admit_ns == 10
    second.release()  # hands the slot to the last waiter...
    waiters[2].cancel()  # ...which is cancelled before it takes it: the slot comes back
    with pytest.raises(asyncio.CancelledError):
        await waiters[2]
    assert (load.admitted, load.waiting) == (0, 0)
    assert (await load.admit(50, 10)).admit_ns == 50  # free again: admitted at once


@pytest.mark.asyncio
async def test_the_lane_and_the_batch_set_the_deadlines():
    lane = ModelLoad(SimProfile(prefill_serial=True))
    dues = [(await lane.admit(at, 20)).first_due_ns for at in (0, 5, 100)]
    assert dues == [20, 40, 120]
    slow = ModelLoad(SimProfile(decode_slowdown=0.5))
    leases = [await slow.admit(0, 0) for _ in range(3)]
    assert slow.next_due(100, 5 * MS) == 100 + 10 * MS
    leases[0].release()
    assert slow.next_due(100, 5 * MS) == 100 + round(7.5 * MS)
    stalls = ModelLoad(SimProfile(prefill_serial=True, prefill_stalls_decode=True))
    await stalls.admit(0, 20 * MS)
    assert stalls.next_due(20 * MS, 5 * MS) == 25 * MS  # its own prefill is over
    await stalls.admit(30 * MS, 20 * MS)  # another's prefill runs until 50 ms
    assert stalls.next_due(35 * MS, 5 * MS) == 55 * MS


# --- profile keys and the expectation helpers --------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_batch": 0}, "sim.max_batch: must be >= 1, got 0"),
        ({"max_batch": 1.5}, "sim.max_batch: must be a whole number >= 1, got 1.5"),
        ({"max_batch": True}, "sim.max_batch: must be a whole number >= 1, got True"),
        ({"decode_slowdown": -0.1}, "sim.decode_slowdown: must be >= 0, got -0.1"),
        ({"decode_slowdown": "x"}, "sim.decode_slowdown: must be a number >= 0, got 'x'"),
        ({"prefill_serial": "yes"}, "sim.prefill_serial: must be true or false, got 'yes'"),
        ({"prefill_serial": 1}, "sim.prefill_serial: must be true or false, got 1"),
        ({"prefill_stalls_decode": 0}, "sim.prefill_stalls_decode: must be true or false"),
        ({"prefill_stalls_decode": True}, "sim.prefill_stalls_decode: needs prefill_serial"),
    ],
)
def test_bad_load_keys_are_refused_naming_the_key(settings, message):
    with pytest.raises(ValidationError) as info:
        SimProfile.from_mapping(settings)
    assert str(info.value).startswith(message), str(info.value)
    assert info.value.key == "sim." + next(iter(settings))


def test_the_load_model_is_off_by_default_and_round_trips():
    assert not SimProfile().has_load_model
    assert SimProfile.from_mapping({"max_batch": None, "prefill_serial": None}) == SimProfile()
    profile = SimProfile.from_mapping(
        {"max_batch": 4, "decode_slowdown": 0.25, "prefill_serial": True,
         "prefill_stalls_decode": True}
    )  # fmt: skip
    assert profile.has_load_model
    assert (profile.max_batch, profile.decode_slowdown) == (4, 0.25)
    assert isinstance(profile.decode_slowdown, float)
    assert SimProfile.from_mapping(profile.to_mapping()) == profile


def test_itl_and_tpot_at_a_batch_size():
    profile = SimProfile(itl_ms=5, decode_slowdown=0.5, tokens_per_event=2)
    assert [profile.tpot_at_batch_ms(b) for b in (1, 2, 3)] == [5.0, 7.5, 10.0]
    assert [profile.itl_at_batch_ms(b) for b in (1, 2, 3)] == [10.0, 15.0, 20.0]
    assert SimProfile(itl_ms=5).tpot_at_batch_ms(100) == 5.0


def test_a_closed_loop_has_its_knee_at_max_batch():
    profile = SimProfile(ttft_ms=10, itl_ms=5, output_tokens=10, max_batch=2, decode_slowdown=0.5)
    one, two, four = (profile.closed_loop_expectation(c) for c in (1, 2, 4))
    assert (one.ttft_ms, one.tpot_ms, one.latency_ms) == pytest.approx((10.0, 5.0, 55.0))
    assert one.output_tokens_per_s == pytest.approx(10 * 1000 / 55)
    assert (two.ttft_ms, two.tpot_ms, two.queue_ms) == pytest.approx((10.0, 7.5, 0.0))
    # Beyond max_batch the throughput stays, and the queue takes the rest: (4 - 2) / X.
    rates = (two.requests_per_s, four.requests_per_s, four.output_tokens_per_s)
    assert rates == pytest.approx((2000 / 77.5, 2000 / 77.5, 10 * 2000 / 77.5))
    assert (four.batch, four.queue_ms, four.ttft_ms) == pytest.approx((2, 77.5, 87.5))
    assert four.latency_ms == pytest.approx(155.0)
    capped = profile.closed_loop_expectation(4, output_tokens=4)
    assert capped.latency_ms == pytest.approx(4 / 2 * (10 + 3 * 7.5))
    with pytest.raises(ValueError, match="concurrency"):
        profile.closed_loop_expectation(0)


def test_a_serial_lane_bounds_throughput_at_one_prefill_per_ttft():
    profile = SimProfile(ttft_ms=20, itl_ms=5, output_tokens=5, prefill_serial=True)
    two = profile.closed_loop_expectation(2, prompt_tokens=0)
    assert (two.ttft_ms, two.lane_wait_ms, two.requests_per_s) == pytest.approx((20, 0, 50))
    four = profile.closed_loop_expectation(4)  # the lane is the bottleneck: 1 / 20 ms
    assert (four.requests_per_s, four.lane_wait_ms, four.ttft_ms) == pytest.approx((50, 40, 60))
    prefill = SimProfile(ttft_ms=20, prefill_us_per_token=10, prefill_serial=True)
    assert prefill.closed_loop_expectation(1, prompt_tokens=1000).ttft_ms == pytest.approx(30)


def test_stalls_stretch_decoding_only_when_others_prefill():
    profile = SimProfile(
        ttft_ms=20, itl_ms=5, output_tokens=5, prefill_serial=True, prefill_stalls_decode=True
    )
    alone = profile.closed_loop_expectation(1)
    assert (alone.tpot_ms, alone.latency_ms) == pytest.approx((5.0, 40.0))
    pair = profile.closed_loop_expectation(2)
    # u = X * T0 solves X * (T0 + D / (1 - u / 2)) = 2 with T0 = D = 20 ms.
    busy = pair.requests_per_s / 1000 * 20
    assert pair.latency_ms == pytest.approx(20 + 20 / (1 - busy / 2))
    assert 2 / (pair.requests_per_s / 1000) == pytest.approx(pair.latency_ms)
    assert pair.tpot_ms == pytest.approx(5 / (1 - busy / 2))
    assert pair.tpot_ms > 5.0
    assert pair.lane_wait_ms == 0.0
