"""What CI systems show: JUnit properties per test and a Markdown summary for GitHub Actions."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["JUNIT_FIELDS", "append_step_summary", "junit_properties", "markdown_summary"]

#: Per-request fields recorded as JUnit properties (``llm_<field>``).
JUNIT_FIELDS = (
    "ttft_ms",
    "ttfa_ms",
    "decode_tps",
    "tpot_ms",
    "e2e_ms",
    "output_tokens",
    "token_source",
    "prompt_tokens",
    "reasoning_tokens",
)


def junit_properties(records: Sequence[Mapping[str, Any]]) -> list[tuple[str, object]]:
    """``(name, value)`` pairs for a test's measured requests; indexed when there are several."""
    properties: list[tuple[str, object]] = []
    measured = [r for r in records if r.get("ok")]
    for index, record in enumerate(measured):
        suffix = f"[{index}]" if len(measured) > 1 else ""
        properties.append((f"llm_target{suffix}", record.get("target")))
        for field in JUNIT_FIELDS:
            value = record.get(field)
            if value is not None:
                shown = round(value, 3) if isinstance(value, float) else value
                properties.append((f"llm_{field}{suffix}", shown))
    return properties


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_summary(document: Mapping[str, Any]) -> str:
    """The aggregates table and conversation lines as GitHub-flavoured Markdown."""
    from .terminal import AGGREGATE_COLUMNS, aggregates_rows, conversation_lines

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
