"""Per-request absolute limits fail that test with the numbers; bad limits are usage errors."""

import pytest
import yaml

from ..sessions import sim_config

# 10 ms between tokens: with 1 ms a loaded two-core machine read the whole answer in one go,
# so decode time was 0 and decode_tps honestly had no value ("no data" in the gate).
SLOW_FIRST_TOKEN = {"ttft_ms": 60, "itl_ms": 10, "output_tokens": 10}


def _config(**thresholds):
    document = yaml.safe_load(sim_config({"sim-a": SLOW_FIRST_TOKEN, "sim-b": SLOW_FIRST_TOKEN}))
    document["thresholds"] = thresholds
    return yaml.safe_dump(document)


def test_ttft_limit_below_the_servers_ttft_fails_with_the_numbers(bench):
    bench.setup(_config(defaults=["ttft_ms <= 30"], models={"embedded/sim-b": ["ttft_ms <= 500"]}))
    result = bench.run("-rf")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert result.parseoutcomes() == {"failed": 1, "passed": 1}  # sim-b's own limit is looser
    result.stdout.fnmatch_lines(
        [
            "*embedded/sim-a: ttft_ms = * breaks the limit ttft_ms <= 30 "
            "(config.yaml: thresholds.defaults)*"
        ]
    )
    records = {r["model"]: r for r in bench.results()["records"]}
    assert records["sim-a"]["status"] == "failed"
    assert records["sim-a"]["ok"]  # the request itself was fine and is measured
    assert records["sim-a"]["limits_broken"]


def test_command_line_limit_overrides_the_config(bench):
    bench.setup(_config(defaults=["ttft_ms <= 30"]))
    result = bench.run("--llm-fail", "ttft_ms <= 1000")
    assert result.ret == 0, result.stdout.str()


@pytest.mark.parametrize(
    ("args", "config", "message"),
    [
        (["--llm-fail", "ttft_ms.p90 = 800"], {}, "--llm-fail / ini llm_fail: cannot read"),
        (["--llm-fail", "decode_tps.median: +10%"], {}, "must be -N%"),
        ([], {"defaults": ["speed.p90 <= 3"]}, "thresholds.defaults[[]0[]]: *unknown metric"),
    ],
)
def test_malformed_limits_are_usage_errors(bench, args, config, message):
    bench.setup(_config(**config))
    result = bench.run(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: *{message}*"])
    assert not bench.results_dir.exists()


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_aggregate_limit_fails_the_session_with_a_gate_section(bench, workers):
    bench.setup(_config(defaults=["ttft_ms.median <= 30", "decode_tps.median >= 10"]))
    result = bench.run("--llm-runs", "2", *workers)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] == 4 and "failed" not in outcomes  # every test passed
    result.stdout.fnmatch_lines(
        [
            "*- llmbench gate -*",
            "target*tier*limit*baseline*current*change*95% interval*n*verdict",
            "embedded/sim-a*0*ttft_ms.median <= 30*—*2*BROKEN",
            "embedded/sim-a*0*decode_tps.median >= 10*2*ok",
            "2 limit(s) broken: the session fails",
        ]
    )
    gate = bench.results()["gate"]
    assert {(c["target"], c["limit"], c["failed"]) for c in gate} >= {
        ("embedded/sim-a", "ttft_ms.median <= 30", True),
        ("embedded/sim-b", "decode_tps.median >= 10", False),
    }


def test_aggregate_limits_that_hold_pass(bench):
    bench.setup(_config(defaults=["ttft_ms.p90 <= 1000", "decode_tps.median: -10%"]))
    result = bench.run("--llm-runs", "2")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "relative limits not checked (no --llm-baseline): decode_tps.median: -10%",
            "all checked limits hold",
        ]
    )
