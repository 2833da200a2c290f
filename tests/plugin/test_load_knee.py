"""The load mode finds what the simulator's load model was built to have: a knee where it is, a
capacity under SLOs within its interval, and a regression under load against a baseline.

Each expectation comes from the profile (``SimProfile``'s formulas), never from a fixed figure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_llmbench.schema import Key
from pytest_llmbench.servers.sim.profile import SimProfile

from ..sessions import BenchProject

LOAD = (Path(__file__).resolve().parents[2] / "benchmarks" / "test_load.py").read_text()


def _config(sim: dict[str, Any], extra: dict[str, Any] | None = None) -> str:
    document = {
        "defaults": {"max_tokens": 64, "context_tiers": [0], "timeout_s": 30, **(extra or {})},
        "providers": {"embedded": {"managed": "simulator", "models": [{"id": "knee", "sim": sim}]}},
    }
    return yaml.safe_dump(document, sort_keys=False)


def _run(bench: BenchProject, config: str, *args: str) -> pytest.RunResult:
    bench.setup(config, {"test_load": LOAD})
    return bench.run("-p", "no:randomly", *args)


#: Two load models with their knee in different places, and the SLO that finds each.
QUEUEING = {"ttft_ms": 20, "itl_ms": 5, "output_tokens": 20, "max_batch": 4}
SLOWING = {"ttft_ms": 10, "itl_ms": 4, "output_tokens": 20, "decode_slowdown": 0.25}


def _queueing_knee(limit_ms: float) -> int:
    """The highest concurrency whose expected TTFT (queueing past max_batch) stays in limit."""
    profile = SimProfile.from_mapping(QUEUEING)
    fits = [c for c in range(1, 65) if profile.closed_loop_expectation(c).ttft_ms <= limit_ms]
    return max(fits)


def _slowing_knee(limit_ms: float) -> int:
    profile = SimProfile.from_mapping(SLOWING)
    return max(c for c in range(1, 65) if profile.tpot_at_batch_ms(c) <= limit_ms)


@pytest.mark.parametrize(
    ("sim", "slo", "knee"),
    [
        # queueing: TTFT 20 ms up to 4 in flight, then about 29 ms more per extra client
        (QUEUEING, "ttft_ms.p90 <= 35", _queueing_knee(35)),
        # decode slowing: TPOT 4 ms × (1 + 0.25 (c − 1)); 9.5 ms holds up to 6
        (SLOWING, "tpot_ms.p50 <= 9.5", _slowing_knee(9.5)),
    ],
    ids=["queueing", "decode-slowdown"],
)
def test_a_search_finds_the_configured_knee(
    bench: BenchProject, sim: dict[str, Any], slo: str, knee: int
) -> None:
    result = _run(
        bench, _config(sim), "--llm-load", "search", "--llm-load-slo", slo,
        "--llm-load-duration", "20",
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    (capacity,) = bench.results()["load"]["capacities"]
    low, high = capacity["bracket"]
    assert capacity["value"] == knee, capacity
    assert (low, high) == (knee, knee + 1), capacity
    interval = capacity["interval"]
    assert interval is None or interval[0] <= knee <= interval[1], capacity
    result.stdout.fnmatch_lines([f"capacity embedded/knee: c{knee} under {slo}*"])


def test_a_search_over_rates_brackets_the_servers_capacity(bench: BenchProject) -> None:
    """Constant arrivals into a batch of 4: below the rate the batch sustains no request waits
    (TTFT stays at its 20 ms), past it the admission queue grows for as long as the point runs,
    so a 35 ms TTFT limit breaks right at the configured capacity. The search starts from the
    rate one stream sustains (its c1 point), doubles, then bisects to within 10 %: its bracket
    holds the capacity (a slower machine only lowers the passing rate)."""
    profile = SimProfile.from_mapping(QUEUEING)
    capacity_rps = profile.closed_loop_expectation(profile.max_batch or 1).requests_per_s
    slo = "ttft_ms.p90 <= 35"
    result = _run(
        bench, _config(QUEUEING), "--llm-load", "search=rate:constant", "--llm-load-slo", slo,
        "--llm-load-duration", "3",
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    load = bench.results()["load"]
    (capacity,) = load["capacities"]
    assert capacity["kind"] == "rate", capacity
    low, high = capacity["bracket"]
    assert low is not None and high is not None, capacity
    assert high <= low * 1.1 + 1e-9 or capacity["cliff"], capacity
    assert low * 0.95 <= capacity_rps <= high * 1.05, (capacity_rps, capacity)
    first, *rates = load["points"]
    assert first["point"] == "search-c1" and all(p["kind"] == "rate" for p in rates)
    assert all(p["arrival"] == "constant" for p in rates)
    result.stdout.fnmatch_lines([f"capacity embedded/knee: r{low:g} under {slo}*"])


def test_a_sweep_climbs_to_where_the_server_stops_keeping_up(bench: BenchProject) -> None:
    """A sweep's ends are the unloaded server and its ceiling (max_batch), its rates between."""
    sim = {"ttft_ms": 20, "itl_ms": 5, "output_tokens": 20, "max_batch": 2}
    result = _run(bench, _config(sim), "--llm-load", "sweep", "--llm-load-duration", "3")
    result.assert_outcomes(passed=1)
    load = bench.results()["load"]
    names = [point["point"] for point in load["points"]]
    assert names[0] == "sweep-c1" and names[-1] == "sweep-c64", names
    light, heavy = load["points"][0], load["points"][-1]
    expected = SimProfile.from_mapping(sim).closed_loop_expectation(64)
    measured = heavy["steady"]["request_rate"] or heavy["whole"]["request_rate"]
    assert measured == pytest.approx(expected.requests_per_s, rel=0.25)
    # past the knee the requests queue: TTFT many times the unloaded one
    ttft = [point["percentiles"]["ttft_ms"]["p50"] for point in (light, heavy)]
    assert ttft[1] > 5 * ttft[0], ttft
    # the rates between stay below what c64 sustained (the server's ceiling)
    assert all(p["rate"] < measured * 1.05 for p in load["points"][1:-1]), names


