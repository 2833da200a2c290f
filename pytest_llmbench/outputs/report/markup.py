"""HTML building blocks: escaping, number formatting, tables and chart figures.

Everything that is not a :class:`Markup` is escaped on the way out, so a string from a model, a
config or an error can only ever render as text.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .glossary import better_text, tip

__all__ = [
    "EMPTY",
    "Cell",
    "Column",
    "Markup",
    "details_table",
    "esc",
    "figure",
    "fmt",
    "fmt_pct",
    "join",
    "script_json",
    "table",
]


class Markup(str):
    """A string that is already safe HTML (built here from escaped parts)."""

    __slots__ = ()


EMPTY = Markup("")


def esc(value: object) -> Markup:
    """``value`` as HTML text or attribute content; Markup passes through unchanged."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


def join(parts: Iterable[object], sep: str = "") -> Markup:
    return Markup(sep.join(esc(p) for p in parts))


def script_json(data: Any) -> Markup:
    """JSON safe to place inside a ``<script type="application/json">`` element."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, code)
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def fmt(value: float | None, digits: int | None = None) -> str:
    """A readable number: thousands separators, fewer decimals for larger values; '—' for None."""
    if value is None or not math.isfinite(value):
        return "—"
    if digits is not None:
        return f"{value:,.{digits}f}"
    if value.is_integer() and abs(value) < 1e15:
        return f"{value:,.0f}"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def fmt_pct(value: float | None, signed: bool = True) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:+.1f} %" if signed else f"{value:.1f} %"


@dataclass(frozen=True)
class Column:
    label: str
    key: str = ""  # glossary key for the tooltip
    numeric: bool = False
    tip_text: str = ""

    @property
    def tooltip(self) -> str:
        return self.tip_text or tip(self.key)


#: A table cell: what to show, or a ``(shown, sort_value)`` pair.
Cell = object


def _cell(cell: Cell, numeric: bool, sortable: bool) -> Markup:
    shown, key = cell if isinstance(cell, tuple) else (cell, None)
    if key is None and numeric and isinstance(shown, int | float):
        key = shown
    if isinstance(shown, float):
        shown = fmt(shown)
    if isinstance(key, float):
        key = f"{key:.7g}"
    data = f' data-v="{esc(key)}"' if key is not None and sortable else ""
    cls = ' class="num"' if numeric else ""
    return Markup(f"<td{cls}{data}>{esc(shown)}</td>")


def table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    *,
    table_id: str = "",
    sortable: bool = False,
    row_attrs: Sequence[dict[str, str]] | None = None,
    caption: str = "",
) -> Markup:
    """A table with a tooltip on every header; ``sortable`` makes headers sort buttons."""
    head = []
    for column in columns:
        title = f' title="{esc(column.tooltip)}"' if column.tooltip else ""
        label = esc(column.label)
        if sortable:
            label = Markup(f'<button type="button" class="sort">{label}</button>')
        kind = "num" if column.numeric else "text"
        head.append(f'<th scope="col" data-kind="{kind}"{title}>{label}</th>')
    body = []
    for i, row in enumerate(rows):
        extra = "".join(
            f' data-{esc(k)}="{esc(v)}"' for k, v in (row_attrs[i] if row_attrs else {}).items()
        )
        cells = "".join(
            _cell(c, col.numeric, sortable) for c, col in zip(row, columns, strict=False)
        )
        body.append(f"<tr{extra}>{cells}</tr>")
    ident = f' id="{esc(table_id)}"' if table_id else ""
    cls = "data sortable" if sortable else "data"
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return Markup(
        f'<div class="scroll"><table class="{cls}"{ident}>{cap}<thead><tr>{"".join(head)}</tr>'
        f"</thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def details_table(
    columns: Sequence[Column], rows: Sequence[Sequence[Cell]], summary: str = "Data"
) -> Markup:
    return Markup(
        f'<details class="data"><summary>{esc(summary)}</summary>{table(columns, rows)}</details>'
    )


def figure(
    title: str,
    svg: Markup,
    *,
    metric: str = "",
    better: str = "",
    legend: Markup = EMPTY,
    data: Markup = EMPTY,
    note: str = "",
    chart_id: str = "",
) -> Markup:
    """A chart with its title, better-direction badge, legend, note and data table."""
    direction = better or better_text(metric)
    badge = f' <span class="better">{esc(direction)}</span>' if direction else ""
    ident = f' id="{esc(chart_id)}"' if chart_id else ""
    note_html = f'<p class="note">{esc(note)}</p>' if note else ""
    return Markup(
        f'<figure class="chart"{ident}><figcaption><span class="ctitle">{esc(title)}</span>'
        f"{badge}</figcaption>{esc(legend)}{esc(svg)}{note_html}{esc(data)}</figure>"
    )
