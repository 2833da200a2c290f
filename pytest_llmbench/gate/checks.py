"""The session's gate: aggregate and baseline limits, checked after the last test, failing through
the session's failure count (never by raising from the terminal summary).

Absolute aggregate limits (``ttft_ms.p90 <= 800``) are checked on each target × tier's
aggregate. Relative limits (``decode_tps.median: -10%``) compare this session's runs with the
baseline's runs of the same target and tier, with the noise-aware verdicts of :mod:`.verdict`;
for a load point, its requests with the baseline's requests of the same target and point
(``tpot_ms.median: +10%`` fails a point whose TPOT under load grew beyond noise by more).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..config.thresholds import Threshold
from ..results.baseline import Samples, samples_of
from ..results.stats import aggregate
from ..schema import Key
from .verdict import assess

__all__ = ["evaluate"]


def _relative(
    limit: Threshold, base: Sequence[float] | None, current: Sequence[float] | None
) -> dict[str, Any]:
    if base is None:
        return {
            "value": None,
            "verdict": "not checked (no baseline for this target × tier)",
            "failed": False,
        }
    if not current:
        return {"value": None, "verdict": "no data", "failed": False}
    verdict = assess(limit, base, current)
    return {
        "value": verdict.current,
        "baseline": verdict.baseline,
        "change_pct": verdict.change_pct,
        "interval_pct": verdict.interval_pct,
        "n": f"{verdict.n_baseline}/{verdict.n_current}",
        "verdict": verdict.verdict,
        "failed": verdict.failed,
    }


def _load_checks(
    current: Samples,
    limits_for: Callable[[str, str], Sequence[Threshold]],
    baseline: Samples,
    providers: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The relative limits on each load point's requests against the baseline's same point."""
    checks = []
    for key in sorted(k for k in current if isinstance(k[1], str)):
        target, point = key
        for limit in limits_for(providers.get(target, ""), target):
            if limit.kind != "relative" or limit.on_capacity:
                continue
            check: dict[str, Any] = {
                "target": target, "tier": point, "point": point,
                "limit": limit.label, "source": limit.source,
            }  # fmt: skip
            base = baseline.get(key, {}).get(limit.field) if key in baseline else None
            check.update(_relative(limit, base, current[key].get(limit.field)))
            checks.append(check)
    return checks


def _capacity_check(
    limit: Threshold, capacity: Mapping[str, Any], baseline: Samples | None
) -> dict[str, Any] | None:
    """A capacity limit on what a search found. Relative: regressed only when the capacity and
    the whole of its bootstrap interval fall below the allowed share of the baseline's."""
    target, value = str(capacity.get(Key.TARGET)), capacity.get("value")
    check: dict[str, Any] = {
        "target": target, "tier": Key.CAPACITY, "point": Key.CAPACITY,
        "limit": limit.label, "source": limit.source, "value": value,
    }  # fmt: skip
    if limit.kind == "absolute":
        held = value is not None and limit.holds(float(value))
        return {**check, "verdict": "ok" if held else "broken", "failed": not held}
    if baseline is None:
        return None
    base = (baseline.get((target, Key.CAPACITY)) or {}).get(Key.CAPACITY)
    if not base:
        return {**check, "verdict": "not checked (no capacity in the baseline)", "failed": False}
    floor = base[-1] * limit.allowed_ratio()
    interval = capacity.get("interval")
    high = interval[1] if interval else value
    current = 0.0 if value is None else float(value)
    change = (current / base[-1] - 1) * 100 if base[-1] else 0.0
    if current >= floor:
        verdict = "improved" if current > base[-1] else "unchanged"
    else:
        verdict = "regressed" if high is None or high < floor else "inconclusive"
    return {
        **check, "baseline": base[-1], "change_pct": change, "verdict": verdict,
        "failed": verdict == "regressed",
    }  # fmt: skip


def _capacity_checks(
    capacities: Sequence[Mapping[str, Any]],
    limits_for: Callable[[str, str], Sequence[Threshold]],
    baseline: Samples | None,
    providers: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The capacity limits on what each search found."""
    checks = []
    for capacity in capacities:
        target = str(capacity.get(Key.TARGET))
        for limit in limits_for(providers.get(target, ""), target):
            found = _capacity_check(limit, capacity, baseline) if limit.on_capacity else None
            if found is not None:
                checks.append(found)
    return checks


def evaluate(
    records: Sequence[Mapping[str, Any]],
    limits_for: Callable[[str, str], Sequence[Threshold]],
    baseline: Samples | None = None,
    load_samples: Samples | None = None,
    capacities: Sequence[Mapping[str, Any]] = (),
    load_providers: Mapping[str, str] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One check per aggregate or relative limit and measured target × tier (and relative limit
    and load point), and a note naming the relative limits left unchecked for want of a
    baseline (``None`` when there are none); ``load_samples`` by load point, with
    ``load_providers`` (each load target's provider)."""
    current = samples_of(records)
    checks: list[dict[str, Any]] = []
    unchecked: set[str] = set()
    for agg in aggregate(records):
        key = (agg["target"], agg["tier"])
        for limit in limits_for(str(agg["provider"]), key[0]):
            if limit.on_capacity:
                continue  # a search's finding: checked with the capacities below
            if limit.kind == "relative" and baseline is None:
                unchecked.add(limit.label)
                continue
            if limit.per_request or key not in current:
                continue  # per-request limits act in the test; unmeasured groups have no data
            check: dict[str, Any] = {
                "target": key[0],
                "tier": key[1],
                "limit": limit.label,
                "source": limit.source,
            }
            if limit.kind == "relative" and baseline is not None:
                base = baseline.get(key, {}).get(limit.field) if key in baseline else None
                check.update(_relative(limit, base, current.get(key, {}).get(limit.field)))
            else:
                summary: Mapping[str, Any] = agg["metrics"].get(limit.field, {})
                value = summary.get(limit.statistic or "median")
                if not isinstance(value, (int, float)):
                    check.update(value=None, verdict="no data", failed=False)
                else:
                    held = limit.holds(value)
                    check.update(
                        value=value,
                        n=summary.get("n"),
                        verdict="ok" if held else "broken",
                        failed=not held,
                    )
            checks.append(check)
    providers = load_providers or {}
    if baseline is not None:
        checks += _load_checks(load_samples or {}, limits_for, baseline, providers)
    checks += _capacity_checks(capacities, limits_for, baseline, providers)
    note = None
    if unchecked:
        note = f"relative limits not checked (no --llm-baseline): {', '.join(sorted(unchecked))}"
    return checks, note