def test_a_slower_server_under_load_fails_against_its_baseline(bench: BenchProject) -> None:
    """A baseline saved at one speed; the same point with the server's decode 30 % slower
    regresses beyond noise and the session fails through the gate."""
    limits = {"thresholds": {"defaults": ["tpot_ms.median: +10%"]}}
    fast = {"ttft_ms": 10, "itl_ms": 5, "output_tokens": 30, "max_batch": 8}
    baseline = bench.pytester.path / "baseline.json"
    args = ("--llm-load", "concurrency=4", "--llm-load-requests", "40")
    first = _run(bench, _config(fast) + yaml.safe_dump(limits), *args,
                 "--llm-save-baseline", str(baseline))  # fmt: skip
    first.assert_outcomes(passed=1)
    groups = json.loads(baseline.read_text())["groups"]
    assert any(g.get("point") == "c4" for g in groups), groups
    slow = {**fast, "itl_ms": 6.5}
    for old in bench.results_dir.glob("*"):
        old.unlink()
    second = _run(bench, _config(slow) + yaml.safe_dump(limits), *args,
                  "--llm-baseline", str(baseline))  # fmt: skip
    assert second.ret == pytest.ExitCode.TESTS_FAILED
    gate = bench.results()["gate"]
    (check,) = [c for c in gate if c.get("point") == "c4"]
    assert check["failed"] and check["verdict"] == "regressed", check
    assert check["change_pct"] == pytest.approx(30, abs=8)


