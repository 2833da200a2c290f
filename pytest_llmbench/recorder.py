"""Per-test records: built beside the test, carried on its report, written as each test finishes.

The records ride on the test report (``report.llmbench``), which pytest-xdist serialises back to
the controller, so one recorder in the controller sees every worker's results. Each record is
appended to ``results/<stamp>.jsonl`` and flushed at once: an interrupted or killed session keeps
everything it finished. The full results file is written at the end of the session.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .crosscheck import crosscheck_summary
from .stats import aggregate, summarize

__all__ = ["SCHEMA_VERSION", "Recorder", "calibration", "sample_records"]

SCHEMA_VERSION = 1
PREVIEW_CHARS = 300
_TEXT_FIELDS = ("answer", "reasoning")


def sample_records(case: Mapping[str, Any], samples: Iterable[Any]) -> list[dict[str, Any]]:
    """Plain-data records for the measured requests of one test (no status yet)."""
    records = []
    for index, sample in enumerate(samples):
        fields = sample.measurement.to_dict()
        texts = {name: fields.pop(name) or "" for name in _TEXT_FIELDS}
        record = {**case, "request": index, **fields}
        record["answer_chars"] = len(texts["answer"])
        record["reasoning_chars"] = len(texts["reasoning"])
        record["answer_preview"] = texts["answer"][:PREVIEW_CHARS]
        record["truth"] = sample.truth
        if sample.server_timings is not None:
            record["server_timings"] = sample.server_timings
        record.update(sample.extra or {})
        records.append(record)
    return records


def _status(report: Any) -> tuple[str, str | None]:
    if report.skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else None
        return "skipped", str(reason).removeprefix("Skipped: ") if reason else None
    if report.failed:
        return "failed", report.longreprtext.strip().splitlines()[-1][:1000] or "failed"
    return "passed", None


def calibration(records: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """How far measured TTFT and TPOT are from what the built-in server logged it did."""
    ttft, tpot = [], []
    for record in records:
        truth = record.get("truth")
        if not record.get("ok") or not truth:
            continue
        if record.get("ttft_ms") is not None and truth.get("ttft_ms") is not None:
            ttft.append(record["ttft_ms"] - truth["ttft_ms"])
        if record.get("tpot_ms") is not None and truth.get("tpot_ms"):
            tpot.append((record["tpot_ms"] - truth["tpot_ms"]) / truth["tpot_ms"] * 100)
    if not ttft:
        return None
    return {
        "ttft_error_ms": summarize(ttft),
        "ttft_abs_max_ms": max(abs(v) for v in ttft),
        "tpot_error_pct": summarize(tpot),
        "tpot_abs_max_pct": max((abs(v) for v in tpot), default=None),
    }


@dataclass
class Recorder:
    """Collects the session's records; streams them to ``.jsonl`` when saving."""

    stamp: str
    results_dir: Path | None
    knee_factor: float = 2.0
    baseline_turns: int = 3
    records: list[dict[str, Any]] = field(default_factory=list)
    gate: list[dict[str, Any]] = field(default_factory=list)
    gate_note: str | None = None
    _jsonl: IO[str] | None = None

    @property
    def jsonl_path(self) -> Path | None:
        return self.results_dir / f"{self.stamp}.jsonl" if self.results_dir else None

    @property
    def json_path(self) -> Path | None:
        return self.results_dir / f"{self.stamp}.json" if self.results_dir else None

    def add_report(self, nodeid: str, report: Any, payload: Mapping[str, Any]) -> None:
        """Record one test's outcome from the payload its report carried."""
        status, message = _status(report)
        records = payload.get("records") or [{**payload["case"], "ok": False}]
        for record in records:
            record = {"test": nodeid, **record, "status": status}
            if status == "skipped":
                record["reason"] = message
            elif status == "failed" and not record.get("error"):
                record["error"] = message
            self.add(record)

    def add(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        path = self.jsonl_path
        if path is None:
            return
        if self._jsonl is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._jsonl = path.open("a", encoding="utf-8")
        self._jsonl.write(json.dumps(record, default=str) + "\n")
        self._jsonl.flush()

    def document(self, metadata: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": "pytest-llmbench",
            "metadata": dict(metadata),
            "records": self.records,
            "aggregates": aggregate(self.records),
            "conversations": self.conversations(),
            "calibration": calibration(self.records),
            "crosscheck": crosscheck_summary(self.records),
            "gate": self.gate,
            "gate_note": self.gate_note,
        }

    def conversations(self) -> list[dict[str, Any]]:
        """One summary per conversation (target), with its degradation analysis."""
        from .degradation import summarize_conversation

        groups: dict[str, list[dict[str, Any]]] = {}
        for record in self.records:
            if record.get("turn") is not None:
                groups.setdefault(str(record.get("target")), []).append(record)
        return [
            summarize_conversation(turns, self.knee_factor, self.baseline_turns)
            for _, turns in sorted(groups.items())
        ]

    def finish(self, document: Mapping[str, Any]) -> Path | None:
        """Write ``document`` as the results JSON (atomically) and close the ``.jsonl``; returns
        the JSON path."""
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None
        path = self.json_path
        if path is None:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")
        partial.replace(path)
        return path
