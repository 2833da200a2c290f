"""The truth log: what the simulator actually sent, and when, for every request.

One record per request (errors included), kept in memory for ``GET /llmbench/requests`` and, when
the server has a log file, appended to it as one JSON line and flushed at once.

Record fields:

- ``id``, ``wire`` (``openai`` | ``anthropic`` | ``gemini``), ``model``, ``stream``;
- ``recv_ns``: when the request came in: when the server read its bytes (see
  :mod:`~pytest_llmbench.servers.sim.receipt`); ``prompt_tokens``; ``ttft_target_ms``;
  ``max_tokens``; ``turn``: the number of user messages in the request;
- ``admit_ns``: when the request was admitted to its model's batch (the load model,
  :mod:`~pytest_llmbench.servers.sim.batch`): ``recv_ns`` itself unless it waited in the
  admission queue, so ``admit_ns - recv_ns`` is its queue time; ``null`` if it never was
  (refused before admission: bad request, context too long, an HTTP fault; or gone while queued).
  The first event is due at ``admit_ns`` plus ``ttft_target_ms``, and later with
  ``prefill_serial`` when the prefill lane was busy;
- ``batch_at_admit``: requests of the model admitted at that moment, this one included (0 if
  never admitted);
- ``events``: ``{"sent_ns", "tokens", "kind", "due_ns"}`` per token event actually written
  (``kind``: ``reasoning`` | ``answer`` | ``tag``; ``due_ns``: the absolute deadline it was paced
  to, so ``sent_ns - due_ns`` is the server's own lateness); empty for non-streaming responses;
- ``output_tokens`` / ``reasoning_tokens``: tokens actually delivered (tags count as output, not
  as reasoning);
- ``finish_reason`` as sent to the client (``null`` if none was); ``fault`` applied (``null`` if
  none) and ``fault_ns``, when it struck;
- ``status``: the HTTP status sent (0 if no response got out);
- ``done_ns``: stamped right before the last bytes were written, like ``sent_ns``. The record is
  in the log before the client can have read those bytes, so it can be fetched at once.

All ``*_ns`` values are ``time.perf_counter_ns()`` (CLOCK_MONOTONIC).

Reading the log (:meth:`TruthLog.all`, ``GET /llmbench/requests``) can be paged (``offset``,
``limit``) and compact (``events="ends"``: each record keeps only its first and last event, every
other field whole, so ``output_tokens`` still counts every token delivered). Records come in the
order they were logged, which is the order they were done, not strictly the order of receipt;
that order only grows at its end, so an offset stays put while requests are still being served.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

__all__ = ["EVENT_FORMS", "EventForm", "EventRecord", "RequestRecord", "TruthLog", "Wire"]

Wire = Literal["openai", "anthropic", "gemini"]
#: Which events a record read from the log keeps: ``all``, or its first and last (``ends``).
EventForm = Literal["all", "ends"]
EVENT_FORMS: tuple[EventForm, ...] = ("all", "ends")
# Read positions remembered per (since_ns, offset); see TruthLog._select.
_MAX_CURSORS = 64


@dataclass
class EventRecord:
    """One token event as written to the socket, and the deadline it was paced to."""

    sent_ns: int
    tokens: int
    kind: str
    due_ns: int


@dataclass
class RequestRecord:
    """Everything the simulator did for one request."""

    id: str
    wire: Wire
    model: str
    stream: bool
    recv_ns: int
    admit_ns: int | None = None
    batch_at_admit: int = 0
    prompt_tokens: int = 0
    ttft_target_ms: float = 0.0
    max_tokens: int | None = None
    turn: int = 0
    events: list[EventRecord] = field(default_factory=list)
    output_tokens: int = 0
    reasoning_tokens: int = 0
    finish_reason: str | None = None
    fault: str | None = None
    fault_ns: int | None = None
    status: int = 0
    done_ns: int = 0

    def add_event(self, sent_ns: int, tokens: int, kind: str, due_ns: int) -> None:
        """Log a token event and count its tokens as delivered."""
        self.events.append(EventRecord(sent_ns, tokens, kind, due_ns))
        self.output_tokens += tokens
        if kind == "reasoning":
            self.reasoning_tokens += tokens

    def as_dict(self, events: EventForm = "all") -> dict[str, object]:
        """The record as a JSON-ready dict (what ``dataclasses.asdict`` gives, built faster), with
        every event or, for ``events="ends"``, only the first and the last (one if it has one)."""
        data: dict[str, object] = {name: getattr(self, name) for name in _RECORD_FIELDS}
        kept = self.events
        if events == "ends" and len(kept) > 2:
            kept = [kept[0], kept[-1]]
        data["events"] = [
            {"sent_ns": e.sent_ns, "tokens": e.tokens, "kind": e.kind, "due_ns": e.due_ns}
            for e in kept
        ]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RequestRecord:
        """A record read back from its JSON form (``GET /llmbench/requests``)."""
        fields = dict(data)
        fields["events"] = [EventRecord(**event) for event in fields.get("events") or ()]
        return cls(**fields)


_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(RequestRecord))


class TruthLog:
    """All records of this server process, in memory and optionally in a JSON-lines file.

    Adding a record only stores the object: it happens right before a response's last write, so
    it must cost nothing. Records become dicts when read, and the file line is written after the
    current callback (the response's last bytes) has gone out.
    """

    def __init__(self, path: Path | None = None) -> None:
        self._records: dict[str, RequestRecord] = {}
        self._order: list[RequestRecord] = []  # the same records, by position
        self._cursors: dict[tuple[int, int], int] = {}
        self._file: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")

    def add(self, record: RequestRecord) -> None:
        """Store ``record`` (and, soon after, append it to the log file, flushed); once per id."""
        if record.id in self._records:
            return
        self._records[record.id] = record
        self._order.append(record)
        if self._file is not None:
            asyncio.get_running_loop().call_soon(self._write, record)

    def _write(self, record: RequestRecord) -> None:
        if self._file is not None and not self._file.closed:
            self._file.write(json.dumps(record.as_dict(), separators=(",", ":")) + "\n")
            self._file.flush()

    def all(
        self,
        since_ns: int | None = None,
        *,
        offset: int = 0,
        limit: int | None = None,
        events: EventForm = "all",
    ) -> list[dict[str, object]]:
        """The records received at or after ``since_ns`` (every record if ``None``), oldest logged
        first, skipping the first ``offset`` of them, at most ``limit`` of them; with
        ``events="ends"`` each keeps only its first and last event
        (:meth:`RequestRecord.as_dict`).

        Only the records returned are converted. Raises :class:`ValueError` for a negative
        ``offset``, a ``limit`` below 1 or an unknown ``events``.
        """
        if offset < 0:
            raise ValueError(f"offset must be at least 0, not {offset}")
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        if events not in EVENT_FORMS:
            raise ValueError(f"events must be one of {', '.join(EVENT_FORMS)}, not {events!r}")
        return [record.as_dict(events) for record in self._select(since_ns, offset, limit)]

    def _select(self, since_ns: int | None, offset: int, limit: int | None) -> list[RequestRecord]:
        """The records of :meth:`all`, unconverted.

        Without ``since_ns`` a page is a slice. With it, the records are scanned comparing
        ``recv_ns``; where a page ends, the position is remembered for ``(since_ns, offset)`` (the
        records before it hold exactly ``offset`` matches, and stay so, as the log only grows at
        its end), so the next page starts there: read page by page, each record is looked at once.
        """
        records = self._order
        if since_ns is None:
            return records[offset : None if limit is None else offset + limit]
        cursor = self._cursors.get((since_ns, offset))
        index, skip = (0, offset) if cursor is None else (cursor, 0)
        page: list[RequestRecord] = []
        while index < len(records) and (limit is None or len(page) < limit):
            record = records[index]
            index += 1
            if record.recv_ns < since_ns:
                continue
            if skip:
                skip -= 1
                continue
            page.append(record)
        if not skip and page:
            if len(self._cursors) >= _MAX_CURSORS:
                del self._cursors[next(iter(self._cursors))]  # the oldest
            self._cursors[(since_ns, offset + len(page))] = index
        return page

    def has(self, request_id: str) -> bool:
        """Whether the record of ``request_id`` is in the log."""
        return request_id in self._records

    def get(self, request_id: str) -> dict[str, object] | None:
        """The record with ``request_id``, or ``None``."""
        record = self._records.get(request_id)
        return record.as_dict() if record is not None else None

    def close(self) -> None:
        """Close the log file, if any."""
        if self._file is not None:
            self._file.close()
            self._file = None
