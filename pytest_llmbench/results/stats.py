"""Statistics across runs: per-field summaries and per target × tier aggregates (METRICS.md)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..schema import AGGREGATED_FIELDS, Aggregate, Key, Summary

__all__ = ["aggregate", "group_order", "percentile", "summarize"]

P99_MIN_N = 100


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) of sorted data, linear between closest ranks."""
    if not ordered:
        raise ValueError("no data")
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(values: Iterable[float]) -> Summary:
    """mean, median, p90, p95, p99 (only when n >= 100, else ``None``), min, max, stdev, n."""
    data = sorted(float(v) for v in values)
    n = len(data)
    if n == 0:
        return {"n": 0}
    return {
        "n": n,
        "mean": statistics.fmean(data),
        "median": percentile(data, 50),
        "p90": percentile(data, 90),
        "p95": percentile(data, 95),
        "p99": percentile(data, 99) if n >= P99_MIN_N else None,
        "min": data[0],
        "max": data[-1],
        "stdev": statistics.stdev(data) if n >= 2 else None,
    }


def group_order(key: tuple[str, int | None]) -> tuple[str, bool, int]:
    """How target × tier groups are sorted everywhere: by target, then tier (none first)."""
    target, tier = key
    return (target, tier is not None, tier or 0)


def aggregate(records: Iterable[Mapping[str, Any]]) -> list[Aggregate]:
    """One aggregate per target × tier, over requests that succeeded, sorted by target and tier
    (so a pytest-xdist run, whose results arrive in any order, reads the same)."""
    groups: dict[tuple[str, int | None], list[Mapping[str, Any]]] = {}
    for record in records:
        if record.get(Key.TARGET) is None or record.get(Key.TURN) is not None:
            continue  # conversation turns have their own section
        key = (str(record.get(Key.TARGET)), record.get(Key.TIER))
        groups.setdefault(key, []).append(record)
    out: list[Aggregate] = []
    for (target, tier), members in sorted(groups.items(), key=lambda kv: group_order(kv[0])):
        measured = [r for r in members if r.get(Key.OK)]
        made = [r for r in members if r.get(Key.STATUS) != "skipped"]
        first = members[0]
        out.append(
            {
                "target": target,
                "provider": first.get(Key.PROVIDER),
                "model": first.get(Key.MODEL),
                "display_name": first.get(Key.DISPLAY_NAME),
                "simulated": bool(first.get(Key.SIMULATED, False)),
                "tier": tier,
                "requests": len(made),
                "errors": sum(1 for r in made if not r.get(Key.OK)),
                "skipped": len(members) - len(made),
                "metrics": {
                    name: summarize(r[name] for r in measured if r.get(name) is not None)
                    for name in AGGREGATED_FIELDS
                },
            }
        )
    return out
