"""The run report's charts of the throughput benchmark: the spread across runs, TTFT against the
context tier, and the inter-token latency distributions."""

from __future__ import annotations

from ...schema import Key
from .charts import BoxRow, Point, Series, StripRow, box_chart, line_chart, strip_chart
from .glossary import LABELS, UNITS, tip
from .layout import group_label, none, section, styles, tier_text
from .markup import Column, Markup, details_table, figure, fmt
from .model import Distribution, Group, Run
from .svg import AxisSpec, legend

__all__ = ["context_section", "itl_section", "spread_section"]

#: The metrics whose every run the spread section draws.
_SPREAD = (Key.TTFT_MS, Key.DECODE_TPS)
#: The percentiles of the pooled gaps in the ITL section's data table.
_GAP_PERCENTILES = ("p5", "p25", "p50", "p75", "p95", "p99")


def _strip_figure(run: Run, metric: str, prefix: str) -> Markup:
    style = styles(run)
    unit = UNITS[metric]
    rows, data = [], []
    entries: dict[str, tuple[str, str, int]] = {}
    for group in run.groups:
        points = group.points.get(metric, [])
        summary = group.stat(metric)
        if not points and summary.median is None:
            continue
        label = group_label(run, group)
        values = [
            (v, f"{label} run {r if r is not None else '?'}: {fmt(v)} {unit}") for r, v in points
        ]
        index = style.get(group.target, 0)
        rows.append(StripRow(label, index, f"t{index}", values, summary.median))
        entries.setdefault(f"t{index}", (f"t{index}", run.label(group.target), index))
        runs = ", ".join(fmt(v) for _, v in points) or "—"
        data.append([label, summary.n, runs, summary.median, summary.min, summary.max])
    name = LABELS[metric]
    if not rows:
        return figure(f"{name} per target × tier", none("no measured requests"), metric=metric)
    axis = AxisSpec(name, tip(metric), unit)
    chart = strip_chart(rows, axis, label=f"{name} of every run per target and tier")
    columns = [
        Column("target · tier", Key.TIER),
        Column("n", "n", numeric=True),
        Column(f"every run ({unit})", metric),
        Column("median", "median", numeric=True),
        Column("min", numeric=True, tip_text="Smallest value across runs."),
        Column("max", numeric=True, tip_text="Largest value across runs."),
    ]
    return figure(
        f"{name} per target × tier: every run (marks) and the median (bar)",
        chart,
        metric=metric,
        legend=legend(list(entries.values())),
        data=details_table(columns, data),
        chart_id=f"{prefix}chart-{metric}",
    )


def spread_section(run: Run, prefix: str) -> Markup:
    body = "".join(_strip_figure(run, metric, prefix) for metric in _SPREAD)
    intro = "Spread across runs: each mark is one measured request, the bar is the median."
    return section("Spread across runs", Markup(body), section_id=f"{prefix}spread", intro=intro)


def _context_series(run: Run, groups: list[Group], index: int) -> Series:
    label = run.label(groups[0].target)
    points = [
        Point(
            float(g.tier or 0),
            g.stat(Key.TTFT_MS).median or 0.0,
            f"{label} tier {tier_text(g.tier)}: median {fmt(g.stat(Key.TTFT_MS).median)} ms",
        )
        for g in groups
    ]
    dots = [
        Point(float(g.tier or 0), v, f"{label} tier {tier_text(g.tier)} run {r}: {fmt(v)} ms")
        for g in groups
        for r, v in g.points.get(Key.TTFT_MS, [])
    ]
    return Series(f"t{index}", label, index, points, dots)


_CONTEXT_COLUMNS = (
    Column("target", Key.TARGET),
    Column("tier", Key.TIER),
    Column("prompt tokens p50", Key.PROMPT_TOKENS, numeric=True),
    Column("n", "n", numeric=True),
    Column("TTFT p50 ms", Key.TTFT_MS, numeric=True),
    Column("min", numeric=True, tip_text="Smallest TTFT across runs."),
    Column("max", numeric=True, tip_text="Largest TTFT across runs."),
)


