"""Load points spread over pytest-xdist workers: one point, every shard at once, one set of numbers.

Whole sessions of benchmarks/test_load.py under ``-n 2`` (popen workers) and under two ``--tx
socket=`` workers (execnet's socket servers, started here on loopback), all against one built-in
server that this test starts (the target's ``api_base``), so that its truth log sees every
shard's requests. What a user relies on:

- each point is one point in the results, whatever the number of shards: every request of every
  shard in it (as many as planned), the figures computed from all of them;
- a rate point's merged arrivals are the planned schedule (the arrivals of the unsharded point,
  on the controller's timeline: each shard's start converted with its measured clock offset);
- the merged figures agree with the server's truth log (one machine, one monotonic clock: no
  token is measured before the server sent it);
- per point, each shard's worker, clock offset and uncertainty and the start skew;
- a worker whose clock reads 5 ms ahead (the plugin's test hook) has that offset measured;
- a worker killed mid-point fails that point only, naming it; the other shard's records stay;
- ``--llm-load-shards`` that cannot be kept is a usage error before anything runs.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_llmbench.config.load_spec import LoadPoint
from pytest_llmbench.measure.schedule import arrival_offsets
from pytest_llmbench.measure.truth import truth_from_log
from pytest_llmbench.plugin.load_sharded import KILL_ENV
from pytest_llmbench.plugin.worker_side import SHIFT_ENV, VERSION_ENV
from pytest_llmbench.schema import Key
from pytest_llmbench.servers.sim.server import SimServer

from ..procs import socket_workers
from ..sessions import BenchProject

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="xdist runs checked on Linux CI")

REPO = Path(__file__).resolve().parents[2]
LOAD_TEST = (REPO / "benchmarks" / "test_load.py").read_text()
TOKENS = 16
SIM = {"ttft_ms": 20, "itl_ms": 2, "output_tokens": TOKENS}
RATE, CONCURRENCY, REQUESTS, SEED = 40.0, 8, 64, 7
TIMEOUT_S = 240
SHIFT_NS = 5_000_000


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[SimServer]:
    """One built-in server for every worker's shard (a real deployment's one endpoint)."""
    with SimServer.start(profiles={"sim-a": SIM}) as server:
        yield server


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> BenchProject:
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)  # an outer -n run's: the inner one is no worker
    return BenchProject(pytester)


def _setup(project: BenchProject, sim: SimServer, points: list[str]) -> None:
    document = {
        "defaults": {"max_tokens": TOKENS, "timeout_s": 10, "prompt": "Explain streaming."},
        "providers": {
            "shared": {
                "api_base": sim.base_url + "/v1",
                "models": [{"id": "sim-a"}],
                "load": {
                    Key.OUTPUT_TOKENS: TOKENS, Key.PROMPT_TOKENS: 32, "seed": SEED,
                    "requests": REQUESTS, "points": points,
                },
            }
        },
    }  # fmt: skip
    project.setup(yaml.safe_dump(document, sort_keys=False), tests={"test_load": LOAD_TEST})


def _run(project: BenchProject, *args: str) -> pytest.RunResult:
    return project.pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:randomly", *args, timeout=TIMEOUT_S
    )


POINTS = [f"rate={RATE:g}:poisson", f"concurrency={CONCURRENCY}"]


def _workers(kind: str, project: BenchProject) -> Iterator[list[str]]:
    if kind == "popen":
        yield ["-n", "2"]
        return
    with socket_workers(2, chdir=project.pytester.path) as specs:
        yield [arg for spec in specs for arg in ("--tx", spec)] + ["--dist", "load"]


@pytest.mark.parametrize("kind", ["popen", "socket"])
def test_a_point_spread_over_two_workers_is_one_point_with_every_request(project, shared_sim, kind):
    _setup(project, shared_sim, POINTS)
    since = time.perf_counter_ns()  # the server's clock too (one machine)
    for args in _workers(kind, project):
        result = _run(project, *args, "-v")
    out = result.stdout.str()
    assert result.ret == 0, out
    for point in ("r40poisson", "c8"):  # each shard is a test of its own, and passed
        for shard in ("shard1of2", "shard2of2"):
            assert f"PASSED test_load.py::test_load[shared-sim-a-{point}-{shard}]" in out, out
    document = project.results()
    points = {p["point"]: p for p in document["load"]["points"]}
    assert sorted(points) == ["c8", "r40poisson"], points.keys()  # one point each, not two
    records = document["load"]["records"]
    logs = {str(log["id"]): log for log in shared_sim.requests(since_ns=since)}
    for name in ("r40poisson", "c8"):
        point, planned = points[name], REQUESTS
        assert point["test"].endswith(f"test_load[shared-sim-a-{name}]"), point["test"]
        assert point["started"] == point["completed"] == planned, point
        shards = point["shards"]
        assert [s["shard"] for s in shards] == [1, 2], shards
        assert {s["worker"] for s in shards} == {"gw0", "gw1"}, shards
        assert sum(s["requests"] for s in shards) == planned, shards
        for shard in shards:
            assert 0 <= shard["uncertainty_ms"] < 0.5, shard  # loopback
            assert abs(shard["offset_ms"]) <= shard["uncertainty_ms"] + 0.05, shard
        assert point["start_skew_ms"] is not None and point["start_skew_ms"] < 20, point
        mine = [r for r in records if r[Key.POINT] == name]
        assert len(mine) == planned and all(r[Key.OK] for r in mine), len(mine)
        assert sorted(r[Key.REQUEST] for r in mine) == list(range(planned))
        _agrees_with_truth(point, mine, logs)
    _arrivals_are_the_planned_schedule([r for r in records if r[Key.POINT] == "r40poisson"])


def _agrees_with_truth(
    point: dict[str, Any], records: list[dict[str, Any]], logs: dict[str, dict[str, Any]]
) -> None:
    """Every request is in the server's log; no token measured before the server sent it (the
    shards' times are on the controller's clock, which is the server's here, to the offset's
    uncertainty); the merged TTFT median within 2 ms of the truth's."""
    errors, truths = [], []
    for record in records:
        log = logs[str(record[Key.RESPONSE_ID])]
        truth = truth_from_log(log, record[Key.T0_NS])
        assert record[Key.OUTPUT_TOKENS] == truth[Key.OUTPUT_TOKENS] == TOKENS
        errors.append(record[Key.TTFT_MS] - truth[Key.TTFT_MS])
        truths.append(truth[Key.TTFT_MS])
    assert min(errors) >= -0.1, sorted(errors)
    assert statistics.median(errors) < 2.0, sorted(errors)
    merged_p50 = point["percentiles"][Key.TTFT_MS]["p50"]
    assert abs(merged_p50 - statistics.median(truths)) < 2.0, (merged_p50, sorted(truths))


