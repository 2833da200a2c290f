"""SVG primitives: scales, ticks, marker shapes, dash patterns, axes and the HTML legend.

Series are told apart without colour: each style index has its own marker shape and dash pattern
as well as a colour from the Okabe–Ito palette (safe for the common colour-vision deficiencies).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .markup import Markup, esc

__all__ = [
    "SHAPES",
    "AxisSpec",
    "Linear",
    "axis_title",
    "color",
    "dash",
    "domain",
    "fmt_tick",
    "grid_x",
    "grid_y",
    "legend",
    "marker",
    "nice_ticks",
    "svg_open",
    "text",
    "trim",
]

_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#222222", "#8C6D00")
_DASHES = ("", "7 4", "2 3", "9 3 2 3", "4 4", "12 3", "1 4", "6 2 2 2 2 2")
SHAPES = ("circle", "square", "triangle", "diamond", "down", "plus", "cross", "star")


@dataclass(frozen=True)
class AxisSpec:
    title: str
    tip: str = ""
    unit: str = ""
    include_zero: bool = False
    zero_line: bool = False


def color(index: int) -> str:
    return _COLORS[index % len(_COLORS)]


def dash(index: int) -> str:
    return _DASHES[index % len(_DASHES)]


class Linear:
    """Maps a value domain onto a pixel range."""

    def __init__(self, lo: float, hi: float, start: float, end: float) -> None:
        if hi <= lo:
            pad = abs(lo) * 0.1 or 1.0
            lo, hi = lo - pad, hi + pad
        self.lo, self.hi, self.start, self.end = lo, hi, start, end

    def __call__(self, value: float) -> float:
        return self.start + (value - self.lo) / (self.hi - self.lo) * (self.end - self.start)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering ``lo``–``hi`` (about ``count`` of them)."""
    if hi <= lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(lo / step + 1e-9) * step
    ticks: list[float] = [round(first, 10)]
    while ticks[-1] < hi - step * 1e-9 and len(ticks) < 40:
        ticks.append(round(first + step * len(ticks), 10))
    return ticks


