"""The three chart kinds the report draws: strips of runs, lines over x, and percentile boxes.

Every chart labels its rows or lines directly (no colour key needed), gives each data mark its
value as a tooltip, and puts its axis definitions in the axis titles' tooltips.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .markup import Markup, esc, fmt
from .svg import (
    AxisSpec,
    Linear,
    axis_title,
    color,
    dash,
    domain,
    fmt_tick,
    grid_x,
    grid_y,
    marker,
    nice_ticks,
    svg_open,
    text,
    trim,
)

__all__ = [
    "BoxRow",
    "Point",
    "Series",
    "StripRow",
    "VLine",
    "box_chart",
    "line_chart",
    "strip_chart",
]

MAX_MARKS = 60
MAX_LINE_MARKS = 30
_WIDTH = 980
_LEFT = 270
_ROW = 30


@dataclass(frozen=True)
class StripRow:
    label: str
    style: int
    series: str
    values: Sequence[tuple[float, str]]  # (value, tooltip) per run
    median: float | None


@dataclass(frozen=True)
class BoxRow:
    label: str
    style: int
    series: str
    points: Mapping[str, float]  # p5 p25 p50 p75 p95
    tip: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    tip: str = ""
    lo: float | None = None
    hi: float | None = None
    flag: str = ""


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    style: int
    points: Sequence[Point]
    dots: Sequence[Point] = field(default_factory=tuple)  # unconnected marks (every run)


@dataclass(frozen=True)
class VLine:
    x: float
    label: str
    tip: str = ""


def _sample(values: Sequence[tuple[float, str]]) -> Sequence[tuple[float, str]]:
    """At most MAX_MARKS values, evenly spaced in rank order (the distribution's shape stays)."""
    if len(values) <= MAX_MARKS:
        return values
    ordered = sorted(values)
    step = (len(ordered) - 1) / (MAX_MARKS - 1)
    return [ordered[round(i * step)] for i in range(MAX_MARKS)]


def _row_label(label: str, limit: int = 40) -> str:
    """Trim a long row label but keep its last ' · ' part (the tier or the ITL kind)."""
    head, sep, tail = label.rpartition(" · ")
    if len(label) <= limit or not sep or len(tail) > limit // 2:
        return trim(label, limit)
    return f"{trim(head, limit - len(tail) - 3)}{sep}{tail}"


def _rows_frame(
    count: int, values: Sequence[float], axis: AxisSpec, label: str
) -> tuple[list[str], Linear, float, float]:
    right = _WIDTH - 80.0
    bottom = 10.0 + _ROW * count
    height = bottom + 46
    ticks = domain(values, axis.include_zero)
    lo, hi = ticks[0], ticks[-1]
    scale = Linear(lo, hi, _LEFT, right)
    parts: list[str] = [
        svg_open(_WIDTH, height, label),
        grid_x(scale, ticks, 6, bottom),
    ]
    if axis.zero_line and lo < 0 < hi:
        parts.append(f'<line class="zero" x1="{scale(0):.1f}" x2="{scale(0):.1f}" y1="6" ')
        parts.append(f'y2="{bottom:.1f}"/>')
    parts.append(axis_title((_LEFT + right) / 2, height - 8, axis))
    return parts, scale, bottom, right


def strip_chart(rows: Sequence[StripRow], axis: AxisSpec, *, label: str) -> Markup:
    """One row per group: every run as a mark, the median as a bar with its value at the end."""
    values = [v for row in rows for v, _ in row.values]
    parts, scale, _, right = _rows_frame(len(rows), values, axis, label)
    for i, row in enumerate(rows):
        y = 10 + _ROW * (i + 0.5)
        parts.append(f'<g class="series" data-series="{esc(row.series)}">')
        parts.append(text(_LEFT - 10, y + 4, _row_label(row.label), anchor="end", full=row.label))
        parts.append(f'<line class="rowline" x1="{_LEFT}" x2="{right:.1f}" y1="{y:.1f}" ')
        parts.append(f'y2="{y:.1f}"/>')
        if row.median is not None:  # under the marks, its ends show above and below them
            x = scale(row.median)
            parts.append(
                f'<line class="median" x1="{x:.1f}" x2="{x:.1f}" y1="{y - 13:.1f}" '
                f'y2="{y + 13:.1f}"><title>median {esc(fmt(row.median))}</title></line>'
            )
            sampled = f" ({MAX_MARKS} of {len(row.values)})" if len(row.values) > MAX_MARKS else ""
            parts.append(text(right + 8, y + 4, f"p50 {fmt(row.median)}{sampled}", cls="direct"))
        else:
            parts.append(text(right + 8, y + 4, "no data", cls="direct"))
        for j, (value, tip) in enumerate(_sample(row.values)):
            offset = ((j % 3) - 1) * 4
            parts.append(marker(row.style, scale(value), y + offset, tip=tip))
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


def box_chart(rows: Sequence[BoxRow], axis: AxisSpec, *, label: str) -> Markup:
    """One row per distribution: whiskers p5–p95, box p25–p75, a bar at the median."""
    values = [row.points[k] for row in rows for k in ("p5", "p95")]
    parts, scale, _, right = _rows_frame(len(rows), values, axis, label)
    for i, row in enumerate(rows):
        y = 10 + _ROW * (i + 0.5)
        p = {k: scale(v) for k, v in row.points.items()}
        stroke = color(row.style)
        parts.append(f'<g class="series" data-series="{esc(row.series)}">')
        parts.append(text(_LEFT - 10, y + 4, _row_label(row.label), anchor="end", full=row.label))
        parts.append(
            f'<line class="whisker" x1="{p["p5"]:.1f}" x2="{p["p95"]:.1f}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="{stroke}"/>'
        )
        for key in ("p5", "p95"):
            parts.append(
                f'<line class="whisker" x1="{p[key]:.1f}" x2="{p[key]:.1f}" y1="{y - 5:.1f}" '
                f'y2="{y + 5:.1f}" stroke="{stroke}"/>'
            )
        parts.append(
            f'<rect class="mark box" x="{p["p25"]:.1f}" y="{y - 8:.1f}" '
            f'width="{max(p["p75"] - p["p25"], 1.5):.1f}" height="16" fill="{stroke}" '
            f'fill-opacity="0.25" stroke="{stroke}"><title>{esc(row.tip)}</title></rect>'
        )
        parts.append(
            f'<line class="median" x1="{p["p50"]:.1f}" x2="{p["p50"]:.1f}" y1="{y - 10:.1f}" '
            f'y2="{y + 10:.1f}"/>'
        )
        parts.append(marker(row.style, p["p50"], y, size=3.5, tip=row.tip))
        parts.append(text(right + 8, y + 4, f"p50 {fmt(row.points['p50'])}", cls="direct"))
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


def _spread_labels(wanted: list[tuple[float, int]], top: float, bottom: float) -> dict[int, float]:
    """Push end-of-line labels apart so they do not overlap (12 px apart)."""
    placed: dict[int, float] = {}
    last = top - 12.0
    for y, key in sorted(wanted):
        y = max(y, last + 12)
        placed[key] = y
        last = y
    overflow = last - bottom
    if overflow > 0:
        placed = {k: max(top, v - overflow) for k, v in placed.items()}
    return placed


def _x_domain(
    xs: Sequence[float], x_labels: Mapping[float, str] | None
) -> tuple[float, float, list[float]]:
    """The x range (before padding) and its ticks: the labelled positions, or nice ticks."""
    x_lo, x_hi = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x_labels:
        x_ticks = sorted(x_labels)
    elif x_lo == x_hi:
        x_ticks = [x_lo]
    else:
        x_ticks = nice_ticks(x_lo, x_hi, 6)
    if not x_labels and x_ticks:
        x_lo, x_hi = min(x_lo, x_ticks[0]), max(x_hi, x_ticks[-1])
    if x_lo == x_hi:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    return x_lo, x_hi, x_ticks


def _vline(vline: VLine, x: float, top: float, bottom: float) -> list[str]:
    return [
        f'<line class="vline" x1="{x:.1f}" x2="{x:.1f}" y1="{top - 8}" y2="{bottom}">'
        f"<title>{esc(vline.tip or vline.label)}</title></line>",
        text(x + 4, top - 10, vline.label, cls="vlabel", full=vline.tip),
    ]


def _line_series(item: Series, sx: Linear, sy: Linear, label_y: float | None) -> list[str]:
    """One series: its line, its unconnected dots, its marks (with error bars and flags) and,
    at ``label_y``, its label at the line's end."""
    parts = [f'<g class="series" data-series="{esc(item.key)}">']
    coords = " ".join(f"{sx(p.x):.1f},{sy(p.y):.1f}" for p in item.points)
    pattern = f' stroke-dasharray="{dash(item.style)}"' if dash(item.style) else ""
    if len(item.points) > 1:
        parts.append(
            f'<polyline class="line" points="{coords}" stroke="{color(item.style)}"{pattern}/>'
        )
    for p in item.dots:
        parts.append(marker(item.style, sx(p.x), sy(p.y), size=2.6, tip=p.tip, cls="mark dot"))
    every = math.ceil(len(item.points) / MAX_LINE_MARKS)  # long series: every k-th point
    for k, p in enumerate(item.points):
        x, y = sx(p.x), sy(p.y)
        if k % every and k != len(item.points) - 1 and not p.flag:
            continue
        if p.lo is not None and p.hi is not None:
            parts.append(
                f'<line class="errbar" x1="{x:.1f}" x2="{x:.1f}" y1="{sy(p.lo):.1f}" '
                f'y2="{sy(p.hi):.1f}" stroke="{color(item.style)}"/>'
            )
        parts.append(marker(item.style, x, y, tip=p.tip))
        if p.flag:
            parts.append(f'<circle class="flag" cx="{x:.1f}" cy="{y:.1f}" r="9"/>')
            parts.append(text(x, y - 13, p.flag, anchor="middle", cls="flagtext"))
    if label_y is not None:
        last = item.points[-1]
        label = trim(item.label, 17)
        parts.append(text(sx(last.x) + 10, label_y + 4, label, cls="direct", full=item.label))
    parts.append("</g>")
    return parts


def line_chart(
    series: Sequence[Series],
    x_axis: AxisSpec,
    y_axis: AxisSpec,
    *,
    label: str,
    vlines: Sequence[VLine] = (),
    x_labels: Mapping[float, str] | None = None,
    width: int = 560,
    height: int = 290,
) -> Markup:
    """Lines over x (each with its own dash and marker), error bars, flagged points, v-lines."""
    left, right, top, bottom = 66, width - 118, 24, height - 48
    points = [p for s in series for p in (*s.points, *s.dots)]
    ys = [p.y for p in points] + [v for p in points for v in (p.lo, p.hi) if v is not None]
    x_lo, x_hi, x_ticks = _x_domain([p.x for p in points] + [v.x for v in vlines], x_labels)
    y_ticks = domain(ys, y_axis.include_zero)
    pad = (x_hi - x_lo) * 0.04
    sx = Linear(x_lo - pad, x_hi + pad, left, right)
    sy = Linear(y_ticks[0], y_ticks[-1], bottom, top)
    parts: list[str] = [
        svg_open(width, height, label),
        grid_y(sy, y_ticks, left, right),
    ]
    for value in x_ticks:
        if x_lo <= value <= x_hi:
            shown = x_labels[value] if x_labels else fmt_tick(value, x_ticks)
            parts.append(text(sx(value), bottom + 15, shown, anchor="middle", cls="tick"))
    parts.append(f'<line class="axis" x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}"/>')
    parts.append(axis_title((left + right) / 2, height - 8, x_axis))
    parts.append(axis_title(16, (top + bottom) / 2, y_axis, vertical=True))
    for vline in vlines:
        parts += _vline(vline, sx(vline.x), top, bottom)
    ends = [(sy(s.points[-1].y), i) for i, s in enumerate(series) if s.points]
    placed = _spread_labels(ends, top, bottom)
    for i, item in enumerate(series):
        parts += _line_series(item, sx, sy, placed.get(i))
    parts.append("</svg>")
    return Markup("".join(parts))
