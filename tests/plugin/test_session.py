"""The plugin end to end: matrix and ids, selection, skips, usage errors, results on disk."""

import datetime as dt
import sys

import pytest

from ..extras import needs_litellm
from ..sessions import sim_config

FAST = {"ttft_ms": 5, "itl_ms": 1, "output_tokens": 12}
HOSTED = {
    "zai": {
        "api_base": "https://api.z.ai/api/paas/v4",
        "api_key_env": "LLMBENCH_TEST_ZAI_KEY",
        "models": [{"id": "glm-4.6", "display_name": "GLM-4.6", "context_window": 8000}],
    },
    "vendor": {
        "api_base": "http://127.0.0.1:9/v1",
        "api_key_env": "LLMBENCH_TEST_VENDOR_KEY",
        "models": [{"id": "org/Model Name:v2", "display_name": "org/Model Name:v2"}],
    },
}


def test_ids_are_readable_and_k_friendly(bench):
    bench.setup(sim_config({"sim-a": FAST}, tiers=(0, 5000), extra_providers=HOSTED))
    result = bench.run("--collect-only", "-q", "--llm-runs", "2")
    result.stdout.fnmatch_lines(
        [
            "*test_throughput[[]embedded-sim-a-ctx0-run1[]]",
            "*test_throughput[[]zai-GLM-4.6-ctx5000-run2[]]",
            "*test_throughput[[]vendor-org_Model_Name_v2-ctx0-run1[]]",
        ]
    )
    selected = bench.run("--collect-only", "-q", "--llm-runs", "2", "-k", "GLM")
    selected.stdout.fnmatch_lines(["4/12 tests collected (8 deselected)*"])
    marked = bench.run("--collect-only", "-q", "-m", "llm(provider='embedded')")
    marked.stdout.fnmatch_lines(["2/6 tests collected (4 deselected)*"])


def test_missing_key_skips_naming_the_variable_and_tiers_beyond_headroom_skip(bench):
    bench.setup(sim_config({"sim-a": FAST}, tiers=(0, 7900), extra_providers=HOSTED))
    result = bench.run("-rs", "--llm-provider", "embedded,zai")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "SKIPPED*LLMBENCH_TEST_ZAI_KEY is not set (environment, or .env beside config.yaml)",
        ]
    )
    outcomes = result.parseoutcomes()
    assert outcomes == {"passed": 2, "skipped": 2}
    # With the key present, the 7900 tier is beyond GLM's 8000 - 256 - 100 headroom.
    (bench.pytester.path / ".env").write_text("LLMBENCH_TEST_ZAI_KEY=from-dotenv\n")
    result = bench.run("-rs", "--llm-provider", "zai", "--llm-context-tiers", "7900")
    result.stdout.fnmatch_lines(
        [
            "SKIPPED*tier 7900 exceeds GLM-4.6's headroom 7644 "
            "(context_window 8000 - max_tokens 256 - 100)"
        ]
    )


def test_bad_config_is_a_usage_error_before_any_request(bench):
    bench.setup(
        "providers:\n  embedded:\n    managed: simulator\n    models: [{id: a, sim: "
        "{itl_ms: fast}}]\n"
    )
    result = bench.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: *config.yaml: providers.embedded.models[[]0[]].sim.itl_ms: must be a number*"]
    )
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert not bench.results_dir.exists()


def test_unknown_model_filter_is_a_usage_error(bench):
    bench.setup(sim_config({"sim-a": FAST}))
    result = bench.run("--llm-model", "no-such-model")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *selected no model (have: embedded/sim-a)*"])


