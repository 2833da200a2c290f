"""What the terminal shows at the end: the aggregates table, calibration, and the files written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from .tables import (
    GATE_COLUMNS,
    aggregates_rows,
    calibration_line,
    conversation_lines,
    crosscheck_lines,
    format_table,
    gate_rows,
)

__all__ = ["write_summary"]


def _shown(path: Path) -> Path:
    """``path`` relative to the working directory when it lies below it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _write_load(terminal: pytest.TerminalReporter, load: Mapping[str, Any]) -> None:
    """The load points' table, their flags and notes, and each search's capacity."""
    from .load_tables import LOAD_COLUMNS, capacity_line, load_rows, point_notes

    points = load.get("points") or []
    for text in format_table(load_rows(points), LOAD_COLUMNS):
        terminal.write_line(text)
    for line in point_notes(points):
        terminal.write_line(line, yellow=True)
    for note in load.get("notes") or []:
        terminal.write_line(note)
    for capacity in load.get("capacities") or []:
        terminal.write_line(capacity_line(capacity), bold=True)


def write_summary(
    terminal: pytest.TerminalReporter,
    document: Mapping[str, Any],
    written: Sequence[Path],
) -> None:
    """The ``llmbench`` section of the terminal summary."""
    terminal.section("llmbench", sep="=", bold=True)
    rows = aggregates_rows(document["aggregates"])
    conversations = document.get("conversations") or []
    load = document.get("load") or {}
    points = load.get("points") or []
    if rows:
        for text in format_table(rows):
            terminal.write_line(text)
    elif not conversations and not points:
        terminal.write_line("no requests were measured")
    if points:
        _write_load(terminal, load)
    every = [*document["records"], *(load.get("records") or [])]
    measured = {r.get("target") for r in every if r.get("ok")}
    skipped = sorted(
        {
            r["target"]: r.get("reason")
            for r in every
            if r.get("status") == "skipped" and r.get("target") and r["target"] not in measured
        }.items()
    )
    for target, reason in skipped:
        terminal.write_line(f"skipped {target}: {reason}")
    for line in conversation_lines(conversations):
        terminal.write_line(line)
    calib = document.get("calibration")
    if calib:
        terminal.write_line(calibration_line(calib))
    for line in crosscheck_lines(document.get("crosscheck")):
        terminal.write_line(line)
    gate = document.get("gate") or []
    note = document.get("gate_note")
    if gate or note:
        terminal.section("llmbench gate", sep="-", bold=True)
        if gate:
            for text in format_table(gate_rows(gate), GATE_COLUMNS):
                terminal.write_line(text, red=text.endswith(("BROKEN", "REGRESSED")))
        if note:
            terminal.write_line(note)
        broken = sum(1 for check in gate if check["failed"])
        if broken:
            terminal.write_line(f"{broken} limit(s) broken: the session fails", red=True)
        elif gate:
            terminal.write_line("all checked limits hold")
    for path in written:
        terminal.write_line(f"results: {_shown(path)}")
