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

from typing import TYPE_CHECKING

from ..schema import Key, ServerTimings
from .metrics import Measurement

if TYPE_CHECKING:
    from ..servers.llama_cpp import RequestTimings

__all__ = ["with_differences"]


def with_differences(measurement: Measurement, timings: RequestTimings) -> ServerTimings:
    """A record's ``server_timings``: llama.cpp's figures for the request, the rates they give,
    and our figures' differences from them."""
    data: ServerTimings = {
        Key.SOURCE: "llama.cpp",
        Key.PROMPT_TOKENS: timings.prompt_tokens,
        Key.CACHED_TOKENS: timings.cached_tokens,
        Key.PROMPT_EVAL_TOKENS: timings.prompt_eval_tokens,
        Key.PROMPT_EVAL_MS: timings.prompt_eval_ms,
        Key.EVAL_RUNS: timings.eval_runs,
        Key.EVAL_MS: timings.eval_ms,
        Key.TOTAL_MS: timings.total_ms,
        Key.OUTPUT_TOKENS: timings.output_tokens,
        Key.PREFILL_TPS: None,
        Key.DECODE_TPS: None,
    }
    if timings.prompt_eval_ms and timings.prompt_eval_tokens:
        data[Key.PREFILL_TPS] = timings.prompt_eval_tokens / (timings.prompt_eval_ms / 1e3)
    theirs = None
    if timings.eval_ms and timings.eval_runs:
        theirs = data[Key.DECODE_TPS] = timings.eval_runs / (timings.eval_ms / 1e3)
    if measurement.ttft_ms is not None and timings.prompt_eval_ms is not None:
        data[Key.TTFT_MINUS_PROMPT_EVAL_MS] = measurement.ttft_ms - timings.prompt_eval_ms
    if measurement.e2e_ms is not None and timings.total_ms is not None:
        data[Key.E2E_MINUS_TOTAL_MS] = measurement.e2e_ms - timings.total_ms
    if measurement.decode_tps and theirs:
        data[Key.DECODE_TPS_DIFF_PCT] = (measurement.decode_tps - theirs) / theirs * 100
    return data
