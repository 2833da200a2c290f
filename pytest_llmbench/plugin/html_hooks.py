"""pytest-html integration: TTFT, decode tok/s and output-token columns, and an aggregates summary.

Registered only when pytest-html is installed, and every hook is declared optional, so a session
without pytest-html never sees these hook names. pytest-html 4 sorts a custom column by comparing
the cells' HTML as strings; each numeric cell therefore starts with a hidden, zero-padded key so
that string order is numeric order.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import pytest

from ..schema import Key
from .stash import STATE_KEY

__all__ = ["HtmlHooks"]

_COLUMNS = (
    ("llm_ttft", "TTFT ms", Key.TTFT_MS, 1),
    ("llm_decode", "decode tok/s", Key.DECODE_TPS, 1),
    ("llm_tokens", "output tokens", Key.OUTPUT_TOKENS, 0),
)


def _first_measured(report: Any) -> Mapping[str, Any] | None:
    payload = getattr(report, "llmbench", None)
    for record in (payload or {}).get("records") or []:
        if record.get("ok"):
            return dict(record)
    return None


def _cell(css: str, value: float | None, digits: int) -> str:
    if value is None:
        return f'<td class="col-{css}"></td>'
    key = f"{value:020.6f}"
    return f'<td class="col-{css}"><span hidden>{key}</span>{value:,.{digits}f}</td>'


class HtmlHooks:
    """pytest-html's hooks for this plugin's columns and summary."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        for offset, (css, title, _, _) in enumerate(_COLUMNS):
            cells.insert(2 + offset, f'<th class="sortable" data-column-type="{css}">{title}</th>')

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: Any, cells: list[str]) -> None:
        record = _first_measured(report) or {}
        for offset, (css, _, field, digits) in enumerate(_COLUMNS):
            cells.insert(2 + offset, _cell(css, record.get(field), digits))

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session
    ) -> None:
        from ..outputs.tables import AGGREGATE_COLUMNS as HEADER
        from ..outputs.tables import aggregates_rows
        from ..results.stats import aggregate

        state = self.config.stash.get(STATE_KEY, None)
        recorder = state.recorder if state is not None else None
        rows = aggregates_rows(aggregate(recorder.records)) if recorder is not None else []
        if not rows:
            return
        head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADER)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
        )
        postfix.append(
            f'<h2>LLM benchmark</h2><table id="llmbench-aggregates"><thead><tr>{head}'
            f"</tr></thead><tbody>{body}</tbody></table>"
        )
