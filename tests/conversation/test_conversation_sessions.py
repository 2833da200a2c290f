"""The conversation benchmark end to end against the built-in server."""

import json
from pathlib import Path

import pytest
import yaml

from ..sessions import sim_config

REPO = Path(__file__).resolve().parents[2]
CONVERSATION = (REPO / "benchmarks" / "test_conversation.py").read_text()
PLAIN = {"ttft_ms": 10, "itl_ms": 1, "output_tokens": 30}
REASONING = {
    "ttft_ms": 10,
    "itl_ms": 1,
    "output_tokens": 20,
    "reasoning": "think_tags",
    "reasoning_tokens": 12,
    "tokens_per_event": 2,
}


def _setup(bench, models, **config):
    text = yaml.safe_load(sim_config(models))
    # No "prompts": the built-in conversation that ships in the package.
    text["conversation"] = {"max_tokens": 512, **config}
    if "context_windows" in config:
        for model in text["providers"]["embedded"]["models"]:
            model["context_window"] = config["context_windows"][model["id"]]
        del text["conversation"]["context_windows"]
    bench.setup(yaml.safe_dump(text), tests={"test_conversation": CONVERSATION})


def _turns(bench, model):
    return [r for r in bench.jsonl() if r["model"] == model]


def test_turns_run_in_order_with_reasoning_tracked(bench):
    _setup(bench, {"plain": PLAIN, "thinker": REASONING})
    result = bench.run("--llm-turns", "5", "-v")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [f"*test_conversation[[]embedded-plain-turn00{i}[]] PASSED*" for i in range(1, 6)]
    )
    for model in ("plain", "thinker"):
        turns = _turns(bench, model)
        assert [t["turn"] for t in turns] == [1, 2, 3, 4, 5]
        contexts = [t["context_tokens"] for t in turns]
        assert contexts == sorted(contexts)  # the history grows every turn
        assert [t["turn_tier"] for t in turns] == ["Foundations"] * 5
        for turn in turns:
            assert turn["prompt_tokens_sent"] == pytest.approx(turn["prompt_tokens"], abs=1)
    thinker = _turns(bench, "thinker")
    assert all(t["reasoned"] and t["reasoning_tokens"] == 12 for t in thinker)
    assert all(t["ttfa_ms"] > t["ttft_ms"] and t["reasoning_ms"] > 0 for t in thinker)
    assert not any(t["reasoned"] for t in _turns(bench, "plain"))
    summaries = {c["model"]: c for c in bench.results()["conversations"]}
    assert summaries["thinker"]["reasoning"]["share_of_turns"] == 1.0
    assert summaries["thinker"]["reasoning"]["mean_tokens"] == 12
    assert summaries["plain"]["reasoning"]["share_of_turns"] == 0.0
    assert summaries["plain"]["turns_measured"] == 5
    assert summaries["plain"]["total_output_tokens"] == 5 * 30
    result.stdout.fnmatch_lines(
        [
            "conversation embedded/plain: 5/5 turns*",
            "conversation embedded/thinker: 5/5 turns*reasoned in 100% of turns*",
        ]
    )


def test_server_fault_at_turn_5_skips_the_rest_with_the_reason(bench):
    _setup(bench, {"flaky": {**PLAIN, "fault": "http_500", "fault_at_turn": 5}})
    result = bench.run("--llm-turns", "8", "-rsf")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert result.parseoutcomes() == {"passed": 4, "failed": 1, "skipped": 3}
    result.stdout.fnmatch_lines(
        [
            "*embedded/flaky turn 5: HTTP 500: The server had an error*",
            "SKIPPED [[]3[]]*turn 5 failed: HTTP 500: The server had an error*",
        ]
    )
    summary = bench.results()["conversations"][0]
    assert summary["failed_at"]["turn"] == 5


def test_context_window_stops_the_conversation_as_a_result(bench):
    # The config's window: the plugin sees the next prompt would not fit and stops there.
    _setup(bench, {"small": PLAIN}, context_windows={"small": 400})
    result = bench.run("--llm-turns", "10", "-rs")
    assert result.ret == 0, result.stdout.str()
    summary = bench.results()["conversations"][0]
    limit = summary["context_limit"]
    assert limit is not None and 2 <= limit["turn"] <= 9
    assert limit["tokens"] > 400 - 100
    result.stdout.fnmatch_lines(
        [f"SKIPPED*context window reached at turn {limit['turn']} ({limit['tokens']} tokens)*"]
    )
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] == limit["turn"] - 1
    assert outcomes["skipped"] == 10 - limit["turn"] + 1


