"""--llm-* options and their ini twins; bad values are usage errors naming the option."""

import os
from pathlib import Path

import pytest

from pytest_llmbench.config.options import Settings


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


# --- in-process: the settings read from a parsed command line ----------------------------------
def _settings(pytester, *args):
    return Settings.from_pytest_config(pytester.parseconfig(*args))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--llm-timeout", "inf"],
            "--llm-timeout / ini llm_timeout: expected a finite number of seconds",
        ),
        (["--llm-timeout", "-inf"], "--llm-timeout"),
        (["--llm-timeout", "nan"], "--llm-timeout"),
        (["--llm-temperature", "inf"], "--llm-temperature / ini llm_temperature: expected"),
        (["--llm-temperature", "nan"], "--llm-temperature"),
        (["--llm-context-tiers", "0,2000001"], "counts from 0 to 2,000,000, got '0,2000001'"),
        (["--llm-context-tiers", "2_000_001"], "from 0 to 2,000,000"),
        (["--llm-config", ""], "--llm-config: an empty value (leave the option out for"),
        (["--llm-config", "  "], "--llm-config: an empty value"),
        (["--llm-results-dir", ""], "--llm-results-dir: an empty value"),
        (["--llm-baseline", ""], "--llm-baseline: an empty value"),
        (["--llm-model", ""], "--llm-model: an empty value"),
        (["--llm-runs", ""], "--llm-runs: an empty value"),
        (["--llm-runs", "9" * 5000], "--llm-runs / ini llm_runs: expected a whole number >= 1"),
    ],
)
def test_bad_values_refused_in_process(pytester, args, message):
    with pytest.raises(pytest.UsageError) as info:
        _settings(pytester, *args)
    assert str(info.value).startswith(message) or message in str(info.value), str(info.value)
    assert len(str(info.value)) < 400


@pytest.mark.parametrize(
    ("args", "field", "value"),
    [
        (["--llm-context-tiers", "0,2000000"], "context_tiers", (0, 2_000_000)),
        (["--llm-timeout", "1e5"], "timeout_s", 1e5),
        (["--llm-temperature", "0"], "temperature", 0.0),
    ],
)
def test_edge_values_accepted(pytester, args, field, value):
    assert getattr(_settings(pytester, *args), field) == value


def test_an_empty_ini_value_is_unset(pytester):
    pytester.makeini("[pytest]\nllm_config =\nllm_runs =\n")
    settings = _settings(pytester)
    assert (settings.config_explicit, settings.runs) == (False, 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--llm-results-dir", "taken"], "{root}/taken: is a file, not a directory"),
        (
            ["--llm-results-dir", "taken/r"],
            "{root}/taken/r: {root}/taken is a file, not a directory",
        ),
        (["--llm-results-dir", "ro"], "{root}/ro: is not writable"),
        (["--llm-results-dir", "ro/new/deeper"], "{root}/ro/new/deeper: {root}/ro is not writable"),
        (["--llm-export-benchmark", "folder"], "{root}/folder: is a directory, not a file"),
        (["--llm-export-benchmark", "ro/x.json"], "{root}/ro/x.json: {root}/ro is not writable"),
        (["--llm-export-benchmark", "locked.json"], "{root}/locked.json: is not writable"),
        (
            ["--llm-save-baseline", "taken/b.json"],
            "{root}/taken/b.json: {root}/taken is a file, not a directory",
        ),
        (["--llm-save-baseline", "folder"], "{root}/folder: is a directory, not a file"),
    ],
)
def test_output_paths_are_checked_before_any_request(pytester, monkeypatch, args, message):
    root = pytester.path
    (root / "taken").write_text("a file")
    (root / "folder").mkdir()
    (root / "ro").mkdir()
    (root / "locked.json").write_text("{}")
    denied = {root / "ro", root / "locked.json"}
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: Path(p) not in denied and real_access(p, mode)
    )
    flag = args[0]
    with pytest.raises(pytest.UsageError) as info:
        _settings(pytester, *args)
    expected = f"{flag} / ini {flag[2:].replace('-', '_')}: " + message.format(root=root)
    assert str(info.value) == expected


def test_output_paths_that_can_be_made_pass(pytester):
    args = ["--llm-results-dir", "new/results", "--llm-save-baseline", "b/base.json"]
    settings = _settings(pytester, *args, "--llm-export-benchmark", "bench.json")
    assert settings.results_dir == pytester.path / "new" / "results"
    assert not (pytester.path / "new").exists()  # checked, never made


def test_results_dir_is_not_checked_without_saving(pytester):
    (pytester.path / "taken").write_text("a file")
    assert not _settings(pytester, "--llm-results-dir", "taken", "--llm-no-save").save


def test_the_default_results_dir_is_not_checked(pytester):
    """The plugin stays inert where it is not used: a file named results/ in some project is no
    usage error for sessions that never benchmark."""
    (pytester.path / "results").write_text("a file")
    assert _settings(pytester).results_dir == pytester.path / "results"


def test_ini_output_paths_are_checked(pytester):
    pytester.makeini("[pytest]\nllm_results_dir = taken\n")
    (pytester.path / "taken").write_text("a file")
    with pytest.raises(pytest.UsageError, match=r"ini llm_results_dir: .*is a file"):
        _settings(pytester)
