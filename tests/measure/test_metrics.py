"""METRICS.md per-request fields computed from synthetic stamped streams."""

import json

import pytest

from pytest_llmbench.clients.base import Delta, RawStream
from pytest_llmbench.clients.sse import parse_openai_stream
from pytest_llmbench.measure.metrics import measure, think_region
from pytest_llmbench.tokens import count_tokens

MS = 1_000_000  # ns


def _stream(deltas, close_ms=None, t0=1_000 * MS):
    last = max((d.t_ns for d in deltas), default=t0)
    close = t0 + close_ms * MS if close_ms is not None else last + MS
    return RawStream(t0_ns=t0, close_ns=close, deltas=list(deltas))


def _at(ms, **kwargs):
    return Delta(t_ns=1_000 * MS + int(ms * MS), **kwargs)


def test_ttft_ignores_role_only_empty_and_usage_only_chunks():
    deltas = [
        _at(1, content=""),  # role-only chunk (content "")
        _at(2),  # empty delta
        _at(50, content=" Hello"),
        _at(60, content=" world"),
        _at(70, content=" again"),
        _at(71, finish_reason="stop"),
        _at(72, usage={"prompt_tokens": 10, "completion_tokens": 3}),
    ]
    m = measure(_stream(deltas, close_ms=75), count_tokens)
    assert m.ttft_ms == pytest.approx(50)
    assert m.ttfa_ms == m.ttft_ms
    assert m.think_ms == pytest.approx(0)
    assert m.e2e_ms == pytest.approx(70)
    assert m.close_ms == pytest.approx(75)
    assert (m.output_tokens, m.token_source) == (3, "usage")
    assert m.tpot_ms == pytest.approx(10)
    assert m.decode_tps == pytest.approx(100)
    assert m.e2e_tps == pytest.approx(3 / 0.070)
    assert m.itl_ms == pytest.approx([10, 10])
    assert m.icl_ms is None
    assert m.prompt_tokens == 10
    assert m.prefill_tps == pytest.approx(10 / 0.050)
    assert m.finish_reason == "stop"


def test_without_usage_counts_with_tiktoken_and_names_the_source():
    deltas = [_at(10, content=" alpha"), _at(20, content=" beta"), _at(30, content=" gamma")]
    m = measure(_stream(deltas), count_tokens, prompt_tokens_estimate=42)
    assert m.token_source == "tiktoken"
    assert m.output_tokens == count_tokens(" alpha beta gamma")
    assert (m.prompt_tokens, m.prompt_token_source) == (42, "tiktoken")


def test_per_event_token_counts_unknown_gives_icl_not_itl():
    # 2 events carrying 5 tokens in all per usage: tiktoken per event cannot account for it.
    deltas = [
        _at(10, content=" a b"),
        _at(20, content=" c"),
        _at(21, usage={"completion_tokens": 9}),
    ]
    m = measure(_stream(deltas), count_tokens)
    assert m.itl_ms is None
    assert m.icl_ms == pytest.approx([10])
    assert any("output tokens" in w for w in m.warnings)  # usage 9 vs tiktoken 3


def test_multi_token_events_divide_gap_by_tokens_in_later_event():
    deltas = [
        _at(10, content=" one two"),
        _at(30, content=" three four"),
        _at(31, usage={"completion_tokens": 4}),
    ]
    m = measure(_stream(deltas), count_tokens)
    assert m.itl_ms == pytest.approx([10])


def test_reasoning_content_stream():
    deltas = [
        _at(5, reasoning=" thinking"),
        _at(15, reasoning=" more"),
        _at(40, content=" Answer"),
        _at(50, content=" done"),
        _at(
            51, usage={"completion_tokens": 4, "completion_tokens_details": {"reasoning_tokens": 2}}
        ),
    ]
    m = measure(_stream(deltas), count_tokens)
    assert m.ttft_ms == pytest.approx(5)
    assert m.ttfa_ms == pytest.approx(40)
    assert m.think_ms == pytest.approx(35)
    assert m.reasoning_ms == pytest.approx(10)
    assert (m.reasoning_tokens, m.reasoning_token_source) == (2, "usage")
    assert m.answer == " Answer done"


def test_error_and_no_events():
    m = measure(RawStream(0, 5 * MS, [], error="stream cut"), count_tokens)
    assert not m.ok
    assert m.ttft_ms is None and m.tpot_ms is None
    assert m.error == "stream cut"


THINK_TEXT = "<think>Let me consider the question.</think>\n\nThe answer is 42."


@pytest.mark.parametrize("cut", range(1, len(THINK_TEXT)))
def test_think_tags_split_at_every_position(cut):
    """Two events, split at every character of the text: reasoning and answer stay exact."""
    pieces = [THINK_TEXT[:cut], THINK_TEXT[cut:]]
    deltas = [_at(10, content=pieces[0]), _at(30, content=pieces[1])]
    m = measure(_stream(deltas), count_tokens)
    assert m.reasoning == "Let me consider the question."
    assert m.answer == "The answer is 42."
    assert m.ttft_ms == pytest.approx(10)
    answer_starts = THINK_TEXT.index("The")
    assert m.ttfa_ms == pytest.approx(10 if cut > answer_starts else 30)
    reasoning_ends = THINK_TEXT.index("</think>") + len("</think>\n\n")
    assert m.reasoning_ms == pytest.approx(20 if cut < reasoning_ends else 0)
    assert m.reasoning_tokens == count_tokens("Let me consider the question.")


