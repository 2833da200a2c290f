"""Running one load point on the measuring loop: the schedule kept, every arrival stamped.

Before the point: the pool is opened to the point's concurrency (or the rate's expected in
flight) and every connection warmed with one small request, so no measured request pays a TCP
handshake. During the point the loop does only this: timers fire at absolute deadlines (the
measuring loop's selector wakes within microseconds, :mod:`pytest_llmbench.timers`), a request
is taken pre-built and written in one call, ``data_received`` stamps and keeps what arrives
(:mod:`pytest_llmbench.clients.raw_http`), and a finished exchange's pieces move to the point's
spill file (:mod:`.load_spill`). Requests are driven by callbacks, not a coroutine
each: a finished request of a closed loop sends the next on the same connection at once, its
``sched_ns`` the moment the slot freed. Nothing is parsed until the point is over.

Beside the requests, the point measures its client: a probe timer every
:data:`PROBE_INTERVAL_MS` records how late the loop ran it, and the process's CPU time over the
window gives its share of a core.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import math
import time
from array import array
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..clients.base import error_message
from ..clients.raw_http import Endpoint, Exchange, RawConnection
from ..config.load_spec import LoadPoint
from .load_spill import Spill

__all__ = ["PROBE_INTERVAL_MS", "PointOutcome", "PointRunner", "Progress"]

PROBE_INTERVAL_MS = 10.0
#: A rate point tops its pool up in the background when fewer connections than this are idle,
#: so that arrivals seldom wait for a handshake of their own.
LOW_WATER = 8
#: The lead between the last preparation and the first scheduled send.
START_LEAD_NS = 20_000_000
_clock = time.perf_counter_ns


@dataclass
class Progress:
    """What a live progress line shows; written only by the measuring loop, read by others."""

    planned_s: float | None = None
    planned_requests: int | None = None
    start_ns: int = 0
    sent: int = 0
    done: int = 0
    errors: int = 0
    in_flight: int = 0
    pieces: int = 0


@dataclass
class PointOutcome:
    """What a point left: every finished exchange (in order of ending) and the client's own
    figures. ``unsent`` counts planned requests never sent (the point was interrupted)."""

    exchanges: list[Exchange]
    start_ns: int
    end_ns: int
    lags_ms: array[float]
    cpu_s: float
    wall_s: float
    opened_during: int = 0
    interrupted: bool = False
    unsent: int = 0
    notes: list[str] = field(default_factory=list)


class PointRunner:
    """Sends one point's requests: ``request(i)`` gives the bytes of request ``i``; ``offsets``
    the due times of a rate point (ns from its start); ``warm`` a small request per connection."""

    def __init__(
        self,
        endpoint: Endpoint,
        point: LoadPoint,
        request: Callable[[int], bytes],
        warm: bytes,
        *,
        offsets: Sequence[int] | None = None,
        pool: int,
        cap_bytes: int,
        deadline_s: float,
        connect_timeout_s: float = 30.0,
        progress: Progress | None = None,
        spill: Spill | None = None,
        barrier: Callable[[], int] | None = None,
    ) -> None:
        self.endpoint, self.point, self.request, self.warm = endpoint, point, request, warm
        self.offsets, self.pool, self.cap_bytes = offsets, pool, cap_bytes
        self.deadline_ns = round(deadline_s * 1e9)
        # no connection may take longer than the whole request may
        self.connect_timeout_s = min(connect_timeout_s, deadline_s)
        self.progress = progress or Progress()
        # where a finished exchange's pieces go (``None``: they stay on the exchange); a shard's
        # start (blocks until every shard is ready, returns the instant on this clock)
        self.spill, self.barrier = spill, barrier
        self.exchanges: list[Exchange] = []
        self.notes: list[str] = []
        self.lags_ms: array[float] = array("d")
        self._idle: list[RawConnection] = []
        self._waiting: collections.deque[Exchange] = collections.deque()
        self._owner: dict[int, RawConnection] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._stopping = False
        self._opened_during = 0
        self._finished: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._start_ns = 0
        self._issued = 0  # closed loop: exchanges made so far (their indexes)
        self._topping = False
        self._topped_up = 0
        limit = point.requests if point.kind == "concurrency" else len(offsets or ())
        self._limit = limit if limit is not None else math.inf

    # -- the point ----------------------------------------------------------------------------
    async def run(self) -> PointOutcome:
        """Open and warm the pool, run the point to its end, and return what it left."""
        loop = self._loop = asyncio.get_running_loop()
        self._finished = loop.create_future()
        await self._open_pool()
        start = self._start_ns = self.progress.start_ns = await self._start_instant(loop)
        # A full collection of a pytest process's objects stalls the loop for milliseconds:
        # none runs during the point (its allocations are freed by reference counting).
        collecting = gc.isenabled()
        gc.disable()
        cpu0 = time.process_time()
        self._at(start, self._probe, start)
        if self.point.kind == "concurrency":
            slots = self.point.concurrency or 0
            ready: list[RawConnection | None] = list(self._idle[:slots])
            del self._idle[:slots]
            # a slot whose warmed connection the server has closed since (an idle timeout
            # during a long warm-up) opens a new one: in its first request's time, and counted
            ready += [None] * (slots - len(ready))
            for connection in ready:
                self._at(start, self._send_next, connection, start)
        else:
            self._at(start, self._arrive, 0)
        if self.point.duration_s is not None:
            self._at(start + round(self.point.duration_s * 1e9), self._stop_sending)
        interrupted = False
        try:
            await asyncio.shield(self._finished)
        except asyncio.CancelledError:
            interrupted = True
            self.abort_all("interrupted: the session stopped")
        end = _clock()
        cpu = time.process_time() - cpu0
        if collecting:
            gc.enable()
        self._close_pool()
        unsent = 0 if self._limit == math.inf else int(self._limit) - self.progress.sent
        outcome = PointOutcome(
            self.exchanges, start, end, self.lags_ms, cpu, (end - start) / 1e9,
            self._opened_during, interrupted, max(0, unsent),
        )  # fmt: skip
        outcome.notes += self.notes
        if self._topped_up:
            added = f"{self._topped_up} connections added to the pool during the point"
            outcome.notes.append(f"{added}, beside the requests")
        return outcome

    async def _start_instant(self, loop: asyncio.AbstractEventLoop) -> int:
        """:data:`START_LEAD_NS` from now, or when the barrier says (it blocks: in a thread).
        The pool is closed when the barrier fails (the point will not run)."""
        if self.barrier is None:
            return _clock() + START_LEAD_NS
        try:
            return await loop.run_in_executor(None, self.barrier)
        except BaseException:
            self._close_pool()
            raise

    def abort_all(self, message: str) -> None:
        """End every request in flight (their exchanges keep what came) and send no more."""
        self._stopping = True
        self._waiting.clear()
        for connection in list(self._owner.values()):
            connection.abort("interrupted", message)
        self._check_finished()

    # -- scheduling ----------------------------------------------------------------------------
    def _at(self, when_ns: int, callback: Callable[..., None], *args: object) -> None:
        assert self._loop is not None
        # loop.time() is time.monotonic(): CLOCK_MONOTONIC, as perf_counter_ns is on Linux
        self._loop.call_at(when_ns / 1e9, callback, *args)

    def _probe(self, due_ns: int) -> None:
        now = _clock()
        self.lags_ms.append((now - due_ns) / 1e6)
        if not (self._stopping and not self.progress.in_flight):
            step = round(PROBE_INTERVAL_MS * 1e6)
            due = due_ns + step * max(1, math.ceil((now - due_ns) / step))
            self._at(due, self._probe, due)

    def _stop_sending(self) -> None:
        self._stopping = True
        if self._waiting:
            self.notes.append(
                f"{len(self._waiting)} arrivals still queued behind max_in_flight when the "
                "window ended were not sent"
            )
        self._waiting.clear()
        self._check_finished()

    def _arrive(self, index: int) -> None:
        """A rate point's arrival ``index``: due now; sent, or queued behind the cap."""
        assert self.offsets is not None
        if self._stopping:
            return
        sched = self._start_ns + self.offsets[index]
        if index + 1 < len(self.offsets):
            self._at(self._start_ns + self.offsets[index + 1], self._arrive, index + 1)
        else:
            self._stopping = True
        exchange = Exchange(index, sched, self.cap_bytes)
        cap = self.point.max_in_flight
        if cap is not None and self.progress.in_flight >= cap:
            self._waiting.append(exchange)
            return
        self._dispatch(exchange)

    def _dispatch(self, exchange: Exchange) -> None:
        if self._idle:
            self._send(self._idle.pop(), exchange)
            cap = self.point.max_in_flight
            room = cap is None or len(self._idle) + len(self._owner) < cap
            if len(self._idle) < LOW_WATER and not self._topping and room:
                assert self._loop is not None
                self._topping = True
                self._loop.create_task(self._top_up(max(LOW_WATER, self.pool // 8)))
            return
        self._opened_during += 1
        self.progress.in_flight += 1  # the connection is being opened for it
        assert self._loop is not None
        self._loop.create_task(self._send_on_new(exchange))

    async def _send_on_new(self, exchange: Exchange) -> None:
        try:
            connection = await self._connect()
        except OSError as exc:
            exchange.t0_ns = exchange.close_ns = _clock()
            exchange.fail("connect", f"cannot connect to {self.endpoint.authority}: {exc}")
            self.progress.in_flight -= 1
            self._stopping = True  # a refused connection ends the point: it fails fast
            self._finish(exchange, None)
            return
        self.progress.in_flight -= 1
        self._send(connection, exchange)

    def _send_next(self, connection: RawConnection | None, sched_ns: int) -> None:
        """A closed loop's next request on ``connection`` (a new one if it closed), scheduled
        when its slot freed."""
        if self._stopping or self._issued >= self._limit:
            self._stopping = True
            self._check_finished()
            return
        exchange = Exchange(self._issued, sched_ns, self.cap_bytes)
        self._issued += 1
        if connection is None or connection.closed:
            self._dispatch(exchange)
        else:
            self._send(connection, exchange)

    def _send(self, connection: RawConnection, exchange: Exchange) -> None:
        exchange.done = self._done
        self._owner[exchange.index] = connection
        self.progress.sent += 1
        self.progress.in_flight += 1
        connection.send(exchange, self.request(exchange.index))
        assert self._loop is not None
        self._timers[exchange.index] = self._loop.call_at(
            (exchange.t0_ns + self.deadline_ns) / 1e9,
            connection.abort,
            "timeout",
            f"exceeded the total deadline of {self.deadline_ns / 1e9:g} s",
        )

    def _done(self, exchange: Exchange) -> None:
        """A request ended (llhttp's message-complete, a failure, or an abort)."""
        connection = self._owner.pop(exchange.index, None)
        timer = self._timers.pop(exchange.index, None)
        if timer is not None:
            timer.cancel()
        self.progress.in_flight -= 1
        self._finish(exchange, connection)

    def _finish(self, exchange: Exchange, connection: RawConnection | None) -> None:
        progress = self.progress
        progress.done += 1
        progress.pieces += len(exchange.pieces)
        if exchange.error is not None or exchange.status != 200:
            progress.errors += 1
        self.exchanges.append(exchange)
        if self.point.kind == "concurrency":
            if not self._stopping:
                self._send_next(connection, exchange.close_ns)
        else:
            if connection is not None and not connection.closed:
                self._idle.append(connection)
            cap = self.point.max_in_flight
            while self._waiting and (cap is None or progress.in_flight < cap):
                waiting = self._waiting.popleft()  # its slot freed, whatever became of the
                waiting.queue_ns = _clock() - waiting.sched_ns  # connection
                self._dispatch(waiting)
        if self.spill is not None:  # after the next send: a copy, no parsing
            self.spill.keep(exchange)
        self._check_finished()

    def _check_finished(self) -> None:
        idle = self._stopping and not self.progress.in_flight and not self._waiting
        if idle and self._finished is not None and not self._finished.done():
            self._finished.set_result(None)

    # -- the pool ------------------------------------------------------------------------------
    async def _open_pool(self) -> None:
        """``pool`` connections, each warmed by one small request (its answer not kept); when
        one cannot be opened or warmed, every one opened is closed again."""
        opened = await asyncio.gather(
            *(self._connect() for _ in range(self.pool)), return_exceptions=True
        )
        connections = [c for c in opened if isinstance(c, RawConnection)]
        try:
            failed = next((e for e in opened if isinstance(e, BaseException)), None)
            if failed is not None:
                raise failed
            await asyncio.gather(*(self._warm_one(c) for c in connections))
        except BaseException:
            for connection in connections:
                if connection.transport is not None:
                    connection.transport.abort()
            raise
        self._idle = [c for c in connections if not c.closed]

    async def _warm_one(self, connection: RawConnection) -> None:
        assert self._loop is not None
        ended: asyncio.Future[Exchange] = self._loop.create_future()
        exchange = Exchange(-1, 0, self.cap_bytes)

        def answered(done: Exchange) -> None:
            if not ended.done():  # not after a timeout gave up on it
                ended.set_result(done)

        exchange.done = answered
        connection.send(exchange, self.warm)
        try:
            warm = await asyncio.wait_for(ended, self.deadline_ns / 1e9)
        except asyncio.TimeoutError:
            raise WarmUpError(
                0,
                "the warm-up request got no whole answer within its total deadline of "
                f"{self.deadline_ns / 1e9:g} s",
            ) from None
        if warm.error is not None or warm.status != 200:
            raise WarmUpError(warm.status, warm.error or error_message(b"".join(warm.pieces)))

    async def _top_up(self, count: int) -> None:
        """Open ``count`` more connections beside the requests (not in any request's time)."""
        try:
            opened = await asyncio.gather(
                *(self._connect() for _ in range(count)), return_exceptions=True
            )
        finally:
            self._topping = False
        for connection in opened:
            if isinstance(connection, RawConnection) and not self._stopping:
                self._idle.append(connection)
                self._topped_up += 1
            elif isinstance(connection, RawConnection) and connection.transport is not None:
                connection.transport.close()

    def _connect(self) -> Coroutine[Any, Any, RawConnection]:
        return self.endpoint.connect(self._lost, self.connect_timeout_s)

    def _lost(self, connection: RawConnection) -> None:
        if connection in self._idle:
            self._idle.remove(connection)

    def _close_pool(self) -> None:
        for connection in self._idle:
            if connection.transport is not None:
                connection.transport.close()
        self._idle.clear()


class WarmUpError(Exception):
    """The warm-up request of a connection failed: the point cannot run (status, message)."""

    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message
        super().__init__(f"HTTP {status}: {message}" if status else message)
