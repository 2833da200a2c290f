"""The run report's failures and skips: one row per target and message, with the tests."""

from __future__ import annotations

from collections.abc import Sequence

from ...schema import Key
from .layout import none, section
from .markup import Column, Markup, table
from .model import Issue, Run

__all__ = ["issues_section"]

_COLUMNS = (
    Column("target", Key.TARGET),
    Column("count", "count", numeric=True),
    Column("message", "message"),
    Column("tests", tip_text="The test ids (first three)."),
)


def _issue_table(run: Run, issues: Sequence[Issue]) -> Markup:
    rows = []
    for issue in issues:
        tests = ", ".join(t.rpartition("::")[2] for t in issue.tests[:3])
        if len(issue.tests) > 3:
            tests += f", … ({len(issue.tests) - 3} more)"
        rows.append([run.label(issue.target), len(issue.tests), issue.message, tests])
    return table(_COLUMNS, rows)


def issues_section(run: Run, prefix: str) -> Markup:
    failed = _issue_table(run, run.failures) if run.failures else none()
    skipped = _issue_table(run, run.skips) if run.skips else none()
    body = f"<h3>Failures</h3>{failed}<h3>Skipped</h3>{skipped}"
    return section("Failures and skips", Markup(body), section_id=f"{prefix}issues")