def test_think_tags_one_character_per_event():
    deltas = [_at(i + 1, content=ch) for i, ch in enumerate(THINK_TEXT)]
    m = measure(_stream(deltas), count_tokens)
    assert m.answer == "The answer is 42."
    assert m.ttfa_ms == pytest.approx(THINK_TEXT.index("The") + 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain answer", None),
        ("<think>a</think>b", (0, 16)),
        ("  <think>a</think>  b", (2, 20)),
        ("reasoning without open</think>answer", (0, 30)),
        ("<think>never closed", (0, 19)),
        ("an answer that mentions <think> inline", None),
        ("inline <think> then </think>", None),
    ],
)
def test_think_region(text, expected):
    assert think_region(text) == expected


BODY = "<think>Weigh the options.</think>\n\nUse a KV cache."


def _sse_chunks(text):
    out = b""
    for piece in (text[:9], text[9:30], text[30:]):
        chunk = {"id": "c", "choices": [{"index": 0, "delta": {"content": piece}}]}
        out += b"data: " + json.dumps(chunk).encode() + b"\n\n"
    return out + b"data: [DONE]\n\n"


def test_think_tags_split_at_every_byte_of_the_stream():
    body = _sse_chunks(BODY)
    for cut in range(1, len(body)):
        pieces = [(1_000_000, body[:cut]), (2_000_000, body[cut:])]
        deltas, end = parse_openai_stream(pieces)
        assert end.done and end.error is None
        m = measure(RawStream(0, 3_000_000, deltas), count_tokens)
        assert m.reasoning == "Weigh the options."
        assert m.answer == "Use a KV cache."
        assert m.reasoning_tokens == count_tokens("Weigh the options.")
        assert m.ttft_ms in (1.0, 2.0)
        assert m.ttfa_ms is not None and m.ttft_ms is not None
        assert m.ttfa_ms >= m.ttft_ms


# --- a server's usage is believed only when it is plausible ------------------------------------
THREE = [_at(10, content=" alpha"), _at(20, content=" beta"), _at(30, content=" gamma")]


def _with_usage(**usage):
    return _stream([*THREE, _at(31, usage=usage)])


@pytest.mark.parametrize("bad", [-5, -1, 10**9 + 1, 10**30, 10**400])
def test_implausible_completion_tokens_fall_back_to_tiktoken(bad):
    m = measure(_with_usage(completion_tokens=bad, prompt_tokens=10), count_tokens)
    assert (m.output_tokens, m.token_source) == (count_tokens(" alpha beta gamma"), "tiktoken")
    assert m.decode_tps is not None and 0 < m.decode_tps < 1000
    assert m.prompt_tokens == 10  # the plausible counts are still believed
    warning = next(w for w in m.warnings if "usage" in w)
    assert warning.startswith("server usage: completion tokens "), warning
    assert "not a plausible token count (0 to 1,000,000,000); used tiktoken" in warning
    assert len(warning) < 200


def test_implausible_completion_tokens_fall_back_to_the_models_tokenizer():
    m = measure(_with_usage(completion_tokens=-3), count_tokens, tokenizer=lambda _: 7)
    assert (m.output_tokens, m.token_source) == (7, "tokenizer")
    assert any("used the model's tokenizer" in w for w in m.warnings)


@pytest.mark.parametrize("bad", [-40, 10**30, 10**400])
def test_implausible_prompt_tokens_fall_back_to_the_estimate(bad):
    m = measure(
        _with_usage(completion_tokens=3, prompt_tokens=bad), count_tokens, prompt_tokens_estimate=42
    )
    assert (m.prompt_tokens, m.prompt_token_source) == (42, "tiktoken")
    assert m.prefill_tps == pytest.approx(42 / 0.010)
    assert any(w.startswith("server usage: prompt tokens ") for w in m.warnings), m.warnings


def test_implausible_prompt_tokens_without_an_estimate_are_unknown():
    m = measure(_with_usage(completion_tokens=3, prompt_tokens=-40), count_tokens)
    assert (m.prompt_tokens, m.prompt_token_source, m.prefill_tps) == (None, None, None)


@pytest.mark.parametrize("cached", [-1, 11, 10**30])
def test_implausible_cached_tokens_are_dropped(cached):
    details = {"cached_tokens": cached}
    usage: dict[str, object] = {"prompt_tokens": 10, "completion_tokens": 3}
    usage["prompt_tokens_details"] = details
    m = measure(_with_usage(**usage), count_tokens)
    assert m.cached_tokens is None
    assert m.prefill_tps == pytest.approx(10 / 0.010)
    assert any(w.startswith("server usage: cached tokens ") for w in m.warnings), m.warnings


def test_implausible_reasoning_tokens_fall_back_to_tiktoken():
    deltas = [_at(5, reasoning=" thinking hard"), *THREE]
    details = {"reasoning_tokens": -7}
    usage = {"completion_tokens": 5, "completion_tokens_details": details}
    m = measure(_stream([*deltas, _at(31, usage=usage)]), count_tokens)
    assert (m.reasoning_tokens, m.reasoning_token_source) == (
        count_tokens(" thinking hard"),
        "tiktoken",
    )
    assert any(w.startswith("server usage: reasoning tokens -7") for w in m.warnings)


def test_plausible_usage_gives_no_warning():
    m = measure(_with_usage(completion_tokens=3, prompt_tokens=10**9), count_tokens)
    assert (m.output_tokens, m.prompt_tokens) == (3, 10**9)
    assert m.warnings == []


def test_a_huge_count_is_named_without_printing_every_digit():
    m = measure(_with_usage(completion_tokens=10**5000), count_tokens)
    assert any("completion tokens about 10^5000 " in w for w in m.warnings), m.warnings
