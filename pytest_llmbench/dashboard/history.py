"""The runs in a project's ``results/``: a line each for the history page, and their documents
for the reports the dashboard serves.

A run is named by its stamp (``20261202-061219``, or ``20261202-061219-2`` for a second run in
that second: the results file ``<stamp>.json``); only a name of that form is looked up, and only
in ``results/`` (no path from a request reaches the disk). An unreadable file is listed with its
error and opens no report.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

__all__ = ["STAMP", "RunNotFound", "load_run", "run_summaries"]

STAMP = re.compile(r"^\d{8}-\d{6}(?:-\d+)?$")


class RunNotFound(LookupError):
    """No run of that name in ``results/`` (or not a run's name at all)."""


def _path(results: Path, stamp: str) -> Path:
    if not STAMP.match(stamp):
        raise RunNotFound(f"{stamp!r} is not a run's name (YYYYmmdd-HHMMSS)")
    path = results / f"{stamp}.json"
    if not path.is_file():
        raise RunNotFound(f"no run {stamp} in {results}")
    return path


def load_run(results: Path, stamp: str) -> dict[str, Any]:
    """The results document of run ``stamp`` (:class:`RunNotFound`; a broken file:
    :class:`~..outputs.report.ReportInputError`)."""
    from ..outputs.report import load_document

    return load_document(_path(results, stamp))


def _summary(path: Path) -> dict[str, Any]:
    from ..outputs.report import ReportInputError, load_document

    stamp = path.stem
    try:
        document = load_document(path)
    except ReportInputError as exc:
        return {"stamp": stamp, "error": str(exc)}
    metadata = document.get("metadata") or {}
    records = document.get("records") or []
    load = document.get("load") or {}
    targets = {str(r.get("target")) for r in records if r.get("target")}
    targets |= {str(p.get("target")) for p in load.get("points") or () if p.get("target")}
    statuses = [str(r.get("status")) for r in records]
    checks = document.get("gate") or []
    gate = ("failed" if any(c.get("failed") for c in checks) else "passed") if checks else None
    return {
        "stamp": stamp,
        "started": metadata.get("started"),
        "command": metadata.get("command"),
        "targets": sorted(targets),
        "requests": len(records),
        "load_points": len(load.get("points") or ()),
        "failed": statuses.count("failed"),
        "gate": gate,
        "error": None,
    }


def run_summaries(results: Path) -> list[dict[str, Any]]:
    """Every run in ``results``, newest first."""
    if not results.is_dir():
        return []
    paths = [p for p in results.glob("*.json") if STAMP.match(p.stem)]
    return [_summary(p) for p in sorted(paths, reverse=True)]
