"""--llm-* options and their ini twins; bad values are usage errors naming the option."""

import pytest


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--llm-runs", "0"], "--llm-runs"),
        (["--llm-runs", "x"], "--llm-runs"),
        (["--llm-context-tiers", "0,-1"], "--llm-context-tiers"),
        (["--llm-temperature", "hot"], "--llm-temperature"),
        (["--llm-timeout", "0"], "--llm-timeout"),
    ],
)
def test_bad_option_is_usage_error(pytester, args, needle):
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{needle}*"])


def test_ini_values_are_used_and_cli_wins(pytester):
    pytester.makeini(
        "[pytest]\nllm_runs = 3\nllm_context_tiers = 0,10\n"
        "asyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makeconftest(
        """
from pytest_llmbench.keys import BENCH_KEY
def pytest_sessionstart(session):
    config = session.config
    s = config.stash[BENCH_KEY].settings
    with open("settings.txt", "w") as fh:
        fh.write(f"SETTINGS {s.runs} {s.context_tiers}")
"""
    )
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_subprocess("--llm-runs", "2")
    assert result.ret == 0, result.stderr.str()
    assert (pytester.path / "settings.txt").read_text() == "SETTINGS 2 (0, 10)"
