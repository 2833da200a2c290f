"""The figures of one load point (docs/metrics.md, "Under load"), as the results JSON's ``load``
section holds them. Each request of a point is a :class:`~.record.Record` of its own (with
``point``, ``sched_ns``, ``t0_ns``, ``send_late_ms`` …); these are what is computed from them.

Times ``*_ns`` are ``time.perf_counter_ns()`` (CLOCK_MONOTONIC) of the measuring process; a
point spread over pytest-xdist workers puts them on the controller's clock (each worker's
measured offset subtracted).
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

__all__ = [
    "ClientCheck", "LoadPointResult", "PointSummary", "ShardedFields", "TimelineBin", "Window",
]  # fmt: skip

PointKind = Literal["concurrency", "rate"]


class PointSummary(TypedDict):
    """Percentiles of one field over all of a point's requests together (every gap of every
    request for ``itl_ms``). ``p99`` is ``None`` below 100 values, ``p999`` below 1,000."""

    n: int
    mean: float | None
    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    p999: float | None
    max: float | None


class Window(TypedDict):
    """A stretch of the point: the whole window (first send to last end of stream) or the steady
    state (the plan's warm-up and cool-down left out). Counts are of requests that ended in it."""

    start_ns: int
    end_ns: int
    seconds: float
    completed: int
    output_tokens: int
    request_rate: float | None
    output_tps: float | None


class TimelineBin(TypedDict):
    """One second of the point, from the whole window's start."""

    t_s: float
    completed: int
    errors: int
    output_tokens: int
    in_flight: float  # time-weighted mean over the second
    ttft_p50_ms: float | None  # of the requests whose first token came in this second


class ClientCheck(TypedDict):
    """Whether the client kept up: its send lateness, its loop's lag, its CPU share of one core,
    and, when it was the bottleneck by the stated thresholds, which check says so."""

    send_late_p50_ms: float | None
    send_late_p99_ms: float | None
    send_late_max_ms: float | None
    loop_lag_p99_ms: float | None
    loop_lag_max_ms: float | None
    cpu_share: float | None
    distorted: list[str]


class ShardedFields(TypedDict, total=False):
    """What a point spread over pytest-xdist workers adds to its figures."""

    #: Each shard's worker, host, clock offset and uncertainty, start lateness and records file
    #: (a lost shard: why).
    shards: list[dict[str, Any]]
    #: The spread of its shards' observed starts (ms; ``None`` with one shard sending).
    start_skew_ms: float | None


class LoadPointResult(ShardedFields):
    """One target at one load point: the plan, what was delivered, and the figures."""

    test: str
    target: str
    point: str
    kind: PointKind
    concurrency: int | None
    rate: float | None
    arrival: str | None
    max_in_flight: int | None
    planned_s: float | None
    planned_requests: int | None
    started: int
    completed: int
    errors: int
    errors_by_kind: dict[str, int]
    whole: Window
    steady: Window
    in_flight_mean: float | None
    in_flight_max: int
    percentiles: dict[str, PointSummary]
    slos: list[str]
    good: int
    goodput: float | None
    good_fraction: float | None
    timeline: list[TimelineBin]
    client: ClientCheck
    distorted: bool
    flags: list[str]
    #: The file (beside the results) holding the point's full records, or ``None``.
    records_file: str | None
    #: Whether the results carry the point's (slim) records too: not past 2,000 requests.
    records_inline: bool
