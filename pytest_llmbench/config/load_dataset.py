"""A load point's prompts from a file: JSONL, one request per line.

Each line is ``{"messages": [{"role": "user", "content": "..."}, ...], "weight": 2}``: the
message list sent as is, and an optional weight (a number > 0, default 1) for a mix in which
some prompts come more often than others. Blank lines are skipped. The config checks the file
when it is loaded, so a broken line stops the session before any request.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..validation import short_repr

__all__ = ["DatasetEntry", "read_load_dataset"]


@dataclass(frozen=True)
class DatasetEntry:
    """One line of a dataset: the messages of one request, and how often it comes."""

    messages: tuple[Mapping[str, Any], ...]
    weight: float = 1.0


def _message_problem(message: object) -> str | None:
    if not isinstance(message, dict):
        return f"must be an object, got {short_repr(message)}"
    role, content = message.get("role"), message.get("content")
    if not isinstance(role, str) or not role.strip():
        return f"needs a 'role' (a string), got {short_repr(role)}"
    if not isinstance(content, (str, list)):
        return f"needs a 'content' (a string or a list of parts), got {short_repr(content)}"
    return None


def _entry(data: object) -> DatasetEntry:
    """One parsed line; raises :class:`ValueError` saying what is wrong."""
    if not isinstance(data, dict):
        raise ValueError(f'must be an object {{"messages": [...]}}, got {short_repr(data)}')
    unknown = sorted(set(data) - {"messages", "weight"})
    if unknown:
        raise ValueError(f"unknown key {short_repr(unknown[0])} (expected: messages, weight)")
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValueError(f"'messages' must be a non-empty list, got {short_repr(messages)}")
    for index, message in enumerate(messages):
        problem = _message_problem(message)
        if problem is not None:
            raise ValueError(f"messages[{index}] {problem}")
    weight = data.get("weight", 1.0)
    if (
        isinstance(weight, bool)
        or not isinstance(weight, (int, float))
        or not math.isfinite(weight)
        or weight <= 0
    ):
        raise ValueError(f"'weight' must be a finite number > 0, got {short_repr(weight)}")
    return DatasetEntry(tuple(messages), float(weight))


def _text(path: Path) -> str:
    if path.is_dir():
        raise ValueError(f"{path}: is a directory, not a JSONL file")
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 (byte {exc.start})") from None


def read_load_dataset(path: Path) -> tuple[DatasetEntry, ...]:
    """Every entry of the JSONL file ``path``; raises :class:`ValueError` naming the file, the
    line and the problem."""
    entries = []
    for number, line in enumerate(_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except (ValueError, RecursionError) as exc:
            if isinstance(exc, json.JSONDecodeError):
                reason = exc.msg
            else:
                reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise ValueError(f"{path}: line {number}: not JSON ({reason[:200]})") from None
        try:
            entries.append(_entry(data))
        except ValueError as exc:
            raise ValueError(f"{path}: line {number}: {exc}") from None
    if not entries:
        raise ValueError(f"{path}: holds no request (one JSON object per line)")
    return tuple(entries)
