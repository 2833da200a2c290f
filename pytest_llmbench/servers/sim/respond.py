"""Writing a planned answer to the socket: paced streams, delayed complete responses, faults.

Each token event's bytes are built before the server sleeps to its deadline (the first one's
before the first sleep, each later one's right after the event before it was written); after the
sleep the send time is stamped and the bytes are written at once, nothing built in between
(aiohttp writes each chunk straight to the transport, and the socket has TCP_NODELAY), so
``sent_ns`` is the moment the event left for the client. Events are rendered one at a time, not
all before the first sleep, so a handler's work before it first yields to the loop is small and a
burst of requests is taken in without each one waiting behind the others' rendering.

Deadlines come from the request's :class:`~pytest_llmbench.servers.sim.batch.Lease`: the first
token's from its admission (and the prefill lane), each later one from the previous deadline and
the planned gap as the batch stretches it when that gap starts.

The record is sealed into the truth log (``done_ns`` stamped) just before the last bytes of a
response are written, never after: a client that has read the whole response can ask for the
record at once and find it there.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass

from aiohttp import web

from pytest_llmbench.servers.sim.batch import Lease
from pytest_llmbench.servers.sim.log import RequestRecord, TruthLog
from pytest_llmbench.servers.sim.pacing import sleep_until
from pytest_llmbench.servers.sim.plan import Plan
from pytest_llmbench.servers.sim.wire import MID_STREAM_ERROR, Context, ErrorReply, WireFormat

__all__ = ["REQUEST_ID_HEADER", "Job", "send_complete", "send_error", "send_stream"]

REQUEST_ID_HEADER = "x-llmbench-request-id"
_MALFORMED_BODY = b'{"id": "chatcmpl-x", "choices": ['


@dataclass
class Job:
    """One request being answered: where to write, what to record, and where to log it."""

    request: web.Request
    wire: WireFormat
    rec: RequestRecord
    log: TruthLog

    def client_gone(self) -> bool:
        """Whether the connection is closed or closing (a write would fail)."""
        transport = self.request.transport
        return transport is None or transport.is_closing()

    def seal(self) -> None:
        """Stamp ``done_ns`` and log the record; call right before the last write."""
        self.rec.done_ns = time.perf_counter_ns()
        self.log.add(self.rec)


async def _due_after(lease: Lease, plan: Plan, sent_groups: int) -> int:
    """When ``sent_groups`` groups are due to have gone out (at admission for none): the first
    token's deadline plus the gaps, worked out one by one at each deadline (as a stream's are)
    when the batch paces them."""
    if sent_groups <= 0:
        return lease.admit_ns
    deadline = lease.first_due_ns
    for gap in plan.gaps_ns[1:sent_groups]:
        if lease.paced_by_batch:
            await sleep_until(deadline)
        deadline = lease.next_due(deadline, gap)
    return deadline


async def _send_whole(job: Job, resp: web.Response) -> web.Response:
    """Write a complete response (headers and body in one write) and seal the record first."""
    await resp.prepare(job.request)  # buffers the headers; write_eof sends them with the body
    if not job.client_gone():
        job.rec.status = resp.status
        job.seal()
        with contextlib.suppress(ConnectionError):
            await resp.write_eof()
    return resp


async def send_error(job: Job, reply: ErrorReply) -> web.Response:
    """Answer at once with an error status and a provider-style body."""
    status, body, headers = reply
    resp = web.Response(
        status=status,
        body=json.dumps(body).encode(),
        content_type="application/json",
        headers={**headers, REQUEST_ID_HEADER: job.rec.id},
    )
    return await _send_whole(job, resp)


def _cut(job: Job) -> None:
    """Close the connection mid-response (the client sees a broken or missing body)."""
    job.rec.fault_ns = time.perf_counter_ns()
    job.seal()
    transport = job.request.transport
    if transport is not None:
        transport.close()


async def send_complete(
    job: Job, lease: Lease, ctx: Context, plan: Plan, fault: str | None, stall_s: float
) -> web.StreamResponse:
    """Send the whole answer when its generation would have finished (or fail as ``fault``)."""
    rec = job.rec
    if fault in ("cut", "error_event"):
        await sleep_until(await _due_after(lease, plan, plan.fault_index))
        if fault == "cut":
            _cut(job)  # no response at all: the record keeps status 0
            return web.Response(status=500)  # aiohttp fails to send it, quietly
        rec.fault_ns = time.perf_counter_ns()
        return await send_error(job, job.wire.error("server_error", MID_STREAM_ERROR))
    body = _MALFORMED_BODY if fault == "malformed" else json.dumps(job.wire.complete(ctx, plan))
    resp = web.Response(
        body=body.encode() if isinstance(body, str) else body,
        content_type="application/json",
        headers={REQUEST_ID_HEADER: ctx.id},
    )
    deadline = await _due_after(lease, plan, max(1, len(plan.groups)))
    if fault == "stall":
        deadline += round(stall_s * 1e9)
    await sleep_until(deadline)
    if not job.client_gone():
        rec.output_tokens = plan.output_tokens
        rec.reasoning_tokens = plan.reasoning_tokens
        rec.finish_reason = plan.finish_reason
    return await _send_whole(job, resp)


async def send_stream(
    job: Job, lease: Lease, ctx: Context, plan: Plan, fault: str | None, stall_s: float
) -> web.StreamResponse:
    """Stream the answer, each event at its absolute deadline, striking ``fault`` on the way."""
    resp = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            REQUEST_ID_HEADER: ctx.id,
        }
    )
    with contextlib.suppress(ConnectionError):  # the client has gone; the record keeps it
        await _stream(job, lease, resp, ctx, plan, fault, stall_s)
    return resp


async def _stream(
    job: Job,
    lease: Lease,
    resp: web.StreamResponse,
    ctx: Context,
    plan: Plan,
    fault: str | None,
    stall_s: float,
) -> None:
    rec, wire = job.rec, job.wire
    start = wire.start(ctx, plan)
    events = wire.events(ctx, plan)
    payload = next(events, b"")  # the first event's bytes, built before the first sleep
    await resp.prepare(job.request)
    rec.status = 200
    if start:
        await resp.write(start)
    deadline = lease.first_due_ns
    count = len(plan.groups)
    for i in range(count + 1):
        if fault is not None and i == plan.fault_index:
            if fault == "cut":
                _cut(job)
                return
            if fault == "error_event":
                rec.fault_ns = time.perf_counter_ns()
                if not job.client_gone():
                    job.seal()
                    await resp.write_eof(wire.error_event(ctx))
                return
            rec.fault_ns = time.perf_counter_ns()
            if fault == "malformed":
                await resp.write(wire.malformed(ctx))
            elif fault == "stall":
                deadline += round(stall_s * 1e9)
        if i == count:
            break
        if i > 0:
            deadline = lease.next_due(deadline, plan.gaps_ns[i])
        group = plan.groups[i]
        await sleep_until(deadline)
        sent_ns = time.perf_counter_ns()
        await resp.write(payload)
        rec.add_event(sent_ns, group.tokens, group.kind, deadline)
        payload = next(events, b"")  # the next event's bytes, built before sleeping for it
    end = wire.end(ctx, plan)
    await sleep_until(deadline)  # only waits when a stall struck after the last token
    if not job.client_gone():
        rec.finish_reason = plan.finish_reason
        job.seal()
        await resp.write_eof(end)
