"""The report's labels: tooltip texts for every metric, column and axis (in the words of
docs/metrics.md), each metric's short label, and its unit and better direction.

The docs are not installed with the package, so the definitions live here; keep them in step with
the contract when it changes. Units and better directions come from the schema's ``METRICS``;
only the texts are the report's own.
"""

from __future__ import annotations

from ...schema import METRICS, Key

__all__ = [
    "BETTER",
    "LABELS",
    "LOAD_TIPS",
    "SHORT_LABELS",
    "TIPS",
    "UNITS",
    "better_text",
    "tip",
]

_T0 = "t0 is taken immediately before the request is sent, after any client-side queueing."

TIPS: dict[str, str] = {
    Key.TTFT_MS: (
        "Time to first token (ms): first token event − t0 (reasoning or answer, whichever comes "
        f"first). {_T0} Lower is better."
    ),
    Key.TTFA_MS: (
        "Time to first answer token (ms): first answer (non-reasoning) token event − t0; equals "
        "TTFT for non-reasoning output. Lower is better."
    ),
    Key.THINK_MS: "Thinking time (ms): TTFA − TTFT, the time spent on reasoning before the answer.",
    Key.E2E_MS: "End to end (ms): last token event − t0. Lower is better.",
    Key.CLOSE_MS: (
        "Close (ms): end of stream ([DONE] or connection close) − t0, kept apart from e2e."
    ),
    Key.TPOT_MS: (
        "Time per output token (ms): (e2e − TTFT) / (output_tokens − 1), for output_tokens ≥ 2. "
        "Lower is better."
    ),
    Key.DECODE_TPS: (
        "Decode speed (tokens/s): (output_tokens − 1) / (e2e − TTFT), the generation speed after "
        "the first token. Higher is better."
    ),
    Key.E2E_TPS: "End-to-end speed (tokens/s): output_tokens / e2e. Higher is better.",
    Key.PREFILL_TPS: (
        "Prefill speed (tokens/s): (prompt_tokens − cached_tokens) / TTFT, where the counts are "
        "known. Higher is better."
    ),
    Key.ITL_MS: (
        "Inter-token latency (ms): gaps between consecutive token events divided by the tokens in "
        "the later event; used when per-event token counts are known. Lower is better."
    ),
    Key.ICL_MS: (
        "Inter-chunk latency (ms): gaps between consecutive token events when per-event token "
        "counts are not known; never called ITL. Lower is better."
    ),
    Key.OUTPUT_TOKENS: (
        "Output tokens: usage.completion_tokens from the server when given, else the model's "
        "tokenizer, tiktoken cl100k_base, or the count of token events (token_source says which)."
    ),
    Key.PROMPT_TOKENS: "Prompt tokens: usage.prompt_tokens from the server, else tiktoken.",
    Key.REASONING_TOKENS: (
        "Reasoning tokens: usage.completion_tokens_details.reasoning_tokens when given, else "
        "counted from reasoning_content or from text inside <think>…</think>."
    ),
    Key.REASONING_MS: "Reasoning time (ms): how long the reasoning part of the stream lasted.",
    Key.CONTEXT_TOKENS: (
        "Context tokens: the conversation's running size in tokens after the turn (the whole "
        "history plus the turn's prompt and answer)."
    ),
    Key.TURN: (
        "Turn: the conversation's turn number; each turn sends the whole history plus its prompt."
    ),
    Key.TIER: (
        "Context tier: a target prompt size in tokens. The filler that reaches it is new on "
        "every run, so a server's prompt cache cannot make a repeat look fast."
    ),
    "n": "n: the number of measured values behind the statistic (each statistic carries its n).",
    "median": "Median (p50) across the runs.",
    "p90": "90th percentile across the runs, linear between closest ranks.",
    Key.ERRORS: "Errors: requests that failed (HTTP error, cut or malformed stream, timeout).",
    Key.SKIPPED: "Skipped: tests that did not run, with the reason (missing key, tier too large…).",
    Key.TARGET: "Target: provider/model as configured; the display name is shown first.",
    Key.PROVIDER: "Provider: the config's provider name, the first part of test ids.",
    Key.MODEL: "Model: the model id sent to the provider.",
    Key.RUN: "Run: the measured repetition (--llm-runs).",
    Key.STATUS: "Status: the test's outcome (passed, failed, skipped).",
    Key.TTFT_ERROR_MS: (
        "TTFT error (ms): measured TTFT − the built-in server's logged truth (its real send time "
        "of the first event on the shared clock). Closer to 0 is better."
    ),
    Key.TPOT_ERROR_PCT: (
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
    Key.ANSWER_PREVIEW: "The first characters of the answer as recorded (shown as plain text).",
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

_P99 = "p99 needs at least 100 values and p99.9 1,000 (else —)."

#: The load mode's figures (docs/metrics.md, "Under load"), merged into :data:`TIPS`.
LOAD_TIPS: dict[str, str] = {
    Key.POINT: (
        "Load point: one target driven at a fixed concurrency (cN, closed loop: a new request as "
        "soon as one ends) or a request rate (rN, open loop: constant, Poisson or gamma arrivals; "
        "-mN caps the requests in flight) for a planned window."
    ),
    "window": (
        "Window the rates are of: steady (the plan's warm-up and cool-down left out) or whole "
        "(first send to last end of stream; used where the steady window completed nothing)."
    ),
    "request_rate": "Achieved request rate (req/s): completed requests / window.",
    "output_tps": (
        "Output throughput (tok/s): Σ output_tokens of successful requests / window. Higher is "
        "better."
    ),
    "in_flight": (
        "In flight: requests between t0 and end of stream, time-weighted mean (and max) over the "
        "whole window."
    ),
    "point_percentile": (
        "A percentile of the point's requests all together (ITL: every gap of every request), "
        f"never an average of per-process percentiles. {_P99}"
    ),
    "slos": (
        "SLOs: limits on per-request fields (ttft_ms <= 500, tpot_ms <= 50). A request is good "
        "when it succeeded and met every SLO."
    ),
    "goodput": "Goodput (req/s): good requests / window. Higher is better.",
    "good_fraction": "Good fraction: good requests / all started (errors included).",
    "errors_by_kind": (
        "Errors: failed requests / requests started, by kind (HTTP status, timeout, cut stream…)."
    ),
    "flags": (
        "Flags: distorted (the client was the bottleneck: its figures are not the server's), "
        "saturated (output tok/s stopped growing while TTFT or queueing grew: the knee and past "
        "it), or an error rate above the limit."
    ),
    "distorted": (
        "Distorted: the client self-check found the client was the bottleneck by the stated "
        "thresholds (send lateness, event-loop lag, CPU share); the reasons name which."
    ),
    "capacity": (
        "Capacity: the highest concurrency (or rate) of a search whose point meets the SLOs at "
        "the percentiles they name, with a bootstrap 95 % interval over requests. Higher is "
        "better."
    ),
    "bracket": "Bracket: the highest passing value and the lowest failing one the search tried.",
    "capacity_interval": (
        "95 % interval: where resampling the two boundary points' requests moves the capacity "
        "(2.5th–97.5th percentiles of the values the resamples imply)."
    ),
    "cliff": "Cliff: the lowest failing point is more than 2× past a limit.",
    "timeline": (
        "Each second of the point from the whole window's start: requests completed, output "
        "tokens, requests in flight (time-weighted mean) and the TTFT p50 of the requests whose "
        "first token came in that second."
    ),
    Key.SEND_LATE_MS: (
        "Send lateness (ms): t0 − the scheduled start; how late the client sent (under a "
        "concurrency cap the wait for a slot is queue time instead). Lower is better."
    ),
    Key.SCHED_TTFT_MS: (
        "TTFT from the schedule (ms): first token − the scheduled start, so a client that falls "
        "behind cannot hide server slowness (coordinated omission). Lower is better."
    ),
    Key.SCHED_E2E_MS: "End to end from the schedule (ms): last token − the scheduled start.",
    Key.QUEUE_MS: "Queue time (ms): the wait for a free slot under a concurrency cap.",
    "loop_lag": "Event-loop lag (ms): a periodic timer's lateness in the client, p99.",
}
TIPS.update(LOAD_TIPS)

LABELS: dict[str, str] = {
    Key.TTFT_MS: "TTFT",
    Key.TTFA_MS: "TTFA",
    Key.THINK_MS: "think",
    Key.E2E_MS: "end to end",
    Key.TPOT_MS: "TPOT",
    Key.DECODE_TPS: "decode tok/s",
    Key.E2E_TPS: "e2e tok/s",
    Key.PREFILL_TPS: "prefill tok/s",
    Key.OUTPUT_TOKENS: "output tokens",
    Key.PROMPT_TOKENS: "prompt tokens",
    Key.REASONING_TOKENS: "reasoning tokens",
    Key.CONTEXT_TOKENS: "context tokens",
    Key.ITL_MS: "ITL",
    Key.ICL_MS: "ICL",
    Key.QUEUE_MS: "queue",
    Key.SCHED_TTFT_MS: "TTFT from schedule",
    Key.SCHED_E2E_MS: "e2e from schedule",
    Key.SEND_LATE_MS: "send lateness",
}

#: The unit of each metric (schema.METRICS) and of the other fields the report draws.
UNITS: dict[str, str] = {m.key: m.unit for m in METRICS} | {Key.CONTEXT_TOKENS: "tokens"}

#: +1 where higher is better, -1 where lower is better (schema.METRICS); absent: no direction.
BETTER: dict[str, int] = {
    m.key: 1 if m.better == "higher" else -1 for m in METRICS if m.better is not None
}

#: The short names of the overview's "vs baseline" column ('TTFT +30.3 % · tok/s −23 %').
SHORT_LABELS: dict[str, str] = {Key.TTFT_MS: "TTFT", Key.DECODE_TPS: "tok/s", Key.TPOT_MS: "TPOT"}


def tip(key: str) -> str:
    """The tooltip for a metric or column key (an empty string for unknown keys)."""
    return TIPS.get(key, "")


def better_text(key: str) -> str:
    """'lower is better' / 'higher is better' for metrics with a direction, else ''."""
    direction = BETTER.get(key)
    if direction is None:
        return ""
    return "higher is better" if direction > 0 else "lower is better"
