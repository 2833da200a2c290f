"""The run report's conversation section: what each conversation came to (its fitted prefill
rate, knees, where it stopped) and its per-turn curves."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ...schema import Key
from .charts import Point, Series, VLine, line_chart
from .glossary import LABELS, UNITS, tip
from .layout import none, section, styles
from .markup import Column, Markup, details_table, esc, figure, fmt
from .model import Conversation, Run, as_map, num
from .svg import AxisSpec, legend

__all__ = ["conversation_section"]

#: The per-turn curves: (metric, the degradation's knee drawn on it, or "").
_CURVES = (
    (Key.TTFT_MS, "ttft_knee"),
    (Key.DECODE_TPS, "decode_knee"),
    (Key.CONTEXT_TOKENS, ""),
    (Key.REASONING_TOKENS, ""),
)
#: The badge of the curves whose metric has no better direction.
_BETTER = {Key.CONTEXT_TOKENS: "grows every turn", Key.REASONING_TOKENS: "no better direction"}
_TURN_COLUMNS = (
    Column("target", Key.TARGET),
    Column("turn", Key.TURN, numeric=True),
    Column("prompt tier", tip_text="The conversation's prompt tier (Foundations … Ultra-deep)."),
)
#: The figures of every turn in the section's data table, after its target, turn and tier.
_TURN_FIGURES = (
    (Key.PROMPT_TOKENS, "prompt tokens"),
    (Key.CONTEXT_TOKENS, "context tokens"),
    (Key.TTFT_MS, "TTFT ms"),
    (Key.DECODE_TPS, "decode tok/s"),
    (Key.REASONING_TOKENS, "reasoning tokens"),
)


def _knee_text(kind: str, knee: Mapping[str, Any]) -> str:
    return (
        f"{kind} knee at turn {knee.get(Key.TURN)} ({fmt(num(knee.get(Key.CONTEXT_TOKENS)))} "
        f"prompt tokens): {fmt(num(knee.get('value')))} vs baseline "
        f"{fmt(num(knee.get('baseline')))} (×{fmt(num(knee.get('ratio')), 2)})"
    )


def _fit_text(conv: Conversation, deg: Mapping[str, Any]) -> str:
    fit = as_map(deg.get("ttft_vs_context"))
    rate = num(deg.get("effective_prefill_tps"))
    if rate is not None:
        return (
            f"fitted prefill ≈ {fmt(rate, 0)} tok/s (TTFT = {fmt(num(fit.get('intercept')))} ms + "
            f"{num(fit.get('slope')) or 0:.3g} ms per prompt token, r² "
            f"{fmt(num(fit.get('r2')), 2)}, n {fit.get('n')})"
        )
    if fit:
        return f"no prefill rate: TTFT did not grow with context (slope {fit.get('slope')})"
    if conv.turns:
        return "no prefill fit (fewer than two turns with distinct context)"
    return ""


def _facts(run: Run, conv: Conversation) -> str:
    s = conv.summary
    deg = as_map(s.get("degradation"))
    skipped = int(num(s.get("turns_skipped")) or 0)
    planned = s.get(Key.TURNS_PLANNED) or len(conv.turns) + skipped
    parts = [f"{len(conv.turns)}/{planned} turns measured"]
    failed = as_map(s.get("failed_at"))
    if not conv.turns and not failed:
        parts.append(f"not run ({skipped} turns skipped; the reason is under Failures and skips)")
        return f"<li><strong>{esc(run.label(conv.target))}</strong>: {esc('; '.join(parts))}</li>"
    fit = _fit_text(conv, deg)
    if fit:
        parts.append(fit)
    for kind, key in (("TTFT", "ttft_knee"), ("decode", "decode_knee")):
        knee = as_map(deg.get(key))
        if knee:
            parts.append(_knee_text(kind, knee))
    if conv.turns and deg and not deg.get("ttft_knee") and not deg.get("decode_knee"):
        parts.append(f"no knee (factor ×{fmt(num(deg.get('knee_factor')), 1)})")
    if failed:
        parts.append(f"stopped: turn {failed.get(Key.TURN)} failed: {failed.get(Key.ERROR)}")
    limit = as_map(s.get(Key.CONTEXT_LIMIT))
    if limit:
        parts.append(
            f"context window reached at turn {limit.get(Key.TURN)} ({limit.get('tokens')} tokens)"
        )
    return f"<li><strong>{esc(run.label(conv.target))}</strong>: {esc('; '.join(parts))}</li>"


def _knee_line(conv: Conversation, metric: str, knee_key: str, label: str) -> VLine | None:
    knee = as_map(as_map(conv.summary.get("degradation")).get(knee_key)) if knee_key else {}
    if not knee or num(knee.get(Key.TURN)) is None:
        return None
    kind = "TTFT" if metric == Key.TTFT_MS else "decode"
    return VLine(
        num(knee.get(Key.TURN)) or 0.0,
        f"knee turn {knee.get(Key.TURN)}",
        f"{label}: {_knee_text(kind, knee)}",
    )


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
            if (t := num(rec.get(Key.TURN))) is not None and (v := num(rec.get(metric))) is not None
        ]
        if points:
            series.append(Series(f"t{index}", label, index, points))
        if (vline := _knee_line(conv, metric, knee_key, label)) is not None:
            vlines.append(vline)
    name = LABELS[metric]
    if not series:
        return ""
    turns = sorted({int(p.x) for s in series for p in s.points})
    step = max(1, math.ceil((turns[-1] - turns[0] + 1) / 12))
    chart = line_chart(
        series,
        AxisSpec("turn", tip(Key.TURN)),
        AxisSpec(name, tip(metric), unit, include_zero=metric != Key.TTFT_MS),
        x_labels={float(t): str(t) for t in range(turns[0], turns[-1] + 1, step)},
        label=f"{name} per conversation turn, one line per target",
        vlines=vlines,
    )
    return figure(
        f"{name} per turn" + (" (dashed line: knee)" if vlines else ""),
        chart,
        metric=metric,
        better=_BETTER.get(metric, ""),
        legend=legend([(s.key, s.label, s.style) for s in series], lines=True),
        chart_id=f"{prefix}chart-turn-{metric}",
    )


def _turn_table(run: Run, measured: list[Conversation]) -> str:
    rows = [
        [
            run.label(c.target),
            num(t.get(Key.TURN)),
            t.get(Key.TURN_TIER) or "—",
            *(num(t.get(key)) for key, _ in _TURN_FIGURES),
        ]
        for c in measured
        for t in c.turns
    ]
    columns = [*_TURN_COLUMNS, *(Column(label, key, numeric=True) for key, label in _TURN_FIGURES)]
    return details_table(columns, rows, "Every turn") if rows else ""


def conversation_section(run: Run, prefix: str) -> Markup:
    convs = run.conversations
    if not convs:
        return section("Conversation", none(), section_id=f"{prefix}conversation")
    facts = "".join(_facts(run, c) for c in convs)
    measured = [c for c in convs if c.turns]
    reasoned = any(num(t.get(Key.REASONING_TOKENS)) for c in measured for t in c.turns)
    wanted = [(m, k) for m, k in _CURVES if reasoned or m != Key.REASONING_TOKENS]
    curves = "".join(_curve(run, measured, m, k, prefix) for m, k in wanted)
    if curves and not reasoned:
        curves += '<p class="none">reasoning tokens: none in any turn</p>'
    grid = f'<div class="grid2">{curves}</div>' if curves else none("no measured turns")
    body = (
        f'<ul class="facts" title="{esc(tip("prefill_fit"))}">{facts}</ul>{grid}'
        f"{_turn_table(run, measured)}"
    )
    return section(
        "Conversation",
        Markup(body),
        section_id=f"{prefix}conversation",
        intro="Per-turn curves of the conversation benchmark; the history grows each turn.",
    )
