"""Measure load points spread over pytest-xdist workers, through the plugin (issue 13's goals).

Starts one built-in server (its own process) and runs ``pytest benchmarks/test_load.py`` against
it (the target's ``api_base``) in a fresh process three times:

1. **start skew**: ``-n 2``, five closed-loop points (``concurrency=16..20``): each point's start
   skew (the spread of its shards' observed starts on the controller's clock) and each shard's
   clock-offset uncertainty. Goals: skew under 1 ms, uncertainty under 0.5 ms (loopback).
2. **one process at half the load**: no xdist, concurrency ``S`` (``--streams``), ``--waves``
   requests per slot;
3. **two processes at the whole load**: ``-n 2``, concurrency ``2S`` (a shard of ``S`` each).

For 2 and 3 every request is set beside the server's truth log (one machine, one monotonic
clock): the TTFT error is the measured TTFT (client ``t0`` to first token) minus the server's
own (receipt to first send), as a share of the server's; the TPOT error is ``|measured − true|``
over the true. Goal: the two processes' errors within the bounds one process meets at half the
load (p50 TTFT error within 5 % over the waves after the first, p99 TPOT error within 0.2 %).

Usage (from the repo root; about two minutes):

    .venv/bin/python perf/load_shards.py
    .venv/bin/python perf/load_shards.py --streams 128 --itl-ms 20 --tokens 100
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from load_reference import proc_times

from pytest_llmbench.measure.truth import truth_from_log
from pytest_llmbench.schema import Key
from pytest_llmbench.servers.sim.server import SimServer

ROOT = Path(__file__).resolve().parent.parent
SKEW_GOAL_MS, UNCERTAINTY_GOAL_MS = 1.0, 0.5
TTFT_GOAL, TPOT_GOAL = 0.05, 0.002


def _project(folder: Path, sim: SimServer, tokens: int) -> None:
    document = {
        "defaults": {"max_tokens": tokens, "timeout_s": 60, "prompt": "Explain streaming."},
        "providers": {
            "perf": {
                "api_base": sim.base_url + "/v1",
                "models": [{"id": "s"}],
                "load": {
                    Key.OUTPUT_TOKENS: tokens, Key.PROMPT_TOKENS: 64, "warmup_s": 0,
                    "cooldown_s": 0,
                },
            }
        },
    }  # fmt: skip
    (folder / "config.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")


def _pytest(folder: Path, *args: str) -> dict[str, Any]:
    """Run the load test in ``folder`` and return its results document, with its points' full
    records (every shard's records file, on the controller's timeline) as ``records``."""
    results = folder / "results"
    for old in results.glob("*") if results.exists() else ():
        old.unlink()
    argv = [
        sys.executable, "-m", "pytest", str(ROOT / "benchmarks" / "test_load.py"), "-q",
        "-p", "no:randomly", "-p", "no:cacheprovider", "--llm-config", str(folder / "config.yaml"),
        "--llm-results-dir", str(results), *args,
    ]  # fmt: skip
    done = subprocess.run(argv, cwd=folder, capture_output=True, text=True, env=dict(os.environ))
    if done.returncode:
        print(done.stdout[-4000:], done.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"pytest {' '.join(args)} exited {done.returncode}")
    (path,) = results.glob("*.json")
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    document["records"] = [
        json.loads(line)
        for records in sorted(results.glob("*.load*.jsonl"))
        for line in records.read_text(encoding="utf-8").splitlines()
    ]
    return document


def _skew(folder: Path) -> None:
    document = _pytest(folder, "-n", "2", "--llm-load", "concurrency=16,17,18,19,20",
                       "--llm-load-requests", "64")  # fmt: skip
    skews, uncertainties = [], []
    for point in document["load"]["points"]:
        skews.append(point["start_skew_ms"])
        uncertainties += [s["uncertainty_ms"] for s in point["shards"]]
        lates = ", ".join(f"{s['worker']} {s['start_late_ms']:+.3f}" for s in point["shards"])
        print(f"  {point['point']:>4}: skew {point['start_skew_ms']:.3f} ms  (start late: {lates})")
    worst, unsure = max(skews), max(uncertainties)
    print(f"  start skew: max {worst:.3f} ms, median {statistics.median(skews):.3f} ms; goal < "
          f"{SKEW_GOAL_MS:g} ms: {'pass' if worst < SKEW_GOAL_MS else 'FAIL'}")  # fmt: skip
    print(f"  offset uncertainty: max {unsure:.3f} ms; goal < {UNCERTAINTY_GOAL_MS:g} ms: "
          f"{'pass' if unsure < UNCERTAINTY_GOAL_MS else 'FAIL'}")  # fmt: skip


def _errors(document: dict[str, Any], sim: SimServer, since: int, slots: int) -> dict[str, float]:
    """TTFT and TPOT errors of the point's requests against the server's truth."""
    logs = {str(log["id"]): log for log in sim.iter_requests(since_ns=since)}
    records = sorted(document["records"], key=lambda r: r[Key.T0_NS])
    ttft, later, tpot, trips = [], [], [], []
    for index, record in enumerate(records):
        truth = truth_from_log(logs[str(record[Key.RESPONSE_ID])], record[Key.T0_NS])
        trips.append(truth[Key.REQUEST_TRIP_MS])
        error = (record[Key.TTFT_MS] - truth[Key.SERVER_TTFT_MS]) / truth[Key.SERVER_TTFT_MS]
        ttft.append(error)
        if index >= slots:  # past the first wave (its burst of sends)
            later.append(error)
        tpot.append(abs(record[Key.TPOT_MS] - truth[Key.TPOT_MS]) / truth[Key.TPOT_MS])
    tpot.sort()
    trips.sort()
    (point,) = document["load"]["points"]
    return {
        "requests": len(records),
        "ttft_p50": statistics.median(ttft),
        "ttft_p50_later": statistics.median(later) if later else float("nan"),
        "tpot_p99": tpot[min(len(tpot) - 1, round(0.99 * (len(tpot) - 1)))],
        "cpu_share": point["client"]["cpu_share"] or 0.0,
        "trip_p50": statistics.median(trips),
        "trip_p99": trips[round(0.99 * (len(trips) - 1))],
        "tokens_per_s": point["whole"]["output_tps"] or 0.0,
    }


def _line(name: str, found: dict[str, float]) -> str:
    return (
        f"  {name:<28} {found['requests']:>5} req  {found['tokens_per_s']:>8,.0f} tok/s  TTFT err "
        f"p50 {100 * found['ttft_p50']:+6.2f} % (after wave 1 {100 * found['ttft_p50_later']:+6.2f}"
        f" %)  TPOT err p99 {100 * found['tpot_p99']:.3f} %  busiest client CPU "
        f"{found['cpu_share']:.2f}\n{'':30}trip (t0 to the server's receipt) p50 / p99 "
        f"{found['trip_p50']:.2f} / {found['trip_p99']:.2f} ms; server CPU "
        f"{found['server_cpu']:.2f} of a core, waited for a CPU {found['server_waited']:.0%}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=64, help="one process's concurrency")
    parser.add_argument("--itl-ms", type=float, default=20.0)
    parser.add_argument("--tokens", type=int, default=100)
    parser.add_argument("--ttft-ms", type=float, default=100.0)
    parser.add_argument("--waves", type=int, default=4)
    args = parser.parse_args(argv)
    profile = {"ttft_ms": args.ttft_ms, "itl_ms": args.itl_ms, "output_tokens": args.tokens}
    with tempfile.TemporaryDirectory() as tmp, SimServer.start(profiles={"s": profile}) as sim:
        folder = Path(tmp)
        _project(folder, sim, args.tokens)
        print(f"load average {os.getloadavg()[0]:.2f}; 1. start skew, -n 2, five points")
        _skew(folder)
        s, waves = args.streams, args.waves
        print(f"2-3. {s} streams x {1000 / args.itl_ms:g} tokens/s in one process, then "
              f"{2 * s} in two; {waves} requests a slot")  # fmt: skip
        found = {}
        for name, extra, slots in (
            (f"one process, c{s}", (), s),
            (f"two processes, c{2 * s}", ("-n", "2"), 2 * s),
        ):
            since, cpu0 = time.perf_counter_ns(), proc_times(sim.pid)
            document = _pytest(
                folder, *extra, "--llm-load", f"concurrency={slots}",
                "--llm-load-requests", str(waves * slots),
            )  # fmt: skip
            cpu1 = proc_times(sim.pid)
            found[name] = _errors(document, sim, since, slots)
            (point,) = document["load"]["points"]
            seconds = point["whole"]["seconds"] or 1.0  # the server's busy share over the point
            found[name]["server_cpu"] = (cpu1[0] - cpu0[0]) / seconds
            found[name]["server_waited"] = (cpu1[1] - cpu0[1]) / seconds
            print(_line(name, found[name]))
        one, two = found.values()
        ok = two["ttft_p50_later"] <= max(TTFT_GOAL, one["ttft_p50_later"]) and two[
            "tpot_p99"
        ] <= max(TPOT_GOAL, one["tpot_p99"])
        print(f"  two processes within one's bounds (TTFT p50 {TTFT_GOAL:.0%} after wave 1, TPOT"
              f" p99 {TPOT_GOAL:.1%}): {'pass' if ok else 'FAIL'}")  # fmt: skip
        print(f"load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
