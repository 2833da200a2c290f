"""The cross-check against a managed llama.cpp server, per target: our figures' differences from
its own timings (each request's are in :mod:`~pytest_llmbench.measure.server_timings`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..schema import Key
from .stats import summarize

__all__ = ["SUMMARISED", "crosscheck_summary"]

#: The differences (and llama.cpp's reuse of the prompt) summarised per target.
SUMMARISED = (
    Key.TTFT_MINUS_PROMPT_EVAL_MS,
    Key.E2E_MINUS_TOTAL_MS,
    Key.DECODE_TPS_DIFF_PCT,
    Key.CACHED_TOKENS,
)


def crosscheck_summary(records: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Per target: how our TTFT and decode rate compare with llama.cpp's own timings."""
    pooled: dict[str, dict[str, list[float]]] = {}
    for record in records:
        timings = record.get(Key.SERVER_TIMINGS)
        if not record.get(Key.OK) or not isinstance(timings, Mapping):
            continue
        values = pooled.setdefault(str(record.get(Key.TARGET)), {})
        for key in SUMMARISED:
            if isinstance(timings.get(key), (int, float)):
                values.setdefault(key, []).append(float(timings[key]))
        ours, theirs = record.get(Key.OUTPUT_TOKENS), timings.get(Key.OUTPUT_TOKENS)
        if isinstance(ours, int) and isinstance(theirs, int) and theirs:
            diff = (ours - theirs) / theirs * 100
            values.setdefault(Key.OUTPUT_TOKENS_DIFF_PCT, []).append(diff)
    if not pooled:
        return None
    return {
        target: {key: summarize(series) for key, series in values.items()}
        for target, values in pooled.items()
    }
