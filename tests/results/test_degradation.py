"""The degradation analysis of a conversation: the fits and the knee."""

import random

import pytest

from pytest_llmbench.results.degradation import analyse, fit_line


def test_fit_recovers_a_known_line_and_prefill_rate():
    xs = [100.0 * i for i in range(1, 21)]
    rng = random.Random(3)
    turns = [
        {
            "turn": i + 1,
            "ok": True,
            "prompt_tokens": x,
            "ttft_ms": 30 + 0.05 * x + rng.uniform(-0.3, 0.3),
            "decode_tps": 100 - 0.001 * x,
        }
        for i, x in enumerate(xs)
    ]
    result = analyse(turns, knee_factor=2.0, baseline_turns=3)
    assert result["effective_prefill_tps"] == pytest.approx(20_000, rel=0.02)  # 0.05 ms/token
    assert result["decode_tps_change_per_1k_tokens"] == pytest.approx(-1.0, rel=0.01)
    assert fit_line([1, 1], [2, 3]) is None


def test_knee_is_the_first_turn_past_the_factor():
    ttfts = [50, 52, 48, 60, 80, 101, 130, 40]
    turns = [
        {
            "turn": i + 1,
            "ok": True,
            "prompt_tokens": 1000 * (i + 1),
            "ttft_ms": t,
            "decode_tps": 100.0,
        }
        for i, t in enumerate(ttfts)
    ]
    knee = analyse(turns, knee_factor=2.0, baseline_turns=3)["ttft_knee"]
    assert (knee["turn"], knee["context_tokens"], knee["baseline"]) == (6, 6000, 50)
    assert analyse(turns, knee_factor=3.0, baseline_turns=3)["ttft_knee"] is None
    assert analyse(turns, knee_factor=2.0, baseline_turns=3)["decode_knee"] is None
