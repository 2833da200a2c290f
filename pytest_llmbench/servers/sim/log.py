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
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

__all__ = ["EventRecord", "RequestRecord", "TruthLog", "Wire"]

Wire = Literal["openai", "anthropic", "gemini"]


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

    def as_dict(self) -> dict[str, object]:
        """The record as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RequestRecord:
        """A record read back from its JSON form (``GET /llmbench/requests``)."""
        fields = dict(data)
        fields["events"] = [EventRecord(**event) for event in fields.get("events") or ()]
        return cls(**fields)


class TruthLog:
    """All records of this server process, in memory and optionally in a JSON-lines file.

    Adding a record only stores the object: it happens right before a response's last write, so
    it must cost nothing. Records become dicts when read, and the file line is written after the
    current callback (the response's last bytes) has gone out.
    """

    def __init__(self, path: Path | None = None) -> None:
        self._records: dict[str, RequestRecord] = {}
        self._file: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")

    def add(self, record: RequestRecord) -> None:
        """Store ``record`` (and, soon after, append it to the log file, flushed); once per id."""
        if record.id in self._records:
            return
        self._records[record.id] = record
        if self._file is not None:
            asyncio.get_running_loop().call_soon(self._write, record)

    def _write(self, record: RequestRecord) -> None:
        if self._file is not None and not self._file.closed:
            self._file.write(json.dumps(record.as_dict(), separators=(",", ":")) + "\n")
            self._file.flush()

    def all(self, since_ns: int | None = None) -> list[dict[str, object]]:
        """Every record so far (received at or after ``since_ns``, if given), oldest first."""
        return [
            record.as_dict()
            for record in self._records.values()
            if since_ns is None or record.recv_ns >= since_ns
        ]

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
