"""Reading results files for the report, with one clear message per unusable file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["ReportInputError", "load_document"]


class ReportInputError(ValueError):
    """A results file that cannot be read or is not a pytest-llmbench results document."""


def load_document(path: str | Path) -> dict[str, Any]:
    """One results document from a session's ``.json`` (or its ``.jsonl`` record stream)."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ReportInputError(f"{source}: cannot read: {error}") from error
    if source.suffix == ".jsonl":
        records = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ReportInputError(f"{source}:{number}: not valid JSON: {error}") from error
            if not isinstance(record, dict):
                raise ReportInputError(f"{source}:{number}: a record is not a JSON object")
            records.append(record)
        return {"metadata": {}, "records": records}
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReportInputError(f"{source}: not valid JSON: {error}") from error
    if not isinstance(document, dict) or not (
        isinstance(document.get("records"), list) or isinstance(document.get("aggregates"), list)
    ):
        raise ReportInputError(
            f"{source}: not a pytest-llmbench results file (no 'records' or 'aggregates' list)"
        )
    return document
