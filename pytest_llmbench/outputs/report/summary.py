"""Numbers from results files: safe conversion, percentiles, and the statistics of one field."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ...results.stats import percentile

__all__ = ["Stats", "num", "percentile"]


def num(value: object) -> float | None:
    """``value`` as a finite float, or ``None`` (bools, strings and NaN are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


@dataclass(frozen=True)
class Stats:
    """The statistics the report draws of one field: from its values (:meth:`of`, with the
    quartiles) or from a results document's :class:`~pytest_llmbench.schema.Summary`."""

    n: int
    median: float | None = None
    mean: float | None = None
    q1: float | None = None
    q3: float | None = None
    p90: float | None = None
    min: float | None = None
    max: float | None = None
    sd: float | None = None

    @staticmethod
    def of(values: Iterable[float]) -> Stats:
        data = sorted(values)
        if not data:
            return Stats(0)
        return Stats(
            n=len(data),
            median=percentile(data, 50),
            mean=statistics.fmean(data),
            q1=percentile(data, 25),
            q3=percentile(data, 75),
            p90=percentile(data, 90),
            min=data[0],
            max=data[-1],
            sd=statistics.stdev(data) if len(data) >= 2 else None,
        )

    @staticmethod
    def from_aggregate(stats: Mapping[str, Any]) -> Stats:
        n = num(stats.get("n"))
        return Stats(
            n=int(n or 0),
            median=num(stats.get("median")),
            mean=num(stats.get("mean")),
            p90=num(stats.get("p90")),
            min=num(stats.get("min")),
            max=num(stats.get("max")),
            sd=num(stats.get("stdev")),
        )
