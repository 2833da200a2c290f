"""Per-test records: built beside the test, carried on its report, written as each test finishes.

The records ride on the test report (``report.llmbench``), which pytest-xdist serialises back to
the controller, so one recorder in the controller sees every worker's results. Each record is
appended to ``results/<stamp>.jsonl`` and flushed at once: an interrupted or killed session keeps
everything it finished. The full results file is written at the end of the session.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from ..config.spec import ConversationSpec
from ..schema import SCHEMA_VERSION, Key, LoadPointResult, Record
from .baseline import Samples, sample_groups
from .calibration import calibration
from .crosscheck import crosscheck_summary
from .records import outcome
from .stats import aggregate

__all__ = ["Recorder"]


@dataclass
class Recorder:
    """Collects the session's records; streams them to ``.jsonl`` when saving."""

    stamp: str
    results_dir: Path | None
    #: Where the conversation's knee analysis takes its factor and baseline turns from.
    conversation: ConversationSpec = field(default_factory=ConversationSpec)
    records: list[Record] = field(default_factory=list)
    #: The load points' figures and their requests' records (kept apart from ``records``: the
    #: aggregates, calibration and baselines are those of requests made one at a time).
    load_points: list[LoadPointResult] = field(default_factory=list)
    load_records: list[Record] = field(default_factory=list)
    #: Every load point's samples for the gate and baselines (also of points too large to
    #: carry their records), and each load target's provider.
    load_samples: Samples = field(default_factory=dict)
    load_providers: dict[str, str] = field(default_factory=dict)
    capacities: list[dict[str, Any]] = field(default_factory=list)
    load_notes: list[str] = field(default_factory=list)
    gate: list[dict[str, Any]] = field(default_factory=list)
    gate_note: str | None = None
    _jsonl: IO[str] | None = None

    @classmethod
    def open(cls, stamp: str, results_dir: Path | None) -> Recorder:
        """A recorder named ``stamp``, or ``stamp-2``, ``-3``, … when that name is taken."""
        if results_dir is not None:
            suffix, base = 1, stamp
            while (results_dir / f"{stamp}.jsonl").exists():
                suffix += 1
                stamp = f"{base}-{suffix}"
        return cls(stamp, results_dir)

    @property
    def jsonl_path(self) -> Path | None:
        return self.results_dir / f"{self.stamp}.jsonl" if self.results_dir else None

    @property
    def json_path(self) -> Path | None:
        return self.results_dir / f"{self.stamp}.json" if self.results_dir else None

    def add_report(self, nodeid: str, report: Any, payload: Mapping[str, Any]) -> None:
        """Record one test's outcome from the payload its report carried."""
        status, message = outcome(report)
        self.add_payload(nodeid, payload, status, message)

    def add_payload(
        self, nodeid: str, payload: Mapping[str, Any], status: str, message: str | None
    ) -> None:
        """Record one test's records and load figures with its outcome (``status`` and the
        failure's or skip's ``message``)."""
        case = payload["case"]
        load = Key.POINT in case
        found = payload.get("load") or {}
        self.load_points += found.get("points") or []
        self.capacities += found.get("capacities") or []
        self.load_notes += found.get("notes") or []
        for group in found.get("samples") or ():
            self.load_samples[(str(group["target"]), str(group["point"]))] = group["samples"]
        if load:
            self.load_providers[str(case.get(Key.TARGET))] = str(case.get(Key.PROVIDER))
        records = payload.get("records") or []
        # nothing measured: the test's case (a passed shard whose point another shard carries:
        # nothing at all)
        elsewhere = payload.get("shard_kept_elsewhere") and status == "passed"
        if not records and not found.get("points") and not elsewhere:
            records = [{**case, Key.OK: False}]
        for measured in records:
            record = cast(Record, {Key.TEST: nodeid, **measured, Key.STATUS: status})
            if status == "skipped":
                record[Key.REASON] = message
            elif status == "failed" and not record.get(Key.ERROR) and not load:
                record[Key.ERROR] = message  # a load point's failure is the point's, not each's
            self.add(record, load)

    def add(self, record: Record, load: bool = False) -> None:
        """Keep ``record`` (with the load records when ``load``) and append it to the ``.jsonl``
        at once (flushed)."""
        (self.load_records if load else self.records).append(record)
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
            "load": {
                "points": self.load_points,
                "capacities": self.capacities,
                "notes": self.load_notes,
                "records": self.load_records,
                "samples": sample_groups(self.load_samples),
            },
        }

    def conversations(self) -> list[dict[str, Any]]:
        """One summary per conversation (target), with its degradation analysis."""
        from .degradation import summarize_conversation

        spec = self.conversation
        groups: dict[str, list[Record]] = {}
        for record in self.records:
            if record.get(Key.TURN) is not None:
                groups.setdefault(str(record.get(Key.TARGET)), []).append(record)
        return [
            summarize_conversation(turns, spec.knee_factor, spec.baseline_turns)
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
