"""Runs started from the dashboard: ``pytest benchmarks …`` as a subprocess built from checked
values, one at a time (a second queues, visibly), followed live through its events, cancelled the
way Ctrl-C stops it with every finished record kept, against the built-in server."""

from __future__ import annotations

import json
import shutil
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest.importorskip("fastapi")
with warnings.catch_warnings():  # Starlette's own note that it prefers another httpx package
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient

from pytest_llmbench.dashboard.project import Project
from pytest_llmbench.dashboard.site import dashboard_app

REPO = Path(__file__).resolve().parents[2]
FAST = {"ttft_ms": 5, "itl_ms": 2, "output_tokens": 8}
WAIT_S = 120


@pytest.fixture
def client(tmp_path: Path) -> Any:
    document = {
        "defaults": {"max_tokens": 16, "context_tiers": [0], "timeout_s": 10},
        "providers": {
            "embedded": {
                "managed": "simulator",
                "models": [{"id": "sim-a", "sim": FAST}, {"id": "sim-b", "sim": FAST}],
                "load": {"points": ["concurrency=2"], "duration_s": 60, "output_tokens": 8},
            }
        },
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    (tmp_path / "benchmarks").mkdir()
    for name in ("test_throughput.py", "test_load.py"):
        shutil.copy(REPO / "benchmarks" / name, tmp_path / "benchmarks" / name)
    app = dashboard_app(Project(tmp_path / "config.yaml"))
    with TestClient(app, base_url="http://127.0.0.1:8501") as test_client:
        yield test_client


def _until(client: Any, number: int, done: Any) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while True:
        job: dict[str, Any] = client.get(f"/api/jobs/{number}/events").json()
        if done(job):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


def test_a_run_streams_its_tests_as_they_finish(client, tmp_path):
    plan = {"targets": ["embedded/sim-a"], "runs": 2, "tiers": [0], "keyword": "throughput"}
    started = client.post("/api/jobs", json=plan).json()
    assert started["number"] == 1 and started["state"] in ("queued", "running"), started
    command = started["command"]
    assert command[:2] == ["pytest", "benchmarks"] and "--llm-runs" in command, command
    lines: list[str] = []
    with client.stream("GET", "/api/jobs/1/stream") as stream:
        for line in stream.iter_lines():
            lines.append(line)
            if len(lines) >= 2 and lines[-2].startswith("event: state"):
                break  # the state's data line came too
    data = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    tests = [e for e in data if e.get("event") == "test"]
    assert [t["test"].split("::")[-1] for t in tests] == [
        "test_throughput[embedded-sim-a-ctx0-run1]", "test_throughput[embedded-sim-a-ctx0-run2]",
    ], tests  # fmt: skip
    assert all(t["outcome"] == "passed" and t["figures"]["ttft_ms"] > 0 for t in tests), tests
    assert data[-1]["state"] == "finished" and data[-1]["exit_status"] == 0, data[-1]
    assert list((tmp_path / "results").glob("*.json")), "the run wrote its results"
    # the live chart: the report's own strip chart, a mark per finished test
    svg = client.get("/api/jobs/1/chart").json()["svg"]
    assert svg.startswith('<svg class="plot"') and "embedded/sim-a" in svg
    assert svg.count("<title>embedded-sim-a") == 0 and svg.count("ctx0-run") == 2, svg
    assert client.get("/api/jobs/1/chart?metric=decode_tps").json()["svg"].startswith("<svg")
    assert client.get("/api/jobs/1/chart?metric=nope").status_code == 422
    css = client.get("/static/report.css").text
    assert css.startswith("svg") and "body" not in css  # the chart rules, not the page's


def test_a_second_run_queues_and_a_cancelled_run_keeps_its_finished_records(client, tmp_path):
    long_run = {"targets": ["embedded/sim-a"], "runs": 2}  # a 60 s load point, then throughput
    client.post("/api/jobs", json=long_run)
    second = client.post("/api/jobs", json={"targets": ["embedded/sim-b"], "keyword": "throughput"})
    assert second.json()["state"] == "queued", second.json()
    job = _until(client, 1, lambda j: any(e["event"] == "load" for e in j["events"]))
    assert job["state"] == "running"
    assert client.get("/api/jobs").json()[1]["state"] == "queued"  # visibly waiting
    assert client.post("/api/jobs/1/cancel").json()["number"] == 1
    ended = _until(client, 1, lambda j: j["state"] == "cancelled")
    assert ended["exit_status"] != 0, ended
    (jsonl,) = sorted(p for p in (tmp_path / "results").glob("*.jsonl") if ".load" not in p.name)
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    finished = [r for r in records if r.get("ok") and r.get("point") == "c2"]
    assert finished and all(r["status"] == "interrupted" for r in finished), records[:3]
    assert list((tmp_path / "results").glob("*.json")), "the cancelled run wrote its results"
    after = _until(client, 2, lambda j: j["state"] == "finished")
    assert after["exit_status"] == 0, after


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"targets": ["embedded/nope"]}, "targets: not in the config: embedded/nope"),
        ({"temperature": 5}, "temperature: expected a number from 0 to 2"),
        ({"runs": 0}, "runs: expected a whole number from 1 to 100"),
        ({"load": ["concurrency=x"]}, "load:"),
        ({"baseline": "../config"}, "baseline: expected a run's name"),
        ({"keyword": "a\nb"}, "keyword: expected one line"),
    ],
)
def test_a_bad_run_is_refused_before_anything_runs(client, plan, message):
    answer = client.post("/api/jobs", json=plan)
    assert answer.status_code == 422 and message in answer.json()["detail"], answer.text
    assert client.get("/api/jobs").json() == []


def test_providers_side_by_side_run_on_a_worker_each(tmp_path):
    """The studio's concurrency: with two providers chosen, the run is ``-n 2 --llm-parallel
    providers``; with one, a single process."""
    from pytest_llmbench.dashboard.run_plan import RunPlan

    document = {"providers": {
        name: {"managed": "simulator", "models": [{"id": "a"}, {"id": "b"}]} for name in ("p", "q")
    }}  # fmt: skip
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(document))
    project = Project(tmp_path / "config.yaml")
    events = tmp_path / "events.jsonl"
    both = RunPlan.from_request({"targets": ["p/a", "q/b"], "parallel_providers": True}, project)
    argv = both.argv(project, events)
    assert argv[argv.index("-n") + 1] == "2" and argv[-2:] == ["--llm-parallel", "providers"]
    one = RunPlan.from_request({"targets": ["p/a", "p/b"], "parallel_providers": True}, project)
    assert "--llm-parallel" not in one.argv(project, events)
