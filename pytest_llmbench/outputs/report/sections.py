"""Run report sections: overview table, spread and context charts, ITL, failures, skips, answers."""

from __future__ import annotations

from collections.abc import Sequence

from .charts import BoxRow, Point, Series, StripRow, box_chart, line_chart, strip_chart
from .glossary import LABELS, UNITS, tip
from .markup import Column, Markup, details_table, esc, figure, fmt, table
from .model import Group, Issue, Run
from .svg import AxisSpec, legend

__all__ = [
    "answers_section",
    "context_section",
    "issues_section",
    "itl_section",
    "overview_section",
    "section",
    "spread_section",
    "styles",
]


def styles(run: Run) -> dict[str, int]:
    """A fixed style index (shape, dash, colour) per target, the same in every chart."""
    return {target: i for i, target in enumerate(run.targets)}


def section(title: str, body: Markup, *, section_id: str, intro: str = "") -> Markup:
    lead = f'<p class="intro">{esc(intro)}</p>' if intro else ""
    return Markup(
        f'<section id="{esc(section_id)}"><h2>{esc(title)}</h2>{lead}{esc(body)}</section>'
    )


def none(text: str = "none") -> Markup:
    return Markup(f'<p class="none">{esc(text)}</p>')


def tier_text(tier: int | None) -> str:
    return "—" if tier is None else f"{tier:,}"


def group_label(run: Run, group: Group) -> str:
    return f"{run.label(group.target)} · tier {tier_text(group.tier)}"


def _select(name: str, label: str, values: Sequence[str]) -> str:
    options = "".join(f'<option value="{esc(v)}">{esc(v)}</option>' for v in values)
    return (
        f'<label title="{esc(tip(name))}">{esc(label)} <select data-filter="{esc(name)}">'
        f'<option value="">all</option>{options}</select></label>'
    )


def overview_section(run: Run, prefix: str) -> Markup:
    if not run.groups:
        return section("Overview", none("no throughput results"), section_id=f"{prefix}overview")
    columns = [
        Column("target", "target"),
        Column("provider", "provider"),
        Column("model", "model"),
        Column("tier", "tier", numeric=True),
        Column("n", "n", numeric=True),
        Column("TTFT p50 ms", numeric=True, tip_text=f"Median. {tip('ttft_ms')}"),
        Column("TTFT p90 ms", numeric=True, tip_text=f"90th percentile. {tip('ttft_ms')}"),
        Column("decode tok/s p50", numeric=True, tip_text=f"Median. {tip('decode_tps')}"),
        Column("TPOT p50 ms", numeric=True, tip_text=f"Median. {tip('tpot_ms')}"),
        Column("out tok p50", numeric=True, tip_text=f"Median. {tip('output_tokens')}"),
        Column("errors", "errors", numeric=True),
        Column("skipped", "skipped", numeric=True),
    ]
    from .gate_panel import baseline_delta  # gate_panel builds on this module's helpers

    with_baseline = any(c.get("change_pct") is not None for c in run.gate)
    if with_baseline:
        columns.append(
            Column(
                "vs baseline",
                tip_text="Change of each gated metric against the "
                "baseline (see the Gate section for intervals and verdicts).",
            )
        )
    rows, attrs = [], []
    for group in run.groups:
        info = run.targets.get(group.target)
        provider = info.provider if info else group.target.partition("/")[0]
        model = info.model if info else group.target.partition("/")[2]
        ttft = group.stat("ttft_ms")
        rows.append(
            [
                (run.label(group.target), run.label(group.target)),
                provider,
                model,
                (tier_text(group.tier), group.tier if group.tier is not None else -1),
                ttft.n,
                (fmt(ttft.median), ttft.median),
                (fmt(ttft.p90), ttft.p90),
                (fmt(group.stat("decode_tps").median), group.stat("decode_tps").median),
                (fmt(group.stat("tpot_ms").median), group.stat("tpot_ms").median),
                (fmt(group.stat("output_tokens").median), group.stat("output_tokens").median),
                group.errors,
                group.skipped,
            ]
            + ([baseline_delta(run, group.target, group.tier)] if with_baseline else [])
        )
        attrs.append({"provider": provider, "model": model, "tier": tier_text(group.tier)})
    filters = (
        f'<div class="filters" data-table="{esc(prefix)}overview-table">'
        + _select("provider", "provider", sorted({a["provider"] for a in attrs}))
        + _select("model", "model", sorted({a["model"] for a in attrs}))
        + _select("tier", "tier", list(dict.fromkeys(a["tier"] for a in attrs)))
        + '<span class="count" aria-live="polite"></span></div>'
    )
    body = filters + table(
        columns, rows, table_id=f"{prefix}overview-table", sortable=True, row_attrs=attrs
    )
    intro = "One row per target × context tier; click a header to sort, use the filters to narrow."
    return section("Overview", Markup(body), section_id=f"{prefix}overview", intro=intro)


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
        Column("target · tier", "tier"),
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
    body = _strip_figure(run, "ttft_ms", prefix) + _strip_figure(run, "decode_tps", prefix)
    intro = "Spread across runs: each mark is one measured request, the bar is the median."
    return section("Spread across runs", Markup(body), section_id=f"{prefix}spread", intro=intro)


