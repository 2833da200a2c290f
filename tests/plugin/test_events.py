"""``--llm-events PATH``: the session's progress as it happens, a JSON line each, for a dashboard
to follow: each finished test with its outcome and figures (a failure with its message), each
running load point about once a second, and the end with the files written; under pytest-xdist
too (the controller writes the tests, the workers their points' progress)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ..sessions import THROUGHPUT, BenchProject

LOAD_TEST = (Path(__file__).resolve().parents[2] / "benchmarks" / "test_load.py").read_text()
SECRET = "sk-canary-77aa10be55c34f90-DO-NOT-LEAK"


def _config() -> str:
    document = {
        "defaults": {"max_tokens": 16, "context_tiers": [0], "timeout_s": 10},
        "providers": {
            "embedded": {
                "managed": "simulator",
                "models": [{"id": "sim-a", "sim": {"ttft_ms": 5, "itl_ms": 2, "output_tokens": 8}}],
                "load": {"points": ["concurrency=2"], "duration_s": 2.5, "output_tokens": 8},
            },
            "keyed": {"api_base": "http://127.0.0.1:9/v1", "api_key_env": "EVENTS_TEST_KEY",
                      "models": [{"id": "refused"}]},
        },
    }  # fmt: skip
    return yaml.safe_dump(document, sort_keys=False)


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["one-process", "xdist"])
def test_the_events_file_follows_the_session(bench: BenchProject, monkeypatch, workers):
    monkeypatch.setenv("EVENTS_TEST_KEY", SECRET)
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT"):
        monkeypatch.delenv(name, raising=False)
    bench.setup(_config(), tests={"test_throughput": THROUGHPUT, "test_load": LOAD_TEST})
    events = bench.pytester.path / "events.jsonl"
    result = bench.run("-p", "no:randomly", "--llm-events", str(events), *workers)
    assert result.ret == 1, result.stdout.str()  # the keyed target's server refuses
    text = events.read_text()
    assert SECRET not in text
    lines = [json.loads(line) for line in text.splitlines()]
    tests = [e for e in lines if e["event"] == "test"]
    outcomes = {e["test"].split("::")[-1]: e["outcome"] for e in tests}
    assert outcomes["test_throughput[embedded-sim-a-ctx0-run1]"] == "passed", outcomes
    assert outcomes["test_throughput[keyed-refused-ctx0-run1]"] == "failed", outcomes
    failed = next(e for e in tests if e["outcome"] == "failed")
    assert "cannot connect" in failed["message"], failed
    passed = next(e for e in tests if e["test"].endswith("[embedded-sim-a-ctx0-run1]"))
    assert passed["figures"]["ttft_ms"] > 0 and passed["target"] == "embedded/sim-a", passed
    load_tests = [e for e in tests if e.get("point") and e["target"] == "embedded/sim-a"]
    rates = [e["figures"].get("request_rate") for e in load_tests]
    assert load_tests and all(e["outcome"] == "passed" for e in load_tests), load_tests
    assert any(rate and rate > 0 for rate in rates), load_tests  # the shard that keeps it
    progress = [e for e in lines if e["event"] == "load"]
    assert len(progress) >= 1 and all(e["point"] == "c2" for e in progress), progress
    assert lines[-1]["event"] == "end" and lines[-1]["exit_status"] == 1, lines[-1]
    assert any(f.endswith(".json") for f in lines[-1]["files"]), lines[-1]
