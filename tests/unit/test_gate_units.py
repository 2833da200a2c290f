"""Threshold grammar and noise-aware verdicts."""

import random
import re

import pytest

from pytest_llmbench.thresholds import parse_threshold
from pytest_llmbench.verdict import compare


@pytest.mark.parametrize(
    ("text", "label", "per_request"),
    [
        ("ttft_ms.p90 <= 800", "ttft_ms.p90 <= 800", False),
        ("decode_tps.median>=40", "decode_tps.median >= 40", False),
        ("ttft_ms <= 500", "ttft_ms <= 500", True),
        ("decode_tps.median: -10%", "decode_tps.median: -10%", False),
        ("ttft_ms.median: +20%", "ttft_ms.median: +20%", False),
    ],
)
def test_grammar(text, label, per_request):
    threshold = parse_threshold(text)
    assert threshold.label == label
    assert threshold.per_request is per_request


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("ttft_ms.p90 = 800", "expected"),
        ("speed.median >= 4", "unknown metric"),
        ("ttft_ms.p42 <= 4", "unknown statistic"),
        ("decode_tps.median: +10%", "must be -N%"),
        ("ttft_ms.median: -20%", "must be +N%"),
        ("output_tokens.median: -5%", "no better direction"),
    ],
)
def test_malformed(text, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        parse_threshold(text)


def _runs(center, spread, n, seed):
    rng = random.Random(seed)
    return [center * (1 + rng.uniform(-spread, spread)) for _ in range(n)]


def test_thirty_percent_slower_ttft_regresses():
    verdict = compare(
        parse_threshold("ttft_ms.median: +20%"), _runs(40, 0.02, 5, 1), _runs(52, 0.02, 5, 2)
    )
    assert verdict.verdict == "regressed"
    assert verdict.failed
    assert verdict.change_pct == pytest.approx(30, abs=3)
    low, high = verdict.interval_pct
    assert 20 < low <= verdict.change_pct <= high


def test_faster_run_improves_and_never_fails():
    verdict = compare(
        parse_threshold("decode_tps.median: -10%"), _runs(100, 0.02, 5, 3), _runs(130, 0.02, 5, 4)
    )
    assert (verdict.verdict, verdict.failed) == ("improved", False)


def test_noise_alone_never_fails():
    limit = parse_threshold("decode_tps.median: -10%")
    for seed in range(200):
        verdict = compare(limit, _runs(100, 0.05, 5, seed), _runs(100, 0.05, 5, seed + 1000))
        assert not verdict.failed, verdict
        assert verdict.verdict in ("unchanged", "improved", "inconclusive")


def test_straddling_the_limit_is_inconclusive_not_a_failure():
    verdict = compare(
        parse_threshold("ttft_ms.median: +20%"), [40, 40.5, 39.5, 40, 40], [44, 52, 47, 50, 46]
    )
    assert verdict.verdict == "inconclusive"
    assert not verdict.failed


def test_few_runs_compare_medians_and_say_so():
    verdict = compare(parse_threshold("ttft_ms.median: +20%"), [40, 41], [60])
    assert verdict.weak
    assert verdict.verdict == "regressed (weak: n < 3)"
    assert verdict.interval_pct is None
