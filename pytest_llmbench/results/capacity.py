"""Where a server stops keeping up, and the highest load that meets every SLO (docs/metrics.md,
"Under load": ``capacity``). Pure: nothing here sends a request.

- :func:`saturation`: over a sweep ordered by load, the first point whose output tok/s (steady
  window; the whole window where the steady one is empty) grew by less than
  :data:`TPS_GROWTH_MIN` (5 %) over the point before while its TTFT p50, or its queue time p50,
  grew by more than :data:`LATENCY_GROWTH_MIN` (50 %) and by more than
  :data:`LATENCY_GROWTH_FLOOR_MS` (1 ms, so that 0.1 → 0.2 ms of queueing is no knee).
- :func:`point_verdict`: a point passes when its error rate is at most ``max_error_rate`` and,
  for every SLO, the point's percentile that the SLO names is ``<=`` its limit, from at least
  :func:`min_requests` values (``p99``: 100). Too few values: neither pass nor fail, the point
  must be run again with more requests.
- :class:`Search`: start at ``start``, double until a point fails or ``maximum`` passes, then
  bisect between the highest pass and the lowest fail until they are adjacent integers
  (concurrency) or the fail is within :data:`RATE_TOLERANCE` (10 %) above the pass (rate).
  Between two adjacent points a *cliff* is named when the failing one is more than
  :data:`CLIFF_FACTOR` (2×) past a limit.

The bootstrap of :meth:`Search.outcome` (seeded, so it is reproducible): each of
:data:`BOOTSTRAP_RESAMPLES` resamples draws the requests of the highest passing point with
replacement (as many as it started), and likewise those of the lowest failing point, and judges
each draw by the rule above (percentiles of the drawn successful requests, the drawn error rate;
without the rule on counts, since a draw only re-estimates the point's figures). The capacity the
draw implies: the lowest fail's value if that draw passes; the highest pass's if its draw passes
and the other fails; the next lower passing value tried (0 if none) if the highest pass's draw
fails. The interval is the 2.5th and 97.5th percentiles (nearest rank) of those values: it speaks
only of values that were tried, and says how far resampling noise in the two boundary points'
requests could move the answer. A boundary point recorded without its requests is taken as
judged; without the highest pass's requests there is no interval.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from ..config.load_spec import SLO_PERCENTILES, LoadSettings, Slo
from ..schema import Key, LoadPointResult
from ..schema.load_result import PointKind
from .load_figures import CLIENT_FIELDS
from .stats import percentile

__all__ = [
    "Capacity",
    "PointVerdict",
    "Search",
    "Step",
    "flag_saturated",
    "min_requests",
    "point_verdict",
    "saturation",
]

#: What a search searches: a concurrency or a rate (a load point's own kinds).
SearchKind = PointKind
#: A searched value: an int for a concurrency search, a float for a rate.
Value = int | float

#: Saturated: output tok/s grew by less than this share over the point before …
TPS_GROWTH_MIN = 0.05
#: … while the TTFT p50 (or the queue time p50) grew by more than this share …
LATENCY_GROWTH_MIN = 0.50
#: … and by more than this many ms.
LATENCY_GROWTH_FLOOR_MS = 1.0
#: The flag of a point at or past the knee.
SATURATED = "saturated"
#: A rate search ends when the lowest fail is within this share above the highest pass.
RATE_TOLERANCE = 0.10
#: A cliff: the lowest fail's worst figure is more than this many times its limit.
CLIFF_FACTOR = 2.0
#: How many times one value may come back with too few values before the search gives up.
SHORT_TRIES = 3
#: Resamples of the boundary points' requests for the capacity's interval.
BOOTSTRAP_RESAMPLES = 1000


def saturation(points: Sequence[LoadPointResult]) -> str | None:
    """Where a sweep ordered by load stopped keeping up (thresholds in the module's docstring):
    a sentence naming the point, or ``None`` when no point saturated."""
    knee = _knee(points)
    return knee[1] if knee else None


def flag_saturated(points: Sequence[LoadPointResult]) -> list[LoadPointResult]:
    """The sweep's points with :data:`SATURATED` added to the flags of the knee's point and of
    every point after it (copies; the points given are left as they are)."""
    knee = _knee(points)
    out = []
    for index, point in enumerate(points):
        copy = cast(LoadPointResult, dict(point))
        if knee is not None and index >= knee[0] and SATURATED not in point["flags"]:
            copy["flags"] = [*point["flags"], SATURATED]
        out.append(copy)
    return out


def _knee(points: Sequence[LoadPointResult]) -> tuple[int, str] | None:
    for index in range(1, len(points)):
        before, after = points[index - 1], points[index]
        tps_before, tps_after = _output_tps(before), _output_tps(after)
        if not tps_before or tps_after is None:
            continue
        growth = tps_after / tps_before - 1
        if growth >= TPS_GROWTH_MIN:
            continue
        for field, name in ((Key.TTFT_MS, "TTFT"), (Key.QUEUE_MS, "queue time")):
            low, high = _p50(before, field), _p50(after, field)
            if low is None or high is None:
                continue
            if high > low * (1 + LATENCY_GROWTH_MIN) and high - low > LATENCY_GROWTH_FLOOR_MS:
                return index, (
                    f"saturated at {after['point']}: output {tps_after:.1f} tok/s, "
                    f"{100 * growth:+.0f} % over {before['point']} ({tps_before:.1f} tok/s), "
                    f"while {name} p50 rose from {low:.1f} to {high:.1f} ms"
                )
    return None


def _output_tps(point: LoadPointResult) -> float | None:
    steady = point["steady"]["output_tps"]
    return steady if steady is not None else point["whole"]["output_tps"]


def _p50(point: LoadPointResult, field: str) -> float | None:
    summary = point["percentiles"].get(field)
    return summary["p50"] if summary else None


def min_requests(percentile_name: str) -> int:
    """The fewest values a percentile is judged from: ``1 / (1 − q)`` (``p50``: 2, ``p90``: 10,
    ``p95``: 20, ``p99``: 100, ``p999``: 1,000), so at least one value lies above it; p99 and
    p99.9 are reported from the same counts on (docs/metrics.md)."""
    if percentile_name not in SLO_PERCENTILES:
        raise ValueError(f"unknown percentile {percentile_name!r}: one of {list(SLO_PERCENTILES)}")
    return math.ceil(round(1 / (1 - SLO_PERCENTILES[percentile_name]), 6))


@dataclass(frozen=True)
class PointVerdict:
    """A point judged against the SLOs: ``passed`` (``None``: too few values to say), ``worst``
    (the highest ratio of a judged figure to its limit, the error rate's included) and the
    reasons it failed or could not be judged."""

    passed: bool | None
    worst: float | None
    reasons: tuple[str, ...] = ()


def point_verdict(
    result: LoadPointResult,
    slos: Sequence[Slo],
    *,
    max_error_rate: float = LoadSettings.max_error_rate,
) -> PointVerdict:
    """Whether the point meets every SLO at the percentile it names, from enough values, with its
    error rate at most ``max_error_rate`` (see the module's docstring)."""
    started = result["started"]
    if not started:
        return PointVerdict(None, None, ("no request was started",))
    rate = result["errors"] / started
    ratios = [_ratio(rate, max_error_rate)]
    failed, short = [], []
    if rate > max_error_rate:
        failed.append(f"error rate {100 * rate:.1f} % > {100 * max_error_rate:g} %")
    for slo in slos:
        summary = cast(Mapping[str, Any], result["percentiles"].get(slo.field) or {})
        n, figure = summary.get("n", 0), summary.get(slo.percentile)
        need = min_requests(slo.percentile)
        if figure is None or n < need:
            short.append(f"{slo.field} has {n} values, {slo.percentile} needs {need}")
            continue
        ratios.append(_ratio(figure, slo.limit))
        if figure > slo.limit:
            failed.append(f"{slo.field}.{slo.percentile} {figure:.1f} > {slo.limit:g}")
    passed = False if failed else (None if short else True)
    return PointVerdict(passed, max(ratios), tuple(failed + short))


def _ratio(figure: float, limit: float) -> float:
    if limit > 0:
        return figure / limit
    return 0.0 if figure <= limit else math.inf


@dataclass(frozen=True)
class Step:
    """One point the search ran, and its verdict."""

    value: Value
    verdict: PointVerdict


@dataclass(frozen=True)
class Capacity:
    """What a search found: ``value`` the highest passing concurrency or rate (``None``: the
    first value already failed), ``bracket`` (highest pass, lowest fail; ``None`` where there is
    none), ``interval`` the bootstrap 95 % interval of the capacity (module docstring), ``cliff``
    whether the lowest fail is far past a limit, every step, and notes in words."""

    kind: SearchKind
    slos: tuple[str, ...]
    value: Value | None
    bracket: tuple[Value | None, Value | None]
    interval: tuple[Value, Value] | None
    cliff: bool
    steps: tuple[Step, ...]
    notes: tuple[str, ...]


class Search:
    """The search for the highest concurrency (or rate) whose point meets every SLO.

    The runner asks :meth:`next_value` for the value to run (``None``: done), sizes the point to
    at least :attr:`requests_needed` requests, runs it and hands the figures (and, for the
    bootstrap, the requests' records) to :meth:`record`; :meth:`outcome` says what was found. A
    point with too few values for a judged percentile is asked for again, with twice the
    requests, up to :data:`SHORT_TRIES` times.
    """

    def __init__(
        self,
        slos: Sequence[Slo],
        *,
        kind: SearchKind = "concurrency",
        start: Value = 1,
        maximum: Value = 1024,
        max_error_rate: float = LoadSettings.max_error_rate,
        seed: int = 0,
        resamples: int = BOOTSTRAP_RESAMPLES,
    ) -> None:
        if not 0 < start <= maximum:
            raise ValueError(f"the search needs 0 < start <= maximum, not {start} and {maximum}")
        self.slos = tuple(slos)
        self.kind: SearchKind = kind
        self.start, self.maximum = self._cast(start), self._cast(maximum)
        self.max_error_rate = max_error_rate
        self.seed, self.resamples = seed, resamples
        need = max((min_requests(slo.percentile) for slo in self.slos), default=1)
        #: The fewest requests the next point should have: enough values for every judged
        #: percentile even at the highest error rate allowed.
        self.requests_needed = math.ceil(round(need / (1 - min(max_error_rate, 0.5)), 6))
        self._steps: list[Step] = []
        self._verdicts: dict[Value, PointVerdict] = {}
        self._samples: dict[Value, _Requests] = {}
        self._short: dict[Value, int] = {}
        self._again: Value | None = None
        self._gave_up: str | None = None

    def _cast(self, value: Value) -> Value:
        return int(value) if self.kind == "concurrency" else float(value)

    def _label(self, value: Value) -> str:
        return f"c{value}" if self.kind == "concurrency" else f"r{value:g}"

    def bracket(self) -> tuple[Value | None, Value | None]:
        """The highest passing value below the lowest failing one, and that failing one."""
        high = min((v for v, d in self._verdicts.items() if d.passed is False), default=None)
        passes = [v for v, d in self._verdicts.items() if d.passed and (high is None or v < high)]
        return max(passes, default=None), high

    def next_value(self) -> Value | None:
        """The value to run next, or ``None`` when the search is done."""
        if self._gave_up is not None:
            return None
        if self._again is not None:
            return self._again
        if not self._verdicts:
            return self.start
        low, high = self.bracket()
        if low is None:
            return None  # the lowest value tried fails
        if high is None:
            return None if low >= self.maximum else self._cast(min(low * 2, self.maximum))
        if self.kind == "concurrency":
            return None if high - low <= 1 else (int(low) + int(high)) // 2
        if high <= low * (1 + RATE_TOLERANCE):
            return None
        middle = float(f"{(low + high) / 2:.3g}")  # a readable id: r7.5, not r7.4999
        return middle if low < middle < high else (low + high) / 2

    def record(
        self,
        value: Value,
        result: LoadPointResult,
        requests: Sequence[Mapping[str, Any]] = (),
    ) -> PointVerdict:
        """Take the point run at ``value``: its figures, and its requests' records for the
        bootstrap (optional). Returns the point's verdict."""
        value = self._cast(value)
        verdict = point_verdict(result, self.slos, max_error_rate=self.max_error_rate)
        self._steps.append(Step(value, verdict))
        if verdict.passed is None:
            tries = self._short[value] = self._short.get(value, 0) + 1
            self._again = value
            self.requests_needed *= 2
            if tries >= SHORT_TRIES:
                reasons = "; ".join(verdict.reasons)
                self._gave_up = f"{self._label(value)}: {reasons}, {tries} times: search stopped"
                self._again = None
            return verdict
        self._again = None
        self._verdicts[value] = verdict
        if requests:
            self._samples[value] = _Requests(requests, self.slos)
        boundary = self.bracket()
        self._samples = {v: s for v, s in self._samples.items() if v in boundary}
        return verdict

    def outcome(self) -> Capacity:
        """What the search found so far (complete once :meth:`next_value` is ``None``)."""
        low, high = self.bracket()
        notes = [self._gave_up] if self._gave_up else []
        if low is None and high is not None:
            reasons = "; ".join(self._verdicts[high].reasons)
            notes.append(f"{self._label(high)} already fails ({reasons})")
        if high is None and low is not None and low >= self.maximum:
            notes.append(f"the maximum {self._label(low)} passes: the capacity is at least that")
        cliff = False
        if low is not None and high is not None:
            worst = self._verdicts[high].worst
            cliff = worst is not None and worst > CLIFF_FACTOR
            if cliff:
                reasons = "; ".join(self._verdicts[high].reasons)
                notes.append(
                    f"cliff: {self._label(low)} passes, {self._label(high)} fails at "
                    f"{worst:.1f}× a limit ({reasons})"
                )
        return Capacity(
            kind=self.kind,
            slos=tuple(slo.label for slo in self.slos),
            value=low,
            bracket=(low, high),
            interval=self._interval(low, high),
            cliff=cliff,
            steps=tuple(self._steps),
            notes=tuple(notes),
        )

    def _interval(self, low: Value | None, high: Value | None) -> tuple[Value, Value] | None:
        """The bootstrap interval of the capacity (the module's docstring says what it is)."""
        if low is None or low not in self._samples:
            return None
        below = max((v for v, d in self._verdicts.items() if d.passed and v < low), default=0)
        passing = self._samples[low]
        failing = self._samples.get(high) if high is not None else None
        rng = random.Random(self.seed)
        implied: list[Value] = []
        for _ in range(self.resamples):
            if not passing.draw_passes(rng, self.slos, self.max_error_rate):
                implied.append(below)
            elif failing is not None and high is not None:
                passes = failing.draw_passes(rng, self.slos, self.max_error_rate)
                implied.append(high if passes else low)
            else:
                implied.append(low)
        implied.sort()
        count = len(implied)
        return implied[max(0, math.ceil(0.025 * count) - 1)], implied[math.ceil(0.975 * count) - 1]


class _Requests:
    """A boundary point's requests, kept for the bootstrap as what the verdict reads: whether
    each failed, and each SLO's field (of successful requests; the client's own fields, as the
    point's figures take them, of every request)."""

    def __init__(self, requests: Sequence[Mapping[str, Any]], slos: Sequence[Slo]) -> None:
        self.failed = [not r.get(Key.OK) for r in requests]
        self.columns = [
            [
                r.get(slo.field) if r.get(Key.OK) or slo.field in CLIENT_FIELDS else None
                for r in requests
            ]
            for slo in slos
        ]
        #: whether a column holds lists (``itl_ms``): their values are pooled
        self.pooled = [any(isinstance(v, list) for v in column) for column in self.columns]

    def draw_passes(self, rng: random.Random, slos: Sequence[Slo], max_error_rate: float) -> bool:
        """Whether one draw of the requests with replacement meets the error rate and the SLOs."""
        count = len(self.failed)
        picks = rng.choices(range(count), k=count)
        if sum(map(self.failed.__getitem__, picks)) / count > max_error_rate:
            return False
        for slo, column, pooled in zip(slos, self.columns, self.pooled, strict=True):
            drawn = map(column.__getitem__, picks)
            if pooled:
                values = [x for value in drawn if value is not None for x in value]
            else:
                values = [value for value in drawn if value is not None]
            if not values:
                return False
            values.sort()
            if percentile(values, slo.quantile * 100) > slo.limit:
                return False
        return True
