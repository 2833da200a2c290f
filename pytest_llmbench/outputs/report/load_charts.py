"""The two chart kinds of the load section: marks over x with a label beside each mark (the point
id), limit lines across and capacity lines up; and a point's timeline, one strip per figure over
the same seconds.

Labels are placed where they overlap no other label or mark (beside, above, below, or further out
with a leader line); one that fits nowhere is left out and its mark's tooltip still names it. A
mark drawn hollow is a point whose figures are in doubt (a distorted client).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .markup import Markup, esc, fmt
from .svg import (
    AxisSpec,
    Linear,
    axis_title,
    color,
    domain,
    fmt_tick,
    grid_y,
    marker,
    nice_ticks,
    svg_open,
    text,
    trim,
)

__all__ = [
    "ChartRule",
    "MarkLine",
    "PointMark",
    "TimelineStrip",
    "labelled_chart",
    "timeline_chart",
]

#: An 11 px label's width per character and its height, for the placement of labels.
_CHAR_W = 6.4
_LABEL_H = 12.0
#: Where a label may go, relative to its mark: (dx, dy of the baseline, anchor, leader line).
_SPOTS = (
    (8, -6, "start", False),
    (8, 14, "start", False),
    (-8, -6, "end", False),
    (-8, 14, "end", False),
    (0, -11, "middle", False),
    (0, 21, "middle", False),
    (18, -20, "start", True),
    (-18, -20, "end", True),
    (18, 30, "start", True),
    (-18, 30, "end", True),
)


@dataclass(frozen=True)
class PointMark:
    x: float
    y: float
    tip: str
    label: str = ""  # drawn beside the mark (the point id)
    hollow: bool = False


@dataclass(frozen=True)
class MarkLine:
    """One line of marks: ``key`` its legend toggle, ``style`` its colour and shape."""

    key: str
    style: int
    marks: Sequence[PointMark]
    pattern: str = ""  # its stroke-dasharray ("": solid)
    size: float = 4.5


@dataclass(frozen=True)
class ChartRule:
    """A line across (a limit) or up (a capacity), with an optional shaded ``band``."""

    at: float
    label: str
    tip: str = ""
    band: tuple[float, float] | None = None


Box = tuple[float, float, float, float]  # x0, y0, x1, y1


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _label_box(x: float, y: float, width: float, anchor: str) -> Box:
    x0 = x if anchor == "start" else x - width if anchor == "end" else x - width / 2
    return (x0, y - _LABEL_H + 2, x0 + width, y + 3)


def _place_labels(
    wanted: Sequence[tuple[float, float, str]], frame: Box, avoid: Sequence[Box] = ()
) -> list[Markup]:
    """Point labels ``(x, y, text)`` in the first spot free of other labels, of every mark and
    of the boxes to ``avoid``, inside ``frame``; a label with no free spot is left out."""
    taken: list[Box] = [*avoid, *((x - 5, y - 5, x + 5, y + 5) for x, y, _ in wanted)]
    parts: list[Markup] = []
    for x, y, label in wanted:
        if not label:
            continue
        width = len(label) * _CHAR_W + 2
        for dx, dy, anchor, leader in _SPOTS:
            box = _label_box(x + dx, y + dy, width, anchor)
            inside = frame[0] <= box[0] and box[2] <= frame[2] and frame[1] <= box[1]
            if not inside or box[3] > frame[3] or any(_overlap(box, t) for t in taken):
                continue
            taken.append(box)
            if leader:
                end_y = y + dy - 4 if dy < 0 else y + dy - _LABEL_H + 2
                parts.append(
                    Markup(
                        f'<line class="leader" x1="{x:.1f}" y1="{y:.1f}" x2="{x + dx:.1f}" '
                        f'y2="{end_y:.1f}"/>'
                    )
                )
            parts.append(text(x + dx, y + dy, label, anchor=anchor, cls="plabel"))
            break
    return parts


def _x_ticks(
    xs: Sequence[float], ticks: Mapping[float, str] | None, include_zero: bool
) -> dict[float, str]:
    if ticks:
        return dict(sorted(ticks.items()))
    values = [*xs, 0.0] if include_zero else list(xs)
    found = nice_ticks(min(values, default=0.0), max(values, default=1.0), 6)
    return {t: fmt_tick(t, found) for t in found}


def _x_axis(sx: Linear, ticks: Mapping[float, str], bottom: float) -> list[str]:
    """The tick labels under the plot, thinned where they would touch."""
    parts: list[str] = []
    last = -1e9
    for value, shown in ticks.items():
        x = sx(value)
        if x - last < max(len(shown) * _CHAR_W + 8, 26) or not sx.start - 1 <= x <= sx.end + 1:
            continue
        last = x
        parts.append(text(x, bottom + 15, shown, anchor="middle", cls="tick"))
    return parts


def _free_spot(
    spots: Sequence[tuple[float, float, str]], label: str, taken: list[Box], frame: Box
) -> tuple[float, float, str]:
    """The first of ``spots`` where ``label`` overlaps nothing taken and stays in ``frame``
    (the first spot when none is free); the box it takes is added to ``taken``."""
    width = len(label) * _CHAR_W + 2
    chosen = spots[0]
    for spot in spots:
        box = _label_box(spot[0], spot[1], width, spot[2])
        inside = frame[0] - 2 <= box[0] and box[2] <= frame[2] + 2 and frame[1] - 24 <= box[1]
        if inside and box[3] <= frame[3] and not any(_overlap(box, t) for t in taken):
            chosen = spot
            break
    taken.append(_label_box(chosen[0], chosen[1], width, chosen[2]))
    return chosen


def _line_boxes(traces: Sequence[MarkLine], sx: Linear, sy: Linear) -> list[Box]:
    """Small boxes along every drawn line (every 6 px) and round every mark: where a limit's or
    a capacity's label should not go."""
    boxes: list[Box] = []
    for item in traces:
        points = [(sx(m.x), sy(m.y)) for m in item.marks]
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            steps = max(1, int(math.hypot(x1 - x0, y1 - y0) / 6))
            for k in range(steps + 1):
                x, y = x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps
                boxes.append((x - 2, y - 2, x + 2, y + 2))
        boxes += [(x - 5, y - 5, x + 5, y + 5) for x, y in points]
    return boxes


