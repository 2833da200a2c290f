"""A load point's records: each request's full record on disk, a slim one in memory.

A point can have 100,000 requests; each record carries its event times and inter-token gaps
(``event_ms``, ``itl_ms``, ``icl_ms``: some 600 floats at 200 tokens, 20 KB as Python objects).
:class:`PointRecords` makes the records one at a time as the point's samples are parsed: the
full record is written out (a staging file first, the point's ``.load.jsonl`` once its steady
window is known), the record kept in memory, carried on the test's report and written into the
results JSON is the *slim* one, without those lists (but one the point's SLOs judge, such as
``itl_ms.p99 <= 50``: a search's bootstrap redraws it), and the ITL values of the successful
requests are pooled in one ``array('d')`` (8 bytes a gap) for the point's ITL percentiles.
"""

from __future__ import annotations

import json
import tempfile
from array import array
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, cast

from ..config.load_spec import Slo
from ..measure.redact import Redactor
from ..measure.stream import Sample
from ..schema import Key, Record, Window
from .load_figures import judge_request, request_end_ns
from .records import sample_record

__all__ = ["SLIM_DROPPED", "PointRecords"]

#: The fields a slim record leaves out (they stay in the full record, on disk).
SLIM_DROPPED = frozenset({Key.EVENT_MS, Key.ITL_MS, Key.ICL_MS})


class PointRecords:
    """Collects one point's records (see the module): ``add`` each sample, then ``finish``."""

    def __init__(self, case: Mapping[str, Any], redactor: Redactor, slos: Sequence[Slo]) -> None:
        self.case, self.redactor, self.slos = case, redactor, slos
        # a list an SLO judges stays (a search's bootstrap redraws its values)
        self.dropped = SLIM_DROPPED - {slo.field for slo in slos}
        #: The slim records, in the order the requests were issued.
        self.kept: list[Record] = []
        #: Every gap between token events of every successful request (ms).
        self.itl_ms: array[float] = array("d")
        # closed by finish()
        self._staging: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115

    def add_all(self, samples: Iterable[Sample]) -> None:
        """Make, judge and keep the record of each sample, in turn."""
        write = self._staging.write
        for sample in samples:
            record = sample_record(self.case, len(self.kept), sample, self.redactor)
            record[Key.GOOD] = judge_request(record, self.slos)
            if record.get(Key.OK):
                self.itl_ms.extend(record.get(Key.ITL_MS) or ())
            write(json.dumps(record, default=str) + "\n")
            dropped = self.dropped
            self.kept.append(cast(Record, {k: v for k, v in record.items() if k not in dropped}))

    def finish(self, steady: Window, path: Path | None) -> None:
        """Mark each record ``steady`` (ended inside the steady window, as the point's figures
        count it) and append the full records to ``path`` (``None``: not saved); the staging
        file is gone afterwards."""
        start, end = steady["start_ns"], steady["end_ns"]
        for record in self.kept:
            record[Key.STEADY] = start <= request_end_ns(record) <= end
        staging = self._staging
        try:
            if path is None:
                return
            staging.seek(0)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as out:
                for record, line in zip(self.kept, staging, strict=True):
                    # the line is one JSON object: the flag goes in before its closing brace
                    flag = "true" if record[Key.STEADY] else "false"
                    out.write(f'{line.rstrip().removesuffix("}")}, "{Key.STEADY}": {flag}}}\n')
        finally:
            staging.close()
