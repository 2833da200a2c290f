"""Tooltip texts for every metric, column and axis, in the words of docs/metrics.md.

The docs are not installed with the package, so the definitions live here; keep them in step with
the contract when it changes.
"""

from __future__ import annotations

__all__ = ["BETTER", "LABELS", "TIPS", "UNITS", "better_text", "tip"]

_T0 = "t0 is taken immediately before the request is sent, after any client-side queueing."

TIPS: dict[str, str] = {
    "ttft_ms": (
        "Time to first token (ms): first token event − t0 (reasoning or answer, whichever comes "
        f"first). {_T0} Lower is better."
    ),
    "ttfa_ms": (
        "Time to first answer token (ms): first answer (non-reasoning) token event − t0; equals "
        "TTFT for non-reasoning output. Lower is better."
    ),
    "think_ms": "Thinking time (ms): TTFA − TTFT, the time spent on reasoning before the answer.",
    "e2e_ms": "End to end (ms): last token event − t0. Lower is better.",
    "close_ms": "Close (ms): end of stream ([DONE] or connection close) − t0, kept apart from e2e.",
    "tpot_ms": (
        "Time per output token (ms): (e2e − TTFT) / (output_tokens − 1), for output_tokens ≥ 2. "
        "Lower is better."
    ),
    "decode_tps": (
        "Decode speed (tokens/s): (output_tokens − 1) / (e2e − TTFT), the generation speed after "
        "the first token. Higher is better."
    ),
    "e2e_tps": "End-to-end speed (tokens/s): output_tokens / e2e. Higher is better.",
    "prefill_tps": (
        "Prefill speed (tokens/s): (prompt_tokens − cached_tokens) / TTFT, where the counts are "
        "known. Higher is better."
    ),
    "itl_ms": (
        "Inter-token latency (ms): gaps between consecutive token events divided by the tokens in "
        "the later event; used when per-event token counts are known. Lower is better."
    ),
    "icl_ms": (
        "Inter-chunk latency (ms): gaps between consecutive token events when per-event token "
        "counts are not known; never called ITL. Lower is better."
    ),
    "output_tokens": (
        "Output tokens: usage.completion_tokens from the server when given, else the model's "
        "tokenizer, tiktoken cl100k_base, or the count of token events (token_source says which)."
    ),
    "prompt_tokens": "Prompt tokens: usage.prompt_tokens from the server, else tiktoken.",
    "reasoning_tokens": (
        "Reasoning tokens: usage.completion_tokens_details.reasoning_tokens when given, else "
        "counted from reasoning_content or from text inside <think>…</think>."
    ),
    "reasoning_ms": "Reasoning time (ms): how long the reasoning part of the stream lasted.",
    "context_tokens": (
        "Context tokens: the conversation's running size in tokens after the turn (the whole "
        "history plus the turn's prompt and answer)."
    ),
    "turn": (
        "Turn: the conversation's turn number; each turn sends the whole history plus its prompt."
    ),
    "tier": (
        "Context tier: a target prompt size in tokens. The filler that reaches it is new on "
        "every run, so a server's prompt cache cannot make a repeat look fast."
    ),
    "n": "n: the number of measured values behind the statistic (each statistic carries its n).",
    "median": "Median (p50) across the runs.",
    "p90": "90th percentile across the runs, linear between closest ranks.",
    "errors": "Errors: requests that failed (HTTP error, cut or malformed stream, timeout).",
    "skipped": "Skipped: tests that did not run, with the reason (missing key, tier too large…).",
    "target": "Target: provider/model as configured; the display name is shown first.",
    "provider": "Provider: the config's provider name, the first part of test ids.",
    "model": "Model: the model id sent to the provider.",
    "run": "Run: the measured repetition (--llm-runs).",
    "status": "Status: the test's outcome (passed, failed, skipped).",
    "ttft_error_ms": (
        "TTFT error (ms): measured TTFT − the built-in server's logged truth (its real send time "
        "of the first event on the shared clock). Closer to 0 is better."
    ),
    "tpot_error_pct": (
        "TPOT error (%): (measured TPOT − the server's logged TPOT) / logged TPOT × 100. Closer "
        "to 0 is better."
    ),
    "change": (
        "Change: (B − A) / A × 100 of the medians. A change counts only beyond the noise band: "
        "2 × the pooled standard deviation of both runs (at least 1 %)."
    ),
    "noise": "Noise band: 2 × the pooled run-to-run standard deviation, as a % of A.",
    "spread": "Spread: median (min–max) of the measured runs.",
    "percentiles": "Distribution: box p25–p75, line at the median, whiskers p5–p95.",
    "count": "Count: how many tests share this target and message.",
    "message": "The error or skip reason as recorded (the provider's message, escaped as text).",
    "answer_preview": "The first characters of the answer as recorded (shown as plain text).",
    "prefill_fit": (
        "Effective prefill rate: 1000 / slope of a least-squares fit of TTFT (ms) against "
        "prompt tokens over the conversation's turns."
    ),
    "knee": (
        "Knee: the first turn after the baseline turns where TTFT grows, or decode speed falls, "
        "by the knee factor relative to the baseline median."
    ),
    "run_index": "Run: the result files ordered by their start time.",
}

LABELS: dict[str, str] = {
    "ttft_ms": "TTFT",
    "ttfa_ms": "TTFA",
    "think_ms": "think",
    "e2e_ms": "end to end",
    "tpot_ms": "TPOT",
    "decode_tps": "decode tok/s",
    "e2e_tps": "e2e tok/s",
    "prefill_tps": "prefill tok/s",
    "output_tokens": "output tokens",
    "prompt_tokens": "prompt tokens",
    "reasoning_tokens": "reasoning tokens",
    "context_tokens": "context tokens",
    "itl_ms": "ITL",
    "icl_ms": "ICL",
}

UNITS: dict[str, str] = {
    "ttft_ms": "ms",
    "ttfa_ms": "ms",
    "think_ms": "ms",
    "e2e_ms": "ms",
    "tpot_ms": "ms",
    "decode_tps": "tok/s",
    "e2e_tps": "tok/s",
    "prefill_tps": "tok/s",
    "output_tokens": "tokens",
    "prompt_tokens": "tokens",
    "reasoning_tokens": "tokens",
    "context_tokens": "tokens",
    "itl_ms": "ms",
    "icl_ms": "ms",
}

#: +1 where higher is better, -1 where lower is better.
BETTER: dict[str, int] = {
    "ttft_ms": -1,
    "ttfa_ms": -1,
    "e2e_ms": -1,
    "tpot_ms": -1,
    "decode_tps": 1,
    "e2e_tps": 1,
    "prefill_tps": 1,
    "itl_ms": -1,
    "icl_ms": -1,
}


def tip(key: str) -> str:
    """The tooltip for a metric or column key (an empty string for unknown keys)."""
    return TIPS.get(key, "")


def better_text(key: str) -> str:
    """'lower is better' / 'higher is better' for metrics with a direction, else ''."""
    direction = BETTER.get(key)
    if direction is None:
        return ""
    return "higher is better" if direction > 0 else "lower is better"
