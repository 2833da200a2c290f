"""The history report's comparison: the last two runs side by side (any two, through the selects
and the page's script), led by one sentence of what improved and what regressed."""

from __future__ import annotations

from collections.abc import Sequence

from ...schema import COMPARED_FIELDS, Key
from .compare import FLOOR_PCT, NO_SPREAD_PCT, Change, changes, run_label, sentence
from .glossary import BETTER, LABELS, UNITS, tip
from .layout import group_label, none, section
from .markup import Column, Markup, esc, fmt, script_json, table
from .model import Run, Stats

__all__ = ["comparison_section"]

_COLUMNS = (
    Column("target · tier", Key.TIER),
    Column("metric", tip_text="The compared metric (median of the run's measured requests)."),
    Column("A: median (min–max)", "spread"),
    Column("B: median (min–max)", "spread"),
    Column("change", "change", numeric=True),
    Column("noise band", "noise", numeric=True),
    Column("verdict", tip_text="improved / regressed beyond the noise band, else within spread."),
)


def _spread(s: Stats) -> str:
    if s.median is None:
        return "—"
    if s.min is None or s.max is None or s.n < 2:
        return f"{fmt(s.median)} (n {s.n})"
    return f"{fmt(s.median)} ({fmt(s.min)}–{fmt(s.max)})"


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
    """What the page's script needs to compare any two runs: each target × tier's statistics per
    compared metric and run (``[median, min, max, sd, n]``), and the rule's constants."""
    by_key = [run.groups_by_key() for run in runs]
    labels: dict[tuple[str, int | None], str] = {}
    for run in runs:
        for g in run.groups:
            labels[(g.target, g.tier)] = group_label(run, g)  # the latest run's label
    groups = []
    for key, label in labels.items():
        stats: dict[str, list[list[float | None] | None]] = {}
        for metric in COMPARED_FIELDS:
            row: list[list[float | None] | None] = []
            for groups_of_run in by_key:
                found = groups_of_run.get(key)
                s = found.stat(metric) if found else Stats(0)
                row.append([s.median, s.min, s.max, s.sd, s.n] if s.median is not None else None)
            stats[metric] = row
        present = [key in groups_of_run for groups_of_run in by_key]
        groups.append({"label": label, "stats": stats, "present": present})
    metrics = [
        {"key": m, "label": LABELS[m], "unit": UNITS[m], "better": BETTER[m]}
        for m in COMPARED_FIELDS
    ]
    run_labels = [run_label(runs, i) for i in range(len(runs))]
    rule = {"floor": FLOOR_PCT, "noSpread": NO_SPREAD_PCT}
    return {"runs": run_labels, "metrics": metrics, "groups": groups, "rule": rule}


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
        + table(_COLUMNS, rows, table_id="compare-table", sortable=True)
        + f'<script type="application/json" id="compare-data">{script_json(_payload(runs))}'
        "</script>"
    )
    intro = f"{tip('change')} Spread shown as median (min–max) of each run's measured requests."
    return section("Comparison", Markup(body), section_id="comparison", intro=intro)
