"""The history report's runs and trends: the list of runs, and each target × tier's trend with
step marks (:func:`~.compare.steps`)."""

from __future__ import annotations

from collections.abc import Sequence

from ...schema import TREND_FIELDS, Key
from .charts import Point, Series, line_chart
from .compare import run_label, steps
from .glossary import LABELS, UNITS, tip
from .layout import none, section, tier_text
from .markup import Column, Markup, details_table, figure, fmt, table
from .model import Run, Stats, num
from .svg import AxisSpec, legend

__all__ = ["runs_section", "trends_section"]


def runs_section(runs: Sequence[Run]) -> Markup:
    columns = [
        Column("run", "run_index"),
        Column("started", tip_text="When the session started (UTC, from the results file)."),
        Column("duration s", numeric=True, tip_text="The session's wall time."),
        Column("git commit", tip_text="The repository's commit when the run was made."),
        Column("targets", numeric=True, tip_text="Targets with at least one measured request."),
        Column("requests", numeric=True, tip_text="Measured requests (throughput benchmark)."),
        Column("errors", Key.ERRORS, numeric=True),
        Column("command", tip_text="The command that ran the session."),
    ]
    rows = []
    for i, run in enumerate(runs):
        commit = str(run.metadata.get("git_commit") or "—")[:12]
        rows.append(
            [
                run_label(runs, i).split(" (")[0],
                run.started.replace("T", " ")[:19] or "—",
                num(run.metadata.get("duration_s")),
                commit,
                len(run.measured_targets()),
                sum(g.requests for g in run.groups),
                sum(g.errors for g in run.groups),
                str(run.metadata.get("command") or "—"),
            ]
        )
    return section("Runs", table(columns, rows), section_id="runs")


def _trend(runs: Sequence[Run], target: str, metric: str, label: str) -> str:
    tiers = sorted(
        {g.tier for r in runs for g in r.groups if g.target == target},
        key=lambda t: -1 if t is None else t,
    )
    unit = UNITS[metric]
    series, data = [], []
    for index, tier in enumerate(tiers):
        summaries: list[Stats | None] = []
        for run in runs:
            group = next((g for g in run.groups if g.target == target and g.tier == tier), None)
            stat = group.stat(metric) if group else None
            summaries.append(stat if stat is not None and stat.median is not None else None)
        marks = steps(metric, summaries)
        points = []
        for i, (s, mark) in enumerate(zip(summaries, marks, strict=True)):
            if s is None or s.median is None:
                continue
            tip_text = (
                f"{label} tier {tier_text(tier)}, {run_label(runs, i)}: median {fmt(s.median)} "
                f"{unit} (min {fmt(s.min)}, max {fmt(s.max)}, n {s.n})"
                + (f"; {mark}" if mark else "")
            )
            points.append(Point(i + 1, s.median, tip_text, s.min, s.max, mark))
            data.append(
                [f"tier {tier_text(tier)}", i + 1, s.n, s.median, s.min, s.max, mark or "—"]
            )
        if points:
            series.append(Series(f"k{index}", f"tier {tier_text(tier)}", index, points))
    if not series:
        return ""
    name = LABELS[metric]
    chart = line_chart(
        series,
        AxisSpec("run", tip("run_index")),
        AxisSpec(name, tip(metric), unit, include_zero=True),
        label=f"{name} median per run for {label}",
        x_labels={float(i + 1): f"#{i + 1}" for i in range(len(runs))},
    )
    columns = [
        Column("tier", Key.TIER),
        Column("run", "run_index", numeric=True),
        Column("n", "n", numeric=True),
        Column(f"median {unit}", "median", numeric=True),
        Column("min", numeric=True, tip_text="Smallest value in the run."),
        Column("max", numeric=True, tip_text="Largest value in the run."),
        Column("step", tip_text="A change beyond the rule (see the section's introduction)."),
    ]
    return figure(
        f"{label}: {name} per run (median, bar: min–max)",
        chart,
        metric=metric,
        legend=legend([(s.key, s.label, s.style) for s in series], lines=True),
        data=details_table(columns, data),
    )


def trends_section(runs: Sequence[Run]) -> Markup:
    targets: dict[str, str] = {}
    for run in runs:
        for group in run.groups:
            targets[group.target] = run.label(group.target)
    charts = [
        _trend(runs, target, metric, label)
        for target, label in targets.items()
        for metric in TREND_FIELDS
    ]
    charts = [c for c in charts if c]
    if not charts:
        return section("Trends", none("no measured requests in any run"), section_id="trends")
    intro = (
        "Each target × tier across the runs in start order. A ring marks a step: the median "
        "moved by more than 2 × the pooled standard deviation of the two neighbouring runs "
        "(and at least 1 %; beyond 10 % where a run has a single measurement)."
    )
    body = f'<div class="grid2">{"".join(charts)}</div>'
    return section("Trends", Markup(body), section_id="trends", intro=intro)
