"""A key echoed back by a server, and provider text full of terminal escapes, never leave the
process as they came: against the hostile server (:mod:`tests.hostile`), whose echo modes repeat
the request's ``Authorization`` header, no output of the session (terminal, results files, JUnit
XML, pytest-html) holds the key, and no raw ESC byte from the provider reaches the terminal."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ..extras import needs_litellm
from ..sessions import BenchProject, sim_config

SECRET = "sk-canary-7f3a9c1e5b2d4680-DO-NOT-LEAK"
KEY_ENV = "LLMBENCH_TEST_ECHO_KEY"


def _config(api_base: str, model: str, client: str = "lean") -> str:
    provider = {
        "api_base": api_base,
        "api_key_env": KEY_ENV,
        "client": client,
        "models": [{"id": model}],
    }
    if client == "litellm":
        provider["model_prefix"] = "openai/"
    document = {
        "defaults": {"max_tokens": 8, "context_tiers": [0], "timeout_s": 10},
        "providers": {"echo": provider},
    }
    return yaml.safe_dump(document, sort_keys=False)


def _every_output(bench: BenchProject, result: pytest.RunResult) -> dict[str, str]:
    """Every text the session left: terminal, results files, JUnit XML, the pytest-html page."""
    outputs = {"stdout": result.stdout.str(), "stderr": result.stderr.str()}
    root: Path = bench.pytester.path
    for path in [*bench.results_dir.iterdir(), root / "junit.xml", root / "page.html"]:
        outputs[path.name] = path.read_text(encoding="utf-8", errors="replace")
    assert {Path(n).suffix for n in outputs} >= {".json", ".jsonl", ".html", ".xml"}, outputs
    return outputs


def _run(bench: BenchProject, *args: str) -> pytest.RunResult:
    return bench.pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--junitxml=junit.xml", "--html=page.html", *args, timeout=120
    )


@pytest.mark.parametrize(
    ("model", "client", "key_from", "status", "message"),
    [
        (
            "echo_error",
            "lean",
            "environment",
            401,
            "HTTP 401: invalid credentials; the request had Authorization: Bearer ***",
        ),
        (
            "echo_event",
            "lean",
            ".env",
            200,
            "error event in stream: upstream refused the header Authorization: Bearer ***",
        ),
        pytest.param(
            "echo_error",
            "litellm",
            "environment",
            401,
            "Authorization: Bearer ***",
            marks=needs_litellm,
        ),
    ],
    ids=["401-body", "error-event", "litellm-401"],
)
def test_an_echoed_key_is_in_no_output(
    bench, monkeypatch, hostile, model, client, key_from, status, message
):
    bench.setup(_config(hostile.base_url, model, client))
    if key_from == ".env":
        monkeypatch.delenv(KEY_ENV, raising=False)
        (bench.pytester.path / ".env").write_text(f"{KEY_ENV}={SECRET}\n")
    else:
        monkeypatch.setenv(KEY_ENV, SECRET)
    result = _run(bench, "--llm-verbose", "-v", "-rA")
    result.assert_outcomes(failed=1)
    for name, text in _every_output(bench, result).items():
        assert SECRET not in text, f"the key is in {name}"
    (record,) = bench.jsonl()
    assert record["status"] == "failed" and record["http_status"] == status
    assert message in record["error"], record["error"]
    assert message in result.stdout.str()
    assert "***" in bench.results()["records"][0]["error"]


def test_provider_escapes_never_reach_the_terminal(bench, monkeypatch, hostile):
    monkeypatch.setenv(KEY_ENV, SECRET)
    bench.setup(_config(hostile.base_url, "ansi_error"))
    result = _run(bench, "-v", "-rA")
    result.assert_outcomes(failed=1)
    shown = result.stdout.str() + result.stderr.str()
    assert "\x1b" not in shown and "\x07" not in shown
    # shown escaped, so the reader sees what the provider sent
    assert r"overloaded \x1b[2J\x1b]0;owned\x07\x1b[32m1 passed\x1b[0m" in result.stdout.str()
    (record,) = bench.jsonl()
    assert record["http_status"] == 503 and "\x1b" not in record["error"]
    assert r"\x1b[32m1 passed" in record["error"]
    for name, text in _every_output(bench, result).items():
        assert "\x1b" not in text, f"a raw ESC is in {name}"


LEAKY = """
import pytest

@pytest.mark.asyncio
async def test_leaky(llm_stream, llm_target):
    key = llm_target.api_key.reveal()
    print("debug: the key is", key, "\\x1b[2J")
    await llm_stream([{"role": "user", "content": "hi"}], extra={"note": f"sent {key}"})
    assert key == "", f"the key {key} \\x1b]0;owned\\x07"
"""


def test_the_report_guard_catches_what_a_test_itself_lets_out(bench, monkeypatch):
    # Not provider text: the user's own test prints the key, records it and fails quoting it.
    monkeypatch.setenv(KEY_ENV, SECRET)
    fast = {"ttft_ms": 5, "itl_ms": 1, "output_tokens": 8}
    bench.setup(
        sim_config({"sim-a": fast}, provider_extra={"api_key_env": KEY_ENV}),
        tests={"test_leaky": LEAKY},
    )
    result = _run(bench, "-v", "-rA", "-o", "junit_logging=all")
    result.assert_outcomes(failed=1)
    for name, text in _every_output(bench, result).items():
        assert SECRET not in text, f"the key is in {name}"
    stdout = result.stdout.str()
    assert "debug: the key is *** \\x1b[2J" in stdout  # the captured output, shown on failure
    assert "the key *** \\x1b]0;owned\\x07" in stdout and "\x1b" not in stdout
    (record,) = bench.jsonl()
    assert record["note"] == "sent ***" and record["status"] == "failed"
    assert "debug: the key is ***" in (bench.pytester.path / "junit.xml").read_text()


UNCHECKED = """
import os
import pytest

@pytest.mark.asyncio
async def test_unchecked(llm_stream):
    measurement = await llm_stream([{"role": "user", "content": "hi"}], check=False)
    key = os.environ["LLMBENCH_TEST_ECHO_KEY"]
    assert measurement.http_status == 401 and "Bearer ***" in measurement.error
    assert key not in measurement.error
"""


def test_a_test_reads_the_measurement_with_the_key_already_gone(bench, monkeypatch, hostile):
    monkeypatch.setenv(KEY_ENV, SECRET)
    bench.setup(_config(hostile.base_url, "echo_error"), tests={"test_unchecked": UNCHECKED})
    result = _run(bench)
    result.assert_outcomes(passed=1)
