"""One load point of one target, from plan to samples: build, run, then parse.

:func:`run_point` builds the point's requests (:mod:`.load_requests`), runs them on the
measuring loop (:mod:`.load_run`) while the calling thread only reports progress, and once the
point is over, and only then, parses every stream and computes each request's figures as a
:class:`~.stream.Sample` with its load fields (scheduled time, lateness, queue, write) and, for
the built-in server, its truth (one fetch of the server's log for the whole point).

The load mode speaks the OpenAI-compatible wire (vLLM, SGLang, llama.cpp, LM Studio, the hosted
APIs that follow it); a target on LiteLLM's adapters is refused with the reason.
"""

from __future__ import annotations

import concurrent.futures
import math
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..clients.base import Delta, RawStream, StreamBounds, error_message, stream_problem
from ..clients.raw_http import Endpoint, Exchange
from ..clients.sse import parse_openai_stream
from ..config.load_shard import Shard
from ..config.load_spec import LoadPoint, RequestShape
from ..matrix import Target
from ..schema import Key
from ..tokens import count_tokens
from .load_requests import RequestBuilder
from .load_run import PointOutcome, PointRunner, Progress
from .load_spill import Spill
from .metrics import measure
from .schedule import arrival_offsets, planned_requests
from .session import BenchSession
from .stream import Sample

if TYPE_CHECKING:
    from ..servers.sim.truth_log import SimLog
    from .truth import TruthEnds

__all__ = ["LoadUnsupported", "PointRun", "pool_size", "run_point"]

#: Connections opened for a rate point without a cap: half a second of its arrivals, at least
#: this many, at most :data:`POOL_MAX`; the runner tops the pool up beside the requests as it
#: runs low (:data:`~.load_run.LOW_WATER`).
POOL_MIN = 8
POOL_MAX = 1024


class LoadUnsupported(Exception):
    """The target cannot be driven by the load mode (the reason is the message)."""


@dataclass
class PointRun:
    """A finished (or interrupted) point: what the run left, and its requests' samples, parsed
    one at a time from the point's spill file as :attr:`samples` is iterated (once)."""

    samples: Iterator[Sample]
    outcome: PointOutcome
    notes: list[str] = field(default_factory=list)


def pool_size(point: LoadPoint) -> int:
    """Connections to open and warm before ``point`` starts."""
    if point.kind == "concurrency":
        assert point.concurrency is not None
        return point.concurrency
    if point.max_in_flight is not None:
        return point.max_in_flight
    assert point.rate is not None
    return min(POOL_MAX, max(POOL_MIN, math.ceil(point.rate / 2)))


#: File descriptors kept free beside a point's connections (results, logs, the servers' pipes).
SPARE_DESCRIPTORS = 256


