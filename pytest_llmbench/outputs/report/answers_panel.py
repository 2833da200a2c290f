"""The run report's sample answers: the first characters of one answer per target."""

from __future__ import annotations

from ...schema import Key
from .layout import none, section
from .markup import Column, Markup, table
from .model import Run

__all__ = ["answers_section"]

_COLUMNS = (Column("target", Key.TARGET), Column("answer (first characters)", Key.ANSWER_PREVIEW))


def answers_section(run: Run, prefix: str) -> Markup:
    if not run.answers:
        return section("Sample answers", none(), section_id=f"{prefix}answers")
    rows = [[run.label(t), preview] for t, preview in run.answers]
    body = f'<details class="data"><summary>One answer per target</summary>{table(_COLUMNS, rows)}'
    return section("Sample answers", Markup(body + "</details>"), section_id=f"{prefix}answers")
