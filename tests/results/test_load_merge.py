"""A sharded load point's figures from its shards' parts. What a user relies on:

- the point's figures are those of one point over every shard's requests: percentiles over the
  merged requests (never an average of the shards' percentiles), ITL pooled over every shard;
- the point says where each shard ran, its clock offset and uncertainty, how late it started,
  and the spread of the shards' starts;
- a lost shard is named on the point, with why, and flags it; so does a shard whose clock is
  known less well than :data:`~pytest_llmbench.results.load_merge.CLOCK_BOUND_MS`;
- the merged slim records are the point's: in order of sending, numbered anew, named by the
  point's test and marked steady by the merged window (none when a shard kept none).
"""

from __future__ import annotations

import dataclasses
import statistics
from array import array
from typing import Any, cast

import pytest

from pytest_llmbench.config.load_spec import LoadPoint, Slo
from pytest_llmbench.results import load_merge
from pytest_llmbench.results.load_figures import point_figures, request_end_ns
from pytest_llmbench.results.load_merge import CLOCK_BOUND_MS, merge_parts, shard_part
from pytest_llmbench.results.load_records import ROW_FIELDS, row_samples
from pytest_llmbench.schema import Key, LoadPointResult, Record

MS = 1_000_000  # ns
TEST = "benchmarks/test_load.py::test_load[sim-c4]"
POINT = LoadPoint("concurrency", concurrency=4, duration_s=10.0, warmup_s=1.0, cooldown_s=1.0)
SLOS = (Slo(Key.TTFT_MS, 150.0),)
#: When the controller planned the point's start (its clock, ns).
PLANNED_NS = 5_000 * MS


def row(t0_ms: float, ttft_ms: float, gap_ms: float, tokens: int = 10) -> dict[str, Any]:
    """A successful request's row, as :class:`~.load_records.PointRecords` keeps it: sent at
    ``t0_ms`` on the controller's timeline, its first token ``ttft_ms`` later, then a token every
    ``gap_ms``."""
    e2e = ttft_ms + gap_ms * (tokens - 1)
    made = {
        Key.T0_NS: round(t0_ms * MS),
        Key.CLOSE_MS: e2e + 0.5,
        Key.OK: True,
        Key.GOOD: ttft_ms <= SLOS[0].limit,
        Key.OUTPUT_TOKENS: tokens,
        Key.TTFT_MS: ttft_ms,
        Key.TTFA_MS: ttft_ms,
        Key.TPOT_MS: gap_ms,
        Key.E2E_MS: e2e,
        Key.SCHED_TTFT_MS: ttft_ms,
        Key.SCHED_E2E_MS: e2e,
        Key.QUEUE_MS: 0.2,
        Key.WRITTEN_MS: 0.1,
        Key.SEND_LATE_MS: 0.05,
        Key.DECODE_TPS: 1000.0 / gap_ms,
        Key.PROMPT_TOKENS: 32,
    }
    assert set(made) <= set(ROW_FIELDS)
    return made


def itl_of(rows: list[dict[str, Any]]) -> list[float]:
    """The gaps of the rows' requests (every one a token every ``tpot_ms``)."""
    return [r[Key.TPOT_MS] for r in rows for _ in range(r[Key.OUTPUT_TOKENS] - 1)]


def slim(rows: list[dict[str, Any]], shard_test: str) -> list[Record]:
    """The shard's slim records of ``rows``, numbered and named as that shard made them."""
    made = [{**r, Key.REQUEST: i, Key.TEST: shard_test} for i, r in enumerate(rows)]
    return [cast(Record, r) for r in made]


def part(
    index: int,
    rows: list[dict[str, Any]],
    *,
    count: int = 2,
    itl: list[float] | None = None,
    inline: list[Record] | None = None,
    lags: tuple[float, ...] = (0.1, 0.2),
    cpu_s: float | None = 1.0,
    wall_s: float | None = 10.0,
    started_ns: int | None = None,
    offset_ns: int = 0,
    uncertainty_ns: int = 100_000,
    rtt_ns: int = 300_000,
) -> dict[str, Any]:
    """Shard ``index``'s part of the point (worker ``gw<index>`` on host ``h<index>``)."""
    about = {
        "test": TEST, "target": "sim", "name": POINT.id, "point": dataclasses.asdict(POINT),
        "slos": [dataclasses.asdict(s) for s in SLOS], "max_error_rate": 0.05, "index": index,
        "count": count, "worker": f"gw{index}", "host": f"h{index}", "offset_ns": offset_ns,
        "uncertainty_ns": uncertainty_ns, "rtt_ns": rtt_ns, "planned_start_ns": PLANNED_NS,
        "records_file": "stamp.load.jsonl",
    }  # fmt: skip
    return shard_part(
        about=about, rows=rows, itl_ms=array("f", itl_of(rows) if itl is None else itl),
        inline=inline, lags_ms=lags, cpu_s=cpu_s, wall_s=wall_s,
        started_ns=PLANNED_NS + index * MS if started_ns is None else started_ns,
    )  # fmt: skip