def _allow_descriptors(connections: int) -> None:
    """Raise the soft limit on open files toward the hard one when a point's pool needs it
    (``ulimit -n`` is 1024 on most systems, a c1024 point needs more); a pool that cannot fit
    is refused before any connection is opened."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Linux or macOS: left to the system
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = connections + SPARE_DESCRIPTORS
    if needed <= soft:
        return
    ceiling = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if ceiling > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
    if ceiling < needed:
        raise OSError(
            f"{connections} connections need {needed} open files, and the limit is {hard} "
            "(ulimit -n): lower the concurrency or raise the limit"
        )


def _expected(point: LoadPoint) -> int:
    planned = planned_requests(point)
    if planned is not None:
        return planned
    assert point.concurrency is not None
    assert point.duration_s is not None
    # eight requests a second per slot (beyond it they are built as they are sent, and counted)
    return point.concurrency * max(16, math.ceil(8 * point.duration_s))


def run_point(
    bench: BenchSession,
    target: Target,
    point: LoadPoint,
    shape: RequestShape,
    tick: Callable[[Progress], None] | None = None,
    shard: Shard | None = None,
    barrier: Callable[[], int] | None = None,
    api_base: str | None = None,
    truth: SimLog | None = None,
) -> PointRun:
    """Run ``point`` against ``target``; ``tick`` is called about once a second meanwhile.
    ``shard``: send only that shard's part of the point (:mod:`..config.load_shard`), starting when
    ``barrier`` returns (the instant on this process's clock); ``api_base`` and ``truth``: the
    server to drive instead of the target's own and a built-in one's truth log (a sharded
    point's server, which its controller runs).

    On Ctrl-C the requests in flight are ended and every finished one is parsed into its
    sample: the run comes back with ``outcome.interrupted`` set, for the caller to record the
    samples and then stop the session.
    """
    if target.provider.client != "lean":
        raise LoadUnsupported(
            "the load mode speaks the OpenAI-compatible wire; this target uses "
            f"LiteLLM's {target.provider.model_prefix or 'adapter'} (client: litellm)"
        )
    if api_base is None:  # the target's own server (and a built-in one's truth log)
        api_base, truth = bench.endpoints.api_base(target), bench.endpoints.sim_for(target)
    assert api_base is not None
    endpoint = Endpoint(api_base)
    builder, offsets = _builder(bench, target, endpoint, point, shape, shard)
    if shard is not None:
        point = shard.point(point)
    builder.prebuild(len(offsets) if offsets is not None else _expected(point))
    most = max(builder.planned_output, default=1)
    bounds = StreamBounds(max_tokens=most, total_timeout_s=target.total_timeout_s)
    progress = Progress(point.duration_s, planned_requests(point))
    runner = PointRunner(
        endpoint, point, builder, builder.warm_request(), offsets=offsets,
        pool=pool_size(point), cap_bytes=bounds.byte_cap(most),
        deadline_s=bounds.deadline_s(most, target.timeout_s),
        connect_timeout_s=target.timeout_s, progress=progress, spill=Spill(), barrier=barrier,
    )  # fmt: skip
    assert runner.spill is not None
    outcome = _execute(bench, runner, progress, tick)
    return PointRun(
        _samples(truth, builder, outcome, bounds, runner.spill),
        outcome,
        _notes(builder, outcome),
    )


def _builder(
    bench: BenchSession,
    target: Target,
    endpoint: Endpoint,
    point: LoadPoint,
    shape: RequestShape,
    shard: Shard | None,
) -> tuple[RequestBuilder, array[int] | None]:
    """The point's request builder and a rate point's arrivals (a shard's: its part of the
    whole point's schedule, and sizes drawn of its own)."""
    key = target.api_key.reveal() if target.api_key else None
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    params = bench.layers.request_params(target, {})
    offsets = arrival_offsets(point, shape.seed) if point.kind == "rate" else None
    stream = ""
    if shard is not None:
        offsets = shard.arrivals(offsets) if offsets is not None else None
        stream = f":{shard.label}"
    builder = RequestBuilder(
        endpoint, target.model.id, shape, point, params, headers,
        target.provider.max_tokens_field, target.model.filler_in or "system",
        bench.settings.config_path.parent, stream,
    )  # fmt: skip
    return builder, offsets


def _execute(
    bench: BenchSession,
    runner: PointRunner,
    progress: Progress,
    tick: Callable[[Progress], None] | None,
) -> PointOutcome:
    """Run the point on the measuring loop, this thread reporting progress; Ctrl-C ends the
    requests in flight (the outcome says it was interrupted)."""
    assert runner.spill is not None
    try:
        _allow_descriptors(runner.pool)
        future = bench.loop.submit(runner.run())
        try:
            return _wait(future, progress, tick)
        except KeyboardInterrupt:
            bench.loop.loop.call_soon_threadsafe(runner.abort_all, "interrupted: Ctrl-C")
            outcome = future.result(timeout=30)
            outcome.interrupted = True
            return outcome
    except BaseException:
        runner.spill.close()
        raise


def _wait(
    future: concurrent.futures.Future[PointOutcome],
    progress: Progress,
    tick: Callable[[Progress], None] | None,
) -> PointOutcome:
    while True:
        try:
            return future.result(timeout=1.0)
        except concurrent.futures.TimeoutError:
            if tick is not None:
                tick(progress)


def _samples(
    sim: SimLog | None,
    builder: RequestBuilder,
    outcome: PointOutcome,
    bounds: StreamBounds,
    spill: Spill,
) -> Iterator[Sample]:
    """Every exchange parsed into a sample, in the order they were issued, one at a time: the
    point is over, nothing is live any more. The spill file is closed at the end."""
    from .truth import truth_at

    try:
        truths = _sim_truths(sim, outcome.start_ns)
        for exchange in sorted(outcome.exchanges, key=lambda e: e.index):
            max_tokens = builder.planned_output[exchange.index]
            raw = _raw_stream(exchange, *spill.account(exchange), max_tokens)
            measurement = measure(raw, count_tokens, builder.planned_prompt[exchange.index])
            sample = Sample(measurement, extra=_load_fields(exchange, raw, measurement))
            ends = truths.get(measurement.response_id or "")
            if ends is not None:
                sample.truth = truth_at(ends, exchange.t0_ns)
            yield sample
    finally:
        spill.close()


def _notes(builder: RequestBuilder, outcome: PointOutcome) -> list[str]:
    notes = list(outcome.notes)
    if outcome.opened_during:
        notes.append(
            f"{outcome.opened_during} connections opened during the point (their handshakes "
            "count in their requests' times)"
        )
    if builder.built_late:
        notes.append(f"{builder.built_late} requests were built during the point")
    return notes


def _sim_truths(sim: SimLog | None, start_ns: int) -> dict[str, TruthEnds]:
    """What the built-in server's log says of the point's requests, by request id (empty for
    other servers): fetched a page at a time with each request's first and last event only, and
    kept as a tuple each (a point of 100,000 requests: about 30 MB)."""
    if sim is None:
        return {}
    from .truth import truth_ends

    try:
        pages = sim.iter_requests(since_ns=start_ns - 10**9, events="ends")
        return {str(log["id"]): truth_ends(log) for log in pages}
    except OSError:  # truth is a bonus; an unreachable log is not a failure
        return {}


def _raw_stream(
    exchange: Exchange, stamps: Sequence[int], pieces: list[bytes], max_tokens: int
) -> RawStream:
    error = exchange.error
    deltas: list[Delta] = []
    if exchange.status == 200 and exchange.error_kind not in ("content_type", "encoding"):
        deltas, end = parse_openai_stream(zip(stamps, pieces, strict=True))
        if error is None:
            ended = end.done or any(d.finish_reason for d in deltas)
            error = end.error or stream_problem(deltas, ended, max_tokens)
            if error is not None:
                kind = "stream"
                if end.error is not None:
                    kind = "error_event" if "error event" in end.error else "malformed"
                exchange.fail(kind, error)
    elif error is None and exchange.status:
        message = error_message(b"".join(pieces))
        error = f"HTTP {exchange.status}: {message}"
        status = exchange.status
        exchange.fail(
            "http_429" if status == 429 else "http_5xx" if status >= 500 else "http_4xx", error
        )
    close = exchange.close_ns or exchange.t0_ns
    queue_ms = exchange.queue_ns / 1e6
    return RawStream(
        exchange.t0_ns, close, deltas, exchange.status, error, queue_ms, exchange.wall_ns
    )


def _load_fields(exchange: Exchange, raw: RawStream, m: Any) -> dict[str, Any]:
    """The record fields of a load request beside the measured ones (docs/metrics.md)."""
    ahead_ms = (exchange.t0_ns - exchange.sched_ns) / 1e6  # from the schedule to the send
    late = ahead_ms - exchange.queue_ns / 1e6
    written = exchange.written_ns - exchange.t0_ns if exchange.written_ns else None
    return {
        Key.T0_NS: exchange.t0_ns,
        Key.SCHED_NS: exchange.sched_ns,
        Key.SEND_LATE_MS: late,
        Key.WRITTEN_MS: written / 1e6 if written is not None else None,
        Key.SCHED_TTFT_MS: m.ttft_ms + ahead_ms if m.ttft_ms is not None else None,
        Key.SCHED_E2E_MS: m.e2e_ms + ahead_ms if m.e2e_ms is not None else None,
        Key.ERROR_KIND: exchange.error_kind if raw.error is not None else None,
    }
