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
    pytester.makefile(
        ".yaml",
        config="providers:\n  p:\n    api_base: http://127.0.0.1:9/v1\n    models: [{id: m}]\n",
    )
    pytester.makepyfile("def test_x(llm_tier, llm_run): pass")
    result = pytester.runpytest_subprocess("--llm-runs", "2", "--collect-only", "-q")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    ids = sorted(line.split("[")[1].rstrip("]") for line in result.outlines if "::" in line)
    # the command line's runs (2), the ini file's tiers (0, 10)
    assert ids == ["p-m-ctx0-run1", "p-m-ctx0-run2", "p-m-ctx10-run1", "p-m-ctx10-run2"]
