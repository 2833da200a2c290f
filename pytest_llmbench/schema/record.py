"""Every field of a per-request record and of an aggregate, each metric's unit and which
direction is better, and the field lists that the outputs use.

This is the one module that spells a metric's key (``"ttft_ms"``); every other module names it
through :class:`Key` (``record[Key.TTFT_MS]``), so a misspelt key is a type error, not a silent
``None``. The definitions are those of ``docs/metrics.md``. The JSON form of a record is the
:class:`Record` mapping itself (plain JSON types, ``None`` for "not measured"). Adding a metric:
a :class:`Key` entry, a :class:`Record` field, a :data:`METRICS` entry, then its computation in
:mod:`~pytest_llmbench.measure.metrics` (see docs/architecture.md).

A base module: it imports nothing of the package, and every folder may import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, TypedDict

__all__ = [
    "AGGREGATED_FIELDS",
    "COMPARED_FIELDS",
    "EXPORTED_FIELDS",
    "GATED_FIELDS",
    "HIGHER_IS_BETTER",
    "JUNIT_FIELDS",
    "LOWER_IS_BETTER",
    "METRICS",
    "SCHEMA_VERSION",
    "TREND_FIELDS",
    "Aggregate",
    "Calibration",
    "Key",
    "Metric",
    "Record",
    "ServerTimings",
    "Summary",
    "Truth",
    "metric",
]

#: Version of the results document. 2: every record has ``t0_unix_ns`` (its wall-clock start).
SCHEMA_VERSION: Final = 2

Better = Literal["lower", "higher"]


class Key:
    """The keys of a record (and of an aggregate's identity), one constant each."""

    # -- what was measured: the case (matrix.Case.describe) and the test -----------------------
    TEST: Final = "test"
    TARGET: Final = "target"
    PROVIDER: Final = "provider"
    MODEL: Final = "model"
    DISPLAY_NAME: Final = "display_name"
    CLIENT: Final = "client"
    SIMULATED: Final = "simulated"
    TIER: Final = "tier"
    RUN: Final = "run"
    TURN: Final = "turn"
    REQUEST: Final = "request"
    STATUS: Final = "status"
    REASON: Final = "reason"
    # -- the request's outcome -----------------------------------------------------------------
    OK: Final = "ok"
    ERROR: Final = "error"
    HTTP_STATUS: Final = "http_status"
    FINISH_REASON: Final = "finish_reason"
    RESPONSE_ID: Final = "response_id"
    T0_UNIX_NS: Final = "t0_unix_ns"
    # -- per-request metrics (docs/metrics.md, "Per request") ------------------------------------
    TTFT_MS: Final = "ttft_ms"
    TTFA_MS: Final = "ttfa_ms"
    THINK_MS: Final = "think_ms"
    E2E_MS: Final = "e2e_ms"
    CLOSE_MS: Final = "close_ms"
    QUEUE_MS: Final = "queue_ms"
    TPOT_MS: Final = "tpot_ms"
    DECODE_TPS: Final = "decode_tps"
    E2E_TPS: Final = "e2e_tps"
    PREFILL_TPS: Final = "prefill_tps"
    ITL_MS: Final = "itl_ms"
    ICL_MS: Final = "icl_ms"
    OUTPUT_TOKENS: Final = "output_tokens"
    PROMPT_TOKENS: Final = "prompt_tokens"
    CACHED_TOKENS: Final = "cached_tokens"
    REASONING_TOKENS: Final = "reasoning_tokens"
    REASONING_MS: Final = "reasoning_ms"
    TOKEN_EVENTS: Final = "token_events"
    EVENT_MS: Final = "event_ms"
    # -- where the counts came from, and what was said about them ------------------------------
    TOKEN_SOURCE: Final = "token_source"
    PROMPT_TOKEN_SOURCE: Final = "prompt_token_source"
    REASONING_TOKEN_SOURCE: Final = "reasoning_token_source"
    WARNINGS: Final = "warnings"
    # -- the texts, kept short ------------------------------------------------------------------
    ANSWER: Final = "answer"
    REASONING: Final = "reasoning"
    ANSWER_CHARS: Final = "answer_chars"
    REASONING_CHARS: Final = "reasoning_chars"
    ANSWER_PREVIEW: Final = "answer_preview"
    # -- what the server said it did --------------------------------------------------------------
    TRUTH: Final = "truth"
    SERVER_TTFT_MS: Final = "server_ttft_ms"
    REQUEST_TRIP_MS: Final = "request_trip_ms"
    SERVER_QUEUE_MS: Final = "server_queue_ms"
    SERVER_TIMINGS: Final = "server_timings"
    # -- in server_timings: llama.cpp's own figures, and ours against them ----------------------
    SOURCE: Final = "source"
    PROMPT_EVAL_TOKENS: Final = "prompt_eval_tokens"
    PROMPT_EVAL_MS: Final = "prompt_eval_ms"
    EVAL_RUNS: Final = "eval_runs"
    EVAL_MS: Final = "eval_ms"
    TOTAL_MS: Final = "total_ms"
    TTFT_MINUS_PROMPT_EVAL_MS: Final = "ttft_minus_prompt_eval_ms"
    E2E_MINUS_TOTAL_MS: Final = "e2e_minus_total_ms"
    DECODE_TPS_DIFF_PCT: Final = "decode_tps_diff_pct"
    OUTPUT_TOKENS_DIFF_PCT: Final = "output_tokens_diff_pct"
    # -- the document's calibration against the built-in server ---------------------------------
    TTFT_ERROR_MS: Final = "ttft_error_ms"
    TTFT_ABS_MAX_MS: Final = "ttft_abs_max_ms"
    TPOT_ERROR_PCT: Final = "tpot_error_pct"
    TPOT_ABS_MAX_PCT: Final = "tpot_abs_max_pct"
    # -- limits, and the conversation's fields --------------------------------------------------
    LIMITS_BROKEN: Final = "limits_broken"
    TURN_TIER: Final = "turn_tier"
    TURNS_PLANNED: Final = "turns_planned"
    PROMPT_TOKENS_SENT: Final = "prompt_tokens_sent"
    CONTEXT_TOKENS: Final = "context_tokens"
    CONTEXT_LIMIT: Final = "context_limit"
    REASONED: Final = "reasoned"
    # -- a request of a load point (docs/metrics.md, "Under load") ------------------------------
    POINT: Final = "point"
    T0_NS: Final = "t0_ns"
    SCHED_NS: Final = "sched_ns"
    SEND_LATE_MS: Final = "send_late_ms"
    WRITTEN_MS: Final = "written_ms"
    SCHED_TTFT_MS: Final = "sched_ttft_ms"
    SCHED_E2E_MS: Final = "sched_e2e_ms"
    ERROR_KIND: Final = "error_kind"
    GOOD: Final = "good"
    STEADY: Final = "steady"
    #: a target's capacity under its SLOs (a search's finding; a limit may name it)
    CAPACITY: Final = "capacity"
    # -- an aggregate's own fields ----------------------------------------------------------------
    REQUESTS: Final = "requests"
    ERRORS: Final = "errors"
    SKIPPED: Final = "skipped"
    METRICS: Final = "metrics"


class Truth(TypedDict, total=False):
    """What the built-in server logged for a request, as the fields we measure."""

    output_tokens: int | None
    prompt_tokens: int | None
    ttft_ms: float
    e2e_ms: float
    tpot_ms: float
    server_ttft_ms: float
    request_trip_ms: float
    server_queue_ms: float  # the built-in server's admission queue (its load model)


class ServerTimings(TypedDict, total=False):
    """A record's ``server_timings``: what a managed llama.cpp server logged for the request, the
    rates that follow, and our figures' differences from them."""

    source: str
    prompt_tokens: int | None
    cached_tokens: int
    prompt_eval_tokens: int | None
    prompt_eval_ms: float | None
    eval_runs: int | None
    eval_ms: float | None
    total_ms: float | None
    output_tokens: int | None
    prefill_tps: float | None
    decode_tps: float | None
    ttft_minus_prompt_eval_ms: float
    e2e_minus_total_ms: float
    decode_tps_diff_pct: float


class Record(TypedDict, total=False):
    """One measured (or skipped, or failed) request, as the ``.jsonl`` and the results JSON hold
    it. Fields a request did not reach are ``None`` or absent."""

    test: str
    target: str
    provider: str
    model: str
    display_name: str
    client: str
    simulated: bool
    tier: int | None
    run: int
    turn: int
    request: int
    status: str
    reason: str | None
    ok: bool
    error: str | None
    http_status: int
    finish_reason: str | None
    response_id: str | None
    t0_unix_ns: int | None
    ttft_ms: float | None
    ttfa_ms: float | None
    think_ms: float | None
    e2e_ms: float | None
    close_ms: float | None
    queue_ms: float
    tpot_ms: float | None
    decode_tps: float | None
    e2e_tps: float | None
    prefill_tps: float | None
    itl_ms: list[float] | None
    icl_ms: list[float] | None
    output_tokens: int
    prompt_tokens: int | None
    cached_tokens: int | None
    reasoning_tokens: int
    reasoning_ms: float | None
    token_events: int
    event_ms: list[float]
    token_source: str
    prompt_token_source: str | None
    reasoning_token_source: str | None
    warnings: list[str]
    answer_chars: int
    reasoning_chars: int
    answer_preview: str
    truth: Truth | None
    server_timings: ServerTimings
    limits_broken: list[str]
    turn_tier: str
    turns_planned: int
    prompt_tokens_sent: int
    context_tokens: int
    context_limit: bool
    reasoned: bool
    # a request of a load point: its point, its monotonic times, its schedule and its verdict
    point: str
    t0_ns: int
    sched_ns: int
    send_late_ms: float
    written_ms: float | None
    sched_ttft_ms: float | None
    sched_e2e_ms: float | None
    error_kind: str | None
    good: bool
    steady: bool


class Summary(TypedDict, total=False):
    """A statistic summary of one field across requests (each statistic carries its ``n``)."""

    n: int
    mean: float
    median: float
    p90: float
    p95: float
    p99: float | None
    min: float
    max: float
    stdev: float | None


class Aggregate(TypedDict):
    """One target × tier across its runs (conversation turns have their own summary)."""

    target: str
    provider: str | None
    model: str | None
    display_name: str | None
    simulated: bool
    tier: int | None
    requests: int
    errors: int
    skipped: int
    metrics: dict[str, Summary]


class Calibration(TypedDict):
    """How far measured TTFT and TPOT were from the built-in server's truth."""

    ttft_error_ms: Summary
    ttft_abs_max_ms: float
    tpot_error_pct: Summary
    tpot_abs_max_pct: float | None


@dataclass(frozen=True)
class Metric:
    """A per-request metric: its unit, which direction is better, and where it is used."""

    key: str
    unit: str
    better: Better | None
    #: Summarised across runs in each target × tier aggregate (and kept in baselines).
    aggregated: bool = True
    #: May be named in a limit (``thresholds:``, ``--llm-fail``).
    gated: bool = True


#: Every per-request metric, in the order the results show them.
METRICS: Final = (
    Metric(Key.TTFT_MS, "ms", "lower"),
    Metric(Key.TTFA_MS, "ms", "lower"),
    Metric(Key.THINK_MS, "ms", "lower"),
    Metric(Key.E2E_MS, "ms", "lower"),
    Metric(Key.CLOSE_MS, "ms", "lower", aggregated=False),
    Metric(Key.QUEUE_MS, "ms", "lower", aggregated=False),
    Metric(Key.TPOT_MS, "ms", "lower"),
    Metric(Key.DECODE_TPS, "tok/s", "higher"),
    Metric(Key.E2E_TPS, "tok/s", "higher"),
    Metric(Key.PREFILL_TPS, "tok/s", "higher"),
    Metric(Key.ITL_MS, "ms", "lower", aggregated=False, gated=False),
    Metric(Key.ICL_MS, "ms", "lower", aggregated=False, gated=False),
    Metric(Key.OUTPUT_TOKENS, "tokens", None),
    Metric(Key.PROMPT_TOKENS, "tokens", None, gated=False),
    Metric(Key.CACHED_TOKENS, "tokens", None, aggregated=False, gated=False),
    Metric(Key.REASONING_TOKENS, "tokens", None),
    Metric(Key.REASONING_MS, "ms", "lower"),
    # under load only: from the scheduled start, the client's lateness, the request's write
    Metric(Key.SCHED_TTFT_MS, "ms", "lower", aggregated=False),
    Metric(Key.SCHED_E2E_MS, "ms", "lower", aggregated=False),
    Metric(Key.SEND_LATE_MS, "ms", "lower", aggregated=False, gated=False),
    Metric(Key.WRITTEN_MS, "ms", "lower", aggregated=False, gated=False),
)
_BY_KEY = {metric.key: metric for metric in METRICS}

#: The fields summarised across runs, in the order aggregates list them.
AGGREGATED_FIELDS: Final = tuple(m.key for m in METRICS if m.aggregated)
#: The fields a limit may name.
GATED_FIELDS: Final = frozenset(m.key for m in METRICS if m.gated)
HIGHER_IS_BETTER: Final = frozenset(m.key for m in METRICS if m.better == "higher")
LOWER_IS_BETTER: Final = frozenset(m.key for m in METRICS if m.better == "lower")
#: Per-request fields recorded as JUnit properties (``llm_<field>``).
JUNIT_FIELDS: Final = (
    Key.TTFT_MS,
    Key.TTFA_MS,
    Key.DECODE_TPS,
    Key.TPOT_MS,
    Key.E2E_MS,
    Key.OUTPUT_TOKENS,
    Key.TOKEN_SOURCE,
    Key.PROMPT_TOKENS,
    Key.REASONING_TOKENS,
)
#: The fields written as pytest-benchmark benchmarks (their values are durations).
EXPORTED_FIELDS: Final = (Key.TTFT_MS, Key.TTFA_MS, Key.TPOT_MS, Key.E2E_MS)
#: The fields the report's comparison of two runs compares.
COMPARED_FIELDS: Final = (Key.TTFT_MS, Key.DECODE_TPS, Key.TPOT_MS, Key.E2E_MS)
#: The fields the report's history draws as trends.
TREND_FIELDS: Final = (Key.TTFT_MS, Key.DECODE_TPS)


def metric(key: str) -> Metric | None:
    """The metric named ``key``, or ``None`` for a field that is not a metric."""
    return _BY_KEY.get(key)
