"""Where a server stops keeping up, and the search for the highest load meeting every SLO."""

from __future__ import annotations

import math
import random

import pytest

from pytest_llmbench.config.load_spec import LoadPoint, Slo
from pytest_llmbench.results.capacity import (
    RATE_TOLERANCE,
    SATURATED,
    SHORT_TRIES,
    Search,
    flag_saturated,
    min_requests,
    point_verdict,
    saturation,
)
from pytest_llmbench.results.load_figures import point_figures
from pytest_llmbench.schema import Key

MS = 1_000_000
TTFT_P99 = Slo(Key.TTFT_MS, 500)


def request(index, ttft, *, ok=True):
    """The ``index``-th request of a point: sent 10 ms after the one before, 8 tokens."""
    e2e = ttft + 70.0
    return {
        Key.OK: ok,
        Key.T0_NS: index * 10 * MS,
        Key.SEND_LATE_MS: 0.0,
        Key.ERROR_KIND: None if ok else "http_5xx",
        Key.TTFT_MS: ttft,
        Key.E2E_MS: e2e,
        Key.CLOSE_MS: e2e,
        Key.OUTPUT_TOKENS: 8,
    }


def served(value, latency, *, kind="concurrency", n=120, failed=0, spread=0.0, outliers=0):
    """A fake server's point at ``value``: every request's TTFT is ``latency(value)``, times
    ``1 + spread·u`` for a seeded uniform ``u``; the first ``failed`` requests fail, and the last
    ``outliers`` take ten times as long."""
    rng = random.Random(f"{value}")
    ttfts = [latency(value) * (1 + spread * rng.random()) for _ in range(n)]
    ttfts[n - outliers :] = [10 * latency(value)] * outliers
    records = [request(i, ttft, ok=i >= failed) for i, ttft in enumerate(ttfts)]
    if kind == "concurrency":
        point = LoadPoint("concurrency", concurrency=int(value))
    else:
        point = LoadPoint("rate", rate=float(value))
    result = point_figures(
        records,
        test="test_search",
        target="sim",
        point=point,
        slos=[TTFT_P99],
        loop_lags_ms=(),
        cpu_s=None,
        wall_s=None,
    )
    return result, records


def run(search, latency, outliers=lambda value: 0, **server):
    """The runner's loop: run what the search asks for until it is done."""
    while (value := search.next_value()) is not None:
        tail = outliers(value)
        result, records = served(value, latency, kind=search.kind, outliers=tail, **server)
        search.record(value, result, records)
    return search.outcome()


# --- saturation --------------------------------------------------------------------------------


def sweep_point(name, tps, ttft_p50, queue_p50=0.0, steady=True):
    """A sweep's point with its output tok/s and its TTFT and queue time p50 as given."""
    point = served(1, lambda _: 10.0)[0].copy()
    point["point"] = name
    point["whole"] = {**point["whole"], "output_tps": tps}
    point["steady"] = {**point["steady"], "output_tps": tps if steady else None}
    percentiles = dict(point["percentiles"])
    percentiles[Key.TTFT_MS] = {**percentiles[Key.TTFT_MS], "p50": ttft_p50}
    percentiles[Key.QUEUE_MS] = {**percentiles[Key.QUEUE_MS], "p50": queue_p50}
    point["percentiles"] = percentiles
    return point


def test_saturation_is_found_where_throughput_stops_growing_and_ttft_climbs():
    sweep = [
        sweep_point("c1", 100, 50),
        sweep_point("c2", 200, 52),
        sweep_point("c4", 390, 60),
        sweep_point("c8", 400, 200),  # +2.6 % tok/s, TTFT p50 ×3.3
        sweep_point("c16", 401, 420),
    ]
    said = saturation(sweep)
    assert said == (
        "saturated at c8: output 400.0 tok/s, +3 % over c4 (390.0 tok/s), "
        "while TTFT p50 rose from 60.0 to 200.0 ms"
    )
    assert [SATURATED in p["flags"] for p in flag_saturated(sweep)] == [False] * 3 + [True] * 2
    assert all(SATURATED not in p["flags"] for p in sweep)  # the points given are left alone


def test_a_linear_climb_is_not_saturated():
    sweep = [sweep_point(f"c{2**i}", 100 * 2**i, 50 + i) for i in range(6)]
    assert saturation(sweep) is None
    assert all(SATURATED not in p["flags"] for p in flag_saturated(sweep))


