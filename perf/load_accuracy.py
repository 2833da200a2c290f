"""Measure the load mode's client: how truthful its timings are under load and what it costs.

Drives the load engine (``measure/load_run.PointRunner`` over ``clients/raw_http``) against the
built-in server (a separate process, its CPU counted apart) and sets every request beside the
server's truth log (same monotonic clock). Goals (the figure, the goal, pass or FAIL):

1. 64 streams x 100 tokens/s, closed loop: TTFT error p50 within 5 % of the true TTFT (client
   ``t0`` to first token, against the server's receipt to its first send), TPOT error within 0.2 %;
2. 256 streams x 10 tokens/s: the same bounds;
3. client CPU per 1,000 output tokens at 64 streams: at most 25 ms;
4. 200 requests/s (constant arrivals): achieved within 1 % of plan, send lateness p99 under 1 ms;
5. the first wave of 64 all on the wire within 5 ms of their scheduled time;
6. one stream: TTFT within 0.3 ms of a raw blocking socket's, same server, interleaved;
(7, the memory of a point of 100,000 requests, is measured through the plugin by
``perf/load_memory.py``.)

Usage (from the repo root):

    .venv/bin/python perf/load_accuracy.py                  # goals 1-6, a few minutes
    .venv/bin/python perf/load_accuracy.py --only 1,4 --waves 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from load_reference import (
    VERDICTS,
    Analysis,
    RawSocketClient,
    analyse,
    by_wave,
    p50_p99,
    pct,
    proc_times,
    row,
    table,
)

from pytest_llmbench.clients.raw_http import Endpoint
from pytest_llmbench.clients.sse import parse_openai_stream
from pytest_llmbench.config.load_spec import LoadPoint, RequestShape, Size
from pytest_llmbench.measure.load_point import pool_size
from pytest_llmbench.measure.load_requests import RequestBuilder
from pytest_llmbench.measure.load_run import PointOutcome, PointRunner
from pytest_llmbench.measure.load_spill import Spill
from pytest_llmbench.measure.schedule import arrival_offsets
from pytest_llmbench.servers.sim.server import SimServer
from pytest_llmbench.timers import new_event_loop as precise_loop

#: The measuring loop the points run on (``--loop``): the plugin's (epoll with a fine final
#: wait, :mod:`pytest_llmbench.timers`) or asyncio's default. (uvloop is not among them: its
#: transports are not ``asyncio.Transport`` and it calls ``connection_made`` after
#: ``create_connection`` returns, and libuv's timers count whole milliseconds.)
LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "precise": precise_loop,
    "asyncio": asyncio.new_event_loop,
}
_loop_name = ["precise"]
#: Whether the points keep finished streams in a spill file, as the plugin does (``--no-spill``:
#: in memory, to measure what the spill costs).
_spill = [True]


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A loop of the kind ``--loop`` chose."""
    return LOOPS[_loop_name[0]]()


#: One simulated model per goal; each request asks for the profile's own output length.
PROFILES: dict[str, dict[str, float]] = {
    "s100": {"ttft_ms": 100, "itl_ms": 10, "output_tokens": 200},  # goals 1, 3, 5
    "s10": {"ttft_ms": 100, "itl_ms": 100, "output_tokens": 50},  # goal 2
    "short": {"ttft_ms": 20, "itl_ms": 5, "output_tokens": 20},  # goal 4
    "one": {"ttft_ms": 100, "itl_ms": 10, "output_tokens": 20},  # goal 6
    "mem": {"ttft_ms": 0, "itl_ms": 0, "output_tokens": 200},  # goal 7
}
PROMPT_TOKENS = 100


@dataclass
class Run:
    outcome: PointOutcome
    truth: Analysis
    #: over the point's window: (CPU s, run-queue wait s) of the server and of this process
    server: tuple[float, float]
    client_wait_s: float


def builder_for(endpoint: Endpoint, model: str, point: LoadPoint) -> RequestBuilder:
    output = Size("fixed", int(PROFILES[model]["output_tokens"]))
    shape = RequestShape(Size("fixed", PROMPT_TOKENS), output, ignore_eos=False)
    return RequestBuilder(endpoint, model, shape, point, {}, {})


def runner_for(endpoint: Endpoint, model: str, point: LoadPoint) -> PointRunner:
    """The point's runner as the plugin builds it: requests pre-built, the plugin's pool size."""
    builder = builder_for(endpoint, model, point)
    offsets = arrival_offsets(point) if point.kind == "rate" else None
    builder.prebuild(len(offsets) if offsets is not None else point.requests or 0)
    return PointRunner(
        endpoint, point, builder, builder.warm_request(), offsets=offsets,
        pool=pool_size(point), cap_bytes=1 << 26, deadline_s=600,
        spill=Spill() if _spill[0] else None,
    )  # fmt: skip


