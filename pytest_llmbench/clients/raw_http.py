"""The load mode's wire: HTTP/1.1 over asyncio protocols, a stamp and an append per arrival.

Hand-written on purpose (docs/performance.md, "Under load"). A load point streams thousands of
events a second through one process; aiohttp costs 92–120 µs of client CPU per event here (a
coroutine woken per read), which at 64 streams is four times the budget and delays every other
stream's stamps. Here each connection is an :class:`asyncio.Protocol`: ``data_received`` reads
the clock first, then feeds the bytes to llhttp (``httptools``, C) for the framing only: the body
pieces are kept as they came, with their stamps, and nothing of them is parsed until the point
is over. Requests are pre-built bytes sent with one ``write``; connections are opened and warmed
before the point starts, reused (keep-alive) and never retried.

Bounds as on the lean path: a byte cap on what is kept, at most ``max_error_bytes`` of an error
body, a total deadline per request (one timer handle), no redirect followed (a 3xx is a failure
naming the location), a 200 that is not an event stream or that comes compressed fails.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from array import array
from collections.abc import Callable
from urllib.parse import urlsplit

import httptools

from .guards import SSE

__all__ = ["Endpoint", "Exchange", "RawConnection", "build_request"]

_clock = time.perf_counter_ns


class Endpoint:
    """Where requests go: host, port, TLS, and the request path (``/v1/chat/completions``)."""

    def __init__(self, api_base: str, path: str = "/chat/completions") -> None:
        parts = urlsplit(api_base.rstrip("/") + path)
        self.tls = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.tls else 80)
        self.path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.authority = parts.netloc.rsplit("@", 1)[-1]

    async def connect(
        self, on_lost: Callable[[RawConnection], None] | None = None, timeout_s: float = 30.0
    ) -> RawConnection:
        """A new connection; :class:`OSError` (a :class:`TimeoutError` after ``timeout_s``,
        naming the address) when it cannot be made."""
        loop = asyncio.get_running_loop()
        context = ssl.create_default_context() if self.tls else None
        opening = loop.create_connection(
            lambda: RawConnection(on_lost),
            self.host,
            self.port,
            ssl=context,
            server_hostname=self.host if self.tls else None,
        )
        try:
            _, protocol = await asyncio.wait_for(opening, timeout_s)
        except asyncio.TimeoutError:
            raise TimeoutError(
                f"no connection to {self.authority} within {timeout_s:g} s (connect timeout)"
            ) from None
        return protocol


def build_request(endpoint: Endpoint, body: bytes, headers: dict[str, str]) -> bytes:
    """One request as the bytes of a single write (head and body)."""
    head = [
        f"POST {endpoint.path} HTTP/1.1",
        f"Host: {endpoint.authority}",
        "Content-Type: application/json",
        "Accept: text/event-stream",
        "Accept-Encoding: identity",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class Exchange:
    """One request's raw account: its times, the body pieces with their arrival stamps, and how
    it ended. Filled by :class:`RawConnection`, read after the point."""

    __slots__ = (
        "cap",
        "close_ns",
        "content_type",
        "done",
        "encoding",
        "error",
        "error_kind",
        "index",
        "keep_alive",
        "location",
        "pieces",
        "queue_ns",
        "sched_ns",
        "size",
        "spilled",
        "stamps",
        "status",
        "t0_ns",
        "wall_ns",
        "written_ns",
    )  # fmt: skip

    def __init__(self, index: int, sched_ns: int, cap: int) -> None:
        self.index, self.sched_ns, self.cap = index, sched_ns, cap
        self.queue_ns = self.t0_ns = self.wall_ns = self.written_ns = self.close_ns = 0
        self.status = 0
        self.stamps = array("q")
        self.pieces: list[bytes] = []
        self.size = 0
        #: Where :class:`~pytest_llmbench.measure.load_spill.Spill` put the stamps and pieces
        #: once the exchange ended (offset, stamps, body bytes); ``None`` while they are here.
        self.spilled: tuple[int, int, int] | None = None
        self.error: str | None = None
        self.error_kind: str | None = None
        self.content_type = self.encoding = self.location = ""
        self.keep_alive = False
        self.done: Callable[[Exchange], None] | None = None

    def fail(self, kind: str, message: str) -> None:
        if self.error is None:
            self.error_kind, self.error = kind, message


class RawConnection(asyncio.Protocol):
    """One keep-alive connection carrying one exchange at a time."""

    def __init__(self, on_lost: Callable[[RawConnection], None] | None = None) -> None:
        self.transport: asyncio.Transport | None = None
        self.exchange: Exchange | None = None
        self.closed = False
        self.max_error_bytes = 64 * 1024
        self._on_lost = on_lost
        self._parser = httptools.HttpResponseParser(self)
        self._now = 0
        self._delimited = False  # the response gave a length or chunked framing

    # -- asyncio.Protocol --------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        # pause_writing on any unsent byte, so resume_writing marks when a request left in full
        transport.set_write_buffer_limits(high=0)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self._now = _clock()  # first, before anything else
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # pragma: no cover - never asked for
            self._end("framing", "the server switched protocols")
        except httptools.HttpParserError as exc:
            self._end("framing", f"the HTTP framing broke: {' '.join(str(exc).split())}")

    def resume_writing(self) -> None:
        exchange = self.exchange
        if exchange is not None and not exchange.written_ns:
            exchange.written_ns = _clock()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        exchange = self.exchange
        if exchange is not None:
            self._now = _clock()
            if exchange.status == 200 and not exchange.error and not self._delimited:
                self._complete()  # a body delimited by the connection's close
            else:
                self._end("cut", "stream cut: the server closed the connection before the end")
        if self._on_lost is not None:
            self._on_lost(self)

    # -- sending -------------------------------------------------------------------------------
    def send(self, exchange: Exchange, data: bytes) -> None:
        """Stamp ``t0`` and write the whole request; ``written_ns`` when the kernel has it."""
        assert self.transport is not None
        assert self.exchange is None
        self.exchange = exchange
        self._parser = httptools.HttpResponseParser(self)
        self._delimited = False
        exchange.wall_ns = time.time_ns()  # a timestamp beside t0, never subtracted
        exchange.t0_ns = _clock()
        self.transport.write(data)
        if not self.transport.get_write_buffer_size():
            exchange.written_ns = _clock()

    def abort(self, kind: str, message: str) -> None:
        """End the current exchange now (a deadline, the point's end) and drop the connection."""
        self._now = _clock()
        self._end(kind, message)

    # -- llhttp's callbacks ----------------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        exchange = self.exchange
        if exchange is None:
            return
        key = name.lower()
        if key in (b"content-length", b"transfer-encoding"):
            self._delimited = True
        elif key == b"content-type":
            exchange.content_type = value.decode("latin-1")
        elif key == b"content-encoding":
            exchange.encoding = value.decode("latin-1")
        elif key == b"location":
            exchange.location = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        exchange = self.exchange
        if exchange is None:
            return
        exchange.status = status = self._parser.get_status_code()
        exchange.keep_alive = self._parser.should_keep_alive()
        if 300 <= status < 400:
            where = exchange.location or "no location given"
            self._end("redirect", f"HTTP {status}: redirected to {where}, not followed")
        elif status == 200:
            kind = exchange.content_type.split(";", 1)[0].strip().lower()
            if kind != SSE:
                shown = kind or "none"
                self._end("content_type", f"HTTP 200 with content type {shown}, not {SSE}")
            elif exchange.encoding.strip().lower() not in ("", "identity"):
                self._end("encoding", f"the stream came compressed ({exchange.encoding})")
        else:
            exchange.cap = self.max_error_bytes

    def on_body(self, body: bytes) -> None:
        exchange = self.exchange
        if exchange is None:
            return
        exchange.stamps.append(self._now)
        exchange.pieces.append(body)
        exchange.size += len(body)
        if exchange.size > exchange.cap:
            if exchange.status == 200:
                self._end("byte_cap", f"the response exceeded the byte cap of {exchange.cap:,}")
            else:
                self._complete(keep=False)  # enough of the error body

    def on_message_complete(self) -> None:
        self._complete()

    # -- ending ------------------------------------------------------------------------------------
    def _complete(self, keep: bool = True) -> None:
        exchange = self.exchange
        if exchange is None:
            return
        exchange.close_ns = self._now
        self.exchange = None
        if not (keep and exchange.keep_alive) and self.transport is not None:
            self.closed = True
            self.transport.close()
        if exchange.done is not None:
            exchange.done(exchange)

    def _end(self, kind: str, message: str) -> None:
        exchange = self.exchange
        if exchange is None:
            return
        exchange.fail(kind, message)
        exchange.keep_alive = False
        if self.transport is not None:
            self.closed = True
            self.transport.abort()
        self._complete(keep=False)
