"""When the simulator received a request: ``recv_ns``, from which its TTFT target counts.

The stamp is taken as early as the server can see the request, so that a burst of requests is not
recorded as received one after another as the server gets round to each. In one turn of the loop
the server reads every connection that has bytes and parses them (some 25 µs a request); in the
next it makes each request object and starts its handler (another 50 µs or so; on Python 3.12+
the handler then runs at once, eagerly, up to its first wait), and the handlers do their work (some
0.3 ms each at 200 tokens). A stamp at the handler's start, or in a middleware (which runs after
all of that too), is thus late by the work of every request ahead of it in the burst.

- :class:`ArrivalStamp` sits in front of aiohttp's protocol on each connection and notes when its
  bytes last came in (``data_received``, in the turn that read them);
- :func:`stamp_receipts` makes aiohttp's request factory put that time on each request (under
  :data:`RECV_NS`) as it makes the request object: when the last bytes read before then came in
  (those that completed the request's head, unless more came in the meantime). A connection
  without an :class:`ArrivalStamp` gets the factory's own time; an application served without
  :func:`stamp_receipts`, the handler's.

Neither sees a request before the loop reads it: one that waits in the socket while the loop is
busy (say, writing the events of 64 streams due at the same moment) is late by that wait.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any, Final

from aiohttp import web

__all__ = ["RECV_NS", "ArrivalStamp", "serve", "stamp_receipts"]

#: The request-state key of the receipt stamp (a ``web.RequestKey`` where aiohttp has them).
RECV_NS: Final[Any] = (
    web.RequestKey("llmbench_recv_ns", int) if hasattr(web, "RequestKey") else "llmbench_recv_ns"
)


class ArrivalStamp(asyncio.Protocol):
    """A connection's protocol that notes when bytes came in and hands everything to ``inner``."""

    __slots__ = ("inner", "last_ns")

    def __init__(self, inner: asyncio.Protocol) -> None:
        self.inner = inner
        self.last_ns = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self.last_ns = time.perf_counter_ns()
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


def _arrived_ns(protocol: object) -> int:
    """The last arrival on ``protocol``'s connection, if an :class:`ArrivalStamp` notes it."""
    transport = getattr(protocol, "transport", None)
    front = transport.get_protocol() if isinstance(transport, asyncio.BaseTransport) else None
    return front.last_ns if isinstance(front, ArrivalStamp) else 0


def stamp_receipts(server: web.Server) -> None:
    """Have ``server`` put each request's receipt on it (under :data:`RECV_NS`) as it makes the
    request object. Call before the server accepts connections (each reads the factory when it
    opens)."""
    make = server.request_factory

    def stamped(*args: Any) -> web.BaseRequest:
        now = time.perf_counter_ns()
        request = make(*args)
        request[RECV_NS] = _arrived_ns(args[2]) or now  # args: message, payload, protocol, …
        return request

    server.request_factory = stamped


async def serve(server: web.Server, sock: socket.socket, backlog: int) -> asyncio.Server:
    """Accept connections on ``sock`` for ``server``, an :class:`ArrivalStamp` in front of each,
    receipts stamped (in place of ``web.SockSite``; close the returned server before the runner's
    cleanup)."""
    stamp_receipts(server)
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: ArrivalStamp(server()), sock=sock, backlog=backlog)
