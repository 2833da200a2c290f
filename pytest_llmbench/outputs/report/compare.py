"""Comparing runs: the change rule, the one-sentence verdict and the side-by-side section.

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

from .glossary import BETTER, LABELS, UNITS, tip
from .markup import Column, Markup, esc, fmt, script_json, table
from .model import Group, Run, Summary
from .sections import group_label, none, section

__all__ = [
    "COMPARED",
    "Change",
    "changes",
    "comparison_section",
    "judge",
    "run_label",
    "sentence",
]

COMPARED = ("ttft_ms", "decode_tps", "tpot_ms", "e2e_ms")
FLOOR_PCT = 1.0
NO_SPREAD_PCT = 10.0


@dataclass(frozen=True)
class Change:
    label: str
    metric: str
    a: Summary
    b: Summary
    pct: float | None
    band_pct: float | None
    verdict: str  # "improved", "regressed", "within spread", "no data"


def run_label(runs: Sequence[Run], index: int) -> str:
    started = runs[index].started.replace("T", " ")[:16]
    return f"run {index + 1}" + (f" ({started})" if started else "")


def noise(a: Summary, b: Summary) -> float | None:
    """2 × the pooled standard deviation of both runs, or ``None`` without any spread."""
    parts = [(s.n - 1, s.sd * s.sd) for s in (a, b) if s.sd is not None and s.n >= 2]
    dof = sum(d for d, _ in parts)
    if not dof:
        return None
    return 2 * math.sqrt(sum(d * v for d, v in parts) / dof)


def judge(metric: str, a: Summary, b: Summary) -> tuple[float | None, float | None, str]:
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


def _groups(run: Run) -> dict[tuple[str, int | None], Group]:
    return {(g.target, g.tier): g for g in run.groups}


def changes(a: Run, b: Run) -> list[Change]:
    """Every compared metric of every target × tier measured in both runs."""
    ga, gb = _groups(a), _groups(b)
    result = []
    for key, group in gb.items():
        if key not in ga:
            continue
        for metric in COMPARED:
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


def _spread(s: Summary) -> str:
    if s.median is None:
        return "—"
    if s.min is None or s.max is None or s.n < 2:
        return f"{fmt(s.median)} (n {s.n})"
    return f"{fmt(s.median)} ({fmt(s.min)}–{fmt(s.max)})"


COLUMNS = [
    Column("target · tier", "tier"),
    Column("metric", tip_text="The compared metric (median of the run's measured requests)."),
    Column("A: median (min–max)", "spread"),
    Column("B: median (min–max)", "spread"),
    Column("change", "change", numeric=True),
    Column("noise band", "noise", numeric=True),
    Column("verdict", tip_text="improved / regressed beyond the noise band, else within spread."),
]


def _metric_text(metric: str) -> str:
    direction = "higher" if BETTER[metric] > 0 else "lower"
    return f"{LABELS[metric]} ({UNITS[metric]}, {direction} is better)"


def _rows(found: Sequence[Change]) -> list[list[object]]:
    arrows = {"improved": "▲ improved", "regressed": "▼ regressed"}
    return [
        [
            c.label,
            _metric_text(c.metric),
            _spread(c.a),
            _spread(c.b),
            (f"{c.pct:+.1f} %" if c.pct is not None else "—", c.pct),
            (f"±{c.band_pct:.1f} %" if c.band_pct is not None else "—", c.band_pct),
            arrows.get(c.verdict, c.verdict),
        ]
        for c in found
    ]


def _payload(runs: Sequence[Run]) -> dict[str, object]:
    keys: dict[tuple[str, int | None], str] = {}
    for run in runs:
        for g in run.groups:
            keys[(g.target, g.tier)] = group_label(run, g)  # the latest run's label
    groups = []
    for key, label in keys.items():
        stats: dict[str, list[list[float | None] | None]] = {}
        for metric in COMPARED:
            row: list[list[float | None] | None] = []
            for run in runs:
                found = _groups(run).get(key)
                s = found.stat(metric) if found else Summary(0)
                row.append([s.median, s.min, s.max, s.sd, s.n] if s.median is not None else None)
            stats[metric] = row
        present = [key in _groups(run) for run in runs]
        groups.append({"label": label, "stats": stats, "present": present})
    metrics = [
        {"key": m, "label": LABELS[m], "unit": UNITS[m], "better": BETTER[m]} for m in COMPARED
    ]
    labels = [run_label(runs, i) for i in range(len(runs))]
    rule = {"floor": FLOOR_PCT, "noSpread": NO_SPREAD_PCT}
    return {"runs": labels, "metrics": metrics, "groups": groups, "rule": rule}


def _picker(name: str, runs: Sequence[Run], chosen: int) -> str:
    options = "".join(
        f'<option value="{i}"{" selected" if i == chosen else ""}>{esc(run_label(runs, i))}'
        "</option>"
        for i in range(len(runs))
    )
    return f'<label>{name} <select id="compare-{name.lower()}">{options}</select></label>'


def comparison_section(runs: Sequence[Run]) -> Markup:
    """The last two runs side by side (any two via the selects), led by one sentence."""
    if len(runs) < 2:
        return section("Comparison", none("needs two runs"), section_id="comparison")
    a, b = len(runs) - 2, len(runs) - 1
    found = changes(runs[a], runs[b])
    text = sentence(found, run_label(runs, a), run_label(runs, b))
    rows = _rows(found)
    pickers = _picker("A", runs, a) + _picker("B", runs, b)
    body = (
        f'<p class="lead" id="compare-sentence" aria-live="polite">{esc(text)}</p>'
        f'<div class="filters">{pickers}</div>'
        + table(COLUMNS, rows, table_id="compare-table", sortable=True)
        + f'<script type="application/json" id="compare-data">{script_json(_payload(runs))}'
        "</script>"
    )
    intro = f"{tip('change')} Spread shown as median (min–max) of each run's measured requests."
    return section("Comparison", Markup(body), section_id="comparison", intro=intro)