def test_results_json_and_jsonl_and_terminal_table(bench):
    bench.setup(sim_config({"sim-a": FAST, "sim-b": FAST}, tiers=(0, 200)))
    result = bench.run("--llm-runs", "2")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*= llmbench =*",
            "target*tier*n*TTFT p50 ms*decode tok/s p50*TPOT p50 ms*out tok p50*errors",
            "embedded/sim-a (simulated)*0*2*",
            "embedded/sim-b (simulated)*200*2*",
            "results: *.json",
            "results: *.html",
            "results: *.jsonl",
        ]
    )
    document = bench.results()
    (page,) = bench.results_dir.glob("*.html")
    assert "embedded/sim-b" in page.read_text() or "sim-b" in page.read_text()
    assert document["schema_version"] == 2  # 2: every record has its wall-clock start
    assert document["metadata"]["versions"]["pytest-llmbench"]
    assert document["metadata"]["config"]["providers"]["embedded"]["models"] == ["sim-a", "sim-b"]
    assert len(document["records"]) == 8
    assert len(bench.jsonl()) == 8
    aggregates = {(a["target"], a["tier"]): a for a in document["aggregates"]}
    assert set(aggregates) == {
        ("embedded/sim-a", 0),
        ("embedded/sim-a", 200),
        ("embedded/sim-b", 0),
        ("embedded/sim-b", 200),
    }
    ttft = aggregates[("embedded/sim-a", 0)]["metrics"]["ttft_ms"]
    assert ttft["n"] == 2 and ttft["p99"] is None and ttft["min"] <= ttft["median"] <= ttft["max"]
    record = document["records"][0]
    for field in (
        "ttft_ms",
        "ttfa_ms",
        "think_ms",
        "e2e_ms",
        "close_ms",
        "output_tokens",
        "token_source",
        "tpot_ms",
        "decode_tps",
        "e2e_tps",
        "itl_ms",
        "prefill_tps",
        "reasoning_tokens",
        "event_ms",
        "status",
        "test",
        "run",
        "tier",
    ):
        assert field in record, field
    # a wall-clock timestamp taken beside t0, within the session's own start and end
    started = dt.datetime.fromisoformat(document["metadata"]["started"]).timestamp()
    ended = dt.datetime.fromisoformat(document["metadata"]["ended"]).timestamp()
    assert all(started <= r["t0_unix_ns"] / 1e9 <= ended for r in document["records"])


def test_no_save_writes_nothing(bench):
    bench.setup(sim_config({"sim-a": FAST}))
    assert bench.run("--llm-no-save").ret == 0
    assert not bench.results_dir.exists()


KILLER = """
import os, signal
import pytest

@pytest.mark.asyncio
async def test_measure(llm_stream, llm_run):
    await llm_stream([{"role": "user", "content": "hi"}])
    if llm_run == 3:
        os.kill(os.getpid(), signal.SIGKILL)
"""


def test_killed_session_keeps_finished_records(bench):
    bench.setup(sim_config({"sim-a": FAST}), tests={"test_killer": KILLER})
    result = bench.run("--llm-runs", "5")
    assert result.ret == -9  # SIGKILL: no teardown, no sessionfinish
    records = bench.jsonl()
    assert [r["run"] for r in records] == [1, 2]
    assert all(r["status"] == "passed" and r["ttft_ms"] for r in records)
    assert not list(bench.results_dir.glob("*.json"))


USER_TEST = """
import json
import pytest

@pytest.mark.asyncio
async def test_json_reply(llm_stream, llm_target):
    record = await llm_stream([{"role": "user", "content": "Reply with a JSON object."}],
                              response_format={"type": "json_object"}, max_tokens=8)
    assert record.ok and record.output_tokens == 8
    assert llm_target.key == "embedded/sim-a"

def test_sync_user(llm_stream):
    record = llm_stream.run([{"role": "user", "content": "hello"}])
    assert record.ttft_ms > 0
"""


def test_user_written_tests_are_measured_and_recorded(bench):
    bench.setup(sim_config({"sim-a": FAST}), tests={"test_mine": USER_TEST})
    result = bench.run()
    assert result.ret == 0, result.stdout.str()
    records = bench.results()["records"]
    tests = {r["test"].split("::")[1]: r for r in records}
    assert set(tests) == {
        "test_json_reply[embedded-sim-a-run1]",
        "test_sync_user[embedded-sim-a-run1]",
    }
    assert tests["test_json_reply[embedded-sim-a-run1]"]["output_tokens"] == 8
    assert all(r["tier"] is None and r["truth"] for r in records)


