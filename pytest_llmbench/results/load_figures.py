"""The figures of one load point, from its requests (docs/metrics.md, "Under load").

Pure functions over the point's records (one per request, each with ``t0_ns``). A request *ends*
at ``t0 + close_ms`` (end of stream); a failed request without ``close_ms`` ends at
``t0 + e2e_ms``, and without either at ``t0`` (it then takes no time in flight: the runner should
give a failed request the ``close_ms`` of its failure). It is *in flight* from ``t0`` to its end.

- Windows: the whole window runs from the first ``t0`` to the last end; the steady window leaves
  out the point's ``warmup_s`` at the start and ``cooldown_s`` at the end. A request counts in a
  window when it ended inside it. ``completed`` counts successful requests (``errors`` the
  others), so ``request_rate`` is successful requests per second of the window.
- Percentiles: the server's figures (TTFT, TTFA, TPOT, E2E, their scheduled forms, ITL pooled over
  every gap of every request) over successful requests; the client's (``queue_ms``,
  ``written_ms``, ``send_late_ms``) over every request that has them.
- Client self-check: the point is distorted (the client, not the server, was the bottleneck) when
  the send lateness p99 or the event loop's lag p99 is above :data:`LATE_SHARE` (5 %) of the
  point's TTFT p50 and above :data:`LATE_FLOOR_MS` (1 ms, so that a 5 ms TTFT does not trip it
  on noise), or the client's CPU share of one core is above :data:`CPU_SHARE_MAX` (0.9). Below
  100 values the p99 is not reported (docs/metrics.md) and the check judges the max instead.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..config.load_spec import LoadPoint, LoadSettings, Slo
from ..schema import ClientCheck, Key, LoadPointResult, PointSummary, Window
from ..schema.load_result import PointKind
from .load_timeline import timeline
from .stats import P99_MIN_N, percentile

__all__ = [
    "client_check", "judge_request", "point_figures", "point_summary", "request_end_ns",
]  # fmt: skip

#: p99.9 is reported only from this many values on (p99 from :data:`~.stats.P99_MIN_N`).
P999_MIN_N = 1000
#: Send lateness or loop lag (p99) above this share of the TTFT p50 says the client was late.
LATE_SHARE = 0.05
#: … and above this many ms, whatever the TTFT.
LATE_FLOOR_MS = 1.0
#: A client CPU share of one core above this says the client was the bottleneck.
CPU_SHARE_MAX = 0.9
#: The flag of a distorted point.
DISTORTED = "distorted"

#: Summarised over successful requests (``itl_ms``: every gap of every request).
SERVER_FIELDS = (
    Key.TTFT_MS,
    Key.TTFA_MS,
    Key.TPOT_MS,
    Key.E2E_MS,
    Key.SCHED_TTFT_MS,
    Key.SCHED_E2E_MS,
    Key.ITL_MS,
)
#: Summarised over every request that has them: they are the client's own.
CLIENT_FIELDS = (Key.QUEUE_MS, Key.WRITTEN_MS, Key.SEND_LATE_MS)

_NS_PER_MS = 1_000_000
_NS_PER_S = 1_000_000_000


def judge_request(record: Mapping[str, Any], slos: Iterable[Slo]) -> bool:
    """Whether a request was good: it succeeded and each SLO's field is ``<=`` its limit (every
    value of a list field such as ``itl_ms``). A successful request without the field is not."""
    if not record.get(Key.OK):
        return False
    for slo in slos:
        value = record.get(slo.field)
        if value is None:
            return False
        worst = max(value, default=None) if isinstance(value, list) else value
        if worst is not None and worst > slo.limit:
            return False
    return True


def point_summary(values: list[float] | array[float]) -> PointSummary:
    """n, mean, p50, p90, p95, p99 (``None`` below 100 values), p99.9 (below 1,000) and max of
    ``values``, which it sorts in place: an ``array`` with numpy, on its own buffer (a point's
    pooled gaps are millions of values, too many for a list of floats); a float32 array's
    figures are given to the 7 digits it holds."""
    if isinstance(values, array):
        if values:
            import numpy

            numpy.frombuffer(values, dtype=values.typecode).sort()
    else:
        values.sort()
    n = len(values)
    if n == 0:
        return {
            "n": 0, "mean": None, "p50": None, "p90": None, "p95": None, "p99": None,
            "p999": None, "max": None,
        }  # fmt: skip
    short = isinstance(values, array) and values.itemsize == 4

    def shown(value: float) -> float:
        return float(f"{value:.7g}") if short else value

    return {
        "n": n,
        "mean": shown(math.fsum(values) / n),
        "p50": shown(percentile(values, 50)),
        "p90": shown(percentile(values, 90)),
        "p95": shown(percentile(values, 95)),
        "p99": shown(percentile(values, 99)) if n >= P99_MIN_N else None,
        "p999": shown(percentile(values, 99.9)) if n >= P999_MIN_N else None,
        "max": shown(values[-1]),
    }


def point_figures(
    records: Sequence[Mapping[str, Any]],
    *,
    test: str,
    target: str,
    point: LoadPoint,
    slos: Sequence[Slo],
    loop_lags_ms: Iterable[float],
    cpu_s: float | None,
    wall_s: float | None,
    bin_s: float = 1.0,
    max_error_rate: float = LoadSettings.max_error_rate,
    pooled: Mapping[str, array[float]] | None = None,
) -> LoadPointResult:
    """Every figure of one load point from its requests' records (see the module's docstring),
    the client's self-check from its probe timer's lateness (``loop_lags_ms``) and its CPU time
    over the wall time. ``flags``: ``distorted``, an error rate above ``max_error_rate``, and
    ``saturated`` from the capacity module. A ``sweep`` or ``search`` marker is no point.
    ``pooled``: a list field's values (``itl_ms``) gathered apart (:mod:`.load_records`)."""
    kind = _kind(point)
    starts = [record[Key.T0_NS] for record in records]
    ends = [request_end_ns(record) for record in records]
    first, last = (min(starts), max(ends)) if records else (0, 0)
    whole, steady = _windows(records, ends, point, (first, last))
    errors = Counter(str(r.get(Key.ERROR_KIND) or "other") for r in records if not r.get(Key.OK))
    percentiles = _percentiles(records, slos, pooled or {})
    client = _client(percentiles, loop_lags_ms, cpu_s, wall_s)
    good = sum(1 for record in records if judge_request(record, slos))
    started, failed = len(records), sum(errors.values())
    return {
        "test": test,
        "target": target,
        "point": point.id,
        "kind": kind,
        "concurrency": point.concurrency,
        "rate": point.rate,
        "arrival": point.arrival if kind == "rate" else None,
        "max_in_flight": point.max_in_flight,
        "planned_s": point.duration_s,
        "planned_requests": point.requests,
        "started": started,
        "completed": started - failed,
        "errors": failed,
        "errors_by_kind": dict(sorted(errors.items())),
        "whole": whole,
        "steady": steady,
        "in_flight_mean": _busy_ns(starts, ends) / (last - first) if last > first else None,
        "in_flight_max": _max_in_flight(starts, ends),
        "percentiles": percentiles,
        "slos": [slo.label for slo in slos],
        "good": good,
        "goodput": good / whole["seconds"] if whole["seconds"] > 0 else None,
        "good_fraction": good / started if started else None,
        "timeline": timeline(records, starts, ends, (first, last), bin_s) if records else [],
        "client": client,
        "distorted": bool(client["distorted"]),
        "flags": _flags(client, failed - errors.get(INTERRUPTED, 0), started, max_error_rate),
        "records_file": None,  # named by whoever writes the point's full records
        "records_inline": True,
    }


