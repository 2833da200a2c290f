"""The load model at work: admission to a model's batch, its prefill lane, batch-paced decoding.

One :class:`ModelLoad` per model name (:class:`Loads` keeps them), built from that model's
profile (:class:`~pytest_llmbench.servers.sim.profile.SimProfile`: ``max_batch``,
``decode_slowdown``, ``prefill_serial``, ``prefill_stalls_decode``). The server runs on one
asyncio loop, so plain counters and a FIFO of futures are the whole state:

- **Admission.** A request is admitted at once if fewer than ``max_batch`` are admitted and no
  one waits; it then counts as admitted from its receipt (``admit_ns == recv_ns``). Otherwise it
  waits in the queue; a release hands its slot straight to the oldest waiter (stamping its
  ``admit_ns`` then), so the batch never shrinks while someone waits and the order is first come,
  first served. A lease is given back exactly once however the request ends (answered, faulted,
  client gone, cancelled), and a waiter cancelled in the queue leaves it, or gives back the slot
  it was handed in the meantime.
- **Prefill lane.** The first token is due at ``start + ttft``, where ``start`` is the admission
  or, with ``prefill_serial``, ``max(admission, lane free)``; the lane is busy until then. A
  request that ends before its first token keeps its lane time (the prefill was under way).
- **Decode steps.** :meth:`ModelLoad.next_due` turns a planned gap into the next absolute
  deadline when that gap starts: the gap times ``1 + decode_slowdown * (admitted - 1)``, starting
  no earlier than the lane is free if ``prefill_stalls_decode``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pytest_llmbench.servers.sim.profile import SimProfile

__all__ = ["Lease", "Loads", "ModelLoad"]


@dataclass
class Lease:
    """One admitted request's place in its model's batch."""

    load: ModelLoad
    admit_ns: int
    batch: int  # requests admitted at admission, this one included
    first_due_ns: int  # the deadline of the first token event
    released: bool = False

    @property
    def paced_by_batch(self) -> bool:
        """Whether decode deadlines depend on the batch (so they must be worked out step by step,
        each when its gap starts)."""
        return self.load.paced_by_batch

    def next_due(self, prev_due_ns: int, gap_ns: int) -> int:
        """The deadline of the event after the one due at ``prev_due_ns``, for a planned gap."""
        return self.load.next_due(prev_due_ns, gap_ns)

    def release(self) -> None:
        """Give the slot back (to the oldest waiter, if any); only the first call counts."""
        if not self.released:
            self.released = True
            self.load.release()


class ModelLoad:
    """The batch, admission queue and prefill lane of one model name."""

    def __init__(self, profile: SimProfile) -> None:
        self.profile = profile
        self.admitted = 0
        self.lane_free_ns = 0
        self._waiting: deque[tuple[int, asyncio.Future[Lease]]] = deque()

    @property
    def waiting(self) -> int:
        """How many requests wait for admission."""
        return len(self._waiting)

    @property
    def paced_by_batch(self) -> bool:
        """Whether :meth:`next_due` is more than ``previous deadline + gap``."""
        return self.profile.decode_slowdown > 0 or self.profile.prefill_stalls_decode

    def _has_room(self) -> bool:
        limit = self.profile.max_batch
        return limit is None or self.admitted < limit

    def _grant(self, admit_ns: int, ttft_ns: int) -> Lease:
        self.admitted += 1
        start = admit_ns
        if self.profile.prefill_serial:
            start = max(start, self.lane_free_ns)
        first_due = start + ttft_ns
        self.lane_free_ns = max(self.lane_free_ns, first_due)
        return Lease(self, admit_ns, self.admitted, first_due)

    async def admit(self, recv_ns: int, ttft_ns: int) -> Lease:
        """Wait for a slot (first come, first served) and take it; ``ttft_ns`` is the request's
        TTFT target, counted from admission (or from the lane, with ``prefill_serial``)."""
        if not self._waiting and self._has_room():
            return self._grant(recv_ns, ttft_ns)
        entry: tuple[int, asyncio.Future[Lease]] = (
            ttft_ns,
            asyncio.get_running_loop().create_future(),
        )
        self._waiting.append(entry)
        future = entry[1]
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                future.result().release()  # handed a slot, but cancelled before taking it
            else:
                with contextlib.suppress(ValueError):  # a release may have dropped it already
                    self._waiting.remove(entry)
            raise

    def release(self) -> None:
        """One admitted request is done: hand free slots to the oldest waiters."""
        self.admitted -= 1
        now = time.perf_counter_ns()
        while self._waiting and self._has_room():
            ttft_ns, future = self._waiting.popleft()
            if not future.done():  # a cancelled waiter is skipped
                future.set_result(self._grant(now, ttft_ns))

    def next_due(self, prev_due_ns: int, gap_ns: int) -> int:
        """The next deadline of a request of this model, for a planned gap starting now."""
        profile = self.profile
        if profile.decode_slowdown > 0:
            gap_ns = round(gap_ns * profile.batch_factor(self.admitted))
        if profile.prefill_stalls_decode:
            prev_due_ns = max(prev_due_ns, self.lane_free_ns)
        return prev_due_ns + gap_ns


class Loads:
    """The :class:`ModelLoad` of every model name served so far."""

    def __init__(self) -> None:
        self._models: dict[str, ModelLoad] = {}

    def of(self, model: str, profile: SimProfile) -> ModelLoad:
        """The load of ``model`` (a Gemini ``models/`` prefix is ignored), made on first use."""
        name = model.removeprefix("models/")
        load = self._models.get(name)
        if load is None:
            load = self._models[name] = ModelLoad(profile)
        return load

    @contextlib.asynccontextmanager
    async def admitted(
        self, model: str, profile: SimProfile, recv_ns: int, ttft_ns: int
    ) -> AsyncIterator[Lease]:
        """Admit a request of ``model`` for the duration of the ``async with`` block; the slot is
        given back however the block ends."""
        lease = await self.of(model, profile).admit(recv_ns, ttft_ns)
        try:
            yield lease
        finally:
            lease.release()
