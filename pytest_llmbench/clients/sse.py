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

    Comments (``: ping``) and events without ``data:`` lines are dropped; CRLF is accepted; an
    unterminated last event is still delivered with the time of the last piece.
    """
    buffer = b""
    t_ns = 0
    for t_ns, data in pieces:
        buffer += data
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):
                continue  # a CRLF may be split across pieces; wait for the rest
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        while True:
            end = buffer.find(b"\n\n")
            if end < 0:
                break
            block, buffer = buffer[:end], buffer[end + 2 :]
            event = _block(block)
            if event is not None:
                yield (t_ns, *event)
    if buffer.strip():
        event = _block(buffer.replace(b"\r\n", b"\n").rstrip(b"\n"))
        if event is not None:
            yield (t_ns, *event)


def _block(block: bytes) -> tuple[str | None, str] | None:
    name: str | None = None
    data: list[str] = []
    for raw in block.decode("utf-8", "replace").split("\n"):
        if not raw or raw.startswith(":"):
            continue
        field, _, value = raw.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            data.append(value)
        elif field == "event":
            name = value
    return (name, "\n".join(data)) if data else None


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
