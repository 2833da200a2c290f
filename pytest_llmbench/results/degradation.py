"""How a conversation degrades as its context grows: fits, the knee, and the summary.

Pure functions over per-turn records (plain dicts as stored in the results). The fit of TTFT
against prompt tokens is ordinary least squares; its slope (ms per token) is the cost of
prefilling one more token, so ``1000 / slope`` is the effective prefill rate in tokens/s. The knee
is the first turn after the early-turn baseline where TTFT rises, or decode speed falls, beyond a
configurable factor of that baseline.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from ..schema import Key

__all__ = ["analyse", "fit_line", "summarize_conversation"]


def fit_line(xs: Sequence[float], ys: Sequence[float]) -> dict[str, float] | None:
    """Least-squares ``y = intercept + slope·x`` with its r²; ``None`` below 2 distinct x."""
    if len(xs) < 2 or len(set(xs)) < 2:
        return None
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    ss_tot = sum((y - mean_y) ** 2 for y in ys)
    ss_res = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    r2 = 1 - ss_res / ss_tot if ss_tot > 0 else 1.0
    return {"slope": slope, "intercept": intercept, "r2": r2, "n": len(xs)}


def _knee(
    turns: Sequence[Mapping[str, Any]],
    field: str,
    factor: float,
    baseline_turns: int,
    worse_is_higher: bool,
) -> dict[str, Any] | None:
    points = [t for t in turns if t.get(field) is not None]
    if len(points) <= baseline_turns:
        return None
    baseline = statistics.median(t[field] for t in points[:baseline_turns])
    if baseline <= 0:
        return None
    for turn in points[baseline_turns:]:
        ratio = turn[field] / baseline
        if (ratio > factor) if worse_is_higher else (ratio < 1 / factor):
            return {
                "turn": turn[Key.TURN],
                "context_tokens": turn.get(Key.PROMPT_TOKENS),
                "value": turn[field],
                "baseline": baseline,
                "ratio": ratio,
            }
    return None


def analyse(
    turns: Sequence[Mapping[str, Any]],
    knee_factor: float,
    baseline_turns: int,
) -> dict[str, Any]:
    """Fits of TTFT and decode tok/s against prompt tokens, and the knee of each.

    TTFT is fitted against the tokens the server had to prefill: where it reported a reused
    prompt prefix (``cached_tokens``), those are left out, so a prompt cache does not pass for an
    absurd prefill rate.
    """
    ok = [t for t in turns if t.get(Key.OK) and t.get(Key.PROMPT_TOKENS) is not None]
    cached = any(t.get(Key.CACHED_TOKENS) for t in ok)
    ttft = [
        (t[Key.PROMPT_TOKENS] - (t.get(Key.CACHED_TOKENS) or 0), t[Key.TTFT_MS])
        for t in ok
        if t.get(Key.TTFT_MS) is not None
    ]
    decode = [(t[Key.PROMPT_TOKENS], t[Key.DECODE_TPS]) for t in ok if t.get(Key.DECODE_TPS)]
    ttft_fit = fit_line([x for x, _ in ttft], [y for _, y in ttft])
    decode_fit = fit_line([x for x, _ in decode], [y for _, y in decode])
    prefill_rate = None
    if ttft_fit is not None and ttft_fit["slope"] > 0:
        prefill_rate = 1000.0 / ttft_fit["slope"]
    return {
        "ttft_vs_context": ttft_fit,
        "ttft_fit_tokens": "uncached prompt tokens" if cached else "prompt tokens",
        "effective_prefill_tps": prefill_rate,
        "decode_tps_vs_context": decode_fit,
        "decode_tps_change_per_1k_tokens": decode_fit["slope"] * 1000 if decode_fit else None,
        "knee_factor": knee_factor,
        "baseline_turns": baseline_turns,
        "ttft_knee": _knee(ok, Key.TTFT_MS, knee_factor, baseline_turns, worse_is_higher=True),
        "decode_knee": _knee(
            ok, Key.DECODE_TPS, knee_factor, baseline_turns, worse_is_higher=False
        ),
    }


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def summarize_conversation(
    turns: Sequence[Mapping[str, Any]],
    knee_factor: float,
    baseline_turns: int,
) -> dict[str, Any]:
    """Averages, totals, reasoning statistics, where it stopped, and the degradation analysis."""
    ordered = sorted(turns, key=lambda t: t[Key.TURN])
    turn_numbers = [t[Key.TURN] for t in ordered]
    ok = [t for t in ordered if t.get(Key.OK)]
    reasoned = [t for t in ok if t.get(Key.REASONING_TOKENS)]
    first = ordered[0] if ordered else {}
    stop = next((t for t in ordered if t.get(Key.CONTEXT_LIMIT)), None)
    failures = (t for t in ordered if t.get(Key.STATUS) == "failed" and not t.get(Key.OK))
    failed = next(failures, None)
    return {
        "target": first.get(Key.TARGET),
        "provider": first.get(Key.PROVIDER),
        "model": first.get(Key.MODEL),
        "simulated": first.get(Key.SIMULATED, False),
        "turns_planned": first.get(Key.TURNS_PLANNED) or max(turn_numbers, default=0),
        "turns_measured": len(ok),
        "turns_skipped": sum(1 for t in ordered if t.get(Key.STATUS) == "skipped"),
        "mean_ttft_ms": _mean([t[Key.TTFT_MS] for t in ok if t.get(Key.TTFT_MS) is not None]),
        "mean_decode_tps": _mean([t[Key.DECODE_TPS] for t in ok if t.get(Key.DECODE_TPS)]),
        "total_output_tokens": sum(t.get(Key.OUTPUT_TOKENS) or 0 for t in ok),
        "total_prompt_tokens": sum(t.get(Key.PROMPT_TOKENS) or 0 for t in ok),
        "final_context_tokens": max((t.get(Key.CONTEXT_TOKENS) or 0 for t in ok), default=0),
        "reasoning": {
            "share_of_turns": len(reasoned) / len(ok) if ok else None,
            "mean_tokens": _mean([t[Key.REASONING_TOKENS] for t in reasoned]),
            "mean_ms": _mean([t[Key.REASONING_MS] for t in reasoned if t.get(Key.REASONING_MS)]),
        },
        "context_limit": (
            {"turn": stop[Key.TURN], "tokens": stop.get(Key.PROMPT_TOKENS_SENT)} if stop else None
        ),
        "failed_at": (
            {"turn": failed[Key.TURN], "error": failed.get(Key.ERROR)} if failed else None
        ),
        "degradation": analyse(ordered, knee_factor, baseline_turns),
    }
