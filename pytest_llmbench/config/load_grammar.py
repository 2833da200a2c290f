"""The two small languages of load mode, shared by ``config.yaml`` and the options.

Points (``load.points`` entries, ``--llm-load``)::

    concurrency=1,8,64          closed loop at each concurrency: c1, c8, c64
    rate=2,4,8                  open loop, constant arrivals: r2, r4, r8
    rate=2,4,8:poisson          Poisson arrivals: r2poisson, ...
    rate=4:gamma=0.5            gamma arrivals of burstiness 0.5: r4gamma0.5
    rate=8:poisson:max=16       at most 16 in flight: r8poisson-m16
    sweep | search              a marker: its points are generated at run time
    search=rate[:poisson|:constant|:gamma=K][:max=N]
                                a search over request rates (Poisson arrivals unless told)

SLOs (``load.slos`` entries, ``--llm-load-slo``): ``FIELD[.PERCENTILE] <= LIMIT``, e.g.
``ttft_ms.p99 <= 500`` or ``tpot_ms <= 50`` (p99), where FIELD is a per-request metric for which
lower is better. Both parsers raise :class:`ValueError` saying what is wrong; the caller names
the option or the key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from ..schema import LOWER_IS_BETTER, METRICS
from ..validation import short_repr
from .load_spec import MAX_CONCURRENCY, MAX_RATE, SLO_PERCENTILES, Arrival, LoadPoint, Slo

__all__ = ["POINT_FORMS", "parse_load_spec", "parse_slo", "point_list_problem"]

#: The forms of a point spec, for messages and help.
POINT_FORMS = (
    "'concurrency=1,8,64', 'rate=2,4,8', 'rate=2,4,8:poisson', 'rate=4:gamma=0.5', "
    "'rate=8:poisson:max=16', 'sweep', 'search' or 'search=rate'"
)
_SLO = re.compile(r"^\s*([A-Za-z0-9_]+)(?:\.([A-Za-z0-9.]+))?\s*(<=|>=|==|=|<|>)\s*(\S+)\s*$")
_ALIASES = {"p99.9": "p999", "median": "p50"}


def _count(text: str, value: str, what: str) -> int:
    """A whole number from 1 to :data:`MAX_CONCURRENCY`."""
    try:
        number = int(value)
    except ValueError:
        raise ValueError(
            f"{short_repr(text)}: {what} must be a whole number, got {short_repr(value)}"
        ) from None
    if not 1 <= number <= MAX_CONCURRENCY:
        raise ValueError(
            f"{short_repr(text)}: {what} must be from 1 to {MAX_CONCURRENCY:,}, got {number}"
        )
    return number


def _positive(text: str, value: str, what: str, maximum: float | None = None) -> float:
    """A finite number above 0 (and at most ``maximum``)."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise ValueError(
            f"{short_repr(text)}: {what} must be a finite number > 0, got {short_repr(value)}"
        )
    if maximum is not None and number > maximum:
        raise ValueError(f"{short_repr(text)}: {what} must be at most {maximum:,g}, got {value}")
    return number


def _modifiers(
    text: str, parts: list[str], default: Arrival = "constant"
) -> tuple[Arrival, float, int | None]:
    """The ``:constant``, ``:poisson``, ``:gamma=K`` and ``:max=N`` of a rate spec."""
    arrival: Arrival | None = None
    burstiness, cap = 1.0, None
    for part in parts:
        name, has_value, value = (s.strip() for s in part.partition("="))
        name = name.lower()
        is_max = name == "max" and bool(has_value)
        is_arrival = (name in ("constant", "poisson") and not has_value) or (
            name == "gamma" and bool(has_value)
        )
        if (is_max and cap is not None) or (is_arrival and arrival is not None):
            what = "a max" if is_max else "an arrival process"
            raise ValueError(f"{short_repr(text)}: {short_repr(part)}: {what} given twice")
        if is_max:
            cap = _count(text, value, "max (the most requests in flight)")
        elif is_arrival and name == "gamma":
            arrival, burstiness = "gamma", _positive(text, value, "gamma's burstiness")
        elif is_arrival:
            arrival = "poisson" if name == "poisson" else "constant"
        else:
            raise ValueError(
                f"{short_repr(text)}: {short_repr(part)} is not a modifier; a rate takes "
                "':constant', ':poisson' or ':gamma=K' (K > 0, the burstiness) and ':max=N'"
            )
    return arrival or default, burstiness, cap


