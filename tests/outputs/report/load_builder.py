"""Load documents for the report: one real load session against the built-in simulator, and
edits of it (capacities added by hand, a hostile target name, a sweep of twenty points).

``run_load_session`` runs the real plugin (``benchmarks/test_load.py``) over two simulated
targets at three concurrencies and one Poisson rate with two SLOs, so the section is tested on
real result shapes: percentiles (p99 only where a point has 100 requests), windows, timelines,
goodput, and the client self-check (which may or may not call a point distorted on a busy
machine; :func:`with_capacities` marks one distorted by hand so the tests do not depend on it).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from .builder import REPO

#: A target name that would run script if it were ever written as HTML.
HOSTILE = "<img src=x onerror=\"window.__xss='load'\">"
SLOS = ["ttft_ms.p99 <= 200", "tpot_ms.p50 <= 5"]
DISTORTED_REASON = "send lateness p99 9.9 ms > 5 % of TTFT p50 (20.0 ms)"

_SIM = {"prefill_us_per_token": 2, "jitter_ms": 0.5, "output_tokens": 16}
_CONFIG = {
    "defaults": {"max_tokens": 16, "timeout_s": 10, "prompt": "Explain streaming."},
    "providers": {
        "embedded": {
            "managed": "simulator",
            "models": [
                {
                    "id": "sim-quick",
                    "display_name": "sim-quick",
                    "sim": {"ttft_ms": 20, "itl_ms": 2, **_SIM},
                },
                {
                    "id": "sim-slow",
                    "display_name": "sim-slow",
                    "sim": {"ttft_ms": 35, "itl_ms": 6, **_SIM},
                },
            ],
        }
    },
}


def run_load_session(directory: Path) -> dict[str, Any]:
    """Run one real load session (about 15 s) and return its results document."""
    (directory / "config.yaml").write_text(yaml.safe_dump(_CONFIG, sort_keys=False))
    (directory / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
    )
    (directory / "test_load.py").write_text((REPO / "benchmarks" / "test_load.py").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "LLMBENCH_"))}
    options = ["--llm-load", "concurrency=1,4,16", "--llm-load", "rate=40:poisson"]
    options += ["--llm-load-duration", "2", "-p", "no:randomly"]
    for slo in SLOS:
        options += ["--llm-load-slo", slo]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *options],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    files = sorted((directory / "results").glob("*.json"))
    assert len(files) == 1, result.stdout + result.stderr
    document: dict[str, Any] = json.loads(files[0].read_text())
    assert len(document["load"]["points"]) == 8, result.stdout + result.stderr
    return document


def with_capacities(document: dict[str, Any]) -> dict[str, Any]:
    """A copy with a capacity per target (as a search would find them, by hand) and the quick
    target's c4 point distorted."""
    doc = copy.deepcopy(document)
    for point in doc["load"]["points"]:
        if point["target"] == "embedded/sim-quick" and point["point"] == "c4":
            point["distorted"] = True
            point["client"]["distorted"] = [DISTORTED_REASON]
            point["flags"] = ["distorted", *(f for f in point["flags"] if f != "distorted")]
    doc["load"]["capacities"] = [
        {
            "target": "embedded/sim-quick",
            "kind": "concurrency",
            "slos": SLOS,
            "value": 12,
            "bracket": [12, 13],
            "interval": [8, 13],
            "cliff": False,
            "notes": [],
            "steps": [],
        },
        {
            "target": "embedded/sim-slow",
            "kind": "rate",
            "slos": SLOS[:1],
            "value": 25.0,
            "bracket": [25.0, 27.5],
            "interval": None,
            "cliff": True,
            "notes": ["cliff: r25 passes, r27.5 fails at 2.4× a limit"],
            "steps": [],
        },
    ]
    return doc


def with_hostile_target(document: dict[str, Any]) -> dict[str, Any]:
    """A copy where the quick target's key and display name are an XSS canary."""
    doc = copy.deepcopy(document)
    key = f"embedded/{HOSTILE}"
    items = [*doc["load"]["points"], *doc["load"]["records"], *doc["load"]["capacities"]]
    for item in items:
        if item.get("target") == "embedded/sim-quick":
            item["target"] = key
            if "display_name" in item:
                item["display_name"] = f"quick {HOSTILE}"
    for point in doc["load"]["points"]:
        point["point"] = point["point"] if point["target"] != key else f"{point['point']}{HOSTILE}"
    return doc


def sweep_document(document: dict[str, Any], points: int = 20, seconds: int = 60) -> dict[str, Any]:
    """A copy whose load section is a sweep of ``points`` concurrencies (1, 2, 4, … for two
    targets) that saturates: output tok/s levels off while TTFT climbs, each point with a
    timeline of ``seconds`` seconds."""
    doc = copy.deepcopy(document)
    template = next(p for p in doc["load"]["points"] if p["percentiles"]["ttft_ms"]["p99"])
    made = []
    for i in range(points):
        target = "embedded/sim-quick" if i < points // 2 else "embedded/sim-slow"
        level = 2 ** (i % (points // 2))
        point = copy.deepcopy(template)
        point.update(target=target, point=f"c{level}", kind="concurrency", concurrency=level)
        point.update(rate=None, arrival=None, distorted=level == 64, flags=[])
        point["client"]["distorted"] = [DISTORTED_REASON] if level == 64 else []
        served = min(level, 24) * 100.0
        slow = max(1.0, level / 24)
        point["steady"]["output_tps"] = served * (0.7 if "slow" in target else 1.0)
        point["whole"]["output_tps"] = point["steady"]["output_tps"]
        for metric, summary in point["percentiles"].items():
            for key in ("p50", "p90", "p99", "max"):
                if summary.get(key) is not None and metric in ("ttft_ms", "tpot_ms"):
                    summary[key] *= slow * (1.5 if "slow" in target else 1.0)
        start = point["whole"]["start_ns"]
        point["whole"].update(end_ns=start + seconds * 10**9, seconds=float(seconds))
        point["steady"].update(start_ns=start + 5 * 10**9, end_ns=start + (seconds - 5) * 10**9)
        point["timeline"] = [
            {
                "t_s": float(t),
                "completed": level,
                "errors": int(t == 30),
                "output_tokens": 16 * level,
                "in_flight": float(level),
                "ttft_p50_ms": 20.0 * slow,
            }
            for t in range(seconds)
        ]
        made.append(point)
    doc["load"]["points"] = made
    return doc