def test_flat_throughput_without_rising_latency_is_not_saturation():
    # the client, not the server, may be what holds the rate flat
    assert saturation([sweep_point("c8", 400, 60), sweep_point("c16", 405, 62)]) is None


def test_rising_latency_while_throughput_still_grows_is_not_saturation():
    assert saturation([sweep_point("c8", 400, 60), sweep_point("c16", 700, 200)]) is None


def test_a_growing_queue_says_saturated_too():
    sweep = [sweep_point("r8", 400, 60, queue_p50=0.2), sweep_point("r16", 402, 61, queue_p50=90)]
    assert saturation(sweep) == (
        "saturated at r16: output 402.0 tok/s, +0 % over r8 (400.0 tok/s), "
        "while queue time p50 rose from 0.2 to 90.0 ms"
    )
    # a rise under the 1 ms floor is noise, however large its ratio
    quiet = [sweep_point("r8", 400, 60, queue_p50=0.1), sweep_point("r16", 402, 61, queue_p50=0.5)]
    assert saturation(quiet) is None


def test_without_a_steady_window_the_whole_windows_throughput_is_compared():
    sweep = [sweep_point("c4", 390, 60, steady=False), sweep_point("c8", 400, 200, steady=False)]
    assert saturation(sweep) is not None


# --- a point's verdict --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "needed"), [("p50", 2), ("p90", 10), ("p95", 20), ("p99", 100), ("p999", 1000)]
)
def test_a_percentile_needs_enough_values_to_have_one_beyond_it(name, needed):
    assert min_requests(name) == needed


def test_an_unknown_percentile_is_an_error():
    with pytest.raises(ValueError, match="p42"):
        min_requests("p42")


def test_a_point_passes_at_its_limit_and_fails_past_it():
    passed = point_verdict(served(1, lambda _: 500.0)[0], [TTFT_P99])
    assert (passed.passed, passed.reasons) == (True, ())
    assert passed.worst == pytest.approx(1.0)
    failed = point_verdict(served(1, lambda _: 750.0)[0], [TTFT_P99])
    assert failed.passed is False
    assert failed.worst == pytest.approx(1.5)
    assert failed.reasons == ("ttft_ms.p99 750.0 > 500",)


def test_a_point_with_too_many_errors_fails_whatever_its_latency():
    verdict = point_verdict(served(1, lambda _: 10.0, n=200, failed=20)[0], [TTFT_P99])
    assert verdict.passed is False
    assert verdict.reasons == ("error rate 10.0 % > 5 %",)
    assert verdict.worst == pytest.approx(2.0)  # 10 % against a limit of 5 %


def test_a_point_with_too_few_values_for_its_percentile_is_not_judged():
    verdict = point_verdict(served(1, lambda _: 10.0, n=99)[0], [TTFT_P99])
    assert verdict.passed is None
    assert verdict.reasons == ("ttft_ms has 99 values, p99 needs 100",)
    p95 = [Slo(Key.TTFT_MS, 500, "p95")]
    assert point_verdict(served(1, lambda _: 10.0, n=99)[0], p95).passed
    # the summary has a p95 of 10 values, but one below 20 has no value beyond it to judge by
    assert point_verdict(served(1, lambda _: 10.0, n=10)[0], p95).passed is None


# --- the search ---------------------------------------------------------------------------------


def test_the_search_doubles_then_bisects_to_the_boundary():
    capacity = run(Search([TTFT_P99]), lambda c: 100 + 30 * c)  # 13: 490 ms, 14: 520 ms
    assert [step.value for step in capacity.steps] == [1, 2, 4, 8, 16, 12, 14, 13]
    assert [step.verdict.passed for step in capacity.steps] == [True] * 4 + [
        False,
        True,
        False,
        True,
    ]
    assert (capacity.value, capacity.bracket) == (13, (13, 14))
    assert capacity.kind == "concurrency"
    assert capacity.slos == ("ttft_ms.p99 <= 500",)


@pytest.mark.parametrize("boundary", [1, 2, 3, 7, 64, 100, 513])
def test_the_search_converges_on_a_monotone_server(boundary):
    capacity = run(Search([TTFT_P99]), lambda c: 500 * c / (boundary + 0.5))
    assert (capacity.value, capacity.bracket) == (boundary, (boundary, boundary + 1))
    assert len(capacity.steps) <= 2 * math.ceil(math.log2(boundary + 1)) + 2


