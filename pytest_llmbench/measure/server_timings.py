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

from collections.abc import Mapping
from typing import Any

__all__ = ["with_differences"]


def with_differences(measurement: Any, timings: Mapping[str, Any]) -> dict[str, Any]:
    """``timings`` (llama.cpp's, see :class:`~.managed.RequestTimings`) with the differences."""
    data = dict(timings)
    prompt_eval = data.get("prompt_eval_ms")
    if measurement.ttft_ms is not None and prompt_eval is not None:
        data["ttft_minus_prompt_eval_ms"] = measurement.ttft_ms - prompt_eval
    total = data.get("total_ms")
    if measurement.e2e_ms is not None and total is not None:
        data["e2e_minus_total_ms"] = measurement.e2e_ms - total
    theirs = data.get("decode_tps")
    if measurement.decode_tps and theirs:
        data["decode_tps_diff_pct"] = (measurement.decode_tps - theirs) / theirs * 100
    return data