def test_a_capacity_that_fell_fails_against_its_baseline(bench: BenchProject) -> None:
    """ "Capacity under the SLOs fell from 8 to 4": a baseline saved with max_batch 8, the same
    search with max_batch 4; ``capacity: -25%`` fails the session, ``capacity >= 2`` holds."""
    limits = {"thresholds": {"defaults": ["capacity: -25%", "capacity >= 2"]}}
    roomy = {"ttft_ms": 20, "itl_ms": 5, "output_tokens": 20, "max_batch": 8}
    baseline = bench.pytester.path / "baseline.json"
    args = ("--llm-load", "search", "--llm-load-slo", "ttft_ms.p90 <= 30",
            "--llm-load-duration", "20")  # fmt: skip
    first = _run(bench, _config(roomy) + yaml.safe_dump(limits), *args,
                 "--llm-save-baseline", str(baseline))  # fmt: skip
    first.assert_outcomes(passed=1)
    (saved,) = [
        g for g in json.loads(baseline.read_text())["groups"] if g.get("point") == "capacity"
    ]
    assert saved["samples"]["capacity"] == [_knee_of(roomy, 30)]
    for old in bench.results_dir.glob("*"):
        old.unlink()
    tight = {**roomy, "max_batch": 4}
    second = _run(bench, _config(tight) + yaml.safe_dump(limits), *args,
                  "--llm-baseline", str(baseline))  # fmt: skip
    assert second.ret == pytest.ExitCode.TESTS_FAILED
    checks = {c["limit"]: c for c in bench.results()["gate"] if c.get("point") == "capacity"}
    relative, absolute = checks["capacity: -25%"], checks["capacity >= 2"]
    assert relative["verdict"] == "regressed" and relative["failed"], relative
    assert relative["value"] == _knee_of(tight, 30) and relative["baseline"] == _knee_of(roomy, 30)
    assert absolute["verdict"] == "ok" and not absolute["failed"], absolute


def _knee_of(sim: dict[str, Any], limit_ms: float) -> int:
    profile = SimProfile.from_mapping(sim)
    return max(c for c in range(1, 65) if profile.closed_loop_expectation(c).ttft_ms <= limit_ms)


def test_a_point_too_large_to_carry_its_records_still_gates_and_keeps_them(
    bench: BenchProject,
) -> None:
    """Past INLINE_RECORDS requests a point's records stay out of the results JSON (memory: a
    point of 100,000 would hold them all until the end of the session): its records file has
    every one, the results carry its samples, and a later session takes that results file as
    its baseline and gates the point on them (a 30 % slower decode regresses)."""
    from pytest_llmbench.results.load_records import INLINE_RECORDS

    limits = {"thresholds": {"defaults": ["tpot_ms.median: +10%"]}}
    fast = {"ttft_ms": 2, "itl_ms": 2, "output_tokens": 8}
    requests = INLINE_RECORDS + 100
    args = ("--llm-load", "concurrency=32", "--llm-load-requests", str(requests))
    first = _run(bench, _config(fast) + yaml.safe_dump(limits), *args)
    first.assert_outcomes(passed=1)
    document = bench.results()
    (point,) = document["load"]["points"]
    assert point["started"] == requests and point["records_inline"] is False
    assert document["load"]["records"] == []
    (group,) = document["load"]["samples"]
    assert (group["target"], group["point"]) == ("embedded/knee", "c32")
    full = bench.load_jsonl()
    assert len(group["samples"]["ttft_ms"]) == point["completed"] == requests
    timed = [r[Key.TPOT_MS] for r in full if r[Key.OK] and r[Key.TPOT_MS] is not None]
    assert group["samples"]["tpot_ms"] == timed
    assert len(full) == requests and sorted(r["request"] for r in full) == list(range(requests))
    assert sum(r[Key.STEADY] for r in full) == point["steady"]["completed"]
    baseline = bench.pytester.path / "baseline.json"
    (bench.results_dir / f"{point['records_file'].split('.')[0]}.json").rename(baseline)
    for old in bench.results_dir.glob("*"):
        old.unlink()
    slow = {**fast, "itl_ms": 2.6}
    second = _run(bench, _config(slow) + yaml.safe_dump(limits), *args,
                  "--llm-baseline", str(baseline))  # fmt: skip
    assert second.ret == pytest.ExitCode.TESTS_FAILED, second.stdout.str()
    (check,) = [c for c in bench.results()["gate"] if c.get("point") == "c32"]
    assert check["failed"] and check["verdict"] == "regressed", check
