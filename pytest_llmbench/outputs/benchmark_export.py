"""``--llm-export-benchmark``: the session in pytest-benchmark's JSON format.

One entry per target × tier × timing metric, the runs as rounds, built with pytest-benchmark's
own ``Stats`` and machine/commit info, so ``pytest-benchmark compare`` lists and compares our runs
beside ordinary micro-benchmarks. pytest-benchmark's format is about durations (it ranks by
``min`` and derives ``ops``), so the timing metrics are exported, in seconds; throughput is their
reciprocal (``decode_tps`` is 1 / ``tpot``) and stays in our own results file.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..results.baseline import sample_order, samples_of
from ..schema import EXPORTED_FIELDS

__all__ = ["export_benchmark"]


def export_benchmark(path: Path, records: Iterable[Mapping[str, Any]]) -> Path:
    """Write the pytest-benchmark JSON of ``records``; returns ``path``."""
    from pytest_benchmark import __version__
    from pytest_benchmark.plugin import pytest_benchmark_generate_machine_info
    from pytest_benchmark.stats import Stats
    from pytest_benchmark.utils import get_commit_info

    benchmarks = []
    groups = sorted(samples_of(records).items(), key=lambda kv: sample_order(kv[0]))
    for (target, tier), fields in groups:
        if isinstance(tier, str):
            param = f"{target}-{tier}"  # a load point
        else:
            param = f"{target}-ctx{tier}" if tier is not None else target
        for metric in EXPORTED_FIELDS:  # stored in ms, exported in s
            values = fields.get(metric)
            if not values:
                continue
            stats = Stats()
            for value in values:
                stats.update(value / 1000.0)
            benchmarks.append(
                {
                    "group": metric,
                    "name": f"{metric}[{param}]",
                    "fullname": f"pytest-llmbench::{metric}[{param}]",
                    "params": {"target": target, "tier": tier},
                    "param": param,
                    "extra_info": {
                        "metric": metric,
                        "unit": "s",
                        "target": target,
                        "tier": tier,
                        "source": "pytest-llmbench",
                    },
                    "options": {
                        "disable_gc": False,
                        "timer": "perf_counter",
                        "min_rounds": 1,
                        "max_time": 0.0,
                        "min_time": 0.0,
                        "warmup": False,
                    },
                    "stats": {**stats.as_dict(), "data": list(stats.data), "iterations": 1},
                }
            )
    document = {
        "machine_info": pytest_benchmark_generate_machine_info(),
        "commit_info": get_commit_info(),
        "benchmarks": benchmarks,
        "datetime": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        "version": __version__,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")
    return path