def _rules(
    hlines: Sequence[ChartRule],
    vlines: Sequence[ChartRule],
    sx: Linear,
    sy: Linear,
    frame: Box,
    drawn: Sequence[Box],
) -> tuple[list[str], list[Box]]:
    """The capacity lines up (interval shaded) and the limits across, each with its label where
    no other label nor a ``drawn`` line is; the label boxes are returned for the point labels
    to avoid."""
    left, top, right, bottom = frame
    parts: list[str] = []
    taken: list[Box] = list(drawn)
    for rule in vlines:
        if rule.band is not None:
            x0, x1 = sorted((sx(rule.band[0]), sx(rule.band[1])))
            parts.append(
                f'<rect class="band" x="{x0:.1f}" y="{top:.1f}" width="{max(x1 - x0, 2):.1f}" '
                f'height="{bottom - top:.1f}"><title>{esc(rule.tip)}</title></rect>'
            )
        x = sx(rule.at)
        parts.append(
            f'<line class="vline" x1="{x:.1f}" x2="{x:.1f}" y1="{top - 8:.1f}" y2="{bottom:.1f}">'
            f"<title>{esc(rule.tip or rule.label)}</title></line>"
        )
        spots = [(x + 4, top - 10, "start"), (x - 4, top - 10, "end"), (x + 4, top + 4, "start")]
        if x > (left + right) / 2:
            spots[0], spots[1] = spots[1], spots[0]
        lx, ly, anchor = _free_spot(spots, rule.label, taken, frame)
        parts.append(text(lx, ly, rule.label, anchor=anchor, cls="vlabel", full=rule.tip))
        taken.append((x - 3, top, x + 3, bottom))  # limit labels keep off the line
    for rule in hlines:
        y = sy(rule.at)
        parts.append(
            f'<line class="hline" x1="{left:.1f}" x2="{right:.1f}" y1="{y:.1f}" y2="{y:.1f}">'
            f"<title>{esc(rule.tip or rule.label)}</title></line>"
        )
        spots = [
            (right - 4, y - 4, "end"),
            (right - 4, y + 13, "end"),
            (left + 6, y - 4, "start"),
            (left + 6, y + 13, "start"),
        ]
        if y - 16 < top:  # at the top of the plot: below the line first
            spots = [spots[1], spots[3], spots[0], spots[2]]
        lx, ly, anchor = _free_spot(spots, rule.label, taken, frame)
        parts.append(text(lx, ly, rule.label, anchor=anchor, cls="hlabel", full=rule.tip))
    return parts, taken[len(drawn) :]


def _trace(item: MarkLine, sx: Linear, sy: Linear) -> list[str]:
    parts = [f'<g class="series" data-series="{esc(item.key)}">']
    if len(item.marks) > 1:
        coords = " ".join(f"{sx(m.x):.1f},{sy(m.y):.1f}" for m in item.marks)
        pattern = f' stroke-dasharray="{item.pattern}"' if item.pattern else ""
        parts.append(
            f'<polyline class="line" points="{coords}" stroke="{color(item.style)}"{pattern}/>'
        )
    for m in item.marks:
        parts.append(
            marker(item.style, sx(m.x), sy(m.y), size=item.size, tip=m.tip, hollow=m.hollow)
        )
    parts.append("</g>")
    return parts


