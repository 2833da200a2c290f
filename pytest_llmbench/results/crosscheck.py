"""The second calibration: our figures beside the ones a managed llama.cpp server logged itself.

llama.cpp times its prefill (``prompt eval``) and its decode steps (``eval``) inside the server. Our
TTFT includes the prefill plus everything around it (HTTP, chat template, tokenizing, sampling the
first token, sending it), so ``ttft_ms − prompt_eval_ms`` is that overhead, never negative for an
honest clock. Our e2e (the last token event) against llama.cpp's ``total time`` (the completion's
start to its last token) is the steadier check: it holds even when llama.cpp leaves one-off costs
out of its prompt-eval timer (it does, for the first prompt larger than any before). Our decode
tok/s spans first to last token event as the client saw them, llama.cpp's its decode steps alone:
the difference is llama-cpp-python's per-token Python work (sampling, detokenizing, SSE), which a
client does wait for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .stats import summarize

__all__ = ["crosscheck_summary"]


def crosscheck_summary(records: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Per target: how our TTFT and decode rate compare with llama.cpp's own timings."""
    pooled: dict[str, dict[str, list[float]]] = {}
    for record in records:
        timings = record.get("server_timings")
        if not record.get("ok") or not isinstance(timings, Mapping):
            continue
        values = pooled.setdefault(str(record.get("target")), {})
        for key in (
            "ttft_minus_prompt_eval_ms",
            "e2e_minus_total_ms",
            "decode_tps_diff_pct",
            "cached_tokens",
        ):
            if isinstance(timings.get(key), (int, float)):
                values.setdefault(key, []).append(float(timings[key]))
        ours, theirs = record.get("output_tokens"), timings.get("output_tokens")
        if isinstance(ours, int) and isinstance(theirs, int) and theirs:
            values.setdefault("output_tokens_diff_pct", []).append((ours - theirs) / theirs * 100)
    if not pooled:
        return None
    return {
        target: {key: summarize(series) for key, series in values.items()}
        for target, values in pooled.items()
    }
