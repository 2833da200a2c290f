"""What both clients check of an aiohttp response before its body is streamed, outside the loop.

A redirect is refused (a benchmark must not measure another server than the one it names), an
error body is read only up to a bound, a 200 that is not a stream (a login page, a proxy's
notice) is named by its type and first characters, and a body whose HTTP framing breaks fails
at once instead of waiting for the deadline (:func:`watch_framing`). A body read by someone else
(LiteLLM) is counted against the byte cap on its way, and kept if asked (:class:`BodyTap`), so
that the events of a wire whose parser hides them can be checked after the stream
(:func:`body_problem`).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator, Mapping
from typing import Any, TypeVar, cast

import aiohttp

from .base import ProviderError, error_message, printable
from .sse import iter_events

__all__ = [
    "SSE",
    "WIRE_ENDS",
    "BodyTap",
    "body_problem",
    "head_problem",
    "read_at_most",
    "watch_framing",
    "within",
]

_T = TypeVar("_T")

#: The content type of server-sent events, the lean client's only stream format.
SSE = "text/event-stream"
#: The wires whose events a client checks itself after the stream where its parser hides them,
#: and how each ends (what a cut stream lacks): Anthropic's ``message_stop`` or a
#: ``message_delta`` with a ``stop_reason`` (as a finish reason without ``[DONE]`` ends an OpenAI
#: stream); Gemini, which has no terminal event, a candidate with a ``finishReason``.
WIRE_ENDS = {"anthropic": "message_stop or a stop_reason", "gemini": "a finishReason"}


async def within(seconds: float, work: Awaitable[None]) -> None:
    """Await ``work`` under a total deadline (``TimeoutError`` past it): one timer for the whole
    request and nothing per piece. From Python 3.11 in the caller's own task (``asyncio.timeout``);
    on 3.10 ``asyncio.wait_for`` runs it in a task of its own, which costs a loop turn or two.
    """
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            await work
    else:
        await asyncio.wait_for(work, seconds)


async def read_at_most(content: aiohttp.StreamReader, limit: int) -> bytes:
    """Up to ``limit`` bytes of a body (decompressed), never more in memory than one piece over."""
    parts: list[bytes] = []
    size = 0
    async for piece in content.iter_any():
        parts.append(piece)
        size += len(piece)
        if size >= limit:
            break
    return b"".join(parts)[:limit]


async def head_problem(
    response: aiohttp.ClientResponse, max_error_bytes: int, stream_types: Collection[str]
) -> ProviderError | None:
    """Why this response cannot be measured, from its status and headers (reading at most
    ``max_error_bytes`` of the body to say so), or ``None``."""
    status = response.status
    if 300 <= status < 400:
        location = response.headers.get("Location", "(no Location header)")
        return ProviderError(status, f"redirected ({status}) to {location}; not followed")
    if status != 200:
        return ProviderError(
            status, error_message(await read_at_most(response.content, max_error_bytes))
        )
    if response.content_type not in stream_types:
        body = await read_at_most(response.content, min(max_error_bytes, 4096))
        text = printable(body.decode("utf-8", "replace"))
        return ProviderError(200, f"expected an event stream, got {response.content_type} ({text})")
    return None


def _retrieve(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved, so that asyncio does not report it as never retrieved


def watch_framing(response: aiohttp.ClientResponse) -> Callable[[], None]:
    """Fail the body's reader as soon as the connection closes on an HTTP framing error.

    A workaround for aiohttp 3.14 with its C parser: invalid chunked framing mid-body (a chunk
    size that is not hex) closes the connection and records the error on the connection's
    protocol, but the body's reader is never told; it waits for ever, and the read timeout went
    with the connection. One callback on the connection's ``closed`` future, registered before
    the body is read, hands the error to the reader as a ``ClientPayloadError``; nothing runs per
    piece. Returns the function that stops watching.
    """
    connection = response.connection
    protocol = connection.protocol if connection is not None else None
    closed = protocol.closed if protocol is not None else None
    if protocol is None or closed is None:
        return _nothing
    content = response.content

    def on_closed(future: asyncio.Future[None]) -> None:
        _retrieve(future)
        failure: Any = protocol.exception()
        if failure is not None and not content.is_eof() and content.exception() is None:
            detail = " ".join(str(getattr(failure, "message", failure)).split())
            content.set_exception(aiohttp.ClientPayloadError(f"the HTTP framing broke: {detail}"))

    closed.add_done_callback(on_closed)

    def stop() -> None:
        closed.remove_done_callback(on_closed)
        closed.remove_done_callback(_retrieve)  # at most one per connection
        closed.add_done_callback(_retrieve)

    return stop


def _nothing() -> None:
    return None


class BodyTap:
    """Stands in for ``response.content`` (:meth:`install`) when another reader (LiteLLM's
    aiohttp transport, which reads with ``iter_chunked``) takes the body: every piece read is
    counted, and kept in :attr:`pieces` when asked, on its way. Past ``cap`` bytes the read fails
    with a ``ClientPayloadError`` and :attr:`over` is set, so the reader cannot hold more of a
    body than the cap (an unterminated line, a stream its parser swallows) nor hide that it was
    cut. ``read``, ``readany``, ``iter_chunked`` and ``iter_any`` are counted; any other read
    goes to the body's reader uncounted and sets :attr:`bypassed` (the kept pieces are then not
    the body). The cost is one call and an append per piece read.
    """

    def __init__(self, content: aiohttp.StreamReader, cap: int, keep: bool) -> None:
        self._content = content
        self.cap = cap
        self.size = 0
        self.over = False
        self.eof = False  # the reader read to the body's end
        self.bypassed = False
        self.pieces: list[bytes] = []
        self.keep = keep

    @classmethod
    def install(cls, response: aiohttp.ClientResponse, cap: int, keep: bool) -> BodyTap:
        tap = cls(response.content, cap, keep)
        response.content = cast(aiohttp.StreamReader, tap)
        return tap

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("read", "iter_")):
            self.bypassed = True
        return getattr(self._content, name)

    def _passed(self, piece: bytes) -> bytes:
        self.size += len(piece)
        if self.size > self.cap:
            self.over = True
        if self.over:
            raise aiohttp.ClientPayloadError(
                f"the response exceeded the byte cap of {self.cap:,} bytes"
            )
        if not piece:
            self.eof = True
        elif self.keep:
            self.pieces.append(piece)
        return piece

    async def read(self, n: int = -1) -> bytes:
        if n > 0:
            return self._passed(await self._content.read(n))
        return b"" if n == 0 else b"".join([piece async for piece in self.iter_any()])

    async def readany(self) -> bytes:
        return self._passed(await self._content.readany())

    async def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        while piece := await self.read(n):
            yield piece

    async def iter_any(self) -> AsyncIterator[bytes]:
        while piece := await self.readany():
            yield piece


def _wire_ended(provider: str, event: Mapping[str, Any]) -> bool:
    """Whether ``event`` is the provider's own end (:data:`WIRE_ENDS`); for Gemini a blocked
    prompt (``promptFeedback.blockReason``) is one too."""
    if provider == "anthropic":
        kind, delta = event.get("type"), event.get("delta")
        stopped = isinstance(delta, Mapping) and bool(delta.get("stop_reason"))
        return kind == "message_stop" or (kind == "message_delta" and stopped)
    candidates = event.get("candidates")
    if isinstance(candidates, list) and any(
        isinstance(c, Mapping) and c.get("finishReason") for c in candidates
    ):
        return True
    feedback = event.get("promptFeedback")
    return isinstance(feedback, Mapping) and bool(feedback.get("blockReason"))


def body_problem(provider: str, pieces: list[bytes], whole: bool) -> tuple[str | None, bool]:
    """``(problem, ended)`` of an SSE body of ``provider``'s wire as it came: the first event
    that is not a JSON object or that is an error (named as the lean path names them), and
    whether the provider's own end came before it. An unterminated last event is judged only in
    a ``whole`` body: one whose reading stopped early (a cut, the chunk cap) stops inside one."""
    events: Iterator[tuple[int, str | None, str]] = iter_events((0, p) for p in pieces)
    if not whole and not (pieces and pieces[-1].endswith((b"\n\n", b"\r\r", b"\r\n\r\n"))):
        events = _all_but_last(events)
    ended = False
    for _, name, data in events:
        if data.strip() == "[DONE]":  # not these wires', but what a proxy in front may add
            continue
        try:
            event = json.loads(data)
        except ValueError:
            return f"malformed stream event (not JSON): {data[:200]!r}", ended
        if not isinstance(event, dict):
            return f"malformed stream event (not an object): {data[:200]!r}", ended
        if name == "error" or event.get("error"):
            return "error event in stream: " + error_message(event), ended
        ended = ended or _wire_ended(provider, event)
    return None, ended


def _all_but_last(items: Iterator[_T]) -> Iterator[_T]:
    for previous in items:  # the first; the inner loop takes the rest
        for item in items:
            yield previous
            previous = item