def context_section(run: Run, prefix: str) -> Markup:
    style = styles(run)
    series, data = [], []
    for target, index in style.items():
        groups = [g for g in run.groups if g.target == target and g.tier is not None]
        groups = [g for g in groups if g.stat("ttft_ms").median is not None]
        if not groups:
            continue
        label = run.label(target)
        points = [
            Point(
                float(g.tier or 0),
                g.stat("ttft_ms").median or 0.0,
                f"{label} tier {tier_text(g.tier)}: median {fmt(g.stat('ttft_ms').median)} ms",
            )
            for g in groups
        ]
        dots = [
            Point(float(g.tier or 0), v, f"{label} tier {tier_text(g.tier)} run {r}: {fmt(v)} ms")
            for g in groups
            for r, v in g.points.get("ttft_ms", [])
        ]
        series.append(Series(f"t{index}", label, index, points, dots))
        for g in groups:
            s = g.stat("ttft_ms")
            prompt = g.stat("prompt_tokens").median
            data.append([label, tier_text(g.tier), prompt, s.n, s.median, s.min, s.max])
    if not series:
        return section("TTFT against context", none(), section_id=f"{prefix}context")
    chart = line_chart(
        series,
        AxisSpec("context tier", tip("tier"), "prompt tokens"),
        AxisSpec("TTFT", tip("ttft_ms"), "ms", include_zero=True),
        label="median TTFT per context tier, one line per target",
        width=760,
    )
    columns = [
        Column("target", "target"),
        Column("tier", "tier"),
        Column("prompt tokens p50", "prompt_tokens", numeric=True),
        Column("n", "n", numeric=True),
        Column("TTFT p50 ms", "ttft_ms", numeric=True),
        Column("min", numeric=True, tip_text="Smallest TTFT across runs."),
        Column("max", numeric=True, tip_text="Largest TTFT across runs."),
    ]
    fig = figure(
        "TTFT against context tokens: median per tier (line) and every run (small marks)",
        chart,
        metric="ttft_ms",
        legend=legend([(s.key, s.label, s.style) for s in series], lines=True),
        data=details_table(columns, data),
        chart_id=f"{prefix}chart-context",
    )
    return section("TTFT against context", fig, section_id=f"{prefix}context")


def itl_section(run: Run, prefix: str) -> Markup:
    style = styles(run)
    if not run.distributions:
        return section("Inter-token latency", none(), section_id=f"{prefix}itl")
    rows, data = [], []
    for dist in run.distributions:
        kind = "ITL" if dist.kind == "itl_ms" else "ICL (inter-chunk)"
        label = f"{run.label(dist.target)} · {kind}"
        p = dist.points
        tip_text = (
            f"{label}: p5 {fmt(p['p5'])}, p25 {fmt(p['p25'])}, p50 {fmt(p['p50'])}, "
            f"p75 {fmt(p['p75'])}, p95 {fmt(p['p95'])} ms (n {dist.n})"
        )
        index = style.get(dist.target, 0)
        rows.append(BoxRow(label, index, f"t{index}", p, tip_text))
        data.append(
            [
                run.label(dist.target),
                kind,
                dist.n,
                p["p5"],
                p["p25"],
                p["p50"],
                p["p75"],
                p["p95"],
                p["p99"],
                p["max"],
            ]
        )
    kinds = {d.kind for d in run.distributions}
    name = " / ".join(LABELS[k] for k in ("itl_ms", "icl_ms") if k in kinds)
    axis = AxisSpec(name, " ".join(tip(k) for k in sorted(kinds)), "ms")
    chart = box_chart(rows, axis, label=f"{name} distribution per target")
    columns = [
        Column("target", "target"),
        Column("kind", tip_text=" ".join(tip(k) for k in kinds)),
        Column("n", "n", numeric=True),
    ]
    columns += [
        Column(q, numeric=True, tip_text=f"{q} percentile of the pooled gaps (ms).")
        for q in ("p5", "p25", "p50", "p75", "p95", "p99")
    ]
    columns.append(Column("max", numeric=True, tip_text="Largest gap (ms)."))
    note = (
        "ITL divides each gap by the tokens in the later event; ICL (inter-chunk latency) is the "
        "raw gap where per-event token counts are unknown. Gaps pooled over all measured requests."
    )
    fig = figure(
        f"{name} distribution: box p25–p75, bar at the median, whiskers p5–p95",
        chart,
        metric="itl_ms",
        note=note,
        data=details_table(columns, data),
        chart_id=f"{prefix}chart-itl",
    )
    return section("Inter-token latency", fig, section_id=f"{prefix}itl")


def _issue_table(run: Run, issues: Sequence[Issue]) -> Markup:
    columns = [
        Column("target", "target"),
        Column("count", "count", numeric=True),
        Column("message", "message"),
        Column("tests", tip_text="The test ids (first three)."),
    ]
    rows = []
    for issue in issues:
        tests = ", ".join(t.rpartition("::")[2] for t in issue.tests[:3])
        if len(issue.tests) > 3:
            tests += f", … ({len(issue.tests) - 3} more)"
        rows.append([run.label(issue.target), len(issue.tests), issue.message, tests])
    return table(columns, rows)


def issues_section(run: Run, prefix: str) -> Markup:
    failed = _issue_table(run, run.failures) if run.failures else none()
    skipped = _issue_table(run, run.skips) if run.skips else none()
    body = f"<h3>Failures</h3>{failed}<h3>Skipped</h3>{skipped}"
    return section("Failures and skips", Markup(body), section_id=f"{prefix}issues")


def answers_section(run: Run, prefix: str) -> Markup:
    if not run.answers:
        return section("Sample answers", none(), section_id=f"{prefix}answers")
    columns = [Column("target", "target"), Column("answer (first characters)", "answer_preview")]
    rows = [[run.label(t), preview] for t, preview in run.answers]
    body = f'<details class="data"><summary>One answer per target</summary>{table(columns, rows)}'
    return section("Sample answers", Markup(body + "</details>"), section_id=f"{prefix}answers")
