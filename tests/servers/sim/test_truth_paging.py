"""Reading the truth log in pages and in its compact form (first and last event of each record):
every record once, in the log's order, and the same truth from a compact record as a full one."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
import urllib.error

import pytest

from pytest_llmbench.measure.truth import truth_from_log
from pytest_llmbench.servers.sim.log import RequestRecord, TruthLog

N_REQUESTS = 25


def _record(n: int, recv_ns: int, events: int) -> RequestRecord:
    rec = RequestRecord(id=f"r{n}", wire="openai", model="m", stream=events > 0, recv_ns=recv_ns)
    for i in range(events):
        rec.add_event(recv_ns + 10 * (i + 1), 1 + i % 3, "reasoning" if i < 2 else "answer", i)
    rec.status, rec.done_ns, rec.finish_reason = 200, recv_ns + 1000, "stop"
    return rec


# -- the log itself --------------------------------------------------------------------------------
def test_as_dict_is_what_asdict_gives():
    for events in (0, 1, 2, 7):
        rec = _record(1, 5_000, events)
        assert rec.as_dict() == dataclasses.asdict(rec)
        assert list(rec.as_dict()) == list(dataclasses.asdict(rec))


@pytest.mark.parametrize(("events", "kept"), [(0, []), (1, [0]), (2, [0, 1]), (7, [0, 6])])
def test_ends_keeps_the_first_and_the_last_event_only(events, kept):
    rec = _record(1, 5_000, events)
    full, ends = rec.as_dict(), rec.as_dict("ends")
    assert ends["events"] == [full["events"][i] for i in kept]  # type: ignore[index]
    assert {k: v for k, v in ends.items() if k != "events"} == {
        k: v for k, v in full.items() if k != "events"
    }
    assert len(rec.events) == events  # the record itself keeps every event


def test_pages_of_the_log_are_slices_of_the_filtered_records():
    # Logged in an order that is not the order of receipt, as requests of different lengths are.
    recv = [50, 10, 70, 30, 90, 20, 60, 80, 40, 0, 55, 65]
    log = TruthLog()
    for n, recv_ns in enumerate(recv):
        log.add(_record(n, recv_ns, n % 4))
    for since in (None, 0, 25, 60, 91):
        expected = log.all(since)
        kept = [r for r in log._order if since is None or r.recv_ns >= since]
        assert expected == [r.as_dict() for r in kept]
        for offset, limit in itertools.product(range(len(recv) + 2), (None, 1, 2, 3, 5, 20)):
            page = log.all(since, offset=offset, limit=limit)
            stop = None if limit is None else offset + limit
            assert page == expected[offset:stop], (since, offset, limit)


def test_paging_on_stays_right_while_the_log_grows():
    log = TruthLog()
    counter = itertools.count()
    recv = itertools.cycle([5, 100, 200, 7, 300])

    def add(n: int) -> None:
        for _ in range(n):
            log.add(_record(next(counter), next(recv), 1))

    add(11)
    got: list[dict[str, object]] = []
    offset = 0
    for grow in (3, 0, 4, 1, 0, 0):
        page = log.all(100, offset=offset, limit=3)
        got += page
        offset += len(page)
        assert not page or (100, offset) in log._cursors  # the next page starts where this ended
        add(grow)  # after the page was read, as a live load logs more
    got += log.all(100, offset=offset)
    assert [r["id"] for r in got] == [r["id"] for r in log.all(100)]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"offset": -1}, "offset"),
        ({"limit": 0}, "limit"),
        ({"limit": -3}, "limit"),
        ({"events": "some"}, "events"),
    ],
)
def test_the_log_refuses_bad_paging(kwargs, name):
    with pytest.raises(ValueError, match=name):
        TruthLog().all(**kwargs)


# -- through the server ----------------------------------------------------------------------------
async def _send_many(client, count: int = N_REQUESTS) -> int:
    """``count`` requests at once (some streamed, one with a single event, some not streamed);
    the receipt time before them."""
    since = time.perf_counter_ns()
    replies = await asyncio.gather(
        *(client.chat("quick", stream=i % 5 != 4) for i in range(count - 1)),
        client.chat("quick", max_tokens=1),
    )
    assert all(reply.status == 200 for reply in replies), [r.body for r in replies]
    return since


@pytest.mark.integration
@pytest.mark.asyncio
async def test_pages_give_every_record_once_in_order(client, sim):
    since = await _send_many(client)
    full = sim.requests(since_ns=since)
    assert len(full) == N_REQUESTS
    pages = [sim.requests(since, offset=offset, limit=10) for offset in (0, 10, 20, 30)]
    assert [len(page) for page in pages] == [10, 10, 5, 0]
    assert [r for page in pages for r in page] == full
    assert list(sim.iter_requests(since, page=10, events="all")) == full
    assert list(sim.iter_requests(since, page=5, events="all")) == full  # a last page of 0
    compact = list(sim.iter_requests(since, page=10))  # events="ends" by default
    assert [r["id"] for r in compact] == [r["id"] for r in full]
    assert sim.requests(since, offset=3) == full[3:]
    assert sim.requests(since, limit=4) == full[:4]
    everything = sim.requests()
    assert sim.requests(offset=len(everything) - 2) == everything[-2:]


@pytest.mark.integration
@pytest.mark.asyncio
async def test_compact_records_keep_the_ends_and_give_the_same_truth(client, sim):
    since = await _send_many(client)
    full = sim.requests(since_ns=since)
    compact = sim.requests(since_ns=since, events="ends")
    assert [r["id"] for r in compact] == [r["id"] for r in full]
    counts = {len(r["events"]) for r in full}
    assert {0, 1} <= counts and max(counts) > 2  # not streamed, a single event, and longer
    for whole, ends in zip(full, compact, strict=True):
        events = whole["events"]
        assert ends["events"] == (events[:1] + events[-1:] if len(events) > 1 else events)
        assert {k: v for k, v in ends.items() if k != "events"} == {
            k: v for k, v in whole.items() if k != "events"
        }
        if events:
            assert whole["output_tokens"] == sum(e["tokens"] for e in events)
        assert truth_from_log(ends, since) == truth_from_log(whole, since)


@pytest.mark.integration
@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("since_ns=soon", "since_ns"),
        ("offset=x", "offset"),
        ("offset=-1", "offset"),
        ("offset=1.5", "offset"),
        ("limit=0", "limit"),
        ("limit=-2", "limit"),
        ("limit=ten", "limit"),
        ("events=first", "events"),
        ("events=", "events"),
    ],
)
async def test_bad_paging_is_a_400_naming_the_parameter(client, query, name):
    reply = await client.get("/llmbench/requests?" + query)
    assert reply.status == 400
    assert name in reply.body.decode()


@pytest.mark.integration
def test_the_client_passes_a_bad_value_on_and_the_server_refuses_it(sim):
    with pytest.raises(urllib.error.HTTPError) as info:
        sim.requests(limit=0)
    assert info.value.code == 400
    info.value.close()
    with pytest.raises(ValueError, match="page"):
        next(sim.iter_requests(page=0))