def direct(rows: list[dict[str, Any]], lags: list[float], cpu_s: float, wall_s: float) -> Any:
    """The point's figures computed as one process would, over ``rows`` all together."""
    everything = sorted(rows, key=lambda r: r[Key.T0_NS])
    return point_figures(
        everything, test=TEST, target="sim", point=POINT, slos=SLOS, loop_lags_ms=lags,
        cpu_s=cpu_s, wall_s=wall_s, pooled={Key.ITL_MS: array("f", itl_of(everything))},
    )  # fmt: skip


def fast_shard() -> list[dict[str, Any]]:
    """30 requests over 10 s with first tokens at 40..69 ms."""
    return [row(PLANNED_NS / MS + 333 * i, 40.0 + i, 8.0) for i in range(30)]


def slow_shard() -> list[dict[str, Any]]:
    """10 requests over 10 s with first tokens at 200..245 ms and slower tokens."""
    return [row(PLANNED_NS / MS + 150 + 1000 * i, 200.0 + 5 * i, 20.0, 6) for i in range(10)]


def merged(parts: list[dict[str, Any]], lost: dict[int, str] | None = None) -> Any:
    return merge_parts(parts, lost or {})


# --- the figures ---------------------------------------------------------------------------------


def test_the_merged_figures_are_those_of_one_point_over_every_shards_requests():
    fast, slow = fast_shard(), slow_shard()
    parts = [part(0, fast, lags=(0.1, 0.3)), part(1, slow, lags=(0.2,), cpu_s=3.0)]
    result, _, samples, rows = merged(parts)
    sent = [r[Key.T0_NS] for r in rows]
    assert sent == sorted(sent) and len(rows) == sum(len(p["rows"]) for p in parts)
    # the busiest shard's CPU share is the client's; every shard's lags are the point's
    whole = direct(fast + slow, [0.1, 0.3, 0.2], cpu_s=3.0, wall_s=10.0)
    own = {"point", "shards", "start_skew_ms", "records_file"}
    assert {k: v for k, v in result.items() if k not in own} == {
        k: v for k, v in whole.items() if k not in own
    }
    assert result["point"] == POINT.id
    assert result["started"] == len(fast) + len(slow)
    # the samples too, in order of sending
    assert samples == row_samples(sorted(fast + slow, key=lambda r: r[Key.T0_NS]))


def test_percentiles_are_over_the_merged_requests_not_an_average_of_the_shards():
    fast, slow = fast_shard(), slow_shard()
    result, _, _, _ = merged([part(0, fast), part(1, slow)])
    shard_p50s = [
        direct(rows, [], 1.0, 10.0)["percentiles"][Key.TTFT_MS]["p50"] for rows in (fast, slow)
    ]
    whole_p50 = direct(fast + slow, [], 1.0, 10.0)["percentiles"][Key.TTFT_MS]["p50"]
    ttft = result["percentiles"][Key.TTFT_MS]
    assert ttft["p50"] == whole_p50
    assert ttft["p50"] != pytest.approx(statistics.mean(shard_p50s))
    assert ttft["n"] == len(fast) + len(slow)
    assert ttft["max"] == max(r[Key.TTFT_MS] for r in fast + slow)


def test_every_shards_pooled_itl_is_in_the_points():
    fast, slow = fast_shard(), slow_shard()
    result, _, _, _ = merged([part(0, fast), part(1, slow)])
    itl = result["percentiles"][Key.ITL_MS]
    assert itl["n"] == len(itl_of(fast)) + len(itl_of(slow))
    assert itl["max"] == max(itl_of(fast) + itl_of(slow))
    assert itl["mean"] == pytest.approx(statistics.fmean(itl_of(fast) + itl_of(slow)), rel=1e-6)


def test_the_parts_order_does_not_change_the_figures():
    fast, slow = fast_shard(), slow_shard()
    forward, _, _, _ = merged([part(0, fast), part(1, slow)])
    backward, _, _, _ = merged([part(1, slow), part(0, fast)])
    assert forward == backward


# --- the shards ----------------------------------------------------------------------------------


