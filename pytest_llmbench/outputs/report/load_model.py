"""The load points of one results document (its ``load`` section), as plain dataclasses.

Each point is a :class:`~pytest_llmbench.schema.LoadPointResult` in the document; every field may
be missing or ``None`` (a partial file, an older session), so each is read with a fallback and a
point without a target or a point id is left out. The rates shown are those of the steady window
where it holds a completed request, else of the whole window, and the window is named with them.
A capacity is what a search found (``results.capacity``): the highest load meeting every SLO.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...schema import Key
from .summary import num

__all__ = [
    "CapacityFound",
    "LoadRun",
    "PointFigures",
    "PointPercentiles",
    "TimelineSecond",
    "extract_load",
    "load_records",
    "load_value_text",
]

#: The percentiles of a point summary, in order.
PERCENTILE_KEYS = ("p50", "p90", "p95", "p99", "p999")


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _int(value: object) -> int:
    number = num(value)
    return int(number) if number is not None else 0


def _texts(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in _items(value) if isinstance(v, str | int | float) and str(v))


@dataclass(frozen=True)
class PointPercentiles:
    """One field's :class:`~pytest_llmbench.schema.PointSummary` (``p99`` needs 100 values)."""

    n: int
    values: Mapping[str, float | None]  # p50 … p999, mean, max

    def at(self, name: str) -> float | None:
        return self.values.get(name)


@dataclass(frozen=True)
class TimelineSecond:
    """One second of a point's timeline, from the whole window's start."""

    t_s: float
    completed: int
    errors: int
    output_tokens: int
    in_flight: float | None
    ttft_p50_ms: float | None


@dataclass(frozen=True)
class PointFigures:
    """One target at one load point: what was offered, what was delivered, and the figures."""

    target: str
    point: str
    kind: str  # "concurrency" or "rate" (another word for a newer kind)
    load: float | None  # the concurrency, or the rate (requests/s)
    arrival: str
    started: int
    completed: int
    errors: int
    errors_by_kind: Mapping[str, int]
    window: str  # the window the rates are of: "steady" or "whole"
    request_rate: float | None
    output_tps: float | None
    steady_span: tuple[float, float] | None  # the steady window in s from the whole's start
    in_flight_mean: float | None
    in_flight_max: float | None
    percentiles: Mapping[str, PointPercentiles]
    slos: tuple[str, ...]
    goodput: float | None
    good_fraction: float | None
    timeline: tuple[TimelineSecond, ...]
    distorted: bool
    reasons: tuple[str, ...]  # why the client check calls it distorted
    flags: tuple[str, ...]
    client: Mapping[str, float | None] = field(default_factory=dict)

    def pct(self, metric: str, name: str) -> float | None:
        """The point's ``name`` percentile (``p50`` …, ``max``) of ``metric``, or ``None``."""
        found = self.percentiles.get(metric)
        return found.at(name) if found else None

    @property
    def name(self) -> str:
        """The point's name in the report: its target and point id."""
        return f"{self.target} · {self.point}"


@dataclass(frozen=True)
class CapacityFound:
    """What a capacity search found for one target (``value`` ``None``: the first value failed)."""

    target: str
    kind: str
    slos: tuple[str, ...]
    value: float | None
    bracket: tuple[float | None, float | None]  # highest pass, lowest fail
    interval: tuple[float, float] | None
    cliff: bool
    notes: tuple[str, ...]


@dataclass
class LoadRun:
    """Every load point of a run, the capacities found, and the sweeps' notes."""

    points: list[PointFigures] = field(default_factory=list)
    capacities: list[CapacityFound] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def targets(self) -> list[str]:
        """The targets of the points and capacities, in the order they first appear."""
        found = [p.target for p in self.points] + [c.target for c in self.capacities]
        return list(dict.fromkeys(found))

    def by_key(self) -> dict[tuple[str, str], PointFigures]:
        """The points by (target, point id)."""
        return {(p.target, p.point): p for p in self.points}

    @property
    def with_slos(self) -> bool:
        return any(p.slos for p in self.points)


def load_value_text(kind: str, value: float | None) -> str:
    """A concurrency or a rate as shown everywhere ('concurrency 12', 'rate 8.5 req/s')."""
    if value is None:
        return "—"
    if kind == "concurrency":
        return f"concurrency {value:g}"
    return f"rate {value:g} req/s" if kind == "rate" else f"{kind} {value:g}"