def _arrivals_are_the_planned_schedule(records: list[dict[str, Any]]) -> None:
    """The two shards' scheduled sends, merged, are the whole point's Poisson schedule (from its
    first arrival, within a millisecond: both shards' clocks converted to the controller's)."""
    planned = LoadPoint("rate", rate=RATE, arrival="poisson", requests=REQUESTS, duration_s=None)
    offsets = list(arrival_offsets(planned, SEED))
    scheduled = sorted(r[Key.SCHED_NS] for r in records)
    got = [(t - scheduled[0]) / 1e6 for t in scheduled]
    want = [(o - offsets[0]) / 1e6 for o in offsets]
    assert len(got) == len(want)
    worst = max(abs(a - b) for a, b in zip(got, want, strict=True))
    assert worst < 1.0, worst


def test_a_shifted_worker_clock_is_measured_before_each_point(project, shared_sim, monkeypatch):
    """The plugin's test hook makes gw1's clock read 5 ms ahead: each point's shard on gw1
    has that offset measured (within its uncertainty), gw0's reads zero, and the start skew on
    the controller's timeline stays small (gw1 converted the start with its offset)."""
    monkeypatch.setenv(SHIFT_ENV, f"gw1:{SHIFT_NS}")
    _setup(project, shared_sim, POINTS)
    result = _run(project, "-n", "2")
    assert result.ret == 0, result.stdout.str()
    for point in project.results()["load"]["points"]:
        for shard in point["shards"]:
            true_ms = SHIFT_NS / 1e6 if shard["worker"] == "gw1" else 0.0
            assert abs(shard["offset_ms"] - true_ms) <= shard["uncertainty_ms"], shard
        assert point["start_skew_ms"] < 20, point


def test_a_worker_killed_mid_point_fails_that_point_only_and_keeps_the_others_records(
    project, shared_sim, monkeypatch
):
    """gw1 kills itself (SIGKILL, the plugin's test hook) one second into the first point: that
    point fails, naming the lost worker, with the other shard's records kept; xdist replaces the
    worker and the next point runs whole on two workers."""
    monkeypatch.setenv(KILL_ENV, "gw1:1.0")
    document = {
        "defaults": {"max_tokens": TOKENS, "timeout_s": 10, "prompt": "Explain streaming."},
        "providers": {
            "shared": {
                "api_base": shared_sim.base_url + "/v1",
                "models": [{"id": "sim-a"}],
                "load": {
                    Key.OUTPUT_TOKENS: TOKENS, Key.PROMPT_TOKENS: 32, "duration_s": 3,
                    "points": ["concurrency=4", "rate=20:poisson"],
                },
            }
        },
    }  # fmt: skip
    project.setup(yaml.safe_dump(document, sort_keys=False), tests={"test_load": LOAD_TEST})
    result = _run(project, "-n", "2", "-v")
    out = result.stdout.str()
    assert result.ret == 1, out
    assert "crashed" in out, out
    points = {p["point"]: p for p in project.results()["load"]["points"]}
    lost = points["c4"]
    assert any("lost" in flag and "gw1" in flag for flag in lost["flags"]), lost["flags"]
    kept = [s for s in lost["shards"] if "lost" not in s]
    assert len(kept) == 1 and kept[0]["requests"] > 0, lost["shards"]
    assert lost["started"] == kept[0]["requests"], lost
    whole = points["r20poisson"]
    assert whole["flags"] in ([], ["distorted"]), whole["flags"]
    assert len(whole["shards"]) == 2 and whole["errors"] == 0, whole["shards"]
    assert "PASSED test_load.py::test_load[shared-sim-a-r20poisson-shard1of2]" in out, out
    assert "PASSED test_load.py::test_load[shared-sim-a-r20poisson-shard2of2]" in out, out


