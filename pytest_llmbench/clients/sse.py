"""Server-sent events, split after the stream from ``(arrival time, bytes)`` pieces.

An event's time is the arrival of the piece that completed it (its blank line), so splitting late
changes nothing about the timings while keeping the receive loop to a stamp and an append.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from .base import Delta, ProviderError, interpret_chunk

__all__ = ["StreamEnd", "iter_events", "parse_openai_stream"]


class StreamEnd:
    """How an OpenAI-format stream ended: ``done`` is true when ``[DONE]`` arrived."""

    __slots__ = ("done", "error")

    def __init__(self) -> None:
        self.done = False
        self.error: str | None = None


def iter_events(pieces: Iterable[tuple[int, bytes]]) -> Iterator[tuple[int, str | None, str]]:
    """Yield ``(t_ns, event name, data)`` for every SSE event that carries data.

    Comments (``: ping``) and events without ``data:`` lines are dropped; CRLF and lone CR are
    accepted (a CR that ends a piece waits for the next, which may bring its LF); an
    unterminated last event is still delivered with the time of the last piece. Linear in the
    stream's size: the unfinished event is kept as a list of pieces and joined once.
    """
    tail: list[bytes] = []  # the unfinished event, line ends already made LF
    carry = b""  # a CR that ended the previous piece
    t_ns = 0
    for t_ns, data in pieces:
        if carry or b"\r" in data:
            data = carry + data
            carry = b"\r" if data.endswith(b"\r") else b""
            data = (data[:-1] if carry else data).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        start = 0
        if tail and data[:1] == b"\n" and tail[-1].endswith(b"\n"):
            event = _block(b"".join(tail)[:-1])  # the blank line straddles two pieces
            tail = []
            start = 1
            if event is not None:
                yield (t_ns, *event)
        while (end := data.find(b"\n\n", start)) >= 0:
            block = b"".join([*tail, data[start:end]]) if tail else data[start:end]
            tail = []
            start = end + 2
            event = _block(block)
            if event is not None:
                yield (t_ns, *event)
        if start < len(data):
            tail.append(data[start:] if start else data)
    if tail:
        event = _block(b"".join(tail) if len(tail) > 1 else tail[0])
        if event is not None:
            yield (t_ns, *event)


def _block(block: bytes) -> tuple[str | None, str] | None:
    name: str | None = None
    data: list[bytes] = []
    for raw in block.split(b"\n"):
        if not raw or raw.startswith(b":"):
            continue
        field, _, value = raw.partition(b":")
        value = value[1:] if value.startswith(b" ") else value
        if field == b"data":
            data.append(value)
        elif field == b"event":
            name = value.decode("utf-8", "replace")
    return (name, b"\n".join(data).decode("utf-8", "replace")) if data else None


def parse_openai_stream(pieces: Iterable[tuple[int, bytes]]) -> tuple[list[Delta], StreamEnd]:
    """Parse an OpenAI-format SSE body into deltas; the end says ``[DONE]`` or what went wrong.

    A malformed event or an error object ends the parse with ``end.error`` set and the deltas
    before it kept, so a failed request still reports what it measured.
    """
    deltas: list[Delta] = []
    end = StreamEnd()
    for t_ns, _name, data in iter_events(pieces):
        if data.strip() == "[DONE]":
            end.done = True
            continue
        try:
            chunk = json.loads(data)
        except ValueError:
            end.error = f"malformed stream event (not JSON): {data[:200]!r}"
            break
        if not isinstance(chunk, dict):
            end.error = f"malformed stream event (not an object): {data[:200]!r}"
            break
        try:
            deltas.append(interpret_chunk(t_ns, chunk))
        except ProviderError as exc:
            end.error = exc.message
            break
    return deltas, end
