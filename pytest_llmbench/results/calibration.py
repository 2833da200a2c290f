"""The first calibration: measured TTFT and TPOT against what the built-in server logged it did."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..schema import Calibration, Key
from .stats import summarize

__all__ = ["calibration"]


def calibration(records: Iterable[Mapping[str, Any]]) -> Calibration | None:
    """How far measured TTFT and TPOT are from what the built-in server logged it did."""
    ttft, tpot = [], []
    for record in records:
        truth = record.get(Key.TRUTH)
        if not record.get(Key.OK) or not truth:
            continue
        ours, true = record.get(Key.TTFT_MS), truth.get(Key.TTFT_MS)
        if ours is not None and true is not None:
            ttft.append(ours - true)
        ours, true = record.get(Key.TPOT_MS), truth.get(Key.TPOT_MS)
        if ours is not None and true:
            tpot.append((ours - true) / true * 100)
    if not ttft:
        return None
    return {
        "ttft_error_ms": summarize(ttft),
        "ttft_abs_max_ms": max(abs(v) for v in ttft),
        "tpot_error_pct": summarize(tpot),
        "tpot_abs_max_pct": max((abs(v) for v in tpot), default=None),
    }
