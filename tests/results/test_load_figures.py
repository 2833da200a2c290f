"""The figures of a load point from its requests (docs/metrics.md, "Under load")."""

from __future__ import annotations

import random
import time

import pytest

from pytest_llmbench.config.load_spec import LoadPoint, Slo
from pytest_llmbench.results.load_figures import DISTORTED, judge_request, point_figures
from pytest_llmbench.schema import Key

MS = 1_000_000  # ns


def request(t0_ms, ttft=None, gaps=(), close=None, *, ok=True, kind=None, **fields):
    """A load request's record: sent at ``t0_ms`` (ms from the clock's zero), its first token
    ``ttft`` ms later, then one token event per gap (ms), its stream closed ``close`` ms after
    the send (by default at its last token)."""
    record = {
        Key.POINT: "c2",
        Key.OK: ok,
        Key.T0_NS: round(t0_ms * MS),
        Key.SCHED_NS: round(t0_ms * MS),
        Key.SEND_LATE_MS: 0.0,
        Key.QUEUE_MS: 0.0,
    }
    if ttft is not None:
        e2e = ttft + sum(gaps)
        record.update(
            {
                Key.TTFT_MS: ttft,
                Key.TTFA_MS: ttft,
                Key.ITL_MS: list(gaps),
                Key.E2E_MS: e2e,
                Key.SCHED_TTFT_MS: ttft,
                Key.SCHED_E2E_MS: e2e,
                Key.OUTPUT_TOKENS: len(gaps) + 1,
                Key.TPOT_MS: (e2e - ttft) / len(gaps) if gaps else None,
            }
        )
    record[Key.CLOSE_MS] = close if close is not None else record.get(Key.E2E_MS)
    if not ok:
        record[Key.ERROR] = "failed"
        record[Key.ERROR_KIND] = kind
    record.update(fields)
    return record


def figures(records, point=None, slos=(), lags=(), cpu=None, wall=None, **options):
    return point_figures(
        records,
        test="test_load",
        target="sim",
        point=point or LoadPoint("concurrency", concurrency=2),
        slos=slos,
        loop_lags_ms=lags,
        cpu_s=cpu,
        wall_s=wall,
        **options,
    )


def three_requests():
    """Ending at 1 s, 2.5 s and 4 s, 10 tokens each."""
    return [
        request(0, 100, [100] * 9),  # 0 → 1000 ms
        request(500, 200, [200] * 9),  # 500 → 2500 ms
        request(3000, 100, [100] * 9),  # 3000 → 4000 ms
    ]


# --- windows and rates --------------------------------------------------------------------------


def test_the_whole_window_runs_from_the_first_send_to_the_last_end_of_stream():
    result = figures(three_requests())
    whole = result["whole"]
    assert (whole["start_ns"], whole["end_ns"]) == (0, 4000 * MS)
    assert whole["seconds"] == 4.0
    assert (whole["completed"], whole["output_tokens"]) == (3, 30)
    assert whole["request_rate"] == pytest.approx(0.75)
    assert whole["output_tps"] == pytest.approx(7.5)
    assert (result["started"], result["completed"], result["errors"]) == (3, 3, 0)


def test_the_steady_window_leaves_out_warm_up_and_cool_down_and_counts_requests_by_their_end():
    point = LoadPoint("concurrency", concurrency=2, warmup_s=1.5, cooldown_s=1.0)
    steady = figures(three_requests(), point=point)["steady"]
    assert (steady["start_ns"], steady["end_ns"]) == (1500 * MS, 3000 * MS)
    assert steady["seconds"] == 1.5
    # only the request that ended at 2.5 s: the one that ended at 1 s was warm-up, 4 s cool-down
    assert (steady["completed"], steady["output_tokens"]) == (1, 10)
    assert steady["request_rate"] == pytest.approx(1 / 1.5)
    assert steady["output_tps"] == pytest.approx(10 / 1.5)


def test_a_steady_window_that_warm_up_and_cool_down_cover_is_empty():
    point = LoadPoint("concurrency", concurrency=2, warmup_s=3, cooldown_s=3)
    steady = figures(three_requests(), point=point)["steady"]
    assert steady["seconds"] == 0.0
    assert (steady["completed"], steady["request_rate"], steady["output_tps"]) == (0, None, None)


