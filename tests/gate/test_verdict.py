"""Noise-aware verdicts of relative limits."""

import random

import pytest

from pytest_llmbench.config.thresholds import parse_threshold
from pytest_llmbench.gate.verdict import assess


def _runs(center, spread, n, seed):
    rng = random.Random(seed)
    return [center * (1 + rng.uniform(-spread, spread)) for _ in range(n)]


def test_thirty_percent_slower_ttft_regresses():
    verdict = assess(
        parse_threshold("ttft_ms.median: +20%"), _runs(40, 0.02, 5, 1), _runs(52, 0.02, 5, 2)
    )
    assert verdict.verdict == "regressed"
    assert verdict.failed
    assert verdict.change_pct == pytest.approx(30, abs=3)
    assert verdict.interval_pct is not None
    low, high = verdict.interval_pct
    assert 20 < low <= verdict.change_pct <= high


def test_faster_run_improves_and_never_fails():
    verdict = assess(
        parse_threshold("decode_tps.median: -10%"), _runs(100, 0.02, 5, 3), _runs(130, 0.02, 5, 4)
    )
    assert (verdict.verdict, verdict.failed) == ("improved", False)


def test_noise_alone_never_fails():
    limit = parse_threshold("decode_tps.median: -10%")
    for seed in range(200):
        verdict = assess(limit, _runs(100, 0.05, 5, seed), _runs(100, 0.05, 5, seed + 1000))
        assert not verdict.failed, verdict
        assert verdict.verdict in ("unchanged", "improved", "inconclusive")


def test_straddling_the_limit_is_inconclusive_not_a_failure():
    verdict = assess(
        parse_threshold("ttft_ms.median: +20%"), [40, 40.5, 39.5, 40, 40], [44, 52, 47, 50, 46]
    )
    assert verdict.verdict == "inconclusive"
    assert not verdict.failed


def test_few_runs_compare_medians_and_say_so():
    verdict = assess(parse_threshold("ttft_ms.median: +20%"), [40, 41], [60])
    assert verdict.weak
    assert verdict.verdict == "regressed (weak: n < 3)"
    assert verdict.interval_pct is None
