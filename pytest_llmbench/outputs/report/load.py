"""Reading results files for the report, with one clear message per unusable file (one nested too
deeply for the JSON parser included)."""

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
            record = _parse(line, f"{source}:{number}")
            if not isinstance(record, dict):
                raise ReportInputError(f"{source}:{number}: a record is not a JSON object")
            records.append(record)
        return {"metadata": {}, "records": records}
    document = _parse(text, str(source))
    if not isinstance(document, dict) or not (
        isinstance(document.get("records"), list) or isinstance(document.get("aggregates"), list)
    ):
        raise ReportInputError(
            f"{source}: not a pytest-llmbench results file (no 'records' or 'aggregates' list)"
        )
    for index, record in enumerate(document.get("records") or ()):
        if not isinstance(record, dict):
            raise ReportInputError(f"{source}: records[{index}] is not a JSON object")
    return document


def _parse(text: str, where: str) -> Any:
    """``json.loads(text)``; ``where`` names the file (and line) in the error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ReportInputError(f"{where}: not valid JSON: {error}") from error
    except RecursionError:
        raise ReportInputError(f"{where}: nested too deeply to read") from None
    except ValueError as error:  # a number with more digits than Python reads
        raise ReportInputError(f"{where}: cannot read: {str(error).split(';')[0]}") from None