@pytest.mark.parametrize(
    "prefix", ["", pytest.param("anthropic/", marks=needs_litellm)], ids=["lean", "litellm"]
)
def test_secrets_never_leave_the_process(bench, monkeypatch, prefix):
    secret = "sk-llmbench-test-DO-NOT-LEAK-4242"
    monkeypatch.setenv("LLMBENCH_TEST_SIM_KEY", secret)
    extra = {"api_key_env": "LLMBENCH_TEST_SIM_KEY", "model_prefix": prefix}
    bench.setup(sim_config({"sim-a": FAST}, provider_extra=extra))
    result = bench.run("--llm-verbose", "-v")
    assert result.ret == 0
    written = "".join(p.read_text() for p in bench.results_dir.iterdir())
    assert "LLMBENCH_TEST_SIM_KEY" in written  # the variable's name is fine
    for text in (result.stdout.str(), result.stderr.str(), written):
        assert secret not in text


INERT_CONFTEST = """
import sys

def pytest_unconfigure(config):
    names = ("aiohttp", "litellm", "tiktoken", "yaml", "dotenv", "pytest_llmbench.servers.sim",
             "pytest_llmbench.clients.lean")
    heavy = [m for m in names if m in sys.modules]
    with open("modules.txt", "w") as f:
        f.write(",".join(heavy))
"""


def test_inert_in_a_project_that_does_not_use_it(pytester):
    pytester.makeconftest(INERT_CONFTEST)
    pytester.makepyfile("def test_plain():\n    assert True\n")
    (pytester.path / "config.yaml").write_text("this: [is not, a benchmark config\n")
    result = pytester.runpytest_subprocess("-p", "no:asyncio")
    assert result.ret == 0
    output = [line for line in result.stdout.lines if not line.startswith("plugins:")]
    assert not any("llmbench" in line for line in output), output
    assert not (pytester.path / "results").exists()
    assert (pytester.path / "modules.txt").read_text() == ""


@pytest.mark.skipif(sys.platform != "linux", reason="xdist run checked on Linux CI")
def test_runs_under_xdist(bench):
    pytest.importorskip("xdist")
    bench.setup(sim_config({"sim-a": FAST, "sim-b": FAST}))
    result = bench.run("-n", "2", "--llm-runs", "2")
    assert result.ret == 0, result.stdout.str()
    document = bench.results()
    assert len(document["records"]) == 4
    assert all(r["ok"] and r["truth"] for r in document["records"])
    result.stdout.fnmatch_lines(["*embedded/sim-a (simulated)*", "*embedded/sim-b (simulated)*"])


WARMUP_TEST = """
import pytest

@pytest.mark.asyncio
async def test_first(llm_stream, llm_target):
    await llm_stream([{"role": "user", "content": "measured"}])
    sim = llm_stream.bench.endpoints.sim_for(llm_target)
    requests = sim.requests()
    assert len(requests) == 2, requests
    warmup, measured = requests
    assert warmup["max_tokens"] == 4 and measured["max_tokens"] == 256
    assert warmup["done_ns"] <= measured["recv_ns"]
"""


def test_each_target_is_warmed_up_once_before_its_first_measured_request(bench):
    bench.setup(sim_config({"sim-a": FAST}), tests={"test_warm": WARMUP_TEST})
    result = bench.run("--llm-runs", "1")
    assert result.ret == 0, result.stdout.str()
    records = bench.results()["records"]
    assert len(records) == 1  # the warm-up is not recorded


CONCURRENT_TEST = """
import asyncio
import pytest

@pytest.mark.asyncio
async def test_burst(llm_stream, llm_target):
    records = await asyncio.gather(*(llm_stream([{"role": "user", "content": f"q{i}"}])
                                     for i in range(8)))
    requests = llm_stream.bench.endpoints.sim_for(llm_target).requests()
    assert len(requests) == 9  # one warm-up, then the eight measured
    warmup = requests[0]
    assert warmup["max_tokens"] == 4
    assert all(r["recv_ns"] >= warmup["done_ns"] for r in requests[1:])
    assert all(r.ok for r in records)
"""


def test_concurrent_first_requests_share_one_warm_up(bench):
    bench.setup(sim_config({"sim-a": FAST}), tests={"test_burst": CONCURRENT_TEST})
    result = bench.run()
    assert result.ret == 0, result.stdout.str()
    assert len(bench.results()["records"]) == 8
    assert all(r["truth"] for r in bench.results()["records"])
