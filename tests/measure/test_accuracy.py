"""Measured TTFT and TPOT against the built-in server's logged truth.

Tolerances (the accuracy the README states): TTFT within 1 ms and TPOT within 2 % of the truth,
held by the median of five runs, at one stream with ordinary pacing, at 1,000 tokens/s and with
several tokens per event. A shared two-core machine has scheduling hiccups of a few ms (see
docs/performance.md: p99 of the TTFT error at one stream is about 3 ms; one run in a CI check was
6.2 ms off while the other four were within 0.8 ms), so a single run may be off by up to 10 ms
or 5 %: the medians carry the accuracy claim. The truth is what the server logged it did, on the
same monotonic clock: never a configured figure.
"""

import statistics

import pytest

from ..sessions import sim_config

TTFT_TOLERANCE_MS = 1.0
TPOT_TOLERANCE = 0.02
OUTLIER_MS = 10.0
OUTLIER_TPOT = 0.05
RUNS = 5


@pytest.mark.parametrize(
    "sim",
    [
        pytest.param({"ttft_ms": 60, "itl_ms": 8, "jitter_ms": 2, "output_tokens": 60}, id="8ms"),
        pytest.param({"ttft_ms": 30, "itl_ms": 1, "output_tokens": 400}, id="1000tok_s"),
        pytest.param(
            {"ttft_ms": 30, "itl_ms": 4, "tokens_per_event": 3, "output_tokens": 90},
            id="3_per_event",
        ),
    ],
)
def test_measured_matches_server_truth(bench, sim):
    bench.setup(sim_config({"sim-a": sim}, max_tokens=1024))
    result = bench.run("--llm-runs", str(RUNS))
    assert result.ret == 0, result.stdout.str()
    records = bench.results()["records"]
    assert len(records) == RUNS
    ttft_errors, tpot_errors = [], []
    for record in records:
        truth = record["truth"]
        assert record["ok"], record
        assert truth, record
        assert record["output_tokens"] == truth["output_tokens"]
        assert record["token_source"] == "usage"
        ttft_errors.append(record["ttft_ms"] - truth["ttft_ms"])
        tpot_errors.append((record["tpot_ms"] - truth["tpot_ms"]) / truth["tpot_ms"])
    assert abs(statistics.median(ttft_errors)) < TTFT_TOLERANCE_MS, ttft_errors
    assert abs(statistics.median(tpot_errors)) < TPOT_TOLERANCE, tpot_errors
    assert max(map(abs, ttft_errors)) < OUTLIER_MS, ttft_errors
    assert max(map(abs, tpot_errors)) < OUTLIER_TPOT, tpot_errors
    assert min(ttft_errors) >= 0, "a token cannot arrive before the server sent it"
    calibration = bench.results()["calibration"]
    assert calibration["ttft_error_ms"]["n"] == RUNS
    result.stdout.fnmatch_lines([f"*calibration against the built-in server (n={RUNS})*"])


def test_prefill_cost_makes_ttft_grow_with_the_tier(bench):
    sim = {"ttft_ms": 20, "prefill_us_per_token": 20, "itl_ms": 2, "output_tokens": 10}
    bench.setup(sim_config({"sim-a": sim}, tiers=(0, 4000)))
    assert bench.run().ret == 0
    by_tier = {r["tier"]: r for r in bench.results()["records"]}
    # 4000 prompt tokens × 20 µs = 80 ms more; the server log says how much it really added, and
    # the harness must see the same growth (single requests: the outlier bound applies).
    grown = by_tier[4000]["ttft_ms"] - by_tier[0]["ttft_ms"]
    truth_grown = by_tier[4000]["truth"]["ttft_ms"] - by_tier[0]["truth"]["ttft_ms"]
    assert truth_grown > 60  # the server really spent the prefill time
    assert abs(grown - truth_grown) < OUTLIER_MS
    assert by_tier[4000]["prompt_tokens"] == pytest.approx(4000, rel=0.02)
