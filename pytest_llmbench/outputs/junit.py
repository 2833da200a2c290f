"""JUnit XML properties per test: the measured figures of its requests, for CI systems that read
``--junitxml`` files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..schema import JUNIT_FIELDS, Key

__all__ = ["junit_properties"]


def junit_properties(records: Sequence[Mapping[str, Any]]) -> list[tuple[str, object]]:
    """``(name, value)`` pairs for a test's measured requests; indexed when there are several."""
    properties: list[tuple[str, object]] = []
    measured = [r for r in records if r.get(Key.OK)]
    for index, record in enumerate(measured):
        suffix = f"[{index}]" if len(measured) > 1 else ""
        properties.append((f"llm_target{suffix}", record.get(Key.TARGET)))
        for field in JUNIT_FIELDS:
            value = record.get(field)
            if value is not None:
                shown = round(value, 3) if isinstance(value, float) else value
                properties.append((f"llm_{field}{suffix}", shown))
    return properties