def context_section(run: Run, prefix: str) -> Markup:
    series, data = [], []
    for target, index in styles(run).items():
        groups = [g for g in run.groups if g.target == target and g.tier is not None]
        groups = [g for g in groups if g.stat(Key.TTFT_MS).median is not None]
        if not groups:
            continue
        series.append(_context_series(run, groups, index))
        for g in groups:
            s = g.stat(Key.TTFT_MS)
            prompt = g.stat(Key.PROMPT_TOKENS).median
            data.append([run.label(target), tier_text(g.tier), prompt, s.n, s.median, s.min, s.max])
    if not series:
        return section("TTFT against context", none(), section_id=f"{prefix}context")
    chart = line_chart(
        series,
        AxisSpec("context tier", tip(Key.TIER), "prompt tokens"),
        AxisSpec("TTFT", tip(Key.TTFT_MS), "ms", include_zero=True),
        label="median TTFT per context tier, one line per target",
        width=760,
    )
    fig = figure(
        "TTFT against context tokens: median per tier (line) and every run (small marks)",
        chart,
        metric=Key.TTFT_MS,
        legend=legend([(s.key, s.label, s.style) for s in series], lines=True),
        data=details_table(_CONTEXT_COLUMNS, data),
        chart_id=f"{prefix}chart-context",
    )
    return section("TTFT against context", fig, section_id=f"{prefix}context")


def _kind(dist: Distribution) -> str:
    return "ITL" if dist.kind == Key.ITL_MS else "ICL (inter-chunk)"


def _box_row(run: Run, dist: Distribution, index: int) -> BoxRow:
    label = f"{run.label(dist.target)} · {_kind(dist)}"
    p = dist.points
    tip_text = (
        f"{label}: p5 {fmt(p['p5'])}, p25 {fmt(p['p25'])}, p50 {fmt(p['p50'])}, "
        f"p75 {fmt(p['p75'])}, p95 {fmt(p['p95'])} ms (n {dist.n})"
    )
    return BoxRow(label, index, f"t{index}", p, tip_text)


def itl_section(run: Run, prefix: str) -> Markup:
    style = styles(run)
    if not run.distributions:
        return section("Inter-token latency", none(), section_id=f"{prefix}itl")
    rows = [_box_row(run, d, style.get(d.target, 0)) for d in run.distributions]
    data = [
        [
            run.label(d.target),
            _kind(d),
            d.n,
            *(d.points[q] for q in _GAP_PERCENTILES),
            d.points["max"],
        ]
        for d in run.distributions
    ]
    kinds = {d.kind for d in run.distributions}
    name = " / ".join(LABELS[k] for k in (Key.ITL_MS, Key.ICL_MS) if k in kinds)
    axis = AxisSpec(name, " ".join(tip(k) for k in sorted(kinds)), "ms")
    chart = box_chart(rows, axis, label=f"{name} distribution per target")
    columns = [
        Column("target", Key.TARGET),
        Column("kind", tip_text=" ".join(tip(k) for k in sorted(kinds))),
        Column("n", "n", numeric=True),
        *(
            Column(q, numeric=True, tip_text=f"{q} percentile of the pooled gaps (ms).")
            for q in _GAP_PERCENTILES
        ),
        Column("max", numeric=True, tip_text="Largest gap (ms)."),
    ]
    note = (
        "ITL divides each gap by the tokens in the later event; ICL (inter-chunk latency) is the "
        "raw gap where per-event token counts are unknown. Gaps pooled over all measured requests."
    )
    fig = figure(
        f"{name} distribution: box p25–p75, bar at the median, whiskers p5–p95",
        chart,
        metric=Key.ITL_MS,
        note=note,
        data=details_table(columns, data),
        chart_id=f"{prefix}chart-itl",
    )
    return section("Inter-token latency", fig, section_id=f"{prefix}itl")