def client_check(
    send_late: PointSummary,
    loop_lag: PointSummary,
    cpu_share: float | None,
    ttft_p50_ms: float | None,
) -> ClientCheck:
    """The client's self-check from the summaries of its send lateness and its loop's lag, its
    CPU share of one core and the point's TTFT p50; ``distorted`` names each check that says
    the client was the bottleneck (thresholds in the module's docstring)."""
    bound = max(LATE_FLOOR_MS, LATE_SHARE * ttft_p50_ms) if ttft_p50_ms else LATE_FLOOR_MS
    share = f"{LATE_SHARE * 100:g} % of TTFT p50"
    if ttft_p50_ms is None:
        said = f"{LATE_FLOOR_MS:g} ms (no TTFT measured)"
    elif bound > LATE_FLOOR_MS:
        said = f"{share} ({ttft_p50_ms:.1f} ms)"
    else:
        said = f"{LATE_FLOOR_MS:g} ms (the floor: {share} ({ttft_p50_ms:.1f} ms) is below it)"
    distorted = [
        found
        for name, summary in (("send lateness", send_late), ("loop lag", loop_lag))
        if (found := _late(name, summary, bound, said)) is not None
    ]
    if cpu_share is not None and cpu_share > CPU_SHARE_MAX:
        distorted.append(f"client CPU share {cpu_share:.2f} of one core > {CPU_SHARE_MAX:g}")
    return {
        "send_late_p50_ms": send_late["p50"],
        "send_late_p99_ms": send_late["p99"],
        "send_late_max_ms": send_late["max"],
        "loop_lag_p99_ms": loop_lag["p99"],
        "loop_lag_max_ms": loop_lag["max"],
        "cpu_share": cpu_share,
        "distorted": distorted,
    }


def _kind(point: LoadPoint) -> PointKind:
    kind = point.kind
    if kind == "sweep" or kind == "search":
        raise ValueError(f"{kind} is a marker, not a load point")
    return kind


def _client(
    percentiles: Mapping[str, PointSummary],
    loop_lags_ms: Iterable[float],
    cpu_s: float | None,
    wall_s: float | None,
) -> ClientCheck:
    cpu_share = cpu_s / wall_s if cpu_s is not None and wall_s else None
    lag = point_summary(list(loop_lags_ms))
    ttft_p50 = percentiles[Key.TTFT_MS]["p50"]
    return client_check(percentiles[Key.SEND_LATE_MS], lag, cpu_share, ttft_p50)