def fmt_tick(value: float, ticks: Sequence[float]) -> str:
    """A tick label with just the decimals the tick step needs (a step of 2.5 shows 27.5, of
    0.25 shows 0.75)."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else abs(value) or 1.0
    decimals = 0
    while decimals < 6 and abs(round(step, decimals) - step) > step * 1e-6:
        decimals += 1
    return f"{value:,.{decimals}f}"


def domain(values: Sequence[float], include_zero: bool = False) -> list[float]:
    """Nice ticks around the values (with zero when asked); the first and last bound the axis."""
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if include_zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    ticks = nice_ticks(lo, hi)
    if lo >= 0 > ticks[0]:  # a positive quantity never gets a negative axis
        ticks = [t for t in ticks if t >= 0]
    return ticks


def trim(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def text(
    x: float, y: float, content: str, *, anchor: str = "start", cls: str = "", full: str = ""
) -> Markup:
    """A text element; ``full`` becomes its native tooltip (for trimmed labels)."""
    title = f"<title>{esc(full)}</title>" if full else ""
    klass = f' class="{esc(cls)}"' if cls else ""
    return Markup(
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{klass}>{title}{esc(content)}</text>'
    )


def axis_title(x: float, y: float, spec: AxisSpec, *, vertical: bool = False) -> Markup:
    """An axis title with its metric definition as tooltip."""
    label = f"{spec.title} ({spec.unit})" if spec.unit else spec.title
    rotate = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if vertical else ""
    tip = f"<title>{esc(spec.tip)}</title>" if spec.tip else ""
    return Markup(
        f'<text class="axis-title" tabindex="0" x="{x:.1f}" y="{y:.1f}" text-anchor="middle"'
        f"{rotate}>{tip}{esc(label)}</text>"
    )


def marker(
    index: int,
    x: float,
    y: float,
    *,
    size: float = 4.5,
    tip: str = "",
    cls: str = "mark",
    hollow: bool = False,
) -> Markup:
    """A data mark in the style's shape and colour, with its value as tooltip; ``hollow`` draws
    its outline only (a point whose figures are in doubt)."""
    shape = SHAPES[index % len(SHAPES)]
    fill = color(index)
    s = size
    if shape == "circle":
        body = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{s:.1f}"'
    elif shape == "square":
        body = f'<rect x="{x - s:.1f}" y="{y - s:.1f}" width="{2 * s:.1f}" height="{2 * s:.1f}"'
    else:
        body = f'<path d="{_shape_path(shape, x, y, s)}"'
    if shape in ("plus", "cross"):
        paint = f' fill="none" stroke="{fill}" stroke-width="2.2"'
    elif hollow:
        paint = f' fill="#fff" stroke="{fill}" stroke-width="1.8"'
    else:
        paint = f' fill="{fill}" stroke="#fff" stroke-width="0.8"'
    title = f"<title>{esc(tip)}</title>" if tip else ""
    return Markup(f'{body} class="{esc(cls)}"{paint}>{title}</{body[1:].split(" ")[0]}>')


def _shape_path(shape: str, x: float, y: float, s: float) -> str:
    def pts(points: Sequence[tuple[float, float]]) -> str:
        return "M" + " L".join(f"{x + dx * s:.1f} {y + dy * s:.1f}" for dx, dy in points) + " Z"

    if shape == "triangle":
        return pts([(0, -1.2), (1.1, 0.9), (-1.1, 0.9)])
    if shape == "down":
        return pts([(0, 1.2), (1.1, -0.9), (-1.1, -0.9)])
    if shape == "diamond":
        return pts([(0, -1.3), (1.2, 0), (0, 1.3), (-1.2, 0)])
    if shape == "plus":
        return f"M{x - s:.1f} {y:.1f} H{x + s:.1f} M{x:.1f} {y - s:.1f} V{y + s:.1f}"
    if shape == "cross":
        return (
            f"M{x - s:.1f} {y - s:.1f} L{x + s:.1f} {y + s:.1f} "
            f"M{x - s:.1f} {y + s:.1f} L{x + s:.1f} {y - s:.1f}"
        )
    star = []
    for k in range(10):
        radius = 1.3 if k % 2 == 0 else 0.55
        angle = math.pi / 5 * k - math.pi / 2
        star.append((radius * math.cos(angle), radius * math.sin(angle)))
    return pts(star)


def svg_open(width: float, height: float, label: str) -> Markup:
    return Markup(
        f'<svg class="plot" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
        f'height="{height:.0f}" role="img" aria-label="{esc(label)}" '
        f'xmlns="http://www.w3.org/2000/svg">'
    )


def grid_x(scale: Linear, ticks: Sequence[float], top: float, bottom: float) -> Markup:
    """Vertical grid lines with tick labels under ``bottom``."""
    parts = []
    for value in ticks:
        x = scale(value)
        parts.append(
            f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" y2="{bottom:.1f}"/>'
        )
        parts.append(text(x, bottom + 14, fmt_tick(value, ticks), anchor="middle", cls="tick"))
    return Markup("".join(parts))


def grid_y(scale: Linear, ticks: Sequence[float], left: float, right: float) -> Markup:
    """Horizontal grid lines with tick labels left of ``left``."""
    parts = []
    for value in ticks:
        y = scale(value)
        parts.append(
            f'<line class="grid" x1="{left:.1f}" x2="{right:.1f}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(text(left - 6, y + 4, fmt_tick(value, ticks), anchor="end", cls="tick"))
    return Markup("".join(parts))


def legend(entries: Sequence[tuple[str, str, int]], *, lines: bool = False) -> Markup:
    """Toggle buttons, one per series: ``(series_key, label, style_index)``."""
    if len(entries) < 2:
        return Markup("")
    items = []
    for key, label, index in entries:
        line = ""
        if lines:
            pattern = f' stroke-dasharray="{dash(index)}"' if dash(index) else ""
            line = (
                f'<line x1="1" x2="29" y1="8" y2="8" stroke="{color(index)}" '
                f'stroke-width="2"{pattern}/>'
            )
        swatch = (
            f'<svg width="30" height="16" viewBox="0 0 30 16" aria-hidden="true">{line}'
            f"{marker(index, 15, 8, size=4.5, cls='swatch')}</svg>"
        )
        items.append(
            f'<button type="button" class="series-toggle" data-series="{esc(key)}" '
            f'aria-pressed="true" title="show or hide this series">{swatch}'
            f"<span>{esc(label)}</span></button>"
        )
    return Markup(f'<div class="legend">{"".join(items)}</div>')
