"""The conversation benchmark's turns: their order, and when a turn runs, skips or stops."""

import asyncio
import random
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from pytest_llmbench.config import ConversationSpec, load_config
from pytest_llmbench.config.prompts import Prompt, PromptSet
from pytest_llmbench.conversation.turn import ConversationState, ConversationTurn, order_turns
from pytest_llmbench.matrix import CONTEXT_MARGIN, Case, Target, build_turn_cases
from pytest_llmbench.measure.metrics import Measurement
from pytest_llmbench.tokens import count_tokens

PROMPTS = PromptSet(
    path=Path("prompts.json"),
    title="test conversation",
    prompts=tuple(
        Prompt(number, "warm-up", text)
        for number, text in enumerate(
            [
                "Name three prime numbers.",
                "Now add them together.",
                "Explain why the sum is odd or even.",
                "Summarise the conversation so far.",
            ],
            start=1,
        )
    ),
)


def _target(tmp_path, provider="prov", model="model", window=None):
    window_yaml = f", context_window: {window}" if window is not None else ""
    path = tmp_path / f"config-{provider}-{model}.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            providers:
              {provider}:
                api_base: http://127.0.0.1:9/v1
                models: [{{id: {model}{window_yaml}}}]
            """
        ),
        encoding="utf-8",
    )
    spec = load_config(path).providers[0]
    return Target(spec, spec.models[0])


# --- order_turns -------------------------------------------------------------------------------


class Item:
    """A stand-in for a collected test: what order_turns reads (``callspec.params``)."""

    def __init__(self, name, case=None, params=None):
        self.name = name
        if case is not None:
            params = {**(params or {}), "llm_case": case}
        if params is not None:
            self.callspec = SimpleNamespace(params=params)

    def __repr__(self):
        return f"Item({self.name})"


def _turn_items(target, turns):
    return [Item(f"{target.key}#{c.turn}", c) for c in build_turn_cases([target], turns)]


def _turn_of(item):
    case = item.callspec.params["llm_case"]
    return (case.target.key, case.turn)


def test_order_turns_restores_turn_order_in_the_slots_turns_occupy(tmp_path):
    target = _target(tmp_path)
    t1, t2, t3 = _turn_items(target, 3)
    plain = Item("plain")  # not parametrized
    other = Item("other-param", params={"x": 1})  # parametrized, but no llm_case
    tiered = Item("tiered", Case(target, 0, 1))  # an llm_case without a turn
    items = [t3, plain, t1, other, tiered, t2]
    order_turns(items)
    assert items == [t1, plain, t2, other, tiered, t3]


def test_order_turns_keeps_each_conversation_in_turn_order(tmp_path):
    a = _target(tmp_path, "a", "m")
    b = _target(tmp_path, "b", "m")
    turns = [*_turn_items(a, 4), *_turn_items(b, 4)]
    others = [Item(f"other{i}") for i in range(4)]
    for seed in range(20):
        items = [*turns, *others]
        random.Random(seed).shuffle(items)
        slots_before = [i for i, item in enumerate(items) if item in turns]
        others_before = {i: item for i, item in enumerate(items) if item in others}
        order_turns(items)
        assert [i for i, item in enumerate(items) if item in turns] == slots_before
        assert {i: item for i, item in enumerate(items) if item in others} == others_before
        for key in (a.key, b.key):
            mine = [_turn_of(i)[1] for i in items if i in turns and _turn_of(i)[0] == key]
            assert mine == [1, 2, 3, 4], (seed, items)
        assert len(items) == 12 and {id(i) for i in items} == {id(i) for i in [*turns, *others]}


def test_order_turns_leaves_a_list_without_turns_alone(tmp_path):
    target = _target(tmp_path)
    items = [Item("b"), Item("tiered", Case(target, 5000, 2)), Item("a", params={})]
    expected = list(items)
    order_turns(cast("list[pytest.Item]", items))  # stand-ins: it reads only callspec.params
    assert items == expected


def test_order_turns_of_nothing():
    items: list[pytest.Item] = []
    order_turns(items)
    assert items == []


# --- ConversationTurn ----------------------------------------------------------------------------


class Stream:
    """A stand-in for :class:`~pytest_llmbench.measure.stream.LLMStream` that answers from a
    list of measurements and keeps what it was asked."""

    def __init__(self, target, answers=(), spec=None):
        self.target = target
        self.answers = list(answers)
        self.calls = []
        self.skips = []
        self.marks = []
        spec = spec or ConversationSpec(max_tokens=2048)
        self.bench = SimpleNamespace(
            config=lambda: SimpleNamespace(conversation=spec),
            layers=SimpleNamespace(
                conversation_params=lambda target, params: (
                    {"max_tokens": spec.max_tokens} | dict(params)
                )
            ),
        )

    async def __call__(self, messages, *, check=True, extra=None, **params):
        self.calls.append({"messages": list(messages), "extra": dict(extra or {}), **params})
        return self.answers.pop(0)

    def record_skip(self, extra):
        self.skips.append(dict(extra))

    def mark_last(self, **fields):
        self.marks.append(fields)


def _answer(text="An answer.", reasoning_tokens=0):
    return Measurement(ok=True, answer=text, reasoning_tokens=reasoning_tokens)


def _send(stream, state, turn, planned=4, **params):
    return asyncio.run(ConversationTurn(stream, state, PROMPTS, turn, planned).send(**params))


@pytest.mark.parametrize(
    ("state", "turn", "reason"),
    [
        (
            ConversationState(last_turn=3, stopped=(3, 4096)),
            4,
            "context window reached at turn 3 (4096 tokens)",
        ),
        (
            ConversationState(last_turn=1, failed=(2, "HTTP 500: overloaded")),
            3,
            "turn 2 failed: HTTP 500: overloaded",
        ),
        (
            ConversationState(last_turn=1),
            3,
            "turn 2 of this conversation did not run (deselected?); turn 3 would send a history "
            "with holes",
        ),
        (
            ConversationState(),
            2,
            "turn 1 of this conversation did not run (deselected?); turn 2 would send a history "
            "with holes",
        ),
    ],
    ids=["stopped", "failed", "missing-previous", "first-turn-missing"],
)
def test_a_turn_that_cannot_run_skips_with_the_reason_and_sends_nothing(
    tmp_path, state, turn, reason
):
    stream = Stream(_target(tmp_path), [_answer()])
    before = (list(state.history), state.last_turn, state.failed, state.stopped)
    with pytest.raises(pytest.skip.Exception) as skipped:
        _send(stream, state, turn)
    assert str(skipped.value) == reason
    assert stream.calls == [] and stream.skips == []
    assert (state.history, state.last_turn, state.failed, state.stopped) == before


def test_a_stopped_conversation_is_reported_before_a_failed_one(tmp_path):
    state = ConversationState(last_turn=2, failed=(2, "boom"), stopped=(2, 900))
    with pytest.raises(pytest.skip.Exception) as skipped:
        _send(Stream(_target(tmp_path)), state, 3)
    assert str(skipped.value).startswith("context window reached at turn 2")


def test_turns_send_the_whole_history_and_extend_it(tmp_path):
    target = _target(tmp_path)
    stream = Stream(target, [_answer("Two, three, five."), _answer("Ten.", reasoning_tokens=4)])
    state = ConversationState()
    first = _send(stream, state, 1)
    assert first.answer == "Two, three, five."
    second = _send(stream, state, 2)
    assert second.answer == "Ten."
    p1, p2 = PROMPTS.prompts[0].text, PROMPTS.prompts[1].text
    assert stream.calls[0]["messages"] == [{"role": "user", "content": p1}]
    assert stream.calls[1]["messages"] == [
        {"role": "user", "content": p1},
        {"role": "assistant", "content": "Two, three, five."},
        {"role": "user", "content": p2},
    ]
    assert state.last_turn == 2
    assert state.history == [*stream.calls[1]["messages"], {"role": "assistant", "content": "Ten."}]
    assert state.failed is None and state.stopped is None
    extra = stream.calls[1]["extra"]
    assert extra["turn"] == 2 and extra["turns_planned"] == 4
    assert extra["turn_tier"] == PROMPTS.prompts[1].tier
    assert extra["prompt_tokens_sent"] == sum(
        count_tokens(m["content"]) for m in stream.calls[1]["messages"]
    )
    assert [m["reasoned"] for m in stream.marks] == [False, True]
    assert stream.marks[1]["context_tokens"] == extra["prompt_tokens_sent"] + count_tokens("Ten.")


def test_request_parameters_reach_the_stream(tmp_path):
    stream = Stream(_target(tmp_path), [_answer()])
    _send(stream, ConversationState(), 1, temperature=0.1, seed=7)
    assert stream.calls[0]["temperature"] == 0.1 and stream.calls[0]["seed"] == 7


def test_max_tokens_is_capped_by_the_room_left_in_the_window(tmp_path):
    prompt_tokens = count_tokens(PROMPTS.prompts[0].text)
    room = 50
    window = prompt_tokens + CONTEXT_MARGIN + room
    stream = Stream(_target(tmp_path, window=window), [_answer()], ConversationSpec(max_tokens=999))
    _send(stream, ConversationState(), 1)
    assert stream.calls[0]["max_tokens"] == room


def test_max_tokens_is_kept_when_it_fits(tmp_path):
    spec = ConversationSpec(max_tokens=64)
    stream = Stream(_target(tmp_path, window=100_000), [_answer()], spec)
    _send(stream, ConversationState(), 1)
    assert stream.calls[0]["max_tokens"] == 64


def test_a_turn_past_the_window_ends_the_conversation_without_sending(tmp_path):
    prompt_tokens = count_tokens(PROMPTS.prompts[0].text)
    window = prompt_tokens + CONTEXT_MARGIN  # no room for a single output token
    stream = Stream(_target(tmp_path, window=window), [_answer(), _answer()])
    state = ConversationState()
    with pytest.raises(pytest.skip.Exception) as skipped:
        _send(stream, state, 1)
    assert str(skipped.value) == f"context window reached at turn 1 ({prompt_tokens} tokens)"
    assert stream.calls == []
    assert stream.skips and stream.skips[0]["context_limit"] is True
    assert stream.skips[0]["turn"] == 1 and stream.skips[0]["prompt_tokens"] == prompt_tokens
    assert state.stopped == (1, prompt_tokens)
    with pytest.raises(pytest.skip.Exception) as later:
        _send(stream, state, 2)
    assert str(later.value) == f"context window reached at turn 1 ({prompt_tokens} tokens)"


def test_a_failed_turn_fails_and_stops_its_conversation(tmp_path):
    target = _target(tmp_path)
    failure = Measurement(ok=False, error="HTTP 503: try later", http_status=503)
    stream = Stream(target, [_answer("first"), failure])
    state = ConversationState()
    _send(stream, state, 1)
    with pytest.raises(pytest.fail.Exception) as failed:
        _send(stream, state, 2)
    assert target.key in str(failed.value) and "HTTP 503: try later" in str(failed.value)
    assert state.failed == (2, "HTTP 503: try later")
    assert state.last_turn == 1 and len(state.history) == 2
    with pytest.raises(pytest.skip.Exception) as later:
        _send(stream, state, 3)
    assert str(later.value) == "turn 2 failed: HTTP 503: try later"
    assert len(stream.calls) == 2


def test_a_server_refusing_a_too_long_prompt_ends_the_conversation_as_a_result(tmp_path):
    refusal = Measurement(
        ok=False, error="HTTP 400: maximum context length is 8192 tokens", http_status=400
    )
    stream = Stream(_target(tmp_path), [refusal])
    state = ConversationState()
    with pytest.raises(pytest.skip.Exception) as skipped:
        _send(stream, state, 1)
    tokens = count_tokens(PROMPTS.prompts[0].text)
    assert str(skipped.value).startswith(f"context window reached at turn 1 ({tokens} tokens)")
    assert "maximum context length" in str(skipped.value)
    assert state.stopped == (1, tokens) and state.failed is None
    assert stream.marks == [{"context_limit": True}]


def test_other_400s_are_failures(tmp_path):
    bad = Measurement(ok=False, error="HTTP 400: unknown parameter 'foo'", http_status=400)
    stream = Stream(_target(tmp_path), [bad])
    state = ConversationState()
    with pytest.raises(pytest.fail.Exception):
        _send(stream, state, 1)
    assert state.failed == (1, "HTTP 400: unknown parameter 'foo'") and state.stopped is None
