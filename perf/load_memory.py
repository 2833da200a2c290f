"""Measure the client memory of a whole load point, through the plugin (issue goal 7).

Runs ``pytest benchmarks/test_load.py`` in a fresh process against the built-in server (its own
process, not counted) at one closed-loop point of N requests x 200 tokens (``itl 0``, so the
point takes minutes, not hours), with ``perf/memprobe.py`` loaded to read the pytest process's
memory: RSS before the test, the largest during the point's call (the run, the parse, the
figures), after it (report, results JSON, HTML) and the peak RSS (``VmHWM``) of the process at
its end; and the sizes of the files written. The goal: under 500 MB at 100,000 requests.

Usage (from the repo root; 100,000 requests take 20 to 30 minutes on two cores):

    .venv/bin/python perf/load_memory.py --requests 20000
    .venv/bin/python perf/load_memory.py --requests 100000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_MB = 500.0
GOAL_REQUESTS = 100_000

CONFIG = """\
providers:
  mem:
    display_name: memory probe
    managed: simulator
    load:
      output_tokens: 200
      warmup_s: 0
      cooldown_s: 0
    models:
      - id: sim-200
        context_window: 32768
        sim: {{ttft_ms: 0, itl_ms: 0, output_tokens: 200}}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=256)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "config.yaml").write_text(textwrap.dedent(CONFIG.format()), encoding="utf-8")
        probe = folder / "probe.json"
        env = {**os.environ, "LLMBENCH_MEMPROBE": str(probe)}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "perf"), env.get("PYTHONPATH", "")])
        argv_ = [
            sys.executable, "-m", "pytest", str(ROOT / "benchmarks" / "test_load.py"),
            "-p", "memprobe", "-p", "no:randomly", "-q",
            "--llm-config", str(folder / "config.yaml"),
            "--llm-results-dir", str(folder / "results"),
            "--llm-load", f"concurrency={args.concurrency}",
            "--llm-load-requests", str(args.requests),
        ]  # fmt: skip
        began = time.monotonic()
        done = subprocess.run(argv_, env=env, cwd=folder, capture_output=True, text=True)
        seconds = time.monotonic() - began
        tail = "\n".join(done.stdout.splitlines()[-25:])
        print(tail)
        if done.returncode:
            print(done.stderr[-4000:], file=sys.stderr)
            return 1
        figures = json.loads(probe.read_text(encoding="utf-8"))
        files = sorted((folder / "results").iterdir())
        print(f"\n{args.requests:,} requests x 200 tokens at concurrency {args.concurrency}: "
              f"{seconds:.0f} s")  # fmt: skip
        for name in ("before_mb", "peak_call_mb", "call_end_mb", "peak_after_mb", "end_mb"):
            value = figures.get(name)
            print(f"  RSS {name[:-3]:<13} {value:8.1f} MB" if value else f"  {name}: -")
        hwm = figures["hwm_mb"]
        verdict = "pass" if hwm < GOAL_MB else "FAIL"
        scale = "" if args.requests >= GOAL_REQUESTS else f" (at {args.requests:,}, not 100,000)"
        print(f"  peak RSS (VmHWM)    {hwm:8.1f} MB  goal < {GOAL_MB:g} MB{scale}: {verdict}")
        for path in files:
            print(f"  {path.name:<34} {path.stat().st_size / 2**20:9.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