def test_server_rejecting_a_long_prompt_stops_the_conversation(bench):
    # No window in the config: the server's 400 context_length_exceeded ends it.
    _setup(bench, {"strict": {**PLAIN, "context_window": 300}})
    result = bench.run("--llm-turns", "10", "-rs")
    assert result.ret == 0, result.stdout.str()
    limit = bench.results()["conversations"][0]["context_limit"]
    assert limit is not None
    result.stdout.fnmatch_lines(
        [
            f"SKIPPED*context window reached at turn {limit['turn']}*"
            "maximum context length is 300 tokens*"
        ]
    )


def test_analysis_recovers_the_configured_prefill_rate(bench):
    # 200 µs per prompt token = 5,000 tokens/s of prefill; the context grows ~70 tokens a turn.
    _setup(
        bench,
        {
            "prefill": {
                "ttft_ms": 5,
                "prefill_us_per_token": 200,
                "itl_ms": 0.5,
                "output_tokens": 40,
            }
        },
    )
    result = bench.run("--llm-turns", "15")
    assert result.ret == 0, result.stdout.str()
    degradation = bench.results()["conversations"][0]["degradation"]
    assert degradation["effective_prefill_tps"] == pytest.approx(5_000, rel=0.10)
    assert degradation["ttft_vs_context"]["r2"] > 0.95
    knee = degradation["ttft_knee"]
    assert knee is not None and knee["ratio"] > 2  # TTFT doubles within 15 turns here


def test_k_selects_one_conversation_and_turns_limits_it(bench):
    _setup(bench, {"alpha": PLAIN, "beta": PLAIN})
    result = bench.run("--llm-turns", "3", "-k", "beta", "-v")
    assert result.ret == 0
    assert result.parseoutcomes() == {"passed": 3, "deselected": 3}
    assert {r["model"] for r in bench.jsonl()} == {"beta"}


def test_deselected_turn_makes_later_turns_skip_not_send_holes(bench):
    _setup(bench, {"alpha": PLAIN})
    nodeid = "test_conversation.py::test_conversation[embedded-alpha-turn002]"
    result = bench.run("--llm-turns", "4", "--deselect", nodeid, "-rs")
    assert result.parseoutcomes() == {"passed": 1, "skipped": 2, "deselected": 1}
    result.stdout.fnmatch_lines(["*turn 2 of this conversation did not run (deselected?)*"])


REVERSER = """
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    items.reverse()
"""


def test_turn_order_survives_a_plugin_that_reorders_tests(bench):
    _setup(bench, {"alpha": PLAIN, "beta": PLAIN})
    bench.pytester.makeconftest(REVERSER)
    result = bench.run("--llm-turns", "3")
    assert result.ret == 0, result.stdout.str()
    order = [(r["model"], r["turn"]) for r in bench.jsonl()]
    assert [turn for _, turn in order] == [1, 2, 3, 1, 2, 3]


@pytest.mark.parametrize("dist", [[], ["--dist", "loadfile"]], ids=["default-load", "loadfile"])
def test_xdist_keeps_each_conversation_whole(bench, dist):
    pytest.importorskip("xdist")
    _setup(bench, {"alpha": PLAIN, "beta": PLAIN, "gamma": PLAIN})
    result = bench.run("-n", "2", *dist, "--llm-turns", "4")
    # A split conversation would skip turns whose predecessor ran on the other worker.
    assert result.ret == 0, result.stdout.str()
    assert result.parseoutcomes() == {"passed": 12}
    assert all(c["turns_measured"] == 4 for c in bench.results()["conversations"])


def test_xdist_modes_that_could_split_fail_clearly(bench):
    pytest.importorskip("xdist")
    _setup(bench, {"alpha": PLAIN})
    result = bench.run("-n", "2", "--dist", "worksteal", "--llm-turns", "2")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*conversation tests cannot run under --dist worksteal*"])


def test_bad_prompts_file_is_a_usage_error(bench):
    _setup(bench, {"alpha": PLAIN})
    bad = bench.pytester.path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "tiers": [{"name": "A", "first": 1, "last": 2}],
                "prompts": [{"number": 2, "tier": "A", "text": "x"}],
            }
        )
    )
    result = bench.run("--llm-prompts", str(bad))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *bad.json: prompts[[]0[]].number: must be 1*"])


def _own_prompts(path: Path, count: int) -> None:
    document = json.loads(
        (REPO / "pytest_llmbench" / "data" / "lalm_conversation.json").read_text()
    )
    document["prompts"] = document["prompts"][:count]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))


def test_own_prompts_from_the_config_folder_and_llm_prompts_wins(bench):
    _setup(bench, {"alpha": PLAIN}, prompts="prompts/mine.json")
    _own_prompts(bench.pytester.path / "prompts" / "mine.json", 2)
    _own_prompts(bench.pytester.path / "other.json", 3)
    result = bench.run("--llm-turns", "0", "--llm-no-save")
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=2)
    result = bench.run("--llm-turns", "0", "--llm-no-save", "--llm-prompts", "other.json")
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=3)
