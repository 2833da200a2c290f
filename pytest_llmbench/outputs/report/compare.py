"""Comparing runs: the change rule, its step marks along a history, and the one-sentence verdict.

The rule (the same in the trends' step marks and in the page's script): a change between two runs
counts when the medians differ by more than **2 × the pooled standard deviation** of the two runs'
measurements, and by at least 1 % of the earlier median. Where neither run has two measurements
(no spread is known) it counts beyond 10 %. Its direction is the metric's: lower TTFT, TPOT and
end-to-end time is better, higher tok/s is better.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ...schema import COMPARED_FIELDS
from .glossary import BETTER, LABELS, UNITS
from .layout import group_label
from .markup import fmt
from .model import Run, Stats

__all__ = [
    "FLOOR_PCT",
    "NO_SPREAD_PCT",
    "Change",
    "changes",
    "judge",
    "noise",
    "run_label",
    "sentence",
    "steps",
]

FLOOR_PCT = 1.0
NO_SPREAD_PCT = 10.0


@dataclass(frozen=True)
class Change:
    label: str
    metric: str
    a: Stats
    b: Stats
    pct: float | None
    band_pct: float | None
    verdict: str  # "improved", "regressed", "within spread", "no data"


def run_label(runs: Sequence[Run], index: int) -> str:
    started = runs[index].started.replace("T", " ")[:16]
    return f"run {index + 1}" + (f" ({started})" if started else "")


def noise(a: Stats, b: Stats) -> float | None:
    """2 × the pooled standard deviation of both runs, or ``None`` without any spread."""
    parts = [(s.n - 1, s.sd * s.sd) for s in (a, b) if s.sd is not None and s.n >= 2]
    dof = sum(d for d, _ in parts)
    if not dof:
        return None
    return 2 * math.sqrt(sum(d * v for d, v in parts) / dof)


def judge(metric: str, a: Stats, b: Stats) -> tuple[float | None, float | None, str]:
    """(change %, noise band %, verdict) of ``b`` against ``a``."""
    if a.median is None or b.median is None:
        return None, None, "no data"
    delta = b.median - a.median
    base = abs(a.median)
    pct = delta / base * 100 if base else None
    band = noise(a, b)
    if band is not None:
        threshold = max(band, base * FLOOR_PCT / 100)
    else:
        threshold = base * NO_SPREAD_PCT / 100
    band_pct = threshold / base * 100 if base else None
    if abs(delta) <= threshold:
        return pct, band_pct, "within spread"
    better = delta * BETTER.get(metric, -1) > 0
    return pct, band_pct, "improved" if better else "regressed"


def steps(metric: str, series: Sequence[Stats | None]) -> list[str]:
    """A mark per run, e.g. 'step -40 % improved', where the median moved beyond the rule."""
    marks = [""] * len(series)
    previous: Stats | None = None
    for i, current in enumerate(series):
        if current is None or current.median is None:
            continue
        if previous is not None:
            pct, _, verdict = judge(metric, previous, current)
            if verdict in ("improved", "regressed") and pct is not None:
                marks[i] = f"step {pct:+.0f} % {verdict}"
        previous = current
    return marks


def changes(a: Run, b: Run) -> list[Change]:
    """Every compared metric of every target × tier measured in both runs."""
    ga, gb = a.groups_by_key(), b.groups_by_key()
    result = []
    for key, group in gb.items():
        if key not in ga:
            continue
        for metric in COMPARED_FIELDS:
            sa, sb = ga[key].stat(metric), group.stat(metric)
            if sa.median is None and sb.median is None:
                continue
            pct, band, verdict = judge(metric, sa, sb)
            result.append(Change(group_label(b, group), metric, sa, sb, pct, band, verdict))
    return result


def _most(items: Sequence[Change], word: str) -> str:
    if not items:
        return f"nothing {word}"
    top = max(items, key=lambda c: abs(c.pct or 0))
    unit = UNITS[top.metric]
    return (
        f"{len(items)} {word}, most {top.label} {LABELS[top.metric]} by "
        f"{abs(top.pct or 0):.1f} % ({fmt(top.a.median)} → {fmt(top.b.median)} {unit})"
    )


def sentence(found: Sequence[Change], a_label: str, b_label: str) -> str:
    """One sentence: what got better, what got worse, by how much."""
    if not found:
        return f"{b_label} vs {a_label}: no target × tier was measured in both runs."
    better = [c for c in found if c.verdict == "improved"]
    worse = [c for c in found if c.verdict == "regressed"]
    same = sum(1 for c in found if c.verdict == "within spread")
    if not better and not worse:
        top = max(found, key=lambda c: abs(c.pct or 0))
        move = f"{top.pct:+.1f} %" if top.pct is not None else "—"
        return (
            f"{b_label} vs {a_label}: nothing improved or regressed beyond run-to-run spread "
            f"({same} comparisons; largest move {top.label} {LABELS[top.metric]} {move})."
        )
    return (
        f"{b_label} vs {a_label}: {_most(better, 'improved')}; {_most(worse, 'regressed')}; "
        f"{same} within run-to-run spread."
    )