async def _timed(runner: PointRunner, pid: int) -> tuple[PointOutcome, list[float]]:
    """Run the point; the server's CPU and both processes' run-queue waits over its window
    (read 2 ms before its start, after the warm-up and clear of the first sends, and at its end)."""
    loop = asyncio.get_running_loop()
    marks: list[tuple[float, float]] = []

    def mark() -> None:
        marks.extend((proc_times(pid), proc_times(os.getpid())))

    task = loop.create_task(runner.run())
    while not runner.progress.start_ns and not task.done():
        await asyncio.sleep(0.005)
    loop.call_at((runner.progress.start_ns - 2_000_000) / 1e9, mark)
    outcome = await task
    mark()
    if len(marks) < 4:
        return outcome, [float("nan")] * 3
    (s0, sw0), (_, cw0), (s1, sw1), (_, cw1) = marks
    return outcome, [s1 - s0, sw1 - sw0, cw1 - cw0]


def run_point(sim: SimServer, model: str, point: LoadPoint) -> Run:
    endpoint = Endpoint(sim.base_url + "/v1")
    runner = runner_for(endpoint, model, point)
    loop = new_event_loop()
    try:
        outcome, (cpu, waited, client_waited) = loop.run_until_complete(_timed(runner, sim.pid))
    finally:
        loop.close()
    logs = {str(r["id"]): r for r in sim.requests(since_ns=outcome.start_ns - 10**9)}
    spill = runner.spill or Spill()
    with spill:
        analysis = analyse(outcome.exchanges, logs, spill.account)
    return Run(outcome, analysis, (cpu, waited), client_waited)


def machine_rows(run: Run) -> None:
    """Where the machine, not the client, sets the limit: both processes' CPU, their waits for a
    CPU (run queue) and the server's own lateness against its deadlines."""
    out, t, wall = run.outcome, run.truth, run.outcome.wall_s
    row("client CPU share of a core (window)", f"{out.cpu_s / wall * 100:.0f} %")
    row("client loop lag p99 / max", f"{pct(out.lags_ms, 99):.3f} / {max(out.lags_ms):.3f} ms")
    row("client waiting for a CPU (run queue)", f"{run.client_wait_s * 1e3:.0f} ms in {wall:.1f} s")
    row("server CPU share of a core", f"{run.server[0] / wall * 100:.0f} %")
    row("server waiting for a CPU (run queue)", f"{run.server[1] * 1e3:.0f} ms in {wall:.1f} s")
    worst = max(t.server_late, default=float("nan"))
    row("server send lateness p50 / p99 / max", f"{p50_p99(t.server_late)} / {worst:+.3f} ms")


# -- the goals -------------------------------------------------------------------------------------
def accuracy(run: Run, name: str, streams: int) -> None:
    """Goals 1 and 2: TTFT and TPOT against the truth log, trip and delivery apart."""
    t = run.truth
    true_p50 = pct(t.true_ttft, 50)
    err50, err_pct50 = pct(t.ttft_err, 50), pct(t.ttft_err_pct, 50)
    table(f"{name}. {streams} streams, closed loop, {len(run.outcome.exchanges)} requests")
    row("requests failed", f"{len(t.errors)} {t.errors[:2] if t.errors else ''}", "0",
        not t.errors, f"{name}. failures")  # fmt: skip
    row("true TTFT p50 (server receipt to first send)", f"{true_p50:.3f} ms")
    row("TTFT error p50 (measured − true)", f"{err50:+.3f} ms = {err_pct50:+.2f} %",
        "within 5 %", abs(err_pct50) <= 5, f"{name}. TTFT error p50")  # fmt: skip
    row("TTFT error p99", f"{pct(t.ttft_err, 99):+.3f} ms = {pct(t.ttft_err_pct, 99):+.2f} %")
    waves = by_wave(t.compared, t.ttft_err_pct, streams)
    row("TTFT error p50 by wave (request index // streams)", waves + " %")
    row("trip p50 / p99 (server receipt − t0)", p50_p99(t.trip))
    row("trip p50 by wave", by_wave(t.compared, t.trip, streams) + " ms")
    row("  of it the client's write p50 / p99 (written − t0)", p50_p99(t.write))
    row("delivery p50 / p99 (first stamp − sent)", p50_p99(t.delivery))
    abs_tpot = [abs(v) for v in t.tpot_err_pct]
    row("TPOT error p50 / p99 of |error|", f"{pct(t.tpot_err_pct, 50):+.4f} / "
        f"{pct(abs_tpot, 99):.4f} %", "p99 within 0.2 %", pct(abs_tpot, 99) <= 0.2,
        f"{name}. TPOT error")  # fmt: skip
    row("TPOT error worst", f"{max(abs_tpot, default=float('nan')):.4f} %")
    machine_rows(run)


