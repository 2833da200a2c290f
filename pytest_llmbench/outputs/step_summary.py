"""The GitHub Actions step summary: the aggregates table and conversation lines in Markdown."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["append_step_summary", "markdown_summary"]


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_summary(document: Mapping[str, Any]) -> str:
    """The aggregates table and conversation lines as GitHub-flavoured Markdown."""
    from .tables import AGGREGATE_COLUMNS, aggregates_rows, conversation_lines

    lines = ["### pytest-llmbench", ""]
    rows = aggregates_rows(document.get("aggregates") or [])
    if rows:
        lines += [
            "| " + " | ".join(AGGREGATE_COLUMNS) + " |",
            "|" + "|".join(["---"] + ["---:"] * (len(AGGREGATE_COLUMNS) - 1)) + "|",
        ]
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
        lines.append("")
    lines += [
        f"- {_cell(line)}" for line in conversation_lines(document.get("conversations") or [])
    ]
    return "\n".join(lines) + "\n"


def append_step_summary(document: Mapping[str, Any]) -> Path | None:
    """Append the summary to ``$GITHUB_STEP_SUMMARY`` when it is set."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(markdown_summary(document))
    return path
