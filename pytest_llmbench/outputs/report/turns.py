"""Run report sections for the conversation benchmark and the simulator calibration."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .charts import Point, Series, StripRow, VLine, line_chart, strip_chart
from .glossary import LABELS, UNITS, tip
from .markup import Column, Markup, details_table, esc, figure, fmt, table
from .model import Conversation, Run, Summary, as_map, num
from .sections import none, section, styles
from .svg import AxisSpec, legend

__all__ = ["calibration_section", "conversation_section"]

_CURVES = (
    ("ttft_ms", "ttft_knee"),
    ("decode_tps", "decode_knee"),
    ("context_tokens", ""),
    ("reasoning_tokens", ""),
)


def _knee_text(kind: str, knee: Mapping[str, Any]) -> str:
    return (
        f"{kind} knee at turn {knee.get('turn')} ({fmt(num(knee.get('context_tokens')))} prompt "
        f"tokens): {fmt(num(knee.get('value')))} vs baseline {fmt(num(knee.get('baseline')))} "
        f"(×{fmt(num(knee.get('ratio')), 2)})"
    )


def _facts(run: Run, conv: Conversation) -> str:
    s = conv.summary
    deg = as_map(s.get("degradation"))
    skipped = int(num(s.get("turns_skipped")) or 0)
    planned = s.get("turns_planned") or len(conv.turns) + skipped
    parts = [f"{len(conv.turns)}/{planned} turns measured"]
    failed = as_map(s.get("failed_at"))
    if not conv.turns and not failed:
        parts.append(f"not run ({skipped} turns skipped; the reason is under Failures and skips)")
        return f"<li><strong>{esc(run.label(conv.target))}</strong>: {esc('; '.join(parts))}</li>"
    fit = as_map(deg.get("ttft_vs_context"))
    rate = num(deg.get("effective_prefill_tps"))
    if rate is not None:
        parts.append(
            f"fitted prefill ≈ {fmt(rate, 0)} tok/s (TTFT = {fmt(num(fit.get('intercept')))} ms + "
            f"{num(fit.get('slope')) or 0:.3g} ms per prompt token, r² "
            f"{fmt(num(fit.get('r2')), 2)}, n {fit.get('n')})"
        )
    elif fit:
        parts.append(f"no prefill rate: TTFT did not grow with context (slope {fit.get('slope')})")
    elif conv.turns:
        parts.append("no prefill fit (fewer than two turns with distinct context)")
    for kind, key in (("TTFT", "ttft_knee"), ("decode", "decode_knee")):
        knee = as_map(deg.get(key))
        if knee:
            parts.append(_knee_text(kind, knee))
    if conv.turns and deg and not deg.get("ttft_knee") and not deg.get("decode_knee"):
        parts.append(f"no knee (factor ×{fmt(num(deg.get('knee_factor')), 1)})")
    if failed:
        parts.append(f"stopped: turn {failed.get('turn')} failed: {failed.get('error')}")
    limit = as_map(s.get("context_limit"))
    if limit:
        parts.append(
            f"context window reached at turn {limit.get('turn')} ({limit.get('tokens')} tokens)"
        )
    return f"<li><strong>{esc(run.label(conv.target))}</strong>: {esc('; '.join(parts))}</li>"


def _curve(run: Run, convs: list[Conversation], metric: str, knee_key: str, prefix: str) -> str:
    style = styles(run)
    series, vlines = [], []
    unit = UNITS[metric]
    for conv in convs:
        index = style.get(conv.target, 0)
        label = run.label(conv.target)
        points = [
            Point(t, v, f"{label} turn {t:.0f}: {fmt(v)} {unit}")
            for rec in conv.turns
            if (t := num(rec.get("turn"))) is not None and (v := num(rec.get(metric))) is not None
        ]
        if points:
            series.append(Series(f"t{index}", label, index, points))
        knee = as_map(as_map(conv.summary.get("degradation")).get(knee_key)) if knee_key else {}
        if knee and num(knee.get("turn")) is not None:
            kind = "TTFT" if metric == "ttft_ms" else "decode"
            vlines.append(
                VLine(
                    num(knee.get("turn")) or 0.0,
                    f"knee turn {knee.get('turn')}",
                    f"{label}: {_knee_text(kind, knee)}",
                )
            )
    name = LABELS[metric]
    if not series:
        return ""
    include_zero = metric != "ttft_ms"
    turns = sorted({int(p.x) for s in series for p in s.points})
    step = max(1, math.ceil((turns[-1] - turns[0] + 1) / 12))
    chart = line_chart(
        series,
        AxisSpec("turn", tip("turn")),
        AxisSpec(name, tip(metric), unit, include_zero=include_zero),
        x_labels={float(t): str(t) for t in range(turns[0], turns[-1] + 1, step)},
        label=f"{name} per conversation turn, one line per target",
        vlines=vlines,
    )
    better = {"context_tokens": "grows every turn", "reasoning_tokens": "no better direction"}
    return figure(
        f"{name} per turn" + (" (dashed line: knee)" if vlines else ""),
        chart,
        metric=metric,
        better=better.get(metric, ""),
        legend=legend([(s.key, s.label, s.style) for s in series], lines=True),
        chart_id=f"{prefix}chart-turn-{metric}",
    )


def conversation_section(run: Run, prefix: str) -> Markup:
    convs = run.conversations
    if not convs:
        return section("Conversation", none(), section_id=f"{prefix}conversation")
    facts = "".join(_facts(run, c) for c in convs)
    measured = [c for c in convs if c.turns]
    reasoned = any(num(t.get("reasoning_tokens")) for c in measured for t in c.turns)
    wanted = [(m, k) for m, k in _CURVES if reasoned or m != "reasoning_tokens"]
    curves = "".join(_curve(run, measured, m, k, prefix) for m, k in wanted)
    if curves and not reasoned:
        curves += '<p class="none">reasoning tokens: none in any turn</p>'
    columns = [
        Column("target", "target"),
        Column("turn", "turn", numeric=True),
        Column(
            "prompt tier", tip_text="The conversation's prompt tier (Foundations … Ultra-deep)."
        ),
        Column("prompt tokens", "prompt_tokens", numeric=True),
        Column("context tokens", "context_tokens", numeric=True),
        Column("TTFT ms", "ttft_ms", numeric=True),
        Column("decode tok/s", "decode_tps", numeric=True),
        Column("reasoning tokens", "reasoning_tokens", numeric=True),
    ]
    rows = [
        [
            run.label(c.target),
            num(t.get("turn")),
            t.get("turn_tier") or "—",
            num(t.get("prompt_tokens")),
            num(t.get("context_tokens")),
            num(t.get("ttft_ms")),
            num(t.get("decode_tps")),
            num(t.get("reasoning_tokens")),
        ]
        for c in measured
        for t in c.turns
    ]
    data = details_table(columns, rows, "Every turn") if rows else ""
    grid = f'<div class="grid2">{curves}</div>' if curves else none("no measured turns")
    body = f'<ul class="facts" title="{esc(tip("prefill_fit"))}">{facts}</ul>{grid}{data}'
    return section(
        "Conversation",
        Markup(body),
        section_id=f"{prefix}conversation",
        intro="Per-turn curves of the conversation benchmark; the history grows each turn.",
    )


def _summary(stats: Mapping[str, Any], fallback: list[float]) -> Summary:
    return Summary.from_aggregate(stats) if stats else Summary.of(fallback)


def calibration_section(run: Run, prefix: str) -> Markup:
    cal = run.calibration
    title = "Calibration against the built-in server"
    if cal is None:
        return section(
            title, none("none (no simulator truth in this run)"), section_id=f"{prefix}calibration"
        )
    style = styles(run)
    columns = [
        Column("error", tip_text="Measured minus the simulator's logged truth."),
        Column("n", "n", numeric=True),
        Column("mean", numeric=True, tip_text="Mean error."),
        Column("median", "median", numeric=True),
        Column("p90", "p90", numeric=True),
        Column("min", numeric=True, tip_text="Smallest error."),
        Column("max", numeric=True, tip_text="Largest error."),
        Column("max |error|", numeric=True, tip_text="Largest absolute error."),
    ]
    rows, figures = [], []
    for key, name, unit, pooled, abs_key in (
        ("ttft_error_ms", "TTFT error", "ms", cal.ttft_error_ms, "ttft_abs_max_ms"),
        ("tpot_error_pct", "TPOT error", "%", cal.tpot_error_pct, "tpot_abs_max_pct"),
    ):
        flat = [v for values in pooled.values() for v in values]
        s = _summary(as_map(cal.summary.get(key)), flat)
        abs_max = num(cal.summary.get(abs_key))
        if abs_max is None and flat:
            abs_max = max(abs(v) for v in flat)
        rows.append([f"{name} ({unit})", s.n, s.mean, s.median, s.p90, s.min, s.max, abs_max])
        strips = [
            StripRow(
                run.label(t),
                style.get(t, 0),
                f"t{style.get(t, 0)}",
                [(v, f"{run.label(t)}: {v:+.3g} {unit}") for v in values],
                Summary.of(values).median,
            )
            for t, values in pooled.items()
        ]
        if strips:
            axis = AxisSpec(name, tip(key), unit, include_zero=True, zero_line=True)
            per_target = [
                [run.label(t), len(v), Summary.of(v).median, min(v), max(v)]
                for t, v in pooled.items()
            ]
            data_columns = [Column("target", "target"), Column("n", "n", numeric=True)] + [
                Column(f"{c} ({unit})", numeric=True, tip_text=f"{c} of the {name}.")
                for c in ("median", "min", "max")
            ]
            figures.append(
                figure(
                    f"{name}: measured − simulator truth, every request per target",
                    strip_chart(strips, axis, label=f"{name} per request"),
                    better="closer to 0 is better",
                    data=details_table(data_columns, per_target),
                    chart_id=f"{prefix}chart-{key}",
                )
            )
    body = table(columns, rows) + "".join(figures)
    intro = "How far the measured values were from what the simulator logged it did."
    return section(title, Markup(body), section_id=f"{prefix}calibration", intro=intro)