def test_the_point_says_where_each_shard_ran_its_clock_and_its_start():
    rows = (fast_shard(), slow_shard())
    clocks = ((-2_500_000, 120_000, 400_000), (7_250_000, 310_000, 900_000))
    started = (PLANNED_NS + 300_000, PLANNED_NS + 4_100_000)
    parts = [
        part(i, rows[i], offset_ns=o, uncertainty_ns=u, rtt_ns=t, started_ns=started[i])
        for i, (o, u, t) in enumerate(clocks)
    ]
    result, _, _, _ = merged(parts[::-1])  # the shards in order, however the parts came
    assert result["shards"] == [
        {
            "shard": i + 1,
            "worker": f"gw{i}",
            "host": f"h{i}",
            "requests": len(rows[i]),
            "offset_ms": clocks[i][0] / 1e6,
            "uncertainty_ms": clocks[i][1] / 1e6,
            "rtt_ms": clocks[i][2] / 1e6,
            "start_late_ms": (started[i] - PLANNED_NS) / 1e6,
            "records_file": "stamp.load.jsonl",
        }
        for i in range(2)
    ]
    assert result["start_skew_ms"] == (max(started) - min(started)) / 1e6
    assert result["records_file"] == "stamp.load.jsonl"
    assert result["flags"] == []


def test_the_start_skew_spans_every_started_shard():
    starts = [PLANNED_NS + 2 * MS, PLANNED_NS - 1 * MS, PLANNED_NS + 9 * MS]
    parts = [part(i, fast_shard()[i::3], count=3, started_ns=s) for i, s in enumerate(starts)]
    result, _, _, _ = merged(parts)
    assert result["start_skew_ms"] == (max(starts) - min(starts)) / 1e6


def test_a_shard_that_sent_nothing_has_no_start_and_no_skew_to_speak_of():
    empty = part(1, [], itl=[], lags=(), cpu_s=None, wall_s=None)
    empty["started_ns"] = None
    result, _, _, _ = merged([part(0, fast_shard()), empty])
    assert result["shards"][1]["requests"] == 0
    assert result["shards"][1]["start_late_ms"] is None
    assert result["start_skew_ms"] is None
    assert result["started"] == len(fast_shard())


def test_a_lost_shard_is_named_on_the_point_and_flags_it():
    why = "gw1 (h1) went down"
    fast = fast_shard()
    result, _, _, _ = merged([part(0, fast)], {1: why})
    assert result["shards"][-1] == {"shard": 2, "lost": why}
    assert [s["shard"] for s in result["shards"]] == [1, 2]
    assert f"shard 2 of 2 lost: {why}" in result["flags"]
    # the other shard's records stay: the figures are theirs
    assert result["started"] == len(fast)
    assert result["start_skew_ms"] is None


def test_a_shard_whose_clock_is_too_uncertain_is_flagged_by_its_worker():
    sure = round(CLOCK_BOUND_MS / 2 * MS)
    unsure = round(CLOCK_BOUND_MS * 3.5 * MS)
    parts = [
        part(0, fast_shard(), uncertainty_ns=sure),
        part(1, slow_shard(), uncertainty_ns=unsure),
    ]
    result, _, _, _ = merged(parts)
    flagged = [f for f in result["flags"] if "clock" in f]
    assert len(flagged) == 1
    assert "gw1 (h1)" in flagged[0]
    assert f"{unsure / MS:.2f} ms" in flagged[0]
    assert "gw0" not in " ".join(result["flags"])


# --- the slim records ----------------------------------------------------------------------------


def _inline_parts() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two shards' parts with slim records, their requests interleaved in time."""
    fast, slow = fast_shard(), slow_shard()
    return (
        [part(0, fast, inline=slim(fast, f"{TEST[:-1]}-shard1of2]")),
         part(1, slow, inline=slim(slow, f"{TEST[:-1]}-shard2of2]"))],
        fast + slow,
    )  # fmt: skip


def test_the_merged_records_are_the_points_in_order_of_sending_numbered_anew():
    parts, rows = _inline_parts()
    result, inline, _, _ = merged(parts)
    assert inline is not None
    assert [r[Key.T0_NS] for r in inline] == sorted(r[Key.T0_NS] for r in rows)
    assert [r[Key.REQUEST] for r in inline] == list(range(len(rows)))
    assert {r[Key.TEST] for r in inline} == {TEST}
    start, end = result["steady"]["start_ns"], result["steady"]["end_ns"]
    steady = [start <= request_end_ns(r) <= end for r in inline]
    assert [r[Key.STEADY] for r in inline] == steady
    assert True in steady and False in steady  # warm-up and cool-down leave some out
    assert sum(steady) == result["steady"]["completed"]


@pytest.mark.parametrize("without", [0, 1])
def test_no_records_are_merged_when_a_shard_kept_none(without):
    parts, _ = _inline_parts()
    parts[without]["inline"] = None
    _, inline, _, _ = merged(parts)
    assert inline is None


def test_no_records_are_merged_past_the_inline_limit(monkeypatch):
    parts, rows = _inline_parts()
    monkeypatch.setattr(load_merge, "INLINE_RECORDS", len(rows) - 1)
    _, inline, _, _ = merged(parts)
    assert inline is None


def test_the_merged_result_is_a_load_point_result():
    result, _, _, _ = merged([part(0, fast_shard()), part(1, slow_shard())])
    assert set(LoadPointResult.__annotations__) <= set(result)