def cpu_cost(run: Run) -> None:
    """Goal 3: the client's CPU over the point's window per 1,000 output tokens."""
    t, out = run.truth, run.outcome
    per_k = out.cpu_s / max(t.tokens, 1) * 1e6
    table(f"3. Client CPU at 64 streams ({t.tokens:,} tokens in {t.pieces:,} pieces)")
    row("client CPU per 1,000 tokens, during the point", f"{per_k:.2f} ms ({out.cpu_s:.3f} s)",
        "≤ 25 ms", per_k <= 25, "3. CPU per 1,000 tokens")  # fmt: skip
    row("per piece received", f"{out.cpu_s / max(t.pieces, 1) * 1e6:.2f} µs")
    row("parsing after the point, per 1,000 tokens", f"{t.parse_cpu_s / t.tokens * 1e6:.2f} ms"
        " (this script's analysis: SSE split, JSON, truth)")  # fmt: skip


def first_wave(run: Run, streams: int, name: str = "5") -> None:
    """Goal 5: the first wave's sends against their scheduled time (all due at the start); for
    other points (``name`` not 5) the same figures without a verdict."""
    wave = [e for e in run.outcome.exchanges if e.index < streams]
    sent = max((e.t0_ns - e.sched_ns) / 1e6 for e in wave)
    written = [(e.written_ns - e.sched_ns) / 1e6 for e in wave if e.written_ns]
    table(f"{name}. First wave: {len(wave)} requests due at once")
    judged = name == "5"
    goal = "≤ 5 ms" if judged else "(goal 5 is at 64)"
    row("max t0 − sched", f"{sent:.3f} ms", goal, sent <= 5 if judged else None, "5. wave t0")
    worst = max(written, default=float("nan"))
    row(f"max written − sched ({len(written)} of {len(wave)} written at once)", f"{worst:.3f} ms",
        goal, worst <= 5 if judged else None, "5. wave written")  # fmt: skip
    row("t0 − sched p50 (wave)", f"{pct([(e.t0_ns - e.sched_ns) / 1e6 for e in wave], 50):.3f} ms")
    recv = sorted(run.truth.recv[e.index] for e in wave if e.index in run.truth.recv)
    last_t0 = max(e.t0_ns for e in wave)
    row("server receipt of the wave: first / last after its last send",
        f"{(recv[0] - last_t0) / 1e6:+.1f} / {(recv[-1] - last_t0) / 1e6:+.1f} ms "
        f"({(recv[-1] - recv[0]) / 1e6 / max(1, len(recv) - 1):.2f} ms per request)")  # fmt: skip


def rate_goal(sim: SimServer, requests: int) -> None:
    """Goal 4: 200 requests/s at constant arrivals, short requests."""
    rate = 200.0
    point = LoadPoint("rate", rate=rate, arrival="constant", duration_s=None, requests=requests)
    run = run_point(sim, "short", point)
    t = run.truth
    t0s = sorted(t.t0s)
    achieved = (len(t0s) - 1) / ((t0s[-1] - t0s[0]) / 1e9)
    off = (achieved - rate) / rate * 100
    table(f"4. Open loop at {rate:g} requests/s, {len(t0s)} sent, pool {pool_size(point)}")
    row("requests failed", str(len(t.errors)), "0", not t.errors, "4. failures")
    row("achieved send rate ((n − 1) / (last t0 − first t0))", f"{achieved:.3f} /s ({off:+.3f} %)",
        "within 1 %", abs(off) <= 1, "4. achieved rate")  # fmt: skip
    row("send lateness p50 / p99 (t0 − sched)", p50_p99(t.late), "p99 < 1 ms",
        pct(t.late, 99) < 1, "4. send lateness p99")  # fmt: skip
    row("send lateness max", f"{max(t.late):.3f} ms")
    row("written − sched p99", f"{pct(t.written_late, 99):.3f} ms")
    row("connections opened during the point", str(run.outcome.opened_during))
    row("TTFT error p50 / p99", p50_p99(t.ttft_err))
    machine_rows(run)


def _engine_ttft(runner: PointRunner, loop: asyncio.AbstractEventLoop) -> tuple[float, str]:
    with Spill() as spill:
        runner.spill = spill
        outcome = loop.run_until_complete(runner.run())
        (ex,) = outcome.exchanges
        deltas, _ = parse_openai_stream(zip(*spill.account(ex), strict=True))
    first = next(d for d in deltas if d.is_token_event)
    return (first.t_ns - ex.t0_ns) / 1e6, str(deltas[0].response_id)


def _const(data: bytes) -> Callable[[int], bytes]:
    return lambda _index: data