def test_a_failed_request_widens_the_window_but_adds_nothing_to_throughput():
    records = [
        *three_requests(),
        request(1000, close=5000, ok=False, kind="timeout"),  # ends at 6 s
        request(2000, ok=False, kind=None, close=10),  # no kind given: "other"
        request(2100, 50, [], close=60, ok=False, kind="timeout"),  # cut after its first token
    ]
    result = figures(records)
    assert result["whole"]["seconds"] == 6.0
    assert (result["whole"]["completed"], result["whole"]["output_tokens"]) == (3, 30)
    assert result["whole"]["output_tps"] == pytest.approx(5.0)
    assert (result["started"], result["completed"], result["errors"]) == (6, 3, 3)
    assert result["errors_by_kind"] == {"other": 1, "timeout": 2}
    assert result["percentiles"][Key.TTFT_MS]["n"] == 3  # the cut request's TTFT is not a figure


def test_the_result_names_its_point_and_plan():
    point = LoadPoint("rate", rate=8.0, arrival="poisson", duration_s=30, requests=500)
    result = figures(three_requests(), point=point, slos=[Slo(Key.TTFT_MS, 500)])
    assert (result["test"], result["target"], result["point"]) == ("test_load", "sim", "r8poisson")
    assert (result["kind"], result["rate"], result["arrival"]) == ("rate", 8.0, "poisson")
    assert (result["planned_s"], result["planned_requests"]) == (30, 500)
    assert result["slos"] == ["ttft_ms.p99 <= 500"]
    assert figures(three_requests())["arrival"] is None  # a closed loop has no arrival process


def test_a_sweep_marker_is_not_a_point():
    with pytest.raises(ValueError, match="marker"):
        figures(three_requests(), point=LoadPoint("sweep"))


def test_a_point_without_requests_has_empty_figures():
    result = figures([])
    assert (result["started"], result["good"], result["timeline"]) == (0, 0, [])
    assert (result["goodput"], result["good_fraction"], result["in_flight_mean"]) == (None,) * 3
    assert result["percentiles"][Key.TTFT_MS]["n"] == 0


# --- in flight ----------------------------------------------------------------------------------


def test_in_flight_is_time_weighted_over_the_whole_window():
    # 0–2 s and 1–3 s: one in flight for 2 s, two for 1 s, over 3 s
    result = figures([request(0, 100, [100], close=2000), request(1000, 100, [100], close=2000)])
    assert result["in_flight_mean"] == pytest.approx(4 / 3)
    assert result["in_flight_max"] == 2


def test_a_request_that_ends_as_another_starts_does_not_overlap_it():
    result = figures([request(0, 100, [100], close=1000), request(1000, 100, [100], close=1000)])
    assert result["in_flight_mean"] == pytest.approx(1.0)
    assert result["in_flight_max"] == 1


def test_the_peak_in_flight_of_many_nested_requests():
    # 10 requests sent 1 ms apart, each open for 1 s: all ten overlap from 9 ms to 1 s
    result = figures([request(i, 10, [10], close=1000) for i in range(10)])
    assert result["in_flight_max"] == 10
    assert result["in_flight_mean"] == pytest.approx(10 * 1000 / 1009)


# --- percentiles --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "p99", "p999"),
    [(99, False, False), (100, True, False), (999, True, False), (1000, True, True)],
)
def test_p99_and_p999_need_100_and_1000_values(n, p99, p999):
    ttft = figures([request(i, 10.0 + i, [5]) for i in range(n)])["percentiles"][Key.TTFT_MS]
    assert ttft["n"] == n
    assert (ttft["p99"] is not None, ttft["p999"] is not None) == (p99, p999)
    assert ttft["p50"] == pytest.approx(10.0 + (n - 1) / 2)
    assert ttft["max"] == 10.0 + n - 1


def test_itl_pools_every_gap_of_every_successful_request():
    records = [
        request(0, 100, [10, 20]),
        request(50, 100, [30]),
        request(60, 100, [99, 99], ok=False, kind="cut"),
    ]
    itl = figures(records)["percentiles"][Key.ITL_MS]
    assert (itl["n"], itl["mean"], itl["p50"], itl["max"]) == (3, 20.0, 20.0, 30.0)


