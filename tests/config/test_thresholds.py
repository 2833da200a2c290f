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
