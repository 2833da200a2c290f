"""Profiles, vocabulary and plans, without a server."""

from __future__ import annotations

import random
import statistics

import pytest

from pytest_llmbench.servers.sim.plan import THINK_CLOSE, THINK_OPEN, build_plan
from pytest_llmbench.servers.sim.profile import SimConfig, SimProfile
from pytest_llmbench.servers.sim.text import VOCABULARY, draw_tokens
from pytest_llmbench.tokens import count_tokens
from pytest_llmbench.validation import ValidationError


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"itl_ms": "fast"}, "sim.itl_ms: must be a number >= 0, got 'fast'"),
        ({"ttft_ms": -1}, "sim.ttft_ms: must be >= 0, got -1"),
        ({"jitter_ms": float("nan")}, "sim.jitter_ms: must be a number >= 0, got nan"),
        ({"stall_s": float("inf")}, "sim.stall_s: must be a number >= 0, got inf"),
        ({"stall_s": True}, "sim.stall_s: must be a number"),
        ({"tokens_per_event": 0}, "sim.tokens_per_event: must be >= 1, got 0"),
        ({"output_tokens": 2.5}, "sim.output_tokens: must be a whole number >= 0, got 2.5"),
        ({"seed": "7"}, "sim.seed: must be a whole number, got '7'"),
        ({"reasoning": "xml"}, "sim.reasoning: must be one of 'none', 'think_tags'"),
        ({"usage": "sometimes"}, "sim.usage: must be one of"),
        ({"fault": "explode"}, "sim.fault: must be one of"),
        ({"context_window": 0}, "sim.context_window: must be >= 1, got 0"),
        ({"fault_at_turn": 1.0}, "sim.fault_at_turn: must be a whole number >= 1"),
        ({"itl": 5}, "sim.itl: unknown key"),
    ],
)
def test_profile_errors_name_the_key_and_the_problem(settings, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        SimProfile.from_mapping(settings)


def test_a_profile_names_the_key_it_was_found_at():
    with pytest.raises(ValidationError) as info:
        SimProfile.from_mapping({"ttft_ms": -1}, key="providers.p.models[0].sim")
    assert (info.value.key, info.value.problem) == (
        "providers.p.models[0].sim.ttft_ms",
        "must be >= 0, got -1",
    )
    with pytest.raises(ValidationError, match=r"^sim: must be a mapping, got list$"):
        SimProfile.from_mapping([1])


def test_null_means_the_default():
    profile = SimProfile.from_mapping({"usage": None, "context_window": None, "itl_ms": None})
    assert profile == SimProfile()


def test_profile_round_trips_through_a_mapping():
    profile = SimProfile.from_mapping(
        {"ttft_ms": 12, "reasoning": "think_tags", "context_window": 100, "fault_at_turn": 2}
    )
    assert profile.ttft_ms == 12.0
    assert isinstance(profile.ttft_ms, float)
    assert SimProfile.from_mapping(profile.to_mapping()) == profile


def test_config_picks_the_model_profile_or_the_default():
    config = SimConfig.from_mapping({"default": {"itl_ms": 3}, "models": {"a": {"itl_ms": 1}}})
    assert config.for_model("a").itl_ms == 1
    assert config.for_model("models/a").itl_ms == 1
    assert config.for_model("other").itl_ms == 3
    with pytest.raises(ValueError, match=r"^sim\.models\.b\.seed: must be a whole number"):
        SimConfig.from_mapping({"models": {"b": {"seed": 1.5}}})
    with pytest.raises(ValueError, match=r"^sim\.models\.b: must be a mapping"):
        SimConfig.from_mapping({"models": {"b": 5}})
    with pytest.raises(ValueError, match=r"^sim\.itl_ms: must be a number"):  # the default's
        SimConfig.from_mapping({"default": {"itl_ms": "x"}})
    with pytest.raises(ValueError, match=r"^sim\.model: unknown key"):
        SimConfig.from_mapping({"model": {}})


def test_every_vocabulary_word_is_one_cl100k_token():
    assert len(VOCABULARY) >= 300
    assert len(set(VOCABULARY)) == len(VOCABULARY)
    not_single = [w for w in VOCABULARY if count_tokens(" " + w) != 1]
    assert not_single == []


def test_a_drawn_answer_counts_as_its_number_of_tokens():
    tokens = draw_tokens(random.Random("3:1"), 2000)
    assert count_tokens("".join(tokens)) == 2000
    # The whole vocabulary comes out over a long enough draw: the text is varied.
    assert len(set(tokens)) > 0.9 * len(VOCABULARY)


def _shape(plan):
    return [(g.kind, g.tokens) for g in plan.groups]


def test_groups_split_at_the_reasoning_boundary():
    profile = SimProfile(
        reasoning="reasoning_content", reasoning_tokens=4, output_tokens=5, tokens_per_event=3
    )
    plan = build_plan(profile, prompt_tokens=10, max_tokens=None, request_number=1)
    assert _shape(plan) == [("reasoning", 3), ("reasoning", 1), ("answer", 3), ("answer", 2)]
    assert (plan.output_tokens, plan.reasoning_tokens, plan.finish_reason) == (9, 4, "stop")


def test_think_tags_are_events_of_their_own():
    profile = SimProfile(
        reasoning="think_tags", reasoning_tokens=3, output_tokens=2, tokens_per_event=2
    )
    plan = build_plan(profile, 0, None, 1)
    assert _shape(plan) == [
        ("tag", 1), ("reasoning", 2), ("reasoning", 1), ("tag", 1), ("answer", 2)
    ]  # fmt: skip
    assert plan.groups[0].text == THINK_OPEN
    assert plan.groups[3].text == THINK_CLOSE
    assert (plan.output_tokens, plan.reasoning_tokens) == (7, 3)
    # A wire with a reasoning channel of its own gets no tags.
    untagged = build_plan(profile, 0, None, 1, tags=False)
    assert [k for k, _ in _shape(untagged)] == ["reasoning", "reasoning", "answer"]


def test_max_tokens_caps_everything_including_reasoning():
    profile = SimProfile(reasoning="think_tags", reasoning_tokens=10, output_tokens=10)
    plan = build_plan(profile, 0, max_tokens=6, request_number=1)
    assert plan.output_tokens == 6
    assert plan.finish_reason == "length"
    assert plan.reasoning_tokens == 5
    assert plan.text_of("answer") == ""
    exact = build_plan(SimProfile(output_tokens=6), 0, max_tokens=6, request_number=1)
    assert exact.finish_reason == "stop"


def test_plans_are_reproducible_per_request_and_differ_between_requests():
    profile = SimProfile(seed=5, jitter_ms=3.0)
    first = build_plan(profile, 0, None, 1)
    assert build_plan(profile, 0, None, 1) == first
    second = build_plan(profile, 0, None, 2)
    assert second.text_of("answer") != first.text_of("answer")
    assert second.gaps_ns != first.gaps_ns
    other_seed = build_plan(SimProfile(seed=6, jitter_ms=3.0), 0, None, 1)
    assert other_seed.text_of("answer") != first.text_of("answer")


def test_gaps_scale_with_tokens_and_jitter_never_goes_below_zero():
    grouped = build_plan(SimProfile(itl_ms=2, tokens_per_event=3, output_tokens=7), 0, None, 1)
    assert grouped.gaps_ns == (0, 6_000_000, 2_000_000)
    wild = build_plan(SimProfile(itl_ms=1, jitter_ms=5, output_tokens=400), 0, None, 1)
    assert min(wild.gaps_ns) == 0
    assert max(wild.gaps_ns) > 4_000_000
    mild = build_plan(SimProfile(itl_ms=4, jitter_ms=1, output_tokens=2000), 0, None, 1)
    assert statistics.mean(mild.gaps_ns[1:]) == pytest.approx(4e6, rel=0.02)


def test_prefill_adds_to_the_ttft_target():
    profile = SimProfile(ttft_ms=40, prefill_us_per_token=25)
    plan = build_plan(profile, prompt_tokens=2000, max_tokens=None, request_number=1)
    assert plan.ttft_target_ms == pytest.approx(40 + 25 * 2000 / 1000)
    assert plan.ttft_ns == 90_000_000


@pytest.mark.parametrize(("after", "expected"), [(0, 0), (1, 1), (4, 2), (6, 2), (7, 3), (100, 4)])
def test_fault_strikes_after_the_event_that_reaches_the_token_count(after, expected):
    profile = SimProfile(output_tokens=10, tokens_per_event=3, fault_after_tokens=after)
    assert build_plan(profile, 0, None, 1).fault_index == expected