def test_the_clients_own_figures_count_every_request_the_servers_only_successful_ones():
    records = [
        request(0, 100, [10], send_late_ms=1.0),
        request(10, 300, [10], ok=False, kind="http_5xx", send_late_ms=3.0),
    ]
    percentiles = figures(records)["percentiles"]
    assert percentiles[Key.SEND_LATE_MS]["n"] == 2
    assert percentiles[Key.SEND_LATE_MS]["max"] == 3.0
    assert (percentiles[Key.TTFT_MS]["n"], percentiles[Key.TTFT_MS]["max"]) == (1, 100)
    assert {
        Key.TTFA_MS,
        Key.TPOT_MS,
        Key.E2E_MS,
        Key.SCHED_TTFT_MS,
        Key.SCHED_E2E_MS,
        Key.QUEUE_MS,
        Key.WRITTEN_MS,
    } <= set(percentiles)


def test_a_field_an_slo_names_is_summarised_too():
    records = [request(0, 100, [10], think_ms=4.0)]
    percentiles = figures(records, slos=[Slo(Key.THINK_MS, 10, "p50")])["percentiles"]
    assert percentiles[Key.THINK_MS]["p50"] == 4.0


# --- SLOs and goodput ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "good"),
    [
        (request(0, 500, [50]), True),  # at the limits is good
        (request(0, 501, [50]), False),
        (request(0, 100, [51]), False),
        (request(0, 100, [50], ok=False, kind="cut"), False),  # failed, whatever its figures
        ({Key.OK: True, Key.T0_NS: 0, Key.TTFT_MS: 10}, False),  # no tpot_ms: not good
    ],
)
def test_a_request_is_good_when_it_succeeded_and_met_every_slo(record, good):
    slos = [Slo(Key.TTFT_MS, 500), Slo(Key.TPOT_MS, 50)]
    assert judge_request(record, slos) is good


def test_a_list_field_slo_holds_for_every_gap():
    assert judge_request(request(0, 100, [10, 20]), [Slo(Key.ITL_MS, 20)])
    assert not judge_request(request(0, 100, [10, 21]), [Slo(Key.ITL_MS, 20)])


def test_goodput_counts_errors_as_misses():
    records = [
        request(0, 100, [10]),
        request(500, 200, [10]),
        request(1000, 900, [10]),  # too slow
        request(1500, close=500, ok=False, kind="http_429"),  # whole window: 0 → 2 s
    ]
    result = figures(records, slos=[Slo(Key.TTFT_MS, 500)])
    assert result["good"] == 2
    assert result["goodput"] == pytest.approx(1.0)
    assert result["good_fraction"] == pytest.approx(0.5)


# --- the timeline -------------------------------------------------------------------------------


def test_the_timeline_bins_seconds_from_the_first_send():
    records = [
        request(0, 300, [100] * 4, close=2500),  # first token in 0–1 s, ends in 2–3 s
        request(1500, 1000, [], close=1000),  # first token and end at 2.5 s
        request(2000, close=1000, ok=False, kind="timeout"),  # ends at 3 s, the window's end
    ]
    timeline = figures(records)["timeline"]
    assert [b["t_s"] for b in timeline] == [0.0, 1.0, 2.0]
    assert [b["completed"] for b in timeline] == [0, 0, 2]
    assert [b["errors"] for b in timeline] == [0, 0, 1]
    assert [b["output_tokens"] for b in timeline] == [0, 0, 6]
    assert [b["in_flight"] for b in timeline] == pytest.approx([1.0, 1.5, 2.0])
    assert [b["ttft_p50_ms"] for b in timeline] == [300, None, 1000]


def test_a_partial_last_bin_is_averaged_over_its_own_length():
    timeline = figures([request(0, 100, [10], close=2500)])["timeline"]
    assert [b["in_flight"] for b in timeline] == pytest.approx([1.0, 1.0, 1.0])


