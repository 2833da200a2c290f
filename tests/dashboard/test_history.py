"""The dashboard's history: the runs in ``results/`` (two real sessions against the built-in
server), each run's report, a comparison of two and the trends of all, served as the report's own
pages (its own strict policy); nothing outside ``results/`` is reachable by a run's name."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

pytest.importorskip("fastapi")
with warnings.catch_warnings():  # Starlette's own note that it prefers another httpx package
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient

from pytest_llmbench.dashboard.project import Project
from pytest_llmbench.dashboard.site import dashboard_app
from pytest_llmbench.outputs.report import report_csp

from ..sessions import sim_config

FAST = {"ttft_ms": 5, "itl_ms": 1, "output_tokens": 4}


@pytest.fixture
def two_runs(bench: Any) -> tuple[Any, list[str]]:
    bench.setup(sim_config({"sim-a": FAST}))
    for _ in range(2):
        assert bench.run("-p", "no:randomly").ret == 0
    stamps = sorted(p.stem for p in bench.results_dir.glob("*.json"))
    assert len(stamps) == 2, stamps
    client = TestClient(dashboard_app(Project(bench.pytester.path / "config.yaml")),
                        base_url="http://127.0.0.1:8501")  # fmt: skip
    return client, stamps


def test_the_runs_are_listed_newest_first_with_their_targets_and_command(two_runs):
    client, stamps = two_runs
    runs = client.get("/api/runs").json()
    assert [r["stamp"] for r in runs] == stamps[::-1]
    for run in runs:
        assert run["targets"] == ["embedded/sim-a"] and run["failed"] == 0, run
        assert run["command"].startswith("pytest") and run["gate"] is None, run


def test_a_runs_report_and_a_comparison_are_the_reports_own_pages(two_runs):
    client, stamps = two_runs
    page = client.get(f"/runs/{stamps[0]}")
    assert page.status_code == 200 and "sim-a" in page.text
    policies = page.headers.get_list("content-security-policy")
    assert policies == [f"{report_csp()}; frame-ancestors 'self'"], policies
    compared = client.get(f"/compare?a={stamps[0]}&b={stamps[1]}")
    assert compared.status_code == 200
    assert "pytest-llmbench history: 2 runs" in compared.text and 'id="comparison"' in compared.text
    history = client.get("/history")
    assert history.status_code == 200 and "history: 2 runs" in history.text


@pytest.mark.parametrize(
    "name", ["20990101-000000", "..%2f..%2fconfig", "%2e%2e", "config", "20261202-061219.json"]
)
def test_nothing_but_a_run_in_results_is_reachable(two_runs, name):
    client, _ = two_runs
    answer = client.get(f"/runs/{name}")
    assert answer.status_code == 404, answer.text
    assert "providers" not in answer.text  # the config's text never comes back
