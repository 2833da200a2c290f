"""Measure the harness itself: client CPU per streamed event, and timing error against the truth.

Starts the built-in server (a separate process, so its CPU is not counted), then streams from it
with each client path: the lean aiohttp streamer, raw httpx with the same post-stream SSE split,
the openai SDK and LiteLLM. For each path and each concurrency it reports

* client CPU per streamed event (process CPU time of this process / events received),
* TTFT error: measured TTFT minus the server's logged first send time (same monotonic clock),
* gap error: each measured gap between token events minus the true gap between their sends, and
  the measured gaps themselves (a true 20 ms gap should read as 20 ms, not as a burst),
* TPOT error against the server's log, in %.

Usage (from the repo root, with the [perf] extra installed):

    .venv/bin/python perf/harness_overhead.py               # 1 and 256 streams, all paths
    .venv/bin/python perf/harness_overhead.py --streams 1 --paths lean
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_llmbench.clients.base import ChatRequest, RawStream, interpret_chunk
from pytest_llmbench.clients.lean import LeanClient
from pytest_llmbench.clients.sse import parse_openai_stream
from pytest_llmbench.servers.sim.server import SimServer

if TYPE_CHECKING:  # the openai SDK is only in the [perf] extra
    from openai.types.chat import ChatCompletionUserMessageParam

# The openai SDK's message type, so its overloads pick the streaming one; a plain dict elsewhere.
MESSAGES: list[ChatCompletionUserMessageParam] = [
    {"role": "user", "content": "Stream a long answer."}
]
Streamer = Callable[[], Awaitable[tuple[int, list[int], str | None]]]


@dataclass
class Result:
    events: int = 0
    cpu_s: float = 0.0
    ttft_err_ms: list[float] = field(default_factory=list)
    gap_err_ms: list[float] = field(default_factory=list)
    gaps_ms: list[float] = field(default_factory=list)
    tpot_err_pct: list[float] = field(default_factory=list)
    failures: int = 0


def _pct(data: list[float], q: float) -> float:
    ordered = sorted(data)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _times(raw: RawStream) -> tuple[int, list[int], str | None]:
    events = [d for d in raw.deltas if d.is_token_event]
    rid = next((d.response_id for d in raw.deltas if d.response_id), None)
    return raw.t0_ns, [d.t_ns for d in events], rid


def lean_path(base: str, model: str, max_tokens: int) -> tuple[Streamer, Callable[[], Any]]:
    client = LeanClient(base + "/v1", model, None, 60)
    request = ChatRequest(MESSAGES, {"max_tokens": max_tokens})

    async def one() -> tuple[int, list[int], str | None]:
        return _times(await client.stream(request))

    return one, client.aclose


def httpx_path(base: str, model: str, max_tokens: int) -> tuple[Streamer, Callable[[], Any]]:
    import httpx

    client = httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=None))
    body = {"model": model, "messages": MESSAGES, "stream": True, "max_tokens": max_tokens}

    async def one() -> tuple[int, list[int], str | None]:
        pieces: list[tuple[int, bytes]] = []
        t0 = time.perf_counter_ns()
        async with client.stream("POST", base + "/v1/chat/completions", json=body) as response:
            async for piece in response.aiter_raw():
                pieces.append((time.perf_counter_ns(), piece))
        deltas, _ = parse_openai_stream(pieces)
        return _times(RawStream(t0, time.perf_counter_ns(), deltas))

    return one, client.aclose


def openai_path(base: str, model: str, max_tokens: int) -> tuple[Streamer, Callable[[], Any]]:
    import openai

    client = openai.AsyncOpenAI(base_url=base + "/v1", api_key="x", max_retries=0, timeout=60)

    async def one() -> tuple[int, list[int], str | None]:
        chunks: list[tuple[int, Any]] = []
        t0 = time.perf_counter_ns()
        stream = await client.chat.completions.create(
            model=model,
            messages=MESSAGES,
            stream=True,
            max_tokens=max_tokens,
        )
        async for chunk in stream:
            chunks.append((time.perf_counter_ns(), chunk))
        deltas = [interpret_chunk(t, c.model_dump()) for t, c in chunks]
        return _times(RawStream(t0, time.perf_counter_ns(), deltas))

    return one, client.close


def litellm_path(base: str, model: str, max_tokens: int) -> tuple[Streamer, Callable[[], Any]]:
    from pytest_llmbench.clients.litellm_client import LiteLLMClient

    client = LiteLLMClient("openai/" + model, base + "/v1", "x", 60)
    request = ChatRequest(MESSAGES, {"max_tokens": max_tokens})

    async def one() -> tuple[int, list[int], str | None]:
        return _times(await client.stream(request))

    return one, client.aclose


PATHS = {"lean": lean_path, "httpx": httpx_path, "openai": openai_path, "litellm": litellm_path}


async def run_path(name: str, sim: SimServer, streams: int, tokens: int, rounds: int) -> Result:
    one, close = PATHS[name](sim.base_url, "perf", tokens)
    await one()  # warm-up: imports, connection
    result = Result()
    collected: list[Any] = []
    for _ in range(rounds):  # CPU is counted only while streaming; truth is fetched afterwards
        cpu0 = time.process_time()
        collected += await asyncio.gather(*(one() for _ in range(streams)), return_exceptions=True)
        result.cpu_s += time.process_time() - cpu0
    for outcome in collected:
        if isinstance(outcome, BaseException):
            result.failures += 1
            continue
        _t0, times, rid = outcome
        result.events += len(times)
        if not rid or not times:
            continue
        sent = [e["sent_ns"] for e in sim.request(rid)["events"]]
        if len(sent) != len(times):
            result.failures += 1
            continue
        result.ttft_err_ms.append((times[0] - sent[0]) / 1e6)
        for i in range(1, len(times)):
            measured = (times[i] - times[i - 1]) / 1e6
            result.gaps_ms.append(measured)
            result.gap_err_ms.append(measured - (sent[i] - sent[i - 1]) / 1e6)
        true_tpot = (sent[-1] - sent[0]) / (len(sent) - 1)
        tpot = (times[-1] - times[0]) / (len(times) - 1)
        result.tpot_err_pct.append((tpot - true_tpot) / true_tpot * 100)
    await close()
    return result


def row(name: str, streams: int, r: Result) -> str:
    cpu_us = r.cpu_s / max(r.events, 1) * 1e6
    ttft = f"{statistics.median(r.ttft_err_ms):+.2f} / {_pct(r.ttft_err_ms, 99):+.2f}"
    gap_err = [abs(v) for v in r.gap_err_ms]
    gaps = f"{_pct(r.gaps_ms, 50):.2f} / {_pct(r.gaps_ms, 1):.2f} / {_pct(r.gaps_ms, 99):.2f}"
    tpot = f"{statistics.median(r.tpot_err_pct):+.2f} / {max(r.tpot_err_pct, key=abs):+.2f}"
    return (
        f"| {name} | {streams} | {r.events} | {cpu_us:.1f} | {ttft} | "
        f"{_pct(gap_err, 50):.3f} / {_pct(gap_err, 99):.3f} | {gaps} | {tpot} | {r.failures} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default="1,256", help="concurrent streams (comma-separated)")
    parser.add_argument("--paths", default="lean,httpx,openai,litellm")
    parser.add_argument("--itl-ms", type=float, default=20.0, help="true gap between tokens")
    parser.add_argument("--tokens", type=int, default=100, help="tokens per stream")
    parser.add_argument(
        "--rounds",
        type=int,
        default=0,
        help="rounds per cell (default: 20 for one stream, 1 otherwise)",
    )
    parser.add_argument("--json", help="also write the raw figures here")
    args = parser.parse_args(argv)
    profile = {"ttft_ms": 30, "itl_ms": args.itl_ms, "output_tokens": args.tokens}
    print(f"# {sys.version.split()[0]}, true gap {args.itl_ms} ms, {args.tokens} tokens/stream")
    print(
        "| path | streams | events | client CPU µs/event | TTFT error ms p50 / p99 "
        "| gap error ms p50 / p99 | measured gap ms p50 / p1 / p99 | TPOT error % p50 / worst "
        "| failed |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    raw: dict[str, Any] = {}
    with SimServer.start(default=profile) as sim:
        for streams in (int(s) for s in args.streams.split(",")):
            rounds = args.rounds or (20 if streams == 1 else 1)
            for name in args.paths.split(","):
                result = asyncio.run(run_path(name, sim, streams, args.tokens, rounds))
                print(row(name, streams, result), flush=True)
                raw[f"{name}@{streams}"] = result.__dict__
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(raw, fh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
