"""Plain-data records of a test's measured requests, and the test's outcome on each of them.

Every string of a record (the error, the answer's preview, truth, extra fields) is sanitized with
the session's :class:`~pytest_llmbench.measure.redact.Redactor` as the record is made: every
output (the ``.jsonl``, the results document, the reports, the terminal) is written from records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from ..measure.redact import Redactor
from ..schema import Key, Record

if TYPE_CHECKING:
    from ..measure.stream import Sample

__all__ = ["PREVIEW_CHARS", "outcome", "sample_record", "sample_records"]

#: How much of an answer a record keeps (the full texts are not stored).
PREVIEW_CHARS = 300


def sample_records(
    case: Mapping[str, Any], samples: Iterable[Sample], redactor: Redactor | None = None
) -> list[Record]:
    """Plain-data records for the measured requests of one test (no status yet), sanitized by
    ``redactor`` (without one, control characters are still escaped)."""
    clean = redactor if redactor is not None else Redactor()
    return [sample_record(case, index, sample, clean) for index, sample in enumerate(samples)]


def sample_record(
    case: Mapping[str, Any], index: int, sample: Sample, redactor: Redactor
) -> Record:
    """The record of the test's ``index``-th request (see :func:`sample_records`)."""
    fields = sample.measurement.to_dict()
    answer, reasoning = fields.pop(Key.ANSWER) or "", fields.pop(Key.REASONING) or ""
    record = cast(Record, {**case, Key.REQUEST: index, **fields})
    record[Key.ANSWER_CHARS] = len(answer)
    record[Key.REASONING_CHARS] = len(reasoning)
    record[Key.ANSWER_PREVIEW] = answer[:PREVIEW_CHARS]
    record[Key.TRUTH] = sample.truth
    if sample.server_timings is not None:
        record[Key.SERVER_TIMINGS] = sample.server_timings
    record.update(cast(Record, sample.extra or {}))
    return cast(Record, redactor.scrub(record))


def outcome(report: Any) -> tuple[str, str | None]:
    """``passed``, ``failed`` or ``skipped``, with the failure's last line or the skip reason."""
    if report.skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else None
        return "skipped", str(reason).removeprefix("Skipped: ") if reason else None
    if report.failed:
        lines = report.longreprtext.strip().splitlines()
        return "failed", (lines[-1][:1000] if lines else "") or "failed"
    return "passed", None