def test_the_timeline_in_flight_agrees_with_the_points_mean():
    rng = random.Random(3)
    records = [
        request(rng.uniform(0, 9000), 50, [10] * 5, close=rng.uniform(10, 3000)) for _ in range(300)
    ]
    result = figures(records, bin_s=0.5)
    whole_s = result["whole"]["seconds"]
    widths = [min(0.5, whole_s - b["t_s"]) for b in result["timeline"]]
    area = sum(b["in_flight"] * w for b, w in zip(result["timeline"], widths, strict=True))
    assert result["in_flight_mean"] is not None
    assert area / whole_s == pytest.approx(result["in_flight_mean"])
    assert sum(b["completed"] for b in result["timeline"]) == 300


# --- the client's self-check --------------------------------------------------------------------


def loaded(n=100, ttft=100.0, send_late=0.5, **options):
    return figures(
        [request(i * 10, ttft, [10], send_late_ms=send_late) for i in range(n)], **options
    )


def test_a_client_that_kept_up_is_not_distorted():
    result = loaded(send_late=1.0, lags=[0.5] * 200, cpu=30.0, wall=60.0)
    client = result["client"]
    assert client["distorted"] == []
    assert (result["distorted"], result["flags"]) == (False, [])
    assert (client["send_late_p50_ms"], client["send_late_p99_ms"]) == (1.0, 1.0)
    assert (client["loop_lag_p99_ms"], client["loop_lag_max_ms"]) == (0.5, 0.5)
    assert client["cpu_share"] == pytest.approx(0.5)


def test_late_sends_past_5_percent_of_the_ttft_make_the_point_distorted():
    result = loaded(ttft=100.0, send_late=8.0)
    assert result["client"]["distorted"] == [
        "send lateness p99 8.0 ms > 5 % of TTFT p50 (100.0 ms)"
    ]
    assert result["distorted"] is True
    assert DISTORTED in result["flags"]


def test_below_the_1_ms_floor_a_fast_ttft_does_not_trip_on_noise():
    assert loaded(ttft=5.0, send_late=0.9)["client"]["distorted"] == []  # 5 % of 5 ms is 0.25


def test_a_lagging_event_loop_makes_the_point_distorted():
    (said,) = loaded(ttft=20.0, lags=[3.0] * 200)["client"]["distorted"]
    assert said.startswith("loop lag p99 3.0 ms > 1 ms (the floor")


def test_a_busy_client_cpu_makes_the_point_distorted():
    (said,) = loaded(cpu=57.0, wall=60.0)["client"]["distorted"]
    assert said == "client CPU share 0.95 of one core > 0.9"


def test_below_100_values_the_check_judges_the_max():
    records = [
        request(i * 10, 100.0, [10], send_late_ms=50.0 if i == 3 else 0.1) for i in range(10)
    ]
    client = figures(records)["client"]
    assert client["send_late_p99_ms"] is None
    assert client["distorted"] == ["send lateness max 50.0 ms > 5 % of TTFT p50 (100.0 ms)"]


def test_an_error_rate_above_the_limit_is_flagged():
    records = [request(i * 10, 100.0, [10], ok=i >= 2, kind="http_5xx") for i in range(10)]
    assert figures(records)["flags"] == ["error rate 20 % above the limit (5 %)"]
    assert figures(records, max_error_rate=0.25)["flags"] == []


# --- size -----------------------------------------------------------------------------------------


def test_a_hundred_thousand_requests_take_seconds_at_most():
    rng = random.Random(0)
    records = [
        request(
            i * 0.5,
            rng.uniform(20, 80),
            [rng.uniform(5, 15) for _ in range(4)],
            send_late_ms=rng.uniform(0, 0.3),
        )
        for i in range(100_000)
    ]
    point = LoadPoint("rate", rate=2000.0, warmup_s=5, cooldown_s=5)
    began = time.perf_counter()
    result = figures(records, point=point, slos=[Slo(Key.TTFT_MS, 70)], lags=[0.1] * 50_000)
    elapsed = time.perf_counter() - began
    assert elapsed < 10, f"{elapsed:.1f} s"  # about 0.5 s on a quiet machine
    assert result["percentiles"][Key.ITL_MS]["n"] == 400_000
    assert result["whole"]["completed"] == 100_000
    assert len(result["timeline"]) == 51