def labelled_chart(
    traces: Sequence[MarkLine],
    x_axis: AxisSpec,
    y_axis: AxisSpec,
    *,
    label: str,
    hlines: Sequence[ChartRule] = (),
    vlines: Sequence[ChartRule] = (),
    x_ticks: Mapping[float, str] | None = None,
    width: int = 560,
    height: int = 320,
) -> Markup:
    """Lines of marks over x, each mark with its label beside it where it fits; limits drawn
    across (``hlines``) and capacities up (``vlines``, with their interval shaded)."""
    left, right, top, bottom = 66, width - 18, 30, height - 48
    marks = [m for t in traces for m in t.marks]
    ticks = _x_ticks([m.x for m in marks] + [v.at for v in vlines], x_ticks, x_axis.include_zero)
    xs = [m.x for m in marks] + list(ticks) + [v.at for v in vlines]
    xs += [b for v in vlines if v.band for b in v.band]
    x_lo, x_hi = min(xs, default=0.0), max(xs, default=1.0)
    pad = (x_hi - x_lo) * 0.05 or 1.0
    sx = Linear(x_lo - pad if not x_axis.include_zero else x_lo, x_hi + pad, left, right)
    y_ticks = domain([m.y for m in marks] + [h.at for h in hlines], y_axis.include_zero)
    sy = Linear(y_ticks[0], y_ticks[-1], bottom, top)
    parts: list[str] = [svg_open(width, height, label), grid_y(sy, y_ticks, left, right)]
    parts += _x_axis(sx, ticks, bottom)
    parts.append(f'<line class="axis" x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}"/>')
    parts.append(axis_title((left + right) / 2, height - 8, x_axis))
    parts.append(axis_title(16, (top + bottom) / 2, y_axis, vertical=True))
    drawn = _line_boxes(traces, sx, sy)
    rules, taken = _rules(hlines, vlines, sx, sy, (left, top, right, bottom), drawn)
    parts += rules
    for item in traces:
        parts += _trace(item, sx, sy)
    wanted = [(sx(m.x), sy(m.y), m.label) for m in marks]
    parts += _place_labels(wanted, (left + 2, top - 4, right, bottom - 2), [*drawn, *taken])
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class TimelineStrip:
    """One figure of a timeline: its name and tooltip, unit, style and a value per second."""

    name: str
    tip: str
    unit: str
    style: int
    values: Sequence[float | None]


_STRIP_H = 58.0
_STRIP_GAP = 30.0


def _strip(
    strip: TimelineStrip, sx: Linear, times: Sequence[float], top: float, right: float
) -> str:
    bottom = top + _STRIP_H
    known = [v for v in strip.values if v is not None]
    ticks = domain(known, include_zero=True)
    sy = Linear(ticks[0], ticks[-1], bottom, top)
    few = [ticks[0], ticks[-1]]
    parts: list[str] = [
        grid_y(sy, few, sx.start, right),
        text(sx.start, top - 6, f"{strip.name} ({strip.unit})", cls="ptitle", full=strip.tip),
    ]
    runs: list[list[str]] = [[]]
    for t, v in zip(times, strip.values, strict=True):
        if v is None:
            runs.append([])
        else:
            runs[-1].append(f"{sx(t):.1f},{sy(v):.1f}")
    colour = color(strip.style)
    for run in (r for r in runs if r):
        if len(run) == 1:
            x, y = run[0].split(",")
            parts.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>')
        else:
            parts.append(f'<polyline class="line" points="{" ".join(run)}" stroke="{colour}"/>')
    if not known:
        parts.append(text(sx.start + 8, top + _STRIP_H / 2, "no data", cls="direct"))
    return "".join(parts)


def timeline_chart(
    times: Sequence[float],
    strips: Sequence[TimelineStrip],
    tips: Sequence[str],
    *,
    label: str,
    x_axis: AxisSpec,
    steady: tuple[float, float] | None = None,
    width: int = 980,
) -> Markup:
    """Strips stacked over the same seconds; each second a column whose tooltip gives every
    strip's value (``tips``), the steady window shaded."""
    left, right, top = 66.0, width - 18.0, 24.0
    bottom = top + len(strips) * (_STRIP_H + _STRIP_GAP) - _STRIP_GAP
    height = bottom + 46
    x_hi = max([*times, 1.0]) + 1.0  # each bin spans a second
    sx = Linear(0.0, x_hi, left, right)
    parts: list[str] = [svg_open(width, height, label)]
    if steady is not None:
        x0, x1 = sx(max(steady[0], 0.0)), sx(min(steady[1], x_hi))
        parts.append(
            f'<rect class="band" x="{x0:.1f}" y="{top - 8:.1f}" width="{max(x1 - x0, 1):.1f}" '
            f'height="{bottom - top + 8:.1f}"><title>steady window {fmt(steady[0])}–'
            f"{fmt(steady[1])} s</title></rect>"
        )
    for i, strip in enumerate(strips):
        parts.append(
            _strip(strip, sx, [t + 0.5 for t in times], top + i * (_STRIP_H + _STRIP_GAP), right)
        )
    ticks = nice_ticks(0.0, x_hi, 8)
    parts += _x_axis(sx, {t: fmt_tick(t, ticks) for t in ticks if t <= x_hi}, bottom)
    parts.append(f'<line class="axis" x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}"/>')
    parts.append(axis_title((left + right) / 2, height - 8, x_axis))
    step = sx(1.0) - sx(0.0)
    for t, tip in zip(times, tips, strict=True):
        parts.append(
            f'<rect class="mark col" x="{sx(t):.1f}" y="{top - 8:.1f}" width="{step:.1f}" '
            f'height="{bottom - top + 8:.1f}"><title>{esc(trim(tip, 400))}</title></rect>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
