"""The limit grammar: what reads, and what is refused with what is expected."""

import re

import pytest

from pytest_llmbench.config.thresholds import parse_threshold


@pytest.mark.parametrize(
    ("text", "label", "per_request"),
    [
        ("ttft_ms.p90 <= 800", "ttft_ms.p90 <= 800", False),
        ("decode_tps.median>=40", "decode_tps.median >= 40", False),
        ("ttft_ms <= 500", "ttft_ms <= 500", True),
        ("decode_tps.median: -10%", "decode_tps.median: -10%", False),
        ("ttft_ms.median: +20%", "ttft_ms.median: +20%", False),
        # the edges of what can still be broken
        ("decode_tps.median: -99.5%", "decode_tps.median: -99.5%", False),
        ("ttft_ms.median: +500%", "ttft_ms.median: +500%", False),
        ("ttft_ms <= 0", "ttft_ms <= 0", True),
        ("decode_tps.p90 > 0", "decode_tps.p90 > 0", False),
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
        # limits that can never be broken, or never be met
        ("ttft_ms <= -5", "'ttft_ms <= -5': can never hold, as ttft_ms is never negative"),
        ("decode_tps.median >= -1", "can never fail, as decode_tps is never negative"),
        ("ttft_ms.p90 < 0", "'ttft_ms.p90 < 0': can never hold, as ttft_ms is never negative"),
        ("decode_tps.median: -500%", "must be above -100%"),
        ("decode_tps.median: -100%", "must be above -100%"),
        ("ttft_ms <= 1" + "0" * 400, "not a finite number"),
        ("ttft_ms.median: +1" + "0" * 400 + "%", "not a finite number"),
        ("ttft_ms <= 1.2.3", "cannot read '1.2.3' as a number"),
    ],
)
def test_malformed(text, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        parse_threshold(text)


def test_a_long_limit_is_quoted_short():
    with pytest.raises(ValueError, match=r"cannot read") as info:
        parse_threshold("ttft_ms " + "x" * 5000)
    assert len(str(info.value)) < 500


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("capacity: +20%", "the allowed change must be -N%"),
        ("capacity: -100%", "the allowed change must be -N%"),
        ("capacity.median >= 4", "a capacity has no statistic"),
        ("ttft_ms: +20%", "a relative limit names a statistic"),
    ],
)
def test_capacity_limits_that_cannot_work_are_refused(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_threshold(text)


def test_capacity_limits_read_as_limits_on_a_search() -> None:
    relative, absolute = parse_threshold("capacity: -20%"), parse_threshold("capacity >= 48")
    assert relative.on_capacity and relative.kind == "relative" and relative.higher_is_better
    assert relative.allowed_ratio() == pytest.approx(0.8)
    assert absolute.on_capacity and not absolute.per_request and absolute.holds(48)
