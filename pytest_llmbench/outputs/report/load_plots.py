"""The load section's charts: throughput against latency, percentiles against the offered load
(with the SLO limits across and the capacity up), and each point's timeline behind a selector.

Series are told apart as everywhere (a target's colour and shape, :func:`~.layout.styles`); the
percentile by its dash (p50 solid, p99 dashed); a distorted point by a hollow mark and a '⚠' after
its label.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ...config.load_grammar import parse_slo
from ...schema import Key
from .glossary import LABELS, UNITS, tip
from .layout import styles
from .load_charts import (
    ChartRule,
    MarkLine,
    PointMark,
    TimelineStrip,
    labelled_chart,
    timeline_chart,
)
from .load_model import CapacityFound, PointFigures, load_value_text
from .markup import Markup, esc, figure, fmt
from .model import Run
from .svg import AxisSpec, legend, trim

__all__ = ["curve_figures", "style_of", "throughput_figures", "timeline_block"]

#: The dash of each percentile's line (p50 solid).
_PATTERNS = {"p50": "", "p90": "2 3", "p95": "9 3 2 3", "p99": "6 4", "p999": "1 3"}
_SIZES = {"p50": 4.8, "p99": 3.6}
#: What the hollow marks and the dashes mean, under every chart of points.
_KEY_NOTE = "Solid line: p50; dashed: p99. A hollow mark (and ⚠) is a distorted point."
#: The fewest times the highest load is the lowest for its axis to be drawn on a log scale.
_LOG_SPAN = 8.0


def style_of(run: Run) -> dict[str, int]:
    """Each load target's style index: the report's own where it has one, else the next free."""
    style = dict(styles(run))
    for target in run.load.targets():
        style.setdefault(target, len(style))
    return style


def _mark_tip(run: Run, p: PointFigures, what: str) -> str:
    doubt = f"; distorted: {'; '.join(p.reasons) or 'client check'}" if p.distorted else ""
    rate = f"{fmt(p.output_tps)} tok/s, {fmt(p.request_rate)} req/s ({p.window} window)"
    return f"{run.label(p.target)} · {p.point}: {what}; {rate}{doubt}"


def _point_label(p: PointFigures) -> str:
    return f"{p.point} ⚠" if p.distorted else p.point


def _legend(run: Run, targets: Sequence[str], style: dict[str, int]) -> Markup:
    return legend([(f"l{style[t]}", run.label(t), style[t]) for t in targets])


def _throughput_figure(run: Run, metric: str, prefix: str) -> str:
    style, name, unit = style_of(run), LABELS[metric], UNITS[metric]
    lines, targets = [], []
    for target in run.load.targets():
        points = [p for p in run.load.points if p.target == target and p.output_tps is not None]
        points.sort(key=lambda p: p.output_tps or 0.0)
        for q in ("p50", "p99"):
            marks = [
                PointMark(
                    p.output_tps or 0.0,
                    v,
                    _mark_tip(run, p, f"{name} {q} {fmt(v)} {unit}"),
                    _point_label(p) if q == "p50" else "",
                    p.distorted,
                )
                for p in points
                if (v := p.pct(metric, q)) is not None
            ]
            if marks:
                index = style[target]
                lines.append(MarkLine(f"l{index}", index, marks, _PATTERNS[q], _SIZES[q]))
                targets.append(target)
    if not lines:
        return ""
    window = "steady" if all(p.window == "steady" for p in run.load.points) else "steady/whole"
    chart = labelled_chart(
        lines,
        AxisSpec(f"output tok/s ({window} window)", tip("output_tps"), include_zero=True),
        AxisSpec(name, f"{tip('point_percentile')} {tip(metric)}", unit, include_zero=True),
        label=f"{name} p50 and p99 against output throughput, one line per target",
    )
    return figure(
        f"{name} against throughput: p50 and p99 per point",
        chart,
        better="right and low is better",
        legend=_legend(run, list(dict.fromkeys(targets)), style),
        note=_KEY_NOTE + " Each mark is labelled with its point id.",
        chart_id=f"{prefix}chart-load-{metric}",
    )


def throughput_figures(run: Run, prefix: str) -> list[str]:
    """TTFT and TPOT (p50, p99) against output tok/s, one line per target."""
    found = (_throughput_figure(run, m, prefix) for m in (Key.TTFT_MS, Key.TPOT_MS))
    return [f for f in found if f]


def _position(kind_points: Sequence[PointFigures]) -> tuple[bool, dict[float, str] | None]:
    """Whether the load axis is a log scale (a span of 8× or more), and its ticks: every value
    offered, at its position (a linear rate axis: round ticks)."""
    loads = sorted({p.load for p in kind_points if p.load is not None and p.load > 0})
    log = len(loads) > 2 and loads[-1] / loads[0] >= _LOG_SPAN
    if not log and any(p.kind == "rate" for p in kind_points):
        return False, None
    return log, {(math.log2(v) if log else v): f"{v:g}" for v in loads}


def _slo_rules(points: Sequence[PointFigures], metric: str) -> tuple[list[ChartRule], set[str]]:
    """The SLO limits on ``metric`` as lines across, and the percentiles they are judged at."""
    rules, percentiles = [], set()
    for label in dict.fromkeys(s for p in points for s in p.slos):
        try:
            slo = parse_slo(label)
        except ValueError:
            continue
        if slo.field != metric:
            continue
        percentiles.add(slo.percentile)
        text = f"SLO {slo.percentile} ≤ {slo.limit:g} {UNITS[metric]}"
        rules.append(ChartRule(slo.limit, text, f"{tip('slos')} This one: {label}."))
    return rules, percentiles


def _capacity_rule(run: Run, cap: CapacityFound, log: bool) -> ChartRule | None:
    if cap.value is None or cap.value <= 0:
        return None

    def where(value: float) -> float:
        return math.log2(value) if log and value > 0 else value

    low, high = cap.bracket
    tip_text = (
        f"{run.label(cap.target)}: capacity {load_value_text(cap.kind, cap.value)} for "
        f"{', '.join(cap.slos) or 'no SLO'}; bracket {fmt(low)} (pass) – {fmt(high)} (fail)"
        + (f"; 95 % interval {fmt(cap.interval[0])}–{fmt(cap.interval[1])}" if cap.interval else "")
        + ("; cliff" if cap.cliff else "")
    )
    band = None
    if cap.interval and cap.interval[0] > 0 and cap.interval[1] > 0:
        band = (where(cap.interval[0]), where(cap.interval[1]))
    who = f" · {trim(run.label(cap.target), 18)}" if len(run.load.targets()) > 1 else ""
    return ChartRule(where(cap.value), f"capacity {cap.value:g}{who}", tip_text, band)


def _curve_lines(
    run: Run, points: Sequence[PointFigures], metric: str, wanted: Sequence[str], log: bool
) -> list[MarkLine]:
    style, name, unit = style_of(run), LABELS[metric], UNITS[metric]
    families = list(dict.fromkeys((p.target, p.arrival) for p in points))
    lines = []
    for target, arrival in families:
        mine = sorted(
            (p for p in points if (p.target, p.arrival) == (target, arrival) and p.load),
            key=lambda p: p.load or 0.0,
        )
        shift = sum(1 for t, _ in families[: families.index((target, arrival))] if t == target)
        index = style[target] + shift * len(style)
        for q in wanted:
            marks = [
                PointMark(
                    math.log2(p.load or 1.0) if log else p.load or 0.0,
                    v,
                    _mark_tip(run, p, f"{name} {q} {fmt(v)} {unit} (n {p.completed})"),
                    hollow=p.distorted,
                )
                for p in mine
                if (v := p.pct(metric, q)) is not None
            ]
            if marks:
                lines.append(
                    MarkLine(f"l{style[target]}", index, marks, _PATTERNS[q], _SIZES.get(q, 4))
                )
    return lines


def _curve_figure(run: Run, kind: str, metric: str, prefix: str) -> str:
    points = [p for p in run.load.points if p.kind == kind]
    log, ticks = _position(points)
    hlines, judged = _slo_rules(points, metric)
    wanted = [q for q in _PATTERNS if q in {"p50", "p99"} | judged]
    lines = _curve_lines(run, points, metric, wanted, log)
    if not lines:
        return ""
    caps = [c for c in run.load.capacities if c.kind == kind]
    vlines = [r for c in caps if (r := _capacity_rule(run, c, log)) is not None]
    name, axis = LABELS[metric], "concurrency" if kind == "concurrency" else "offered rate"
    unit = "" if kind == "concurrency" else "req/s"
    chart = labelled_chart(
        lines,
        AxisSpec(axis + (" (log scale)" if log else ""), tip(Key.POINT), unit),
        AxisSpec(
            name, f"{tip('point_percentile')} {tip(metric)}", UNITS[metric], include_zero=True
        ),
        label=f"{name} percentiles against {axis}, one line per target and percentile",
        hlines=hlines,
        vlines=vlines,
        x_ticks=ticks,
    )
    shown = ", ".join(wanted)
    extra = " Lines across: SLO limits; dashed up: the capacity (shaded: its 95 % interval)."
    targets = list(dict.fromkeys(p.target for p in points))
    return figure(
        f"{name} ({shown}) against {axis}",
        chart,
        metric=metric,
        legend=_legend(run, targets, style_of(run)),
        note=_KEY_NOTE.replace("; dashed: p99", f"; dashed: {', '.join(wanted[1:])}") + extra,
        chart_id=f"{prefix}chart-{kind}-{metric}",
    )


def curve_figures(run: Run, prefix: str) -> list[str]:
    """Per kind of point, TTFT, TPOT and every other field with an SLO against the load."""
    metrics = [Key.TTFT_MS, Key.TPOT_MS]
    for label in dict.fromkeys(s for p in run.load.points for s in p.slos):
        try:
            field = parse_slo(label).field
        except ValueError:
            continue
        if field not in metrics and field in LABELS:
            metrics.append(field)
    kinds = [k for k in ("concurrency", "rate") if any(p.kind == k for p in run.load.points)]
    found = (_curve_figure(run, k, m, prefix) for k in kinds for m in metrics)
    return [f for f in found if f]


def _timeline_figure(run: Run, p: PointFigures, prefix: str, index: int) -> str:
    seconds = p.timeline
    ttft = LABELS[Key.TTFT_MS]
    strips = [
        TimelineStrip("completed", tip("timeline"), "req/s", 0, [s.completed for s in seconds]),
        TimelineStrip("output", tip("output_tps"), "tok/s", 1, [s.output_tokens for s in seconds]),
        TimelineStrip("in flight", tip("in_flight"), "mean", 2, [s.in_flight for s in seconds]),
        TimelineStrip(f"{ttft} p50", tip(Key.TTFT_MS), "ms", 3, [s.ttft_p50_ms for s in seconds]),
    ]
    if any(s.errors for s in seconds):
        errors = [float(s.errors) for s in seconds]
        strips.insert(1, TimelineStrip("errors", tip("errors_by_kind"), "/s", 6, errors))
    tips = [
        f"second {s.t_s:g}–{s.t_s + 1:g}: {s.completed} done, "
        f"{s.errors} errors, {s.output_tokens:,} output tokens, {fmt(s.in_flight)} in flight, "
        f"{ttft} p50 {fmt(s.ttft_p50_ms)} ms"
        for s in seconds
    ]
    chart = timeline_chart(
        [s.t_s for s in seconds],
        strips,
        tips,
        label=f"per-second timeline of {p.name}",
        x_axis=AxisSpec("time from the first send", tip("timeline"), "s"),
        steady=p.steady_span,
    )
    title = f"{run.label(p.target)} · {p.point}: every second" + (
        " (distorted)" if p.distorted else ""
    )
    return figure(
        title,
        chart,
        better="more done, lower TTFT is better",
        note="Shaded: the steady window. Hover a second for its figures.",
        chart_id=f"{prefix}timeline-{index}",
    )


def timeline_block(run: Run, prefix: str) -> str:
    """One timeline figure per point with a timeline, the first shown; a select shows another."""
    points = [p for p in run.load.points if p.timeline]
    if not points:
        return ""
    box = f"{prefix}timelines"
    options = "".join(
        f'<option value="{i}">{esc(run.label(p.target))} · {esc(p.point)}'
        f"{' (distorted)' if p.distorted else ''}</option>"
        for i, p in enumerate(points)
    )
    picker = (
        f'<div class="filters"><label title="{esc(tip("timeline"))}">timeline of point '
        f'<select data-pick="{esc(box)}" id="{esc(box)}-pick">{options}</select></label></div>'
    )
    figures = "".join(
        f'<div data-choice="{i}"{"" if i == 0 else " hidden"}>'
        f"{_timeline_figure(run, p, prefix, i)}</div>"
        for i, p in enumerate(points)
    )
    return f'<h3>Timeline</h3>{picker}<div class="picks" id="{esc(box)}">{figures}</div>'