def _search(text: str, over: str, parts: list[str]) -> LoadPoint:
    """``search=concurrency`` or ``search=rate[:arrival][:max=N]`` (Poisson unless told)."""
    over = over.lower()
    if over == "concurrency" and not parts:
        return LoadPoint("search")
    if over != "rate":
        raise ValueError(
            f"{short_repr(text)}: a search is over 'concurrency' or 'rate' ('search=rate', "
            "'search=rate:constant'); only a rate takes ':' modifiers"
        )
    arrival, burstiness, cap = _modifiers(text, parts, default="poisson")
    return LoadPoint(
        "search", over="rate", arrival=arrival, burstiness=burstiness, max_in_flight=cap
    )


def parse_load_spec(text: str) -> tuple[LoadPoint, ...]:
    """The points of one spec (see the module's grammar), with the default window."""
    word = text.strip().lower()
    if word in ("sweep", "search"):
        return (LoadPoint("sweep" if word == "sweep" else "search"),)
    head, *parts = text.split(":")
    name, has_values, values = (s.strip() for s in head.partition("="))
    name = name.lower()
    if name == "search" and has_values:
        return (_search(text, values, parts),)
    if name not in ("concurrency", "rate") or not has_values:
        raise ValueError(f"cannot read {short_repr(text)}: expected {POINT_FORMS}")
    items = [item.strip() for item in values.split(",")]
    if not all(items):
        raise ValueError(
            f"{short_repr(text)}: {name}= needs a comma-separated list of values, e.g. "
            + ("'concurrency=1,8,64'" if name == "concurrency" else "'rate=2,4,8'")
        )
    if name == "concurrency":
        if parts:
            raise ValueError(
                f"{short_repr(text)}: a concurrency takes no ':' modifiers (arrivals and max= "
                "are for a rate)"
            )
        return tuple(LoadPoint("concurrency", concurrency=_count(text, v, name)) for v in items)
    arrival, burstiness, cap = _modifiers(text, parts)
    return tuple(
        LoadPoint(
            "rate",
            rate=_positive(text, item, "a rate (requests per second)", MAX_RATE),
            arrival=arrival,
            burstiness=burstiness,
            max_in_flight=cap,
        )
        for item in items
    )


def _slo_field(text: str, field: str) -> str:
    latencies = ", ".join(sorted(LOWER_IS_BETTER))
    if field not in {metric.key for metric in METRICS}:
        raise ValueError(
            f"{short_repr(text)}: unknown metric {short_repr(field)} (an SLO limits one of: "
            f"{latencies})"
        )
    if field not in LOWER_IS_BETTER:
        raise ValueError(
            f"{short_repr(text)}: {field} is not a metric where lower is better; an SLO is an "
            f"upper limit on one of: {latencies}"
        )
    return field


def parse_slo(text: str) -> Slo:
    """``FIELD[.PERCENTILE] <= LIMIT``; the percentile defaults to ``p99``."""
    match = _SLO.match(text)
    if match is None:
        raise ValueError(
            f"cannot read {short_repr(text)}: expected 'FIELD[.PERCENTILE] <= LIMIT', e.g. "
            "'ttft_ms.p99 <= 500' or 'tpot_ms <= 50'"
        )
    field, percentile, op, value = match.groups()
    if op != "<=":
        raise ValueError(
            f"{short_repr(text)}: an SLO is an upper limit, written with '<=' (got {op!r})"
        )
    field = _slo_field(text, field)
    percentile = (percentile or "p99").lower()
    percentile = _ALIASES.get(percentile, percentile)
    if percentile not in SLO_PERCENTILES:
        raise ValueError(
            f"{short_repr(text)}: unknown percentile {short_repr(percentile)} (one of: "
            f"{', '.join(SLO_PERCENTILES)}; p99.9 is p999)"
        )
    return Slo(field, _positive(text, value, "the limit"), percentile)


def point_list_problem(points: Sequence[LoadPoint]) -> tuple[int, str] | None:
    """The first problem of a list of points, as (its index, what is wrong): a ``sweep`` or a
    ``search`` beside other points, or one point twice (one id, one test)."""
    seen: dict[str, int] = {}
    for index, point in enumerate(points):
        if point.marker and len(points) > 1:
            return index, (
                f"{point.kind!r} stands alone: it makes its own points (list either the "
                f"{point.kind} or points)"
            )
        earlier = seen.setdefault(point.id, index)
        if earlier != index:
            return index, f"the point {point.id} is listed twice"
    return None