def _percentiles(value: object) -> dict[str, PointPercentiles]:
    found = {}
    for metric, summary in _map(value).items():
        summary = _map(summary)
        values = {k: num(summary.get(k)) for k in (*PERCENTILE_KEYS, "mean", "max")}
        found[str(metric)] = PointPercentiles(_int(summary.get("n")), values)
    return found


def _timeline(value: object) -> tuple[TimelineSecond, ...]:
    seconds = []
    for item in map(_map, _items(value)):
        t = num(item.get("t_s"))
        if t is None:
            continue
        seconds.append(
            TimelineSecond(
                t,
                _int(item.get("completed")),
                _int(item.get("errors")),
                _int(item.get(Key.OUTPUT_TOKENS)),
                num(item.get("in_flight")),
                num(item.get("ttft_p50_ms")),
            )
        )
    return tuple(sorted(seconds, key=lambda s: s.t_s))


def _windows(point: Mapping[str, Any]) -> tuple[str, Mapping[str, Any], tuple[float, float] | None]:
    """The window the rates are of (steady where it completed a request), and the steady span."""
    whole, steady = _map(point.get("whole")), _map(point.get("steady"))
    name, window = ("steady", steady) if _int(steady.get("completed")) else ("whole", whole)
    start = num(whole.get("start_ns"))
    s0, s1 = num(steady.get("start_ns")), num(steady.get("end_ns"))
    span = None
    if start is not None and s0 is not None and s1 is not None and s1 > s0:
        span = ((s0 - start) / 1e9, (s1 - start) / 1e9)
    return name, window, span


def _point(point: Mapping[str, Any]) -> PointFigures | None:
    target, ident = point.get("target"), point.get("point")
    if not isinstance(target, str) or not isinstance(ident, str | int | float):
        return None
    kind = str(point.get("kind") or "")
    load = num(point.get("concurrency")) if kind == "concurrency" else num(point.get("rate"))
    name, window, span = _windows(point)
    client = _map(point.get("client"))
    by_kind = {str(k): _int(v) for k, v in _map(point.get("errors_by_kind")).items()}
    return PointFigures(
        target=target,
        point=str(ident),
        kind=kind,
        load=load,
        arrival=str(point.get("arrival") or ""),
        started=_int(point.get("started")),
        completed=_int(point.get("completed")),
        errors=_int(point.get("errors")),
        errors_by_kind={k: v for k, v in by_kind.items() if v},
        window=name,
        request_rate=num(window.get("request_rate")),
        output_tps=num(window.get("output_tps")),
        steady_span=span,
        in_flight_mean=num(point.get("in_flight_mean")),
        in_flight_max=num(point.get("in_flight_max")),
        percentiles=_percentiles(point.get("percentiles")),
        slos=_texts(point.get("slos")),
        goodput=num(point.get("goodput")),
        good_fraction=num(point.get("good_fraction")),
        timeline=_timeline(point.get("timeline")),
        distorted=point.get("distorted") is True or bool(_items(client.get("distorted"))),
        reasons=_texts(client.get("distorted")),
        flags=_texts(point.get("flags")),
        client={str(k): num(v) for k, v in client.items() if k != "distorted"},
    )


def _pair(value: object) -> tuple[float | None, float | None]:
    items = _items(value)
    return (num(items[0]), num(items[1])) if len(items) == 2 else (None, None)


def _capacity(item: Mapping[str, Any]) -> CapacityFound | None:
    target = item.get("target")
    if not isinstance(target, str):
        return None
    low, high = _pair(item.get("interval"))
    return CapacityFound(
        target=target,
        kind=str(item.get("kind") or ""),
        slos=_texts(item.get("slos")),
        value=num(item.get("value")),
        bracket=_pair(item.get("bracket")),
        interval=(low, high) if low is not None and high is not None else None,
        cliff=item.get("cliff") is True,
        notes=_texts(item.get("notes")),
    )


def extract_load(document: Mapping[str, Any]) -> LoadRun:
    """The load points, capacities and notes of a results document (empty without any)."""
    section = _map(document.get("load"))
    points = [p for p in map(_point, map(_map, _items(section.get("points")))) if p]
    capacities = [c for c in map(_capacity, map(_map, _items(section.get("capacities")))) if c]
    return LoadRun(points, capacities, list(_texts(section.get("notes"))))


def load_records(document: Mapping[str, Any]) -> Sequence[Any]:
    """The load points' per-request records (for the targets' display names)."""
    return _items(_map(document.get("load")).get("records"))
