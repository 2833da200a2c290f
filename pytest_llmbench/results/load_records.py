"""A load point's records: each request's full record on disk, what the figures need in memory.

A point can have 100,000 requests; a record is some 50 fields, its event times and inter-token
gaps (``event_ms``, ``itl_ms``, ``icl_ms``: some 600 floats at 200 tokens): 20 KB a request as
Python objects, 2 GB for the point. :class:`PointRecords` makes the records one at a time as the
point's samples are parsed, and keeps of each only:

- the full record, written out: to a staging file first, to the point's records file
  (``<stamp>.load.jsonl`` beside the results) once its steady window is known;
- a *row*: the fields the point's figures, its SLOs and the gate read (:data:`ROW_FIELDS`, about
  1 KB), from which the figures are computed (:func:`~.load_figures.point_figures` reads rows
  as it reads records);
- the ITL values of the successful requests, pooled in one ``array('f')`` (4 bytes a gap: a
  float32 keeps an ITL to 1 ns below 16 ms, to 0.1 µs below 1 s);
- the *slim* record (without those lists, except one an SLO judges) for the results JSON, as long
  as the point has at most :data:`INLINE_RECORDS` requests; past that the results name the
  point's records file instead and carry its samples (:meth:`PointRecords.samples`) for the gate
  and for baselines.
"""

from __future__ import annotations

import json
import tempfile
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, cast

from ..config.load_spec import Slo
from ..measure.redact import Redactor
from ..measure.stream import Sample
from ..schema import AGGREGATED_FIELDS, Key, Record, Window
from .baseline import add_fields
from .load_figures import CLIENT_FIELDS, SERVER_FIELDS, judge_request, request_end_ns
from .records import sample_record

__all__ = ["INLINE_RECORDS", "ROW_FIELDS", "SLIM_DROPPED", "PointRecords", "row_samples"]

#: A point with more requests than this keeps its records out of the results JSON (they are in
#: its records file): 2,000 slim records are about 13 MB in memory.
INLINE_RECORDS = 2000
#: How often (in samples) the parse reports its progress.
TICK_EVERY = 500
#: The fields a slim record leaves out (they stay in the full record, on disk).
SLIM_DROPPED = frozenset({Key.EVENT_MS, Key.ITL_MS, Key.ICL_MS})
#: What a row keeps of a record: what the point's figures read (its times, its outcome, its
#: percentile fields but the pooled ITL) and what the gate compares (the aggregated fields).
ROW_FIELDS = tuple(
    dict.fromkeys(
        (
            Key.T0_NS, Key.CLOSE_MS, Key.OK, Key.ERROR, Key.ERROR_KIND, Key.GOOD, Key.OUTPUT_TOKENS,
            *(f for f in SERVER_FIELDS if f != Key.ITL_MS), *CLIENT_FIELDS, *AGGREGATED_FIELDS,
        )
    )
)  # fmt: skip


def row_samples(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[float]]:
    """The samples of a point's rows for the gate and baselines: each aggregated field's values
    over the successful requests."""
    group: dict[str, list[float]] = {}
    for row in rows:
        if row.get(Key.OK):
            add_fields(group, row)
    return group


class PointRecords:
    """Collects one point's records (see the module): ``add_all`` its samples, then ``finish``."""

    def __init__(
        self,
        case: Mapping[str, Any],
        redactor: Redactor,
        slos: Sequence[Slo],
        shift_ns: int = 0,
    ) -> None:
        self.case, self.redactor, self.slos = case, redactor, slos
        #: Subtracted from each record's monotonic times (``t0_ns``, ``sched_ns``): a shard's
        #: clock offset to its controller, putting its requests on the controller's timeline.
        self.shift_ns = shift_ns
        #: A row per request, in the order the requests were issued.
        self.rows: list[dict[str, Any]] = []
        #: Every gap between token events of every successful request (ms).
        self.itl_ms: array[float] = array("f")
        #: The slim records, while the point is small enough to carry them (else ``None``).
        self.inline: list[Record] | None = []
        # a list an SLO judges stays in the row and the slim record (a search redraws it)
        judged = {slo.field for slo in slos}
        self._row_fields = (*ROW_FIELDS, *(f for f in sorted(judged) if f not in ROW_FIELDS))
        self._dropped = SLIM_DROPPED - judged
        # closed by finish()
        self._staging: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115

    def add_all(self, samples: Iterable[Sample], tick: Callable[[int], None] | None = None) -> None:
        """Make, judge and keep the record of each sample, in turn; ``tick(count)`` every
        :data:`TICK_EVERY` samples (a point of 100,000 takes minutes to parse)."""
        write = self._staging.write
        fields = self._row_fields
        for sample in samples:
            made = sample_record(self.case, len(self.rows), sample, self.redactor)
            record = cast(dict[str, Any], made)
            record[Key.GOOD] = judge_request(record, self.slos)
            if self.shift_ns:
                for name in (Key.T0_NS, Key.SCHED_NS):
                    if record.get(name) is not None:
                        record[name] -= self.shift_ns
            if record.get(Key.OK):
                self.itl_ms.extend(record.get(Key.ITL_MS) or ())
            write(json.dumps(record, default=str) + "\n")
            self.rows.append({k: record[k] for k in fields if record.get(k) is not None})
            if tick is not None and not len(self.rows) % TICK_EVERY:
                tick(len(self.rows))
            if self.inline is None:
                continue
            if len(self.inline) >= INLINE_RECORDS:
                self.inline = None  # too many to carry: the records file has them
                continue
            dropped = self._dropped
            self.inline.append(cast(Record, {k: v for k, v in record.items() if k not in dropped}))

    def samples(self) -> dict[str, list[float]]:
        """The point's samples for the gate and baselines (:func:`row_samples`)."""
        return row_samples(self.rows)

    def close(self) -> None:
        """Drop the staging file without writing the records anywhere."""
        self._staging.close()

    def finish(self, steady: Window, path: Path | None) -> None:
        """Mark each request ``steady`` (ended inside the steady window, as the point's figures
        count it) and append the full records to ``path`` (``None``: not saved); the staging
        file is gone afterwards."""
        start, end = steady["start_ns"], steady["end_ns"]
        flags = [start <= request_end_ns(row) <= end for row in self.rows]
        for record, flag in zip(self.inline or (), flags, strict=False):
            record[Key.STEADY] = flag
        staging = self._staging
        try:
            if path is None:
                return
            staging.seek(0)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as out:
                for flag, line in zip(flags, staging, strict=True):
                    # the line is one JSON object: the flag goes in before its closing brace
                    shown = "true" if flag else "false"
                    out.write(f'{line.rstrip().removesuffix("}")}, "{Key.STEADY}": {shown}}}\n')
        finally:
            staging.close()
