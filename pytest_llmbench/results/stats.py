"""Statistics across runs: per-field summaries and per target × tier aggregates (METRICS.md)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["AGGREGATED_FIELDS", "aggregate", "percentile", "summarize"]

#: The per-request fields that are summarised across runs.
AGGREGATED_FIELDS = (
    "ttft_ms",
    "ttfa_ms",
    "think_ms",
    "e2e_ms",
    "tpot_ms",
    "decode_tps",
    "e2e_tps",
    "prefill_tps",
    "output_tokens",
    "prompt_tokens",
    "reasoning_tokens",
    "reasoning_ms",
)
P99_MIN_N = 100


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) of sorted data, linear between closest ranks."""
    if not ordered:
        raise ValueError("no data")
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(values: Iterable[float]) -> dict[str, Any]:
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


def _group_key(record: Mapping[str, Any]) -> tuple[str, int | None]:
    return (str(record.get("target")), record.get("tier"))


def aggregate(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One aggregate per target × tier, over requests that succeeded, sorted by target and tier
    (so a pytest-xdist run, whose results arrive in any order, reads the same)."""
    groups: dict[tuple[str, int | None], list[Mapping[str, Any]]] = {}
    for record in records:
        if record.get("target") is None or record.get("turn") is not None:
            continue  # conversation turns have their own section
        groups.setdefault(_group_key(record), []).append(record)
    out = []
    for (target, tier), members in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        measured = [r for r in members if r.get("ok")]
        first = members[0]
        out.append(
            {
                "target": target,
                "provider": first.get("provider"),
                "model": first.get("model"),
                "display_name": first.get("display_name"),
                "simulated": first.get("simulated", False),
                "tier": tier,
                "requests": sum(1 for r in members if r.get("status") != "skipped"),
                "errors": sum(
                    1 for r in members if r.get("status") != "skipped" and not r.get("ok")
                ),
                "skipped": sum(1 for r in members if r.get("status") == "skipped"),
                "metrics": {
                    name: summarize(r[name] for r in measured if r.get(name) is not None)
                    for name in AGGREGATED_FIELDS
                },
            }
        )
    return out