def one_stream(sim: SimServer, pairs: int) -> None:
    """Goal 6: the engine against a raw blocking socket, one request at a time, interleaved."""
    endpoint = Endpoint(sim.base_url + "/v1")
    point = LoadPoint("concurrency", concurrency=1, duration_s=None, requests=1)
    builder = builder_for(endpoint, "one", point)
    builder.prebuild(2 * pairs)
    warm = builder.warm_request()
    raw = RawSocketClient(endpoint.host, endpoint.port)
    readings: dict[str, list[tuple[float, str]]] = {"engine": [], "raw": []}
    loop = new_event_loop()
    since = time.perf_counter_ns()
    for i in range(pairs):
        for who in ("engine", "raw") if i % 2 == 0 else ("raw", "engine"):
            data = builder(2 * i + (who == "raw"))
            if who == "engine":
                runner = PointRunner(endpoint, point, _const(data), warm, pool=1,
                                     cap_bytes=1 << 26, deadline_s=60)  # fmt: skip
                readings[who].append(_engine_ttft(runner, loop))
            else:
                raw.connect(warm)
                got = raw.request(data)
                readings[who].append((got.ttft_ms, got.response_id))
        raw.close()
    loop.close()
    logs = {str(r["id"]): r for r in sim.requests(since_ns=since)}
    _one_stream_rows(readings, logs)


def _one_stream_rows(
    readings: dict[str, list[tuple[float, str]]], logs: dict[str, dict[str, Any]]
) -> None:
    def truth(rid: str) -> float:
        log = logs[rid]
        return float(log["events"][0]["sent_ns"] - log["recv_ns"]) / 1e6

    med = {who: statistics.median(t for t, _ in got) for who, got in readings.items()}
    err = {who: [t - truth(rid) for t, rid in got] for who, got in readings.items()}
    pairs = len(readings["engine"])
    table(f"6. One stream: the engine and a raw blocking socket, {pairs} requests each")
    row("TTFT median, engine / raw socket", f"{med['engine']:.3f} / {med['raw']:.3f} ms")
    gap = med["engine"] - med["raw"]
    row("engine − raw socket (medians)", f"{gap:+.3f} ms", "within 0.3 ms", abs(gap) <= 0.3,
        "6. one stream vs raw socket")  # fmt: skip
    row("TTFT error vs truth p50, engine / raw", f"{pct(err['engine'], 50):+.3f} / "
        f"{pct(err['raw'], 50):+.3f} ms")  # fmt: skip
    row("TTFT error vs truth p99, engine / raw", f"{pct(err['engine'], 99):+.3f} / "
        f"{pct(err['raw'], 99):+.3f} ms")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--only", default="1,2,3,4,5,6", help="goals to run (comma-separated)")
    parser.add_argument("--waves", type=int, default=3, help="waves of the closed loops")
    parser.add_argument("--requests", type=int, default=1000, help="requests of the rate point")
    parser.add_argument("--pairs", type=int, default=30, help="requests per client at 1 stream")
    parser.add_argument("--loop", choices=list(LOOPS), default="precise",
                        help="the measuring loop")  # fmt: skip
    parser.add_argument("--no-spill", action="store_true",
                        help="keep finished streams in memory, not in a spill file")  # fmt: skip
    args = parser.parse_args(argv)
    _loop_name[0], _spill[0] = args.loop, not args.no_spill
    goals = {int(g) for g in args.only.split(",")}
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"# Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load}, "
          f"loop {args.loop}, spill {_spill[0]}")  # fmt: skip
    with SimServer.start(profiles=PROFILES) as sim:
        run_goals(sim, goals, args)
    print(f"\n# load average at the end {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("\n| goal | verdict |\n|---|---|")
    for name, verdict in VERDICTS:
        print(f"| {name} | {verdict} |")
    return 0 if all(v == "pass" for _, v in VERDICTS) else 1


def run_goals(sim: SimServer, goals: set[int], args: argparse.Namespace) -> None:
    def closed(model: str, c: int) -> Run:
        point = LoadPoint("concurrency", concurrency=c, duration_s=None, requests=c * args.waves)
        return run_point(sim, model, point)

    if goals & {1, 3, 5}:
        c64 = closed("s100", 64)
        if 1 in goals:
            accuracy(c64, "1", 64)
        if 3 in goals:
            cpu_cost(c64)
        if 5 in goals:
            first_wave(c64, 64)
    if 2 in goals:
        c256 = closed("s10", 256)
        accuracy(c256, "2", 256)
        first_wave(c256, 256, "2b")
    if 4 in goals:
        rate_goal(sim, args.requests)
    if 6 in goals:
        one_stream(sim, args.pairs)


if __name__ == "__main__":
    raise SystemExit(main())