def test_a_server_that_never_fails_gives_the_maximum():
    capacity = run(Search([TTFT_P99], maximum=100), lambda c: 10.0)
    assert [step.value for step in capacity.steps] == [1, 2, 4, 8, 16, 32, 64, 100]
    assert (capacity.value, capacity.bracket) == (100, (100, None))
    assert capacity.notes == ("the maximum c100 passes: the capacity is at least that",)


def test_a_server_that_fails_at_the_start_has_no_capacity():
    capacity = run(Search([TTFT_P99]), lambda c: 900.0)
    assert (capacity.value, capacity.bracket, capacity.interval) == (None, (None, 1), None)
    assert capacity.notes == ("c1 already fails (ttft_ms.p99 900.0 > 500)",)


def test_a_rate_search_ends_within_ten_percent():
    capacity = run(Search([TTFT_P99], kind="rate", start=0.5), lambda r: 500 * r / 7.3)
    low, high = capacity.bracket
    assert low is not None and high is not None
    assert low <= 7.3 < high <= low * (1 + RATE_TOLERANCE)
    assert capacity.value == low
    assert all(f"{step.value:g}" == f"{step.value:.3g}" for step in capacity.steps)  # readable ids


def test_a_short_point_is_asked_for_again_with_more_requests():
    search = Search([TTFT_P99])
    assert search.requests_needed == 106  # 100 values even at the 5 % error rate allowed
    result, _ = served(1, lambda _: 10.0, n=50)
    for _ in range(SHORT_TRIES - 1):
        assert search.next_value() == 1
        assert search.record(1, result).passed is None
    assert search.requests_needed == 106 * 2 ** (SHORT_TRIES - 1)
    assert search.next_value() == 1
    search.record(1, result)
    assert search.next_value() is None  # it gave up, and says so
    (note,) = search.outcome().notes
    assert note == f"c1: ttft_ms has 50 values, p99 needs 100, {SHORT_TRIES} times: search stopped"


def test_a_short_point_then_enough_requests_carries_on():
    search = Search([TTFT_P99])
    search.record(1, served(1, lambda _: 10.0, n=50)[0])
    assert search.next_value() == 1
    search.record(1, served(1, lambda _: 10.0, n=200)[0])
    assert search.next_value() == 2


# --- the cliff ----------------------------------------------------------------------------------


def test_a_cliff_is_named_when_one_step_more_fails_far_past_the_limit():
    capacity = run(Search([TTFT_P99]), lambda c: 490.0 if c <= 13 else 1500.0)
    assert (capacity.value, capacity.cliff) == (13, True)
    assert capacity.notes == (
        "cliff: c13 passes, c14 fails at 3.0× a limit (ttft_ms.p99 1500.0 > 500)",
    )


def test_a_gradual_failure_is_no_cliff():
    capacity = run(Search([TTFT_P99]), lambda c: 100 + 30 * c)
    assert (capacity.cliff, capacity.notes) == (False, ())


# --- the bootstrap ------------------------------------------------------------------------------


def marginal(c):
    """Below 15, 480 ms: c13 has one request ten times as slow (its p99 of 120 values still
    passes; a draw holding it twice does not), c14 two (it fails; a draw holding it at most once
    passes)."""
    return 480.0 if c <= 14 else 600.0


def tail(c):
    return {13: 1, 14: 2}.get(c, 0)


def test_the_bootstrap_is_reproducible_with_its_seed():
    first = run(Search([TTFT_P99], seed=7, resamples=300), marginal, tail)
    again = run(Search([TTFT_P99], seed=7, resamples=300), marginal, tail)
    assert first.interval == again.interval
    assert first.interval is not None


def test_the_interval_is_a_point_where_the_boundary_is_clear():
    capacity = run(Search([TTFT_P99], resamples=300), lambda c: 100 + 30 * c, spread=0.01)
    assert capacity.interval == (13, 13)


def test_the_interval_reaches_the_values_tried_around_a_marginal_boundary():
    capacity = run(Search([TTFT_P99], resamples=300), marginal, tail)
    assert (capacity.value, capacity.bracket) == (13, (13, 14))
    # drawn again, c13's requests could fail it (the tried pass below it is c12) and c14's
    # could pass it: the interval speaks of values that were run, and only those
    assert capacity.interval == (12, 14)


def test_without_the_requests_there_is_no_interval():
    search = Search([TTFT_P99])
    while (value := search.next_value()) is not None:
        search.record(value, served(value, lambda c: 100 + 30 * c)[0])
    assert search.outcome().value == 13
    assert search.outcome().interval is None