def test_a_worker_with_another_plugin_version_is_refused(project, shared_sim, monkeypatch):
    monkeypatch.setenv(VERSION_ENV, "gw1:0.0.0")
    _setup(project, shared_sim, POINTS)
    result = _run(project, "-n", "2")
    out = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, out
    assert "runs pytest-llmbench 0.0.0, this controller" in out, out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--llm-load-shards", "2"), "only under pytest-xdist's --dist load (-n N), not without"),
        (("-n", "2", "--dist", "loadfile", "--llm-load-shards", "2"), "not under --dist loadfile"),
        (("-n", "2", "--llm-load-shards", "3"), "only 2 workers (-n / --tx) to run them on"),
        (("--llm-load-shards", "0"), "--llm-load-shards / ini llm_load_shards: expected a whole"),
    ],
)
def test_shards_that_cannot_be_kept_are_a_usage_error(project, shared_sim, args, message):
    _setup(project, shared_sim, POINTS)
    result = _run(project, *args)
    out = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, out
    assert message in out, out
    assert not project.results_dir.exists()  # nothing ran


def test_a_simulated_targets_shards_drive_one_built_in_server(project):
    """A ``managed: simulator`` target's shards drive the controller's one built-in server, not
    one each: with one batch slot and a shard at concurrency 1 on each worker, that server
    queues every other request (its truth says so), which two servers would never do."""
    from ..sessions import sim_config

    sim = {"ttft_ms": 10, "itl_ms": 2, "output_tokens": 8, "max_batch": 1}
    load: dict[str, Any] = {Key.OUTPUT_TOKENS: 8, Key.PROMPT_TOKENS: 16, "requests": 24}
    load["points"] = ["concurrency=2"]
    config = sim_config({"sim-q": sim}, max_tokens=8, provider_extra={"load": load})
    project.setup(config, tests={"test_load": LOAD_TEST})
    result = _run(project, "-n", "2")
    assert result.ret == 0, result.stdout.str()
    document = project.results()
    (point,) = document["load"]["points"]
    assert len(point["shards"]) == 2 and point["started"] == 24, point["shards"]
    records = document["load"]["records"]
    queued = [r for r in records if r[Key.TRUTH].get(Key.SERVER_QUEUE_MS, 0.0) > 5.0]
    assert len(queued) >= len(records) // 3, [r[Key.TRUTH] for r in records]


def test_a_sharded_search_finds_the_one_servers_knee(project):
    """A search spread over two workers: every shard takes the same decisions from the merged
    figures (the same points, in order), and the knee found is the one server's (a batch of
    four, its TTFT limit broken by the fifth client whichever worker it runs on)."""
    from pytest_llmbench.servers.sim.profile import SimProfile

    from ..sessions import sim_config

    sim = {"ttft_ms": 20, "itl_ms": 5, "output_tokens": 20, "max_batch": 4}
    profile = SimProfile.from_mapping(sim)
    fits = [c for c in range(1, 65) if profile.closed_loop_expectation(c).ttft_ms <= 35]
    knee = max(fits)
    project.setup(sim_config({"knee": sim}, max_tokens=64), tests={"test_load": LOAD_TEST})
    slo = "ttft_ms.p90 <= 35"
    result = _run(
        project, "-n", "2", "--llm-load", "search", "--llm-load-slo", slo,
        "--llm-load-duration", "20",
    )  # fmt: skip
    result.assert_outcomes(passed=2)
    load = project.results()["load"]
    (capacity,) = load["capacities"]
    assert capacity["value"] == knee and capacity["bracket"] == [knee, knee + 1], capacity
    assert all(len(p["shards"]) == 2 for p in load["points"]), load["points"]
    interval = capacity["interval"]
    assert interval is None or interval[0] <= knee <= interval[1], capacity
