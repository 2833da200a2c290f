"""What both clients check of an aiohttp response before its body is streamed, outside the loop.

A redirect is refused (a benchmark must not measure another server than the one it names), an
error body is read only up to a bound, a 200 that is not a stream (a login page, a proxy's
notice) is named by its type and first characters, and a body whose HTTP framing breaks fails
at once instead of waiting for the deadline (:func:`watch_framing`).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Collection
from typing import Any

import aiohttp

from .base import ProviderError, error_message, printable

__all__ = ["SSE", "head_problem", "read_at_most", "watch_framing", "within"]

#: The content type of server-sent events, the lean client's only stream format.
SSE = "text/event-stream"


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
