"""llama.cpp's log lines → per-request timings; the llama_cpp config block; the skip reason."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from pytest_llmbench.measure.metrics import Measurement
from pytest_llmbench.measure.server_timings import with_differences
from pytest_llmbench.results.crosscheck import crosscheck_summary
from pytest_llmbench.servers.llama_cpp import LlamaCppSpec, missing_reason, timings_between
from pytest_llmbench.validation import ValidationError

# ruff: noqa: E501 - the log lines are llama.cpp's, verbatim

LOG = """\
100 INFO:     127.0.0.1:47148 - "POST /v1/chat/completions HTTP/1.1" 200 OK
110 Llama.generate: 320 prefix-match hit, remaining 58 prompt tokens to eval
200 llama_perf_context_print:        load time =       0.35 ms
200 llama_perf_context_print: prompt eval time =     387.72 ms /    58 tokens (    6.68 ms per token,   149.59 tokens per second)
201 llama_perf_context_print:        eval time =    4978.13 ms /   255 runs   (   19.52 ms per token,    51.22 tokens per second)
202 llama_perf_context_print:       total time =    7162.33 ms /   313 tokens
300 llama_perf_context_print: prompt eval time =     217.37 ms /    36 tokens (    6.04 ms per token,   165.62 tokens per second)
301 llama_perf_context_print:        eval time =    4221.28 ms /   255 runs   (   16.55 ms per token,    60.41 tokens per second)
302 llama_perf_context_print:       total time =    5205.00 ms /   291 tokens
"""


def _lines(text: str) -> list[tuple[int, str]]:
    return [(int(s), t) for s, _, t in (line.partition(" ") for line in text.splitlines())]


def test_timings_are_read_per_request_within_the_window() -> None:
    both = timings_between(_lines(LOG), 0, 1000)
    assert len(both) == 2
    first, second = both
    assert (first.cached_tokens, first.prompt_eval_tokens, first.prompt_tokens) == (320, 58, 378)
    assert (first.prompt_eval_ms, first.eval_runs, first.eval_ms, first.total_ms) == (
        387.72,
        255,
        4978.13,
        7162.33,
    )
    assert second.cached_tokens == 0 and second.prompt_tokens == 36 and second.complete
    assert first.output_tokens == 256  # the first token comes from the prefill, not a run
    data = with_differences(Measurement(ok=True), first)
    assert data["decode_tps"] == pytest.approx(255 / 4.97813)
    assert data["prefill_tps"] == pytest.approx(58 / 0.38772)
    assert [t.prompt_tokens for t in timings_between(_lines(LOG), 250, 1000)] == [36]
    assert timings_between(_lines(LOG), 400, 1000) == []


def test_the_comparison_and_its_summary() -> None:
    timings = timings_between(_lines(LOG), 0, 250)[0]
    ours = Measurement(ok=True, ttft_ms=450.0, e2e_ms=7170.0, decode_tps=45.0, output_tokens=256)
    assert timings.eval_runs is not None and timings.eval_ms is not None
    data = with_differences(ours, timings)
    theirs = data["decode_tps"]
    assert theirs is not None
    assert theirs == pytest.approx(timings.eval_runs / (timings.eval_ms / 1e3))
    assert data["output_tokens"] == timings.eval_runs + 1
    assert data["ttft_minus_prompt_eval_ms"] == pytest.approx(450.0 - 387.72)
    assert data["e2e_minus_total_ms"] == pytest.approx(7170.0 - 7162.33)
    assert data["decode_tps_diff_pct"] == pytest.approx((45.0 - theirs) / theirs * 100)
    record = {"ok": True, "target": "local/m", "output_tokens": 256, "server_timings": data}
    summary = crosscheck_summary([record, {"ok": False, "target": "local/m"}])
    assert summary is not None
    assert summary["local/m"]["cached_tokens"]["median"] == 320
    assert summary["local/m"]["output_tokens_diff_pct"]["median"] == 0
    assert crosscheck_summary([{"ok": True, "target": "x"}]) is None


@pytest.mark.parametrize(
    ("block", "key", "problem"),
    [
        ({}, "llama_cpp", "give exactly one of model_path"),
        ({"model_path": "a.gguf", "model_package": "p"}, "llama_cpp", "give exactly one of"),
        ({"model_package": "p", "n_ctx": 0}, "llama_cpp.n_ctx", "must be >= 1, got 0"),
        ({"model_package": "p", "n_threads": "two"}, "llama_cpp.n_threads", "must be a whole"),
        ({"model_package": "p", "startup_timeout_s": -1}, "llama_cpp.startup_timeout_s", "> 0"),
        ({"model_package": "p", "chat_fromat": "gemma"}, "llama_cpp.chat_fromat", "unknown key"),
        ({"model_package": "p", "args": "--flash_attn"}, "llama_cpp.args", "must be a list"),
        ({"model_package": 5}, "llama_cpp.model_package", "must be a string, got 5"),
        ({"model_package": "p", "wait_policy": "spin"}, "llama_cpp.wait_policy", "must be one"),
    ],
)
def test_bad_llama_cpp_blocks_are_named(block: dict[str, Any], key: str, problem: str) -> None:
    with pytest.raises(ValidationError) as info:
        LlamaCppSpec.from_mapping(block)
    assert info.value.key == key
    assert problem in info.value.problem
    assert str(info.value).startswith(f"{key}: ")


def test_a_block_names_the_key_it_was_found_at() -> None:
    with pytest.raises(ValidationError, match=r"^models\[0\]\.llama_cpp\.n_ctx: must be >= 1"):
        LlamaCppSpec.from_mapping({"model_package": "p", "n_ctx": 0}, key="models[0].llama_cpp")


def test_server_arguments_and_model_path(tmp_path: Path) -> None:
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    spec = LlamaCppSpec.from_mapping(
        {"model_path": "m.gguf", "n_ctx": 2048, "n_threads": 2, "chat_format": "gemma"}
    )
    model = spec.resolve_model(tmp_path)
    assert model == tmp_path / "m.gguf"
    args = spec.server_args(model, "gemma-3-270m")
    pairs = dict(zip(args[::2], args[1::2], strict=True))
    assert pairs["--model_alias"] == "gemma-3-270m" and pairs["--host"] == "127.0.0.1"
    assert (pairs["--n_ctx"], pairs["--n_threads"], pairs["--chat_format"]) == (
        "2048",
        "2",
        "gemma",
    )
    assert pairs["--verbose"] == "True"  # the timings the cross-check reads need it
    with pytest.raises(FileNotFoundError, match=r"missing\.gguf"):
        LlamaCppSpec.from_mapping({"model_path": "missing.gguf"}).resolve_model(tmp_path)


@pytest.mark.parametrize(
    ("block", "cores", "inherited", "threads", "added"),
    [
        ({}, 2, {}, 1, {"OMP_WAIT_POLICY": "PASSIVE"}),  # this machine: one passive thread
        ({}, 1, {}, 1, {"OMP_WAIT_POLICY": "PASSIVE"}),
        ({}, 8, {}, 4, {}),  # several threads: OpenMP's own policy (passive halved 2 threads)
        ({}, 2, {"OMP_WAIT_POLICY": "ACTIVE"}, 1, {}),  # the environment's choice is kept
        ({"n_threads": 2}, 2, {}, 2, {}),
        ({"n_threads": 2, "wait_policy": "passive"}, 2, {}, 2, {"OMP_WAIT_POLICY": "PASSIVE"}),
        ({"wait_policy": "active"}, 2, {"OMP_WAIT_POLICY": "PASSIVE"}, 1,
         {"OMP_WAIT_POLICY": "ACTIVE"}),
        ({"wait_policy": "unset"}, 2, {}, 1, {}),
    ],
)  # fmt: skip
def test_threads_default_to_what_survives_a_busy_machine(
    monkeypatch: pytest.MonkeyPatch,
    block: dict[str, Any],
    cores: int,
    inherited: dict[str, str],
    threads: int,
    added: dict[str, str],
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    spec = LlamaCppSpec.from_mapping({"model_package": "p", **block})
    assert spec.threads == threads
    assert spec.environment(inherited) == added
    args = spec.server_args(Path("m.gguf"), "m")
    assert args[args.index("--n_threads") + 1] == str(threads)


def test_a_missing_package_gives_the_install_command() -> None:
    reason = missing_reason(LlamaCppSpec.from_mapping({"model_package": "no_such_model_pkg_x"}))
    assert reason is not None
    assert "no_such_model_pkg_x" in reason and "pip install 'pytest-llmbench[local]'" in reason


CONFIG = textwrap.dedent(
    """
    defaults: {{context_tiers: [0], prompt: Hi}}
    providers:
      local:
        managed: llama_cpp
        models:
          - id: m
            llama_cpp: {block}
    """
)


def test_plugin_bad_block_is_a_usage_error(pytester: pytest.Pytester) -> None:
    (pytester.path / "config.yaml").write_text(CONFIG.format(block="{model_package: p, n_ctx: -5}"))
    pytester.makepyfile(test_x="def test_x(llm_stream):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*config.yaml: providers.local.models[[]0[]].llama_cpp.n_ctx: must be >= 1, got -5*"]
    )


def test_plugin_skips_with_the_install_command(pytester: pytest.Pytester) -> None:
    (pytester.path / "config.yaml").write_text(
        CONFIG.format(block="{model_package: no_such_pkg_q}")
    )
    pytester.makepyfile(test_x="def test_x(llm_stream):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", "--llm-no-save")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["*no_such_pkg_q not installed: pip install 'pytest-llmbench[[]local[]]'*"]
    )
