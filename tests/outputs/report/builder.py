"""Test documents for the report: one real benchmark session, and edits of its results.

``run_session`` runs the real plugin (the throughput and conversation benchmarks) against the
built-in simulator in a scratch directory, so the report is tested on real result shapes: a fast
target whose display name is an XSS canary and whose conversation has a TTFT knee, a reasoning
target, a target that fails every request with HTTP 429, and a hosted target skipped for its key.
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

REPO = Path(__file__).resolve().parents[3]

#: One canary per rendered field; each would set window.__xss if it ever ran.
CANARIES = {
    "display_name": "<img src=x onerror=\"window.__xss='display'\">",
    "error": "<img src=x onerror=\"window.__xss='error'\"> HTTP 429",
    "reason": "<script>window.__xss='reason'</script> key missing",
    "answer_preview": "<img src=x onerror=\"window.__xss='answer'\">",
    "command": "pytest </code><img src=x onerror=\"window.__xss='command'\">",
    "cwd": "/tmp/<svg onload=window.__xss=6>",
}

_CONFIG = {
    "defaults": {
        "max_tokens": 64,
        "context_tiers": [0, 1000],
        "timeout_s": 10,
        "prompt": "Explain streaming.",
    },
    "providers": {
        "embedded": {
            "managed": "simulator",
            "models": [
                {
                    "id": "sim-a",
                    "display_name": f"sim-a {CANARIES['display_name']}",
                    "sim": {
                        "ttft_ms": 8,
                        "prefill_us_per_token": 100,
                        "itl_ms": 1,
                        "output_tokens": 24,
                    },
                },
                {
                    "id": "sim-r",
                    "display_name": "sim-reasoning",
                    "sim": {
                        "ttft_ms": 15,
                        "itl_ms": 2,
                        "output_tokens": 16,
                        "reasoning": "think_tags",
                        "reasoning_tokens": 8,
                        "tokens_per_event": 2,
                    },
                },
                {"id": "sim-x", "display_name": "sim-flaky", "sim": {"fault": "http_429"}},
            ],
        },
        "zai": {
            "api_base": "https://api.z.ai/api/paas/v4",
            "api_key_env": "LLMBENCH_REPORT_TEST_NO_SUCH_KEY",
            "models": [{"id": "glm-4.6", "display_name": "GLM-4.6"}],
        },
    },
    "conversation": {  # no "prompts": the built-in conversation
        "max_tokens": 64,
        "knee_factor": 2.0,
        "baseline_turns": 1,
    },
}


def run_session(directory: Path) -> dict[str, Any]:
    """Run one real benchmark session (about 3 s) and return its results document."""
    (directory / "config.yaml").write_text(yaml.safe_dump(_CONFIG, sort_keys=False))
    (directory / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
    )
    for name in ("test_throughput.py", "test_conversation.py"):
        (directory / name).write_text((REPO / "benchmarks" / name).read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "LLMBENCH_"))}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--llm-runs",
            "2",
            "--llm-turns",
            "5",
        ],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    files = sorted((directory / "results").glob("*.json"))
    assert len(files) == 1, result.stdout + result.stderr
    document: dict[str, Any] = json.loads(files[0].read_text())
    return document


def with_canaries(document: dict[str, Any]) -> dict[str, Any]:
    """A copy with a distinct canary in every rendered free-text field."""
    doc = copy.deepcopy(document)
    doc["metadata"]["command"] = CANARIES["command"]
    doc["metadata"]["cwd"] = CANARIES["cwd"]
    answered = False
    for record in doc["records"]:
        if record.get("status") == "failed":
            record["error"] = CANARIES["error"]
        if record.get("status") == "skipped":
            record["reason"] = CANARIES["reason"]
        if record.get("ok") and not answered:
            record["answer_preview"] = CANARIES["answer_preview"]
            answered = True
    for conversation in doc.get("conversations") or []:
        if conversation.get("failed_at"):
            conversation["failed_at"]["error"] = CANARIES["error"]
    return doc


_STAT_KEYS = ("mean", "median", "p90", "p95", "p99", "min", "max", "stdev")


def scaled(
    document: dict[str, Any], started: str, factors: dict[tuple[str, str], float]
) -> dict[str, Any]:
    """A copy started at ``started`` with ``(model, field)`` values multiplied by a factor."""
    doc = copy.deepcopy(document)
    doc["metadata"]["started"] = started
    for (model, field), factor in factors.items():
        for record in doc["records"]:
            if record.get("model") == model and record.get(field) is not None:
                record[field] *= factor
        for aggregate in doc.get("aggregates") or []:
            stats = (
                (aggregate.get("metrics") or {}).get(field) if aggregate["model"] == model else None
            )
            if not stats:
                continue
            for key in _STAT_KEYS:
                if stats.get(key) is not None:
                    stats[key] *= factor
    return doc


def minimal_document(**record_fields: Any) -> dict[str, Any]:
    """One target, one tier, one run: no aggregates, conversation or calibration."""
    record = {
        "test": "test_throughput.py::test_throughput[p-m-ctx0-run1]",
        "target": "p/m",
        "provider": "p",
        "model": "m",
        "display_name": "M",
        "tier": 0,
        "run": 1,
        "status": "passed",
        "ok": True,
        "ttft_ms": 120.5,
        "e2e_ms": 900.0,
        "tpot_ms": 10.0,
        "decode_tps": 100.0,
        "output_tokens": 79,
        "itl_ms": [10.0],
        "answer_preview": "hello",
        **record_fields,
    }
    return {
        "schema_version": 1,
        "metadata": {"started": "2026-01-01T00:00:00+00:00", "command": "pytest benchmarks"},
        "records": [record],
    }
