"""The session's gate: aggregate limits checked after the last test, failing through the
session's failure count (never by raising from the terminal summary).

Absolute aggregate limits (``ttft_ms.p90 <= 800``) are checked on each target × tier's
aggregate. Relative limits (``decode_tps.median: -10%``) need a baseline to compare with; until a
session is given one they are listed as not checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .stats import aggregate
from .thresholds import Threshold

__all__ = ["evaluate", "gate_lines"]


def evaluate(
    records: Iterable[Mapping[str, Any]],
    limits_for: Callable[[str, str], Sequence[Threshold]],
) -> list[dict[str, Any]]:
    """One check per aggregate limit and target × tier: the value, the limit and the verdict."""
    checks: list[dict[str, Any]] = []
    for agg in aggregate(records):
        for limit in limits_for(str(agg["provider"]), str(agg["target"])):
            if limit.per_request:
                continue
            check: dict[str, Any] = {
                "target": agg["target"],
                "tier": agg["tier"],
                "limit": limit.label,
                "source": limit.source,
            }
            if limit.kind == "relative":
                check.update(value=None, verdict="not checked (needs a baseline)", failed=False)
            else:
                summary = agg["metrics"].get(limit.field, {})
                value = summary.get(limit.statistic or "median")
                if value is None:
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
    return checks


def gate_lines(checks: Sequence[Mapping[str, Any]]) -> list[tuple[str, ...]]:
    """Rows of the ``llmbench gate`` table: target, tier, limit, current, n, verdict."""
    rows: list[tuple[str, ...]] = []
    for check in checks:
        value = check.get("value")
        rows.append(
            (
                str(check["target"]),
                "—" if check["tier"] is None else str(check["tier"]),
                str(check["limit"]),
                "—" if value is None else f"{value:,.2f}",
                str(check.get("n") or "—"),
                str(check["verdict"]).upper() if check.get("failed") else str(check["verdict"]),
            )
        )
    return rows