def _percentiles(
    records: Sequence[Mapping[str, Any]],
    slos: Sequence[Slo],
    pooled: Mapping[str, array[float]],
) -> dict[str, PointSummary]:
    """The server's fields (and any other an SLO names) over successful requests, the client's
    over every request; a ``pooled`` field's values as given."""
    fields = [*SERVER_FIELDS, *(s.field for s in slos if s.field not in SERVER_FIELDS)]
    out = {
        field: point_summary(
            pooled[field]
            if field in pooled
            else _values(records, field, field not in CLIENT_FIELDS)
        )
        for field in fields
    }
    out.update({field: point_summary(_values(records, field, False)) for field in CLIENT_FIELDS})
    return out


def _late(name: str, summary: PointSummary, bound: float, said: str) -> str | None:
    """The check's sentence when ``summary``'s p99 (its max below 100 values) is above bound."""
    label, figure = (
        ("p99", summary["p99"]) if summary["p99"] is not None else ("max", summary["max"])
    )
    if figure is None or figure <= bound:
        return None
    return f"{name} {label} {figure:.1f} ms > {said}"


#: The error kind of a request ended by the session's stop (Ctrl-C, SIGTERM), not the server.
INTERRUPTED = "interrupted"


def _flags(client: ClientCheck, errors: int, started: int, max_error_rate: float) -> list[str]:
    """``distorted``, and an error rate above the limit (``errors`` leaves out the requests the
    session's own stop ended: Ctrl-C is not the server's error)."""
    flags = [DISTORTED] if client["distorted"] else []
    if started and errors / started > max_error_rate:
        rate = 100 * errors / started
        flags.append(f"error rate {rate:.0f} % above the limit ({100 * max_error_rate:g} %)")
    return flags


def request_end_ns(record: Mapping[str, Any]) -> int:
    """When the request ended: end of stream, else its last token, else its send."""
    t0: int = record[Key.T0_NS]
    for field in (Key.CLOSE_MS, Key.E2E_MS):
        ms: float | None = record.get(field)
        if ms is not None:
            return t0 + round(ms * _NS_PER_MS)
    return t0


def _values(records: Sequence[Mapping[str, Any]], field: str, ok_only: bool) -> list[float]:
    """The field's values (a list field's every element), of successful requests if ``ok_only``."""
    out: list[float] = []
    for record in records:
        value = record.get(field)
        if value is None or (ok_only and not record.get(Key.OK)):
            continue
        if isinstance(value, list):
            out.extend(value)
        else:
            out.append(value)
    return out


def _windows(
    records: Sequence[Mapping[str, Any]],
    ends: Sequence[int],
    point: LoadPoint,
    span: tuple[int, int],
) -> tuple[Window, Window]:
    """The whole window (``span``: the first send to the last end) and the steady one."""
    first, last = span
    warmup, cooldown = round(point.warmup_s * _NS_PER_S), round(point.cooldown_s * _NS_PER_S)
    return _window(records, ends, first, last), _window(
        records, ends, first + warmup, last - cooldown
    )


def _window(
    records: Sequence[Mapping[str, Any]], ends: Sequence[int], start_ns: int, end_ns: int
) -> Window:
    """The window from ``start_ns`` to ``end_ns`` (empty when it ends before it starts), with the
    successful requests that ended inside it (edges included) and their output tokens."""
    end_ns = max(end_ns, start_ns)
    completed = tokens = 0
    if end_ns > start_ns:
        for record, end in zip(records, ends, strict=True):
            if start_ns <= end <= end_ns and record.get(Key.OK):
                completed += 1
                tokens += record.get(Key.OUTPUT_TOKENS) or 0
    seconds = (end_ns - start_ns) / _NS_PER_S
    return {
        "start_ns": start_ns,
        "end_ns": end_ns,
        "seconds": seconds,
        "completed": completed,
        Key.OUTPUT_TOKENS: tokens,
        "request_rate": completed / seconds if seconds > 0 else None,
        "output_tps": tokens / seconds if seconds > 0 else None,
    }


def _busy_ns(starts: Sequence[int], ends: Sequence[int]) -> int:
    """The integral of requests in flight over time: each request's time in flight, summed."""
    return sum(ends) - sum(starts)


def _max_in_flight(starts: Sequence[int], ends: Sequence[int]) -> int:
    """The most requests in flight at once: a sweep over the sorted starts and ends (an end at
    the same instant as a start comes first: a request that ends as another starts does not
    overlap it)."""
    opened, closed = sorted(starts), sorted(ends)
    now = peak = j = 0
    for start in opened:
        while j < len(closed) and closed[j] <= start:
            now -= 1
            j += 1
        now += 1
        peak = max(peak, now)
    return peak
