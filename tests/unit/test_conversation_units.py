"""Prompts file checks, the degradation analysis, and <think> tags split at every byte."""

import json
import random
from pathlib import Path

import pytest

from pytest_llmbench.clients.base import RawStream
from pytest_llmbench.clients.sse import parse_openai_stream
from pytest_llmbench.config import ConfigError
from pytest_llmbench.degradation import analyse, fit_line
from pytest_llmbench.metrics import measure
from pytest_llmbench.prompts import load_prompts
from pytest_llmbench.tokens import count_tokens

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "prompts" / "lalm_conversation.json"


def test_shipped_prompts_have_231_turns_in_six_tiers():
    prompts = load_prompts(SHIPPED).prompts
    assert len(prompts) == 231
    ranges = {}
    for prompt in prompts:
        low, high = ranges.get(prompt.tier, (prompt.number, prompt.number))
        ranges[prompt.tier] = (min(low, prompt.number), max(high, prompt.number))
    assert ranges == {
        "Foundations": (1, 40),
        "Intermediate": (41, 80),
        "Advanced": (81, 120),
        "Expert": (121, 160),
        "Obscure": (161, 200),
        "Ultra-deep": (201, 231),
    }
    assert len({p.text for p in prompts}) == 231


def _write(tmp_path, document):
    path = tmp_path / "prompts.json"
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("mutate", "key", "problem"),
    [
        (lambda d: d["prompts"][2].update(number=7), "prompts[2].number", "must be 3"),
        (lambda d: d["prompts"][0].update(tier="Basics"), "prompts[0].tier", "unknown tier"),
        (lambda d: d["prompts"][1].update(text=" "), "prompts[1].text", "non-empty"),
        (lambda d: d["prompts"][1].pop("text"), "prompts[1]", "exactly the keys"),
        (lambda d: d.update(tiers=[]), "tiers", "non-empty"),
        (
            lambda d: d["prompts"][1].update(text=d["prompts"][0]["text"]),
            "prompts[1].text",
            "repeats",
        ),
    ],
)
def test_malformed_prompts_name_the_key(tmp_path, mutate, key, problem):
    document = json.loads(SHIPPED.read_text())
    document["prompts"] = document["prompts"][:5]
    mutate(document)
    with pytest.raises(ConfigError) as info:
        load_prompts(_write(tmp_path, document))
    assert info.value.key == key
    assert problem in str(info.value)
    assert "prompts.json" in str(info.value)


def test_fit_recovers_a_known_line_and_prefill_rate():
    xs = [100.0 * i for i in range(1, 21)]
    rng = random.Random(3)
    turns = [
        {
            "turn": i + 1,
            "ok": True,
            "prompt_tokens": x,
            "ttft_ms": 30 + 0.05 * x + rng.uniform(-0.3, 0.3),
            "decode_tps": 100 - 0.001 * x,
        }
        for i, x in enumerate(xs)
    ]
    result = analyse(turns)
    assert result["effective_prefill_tps"] == pytest.approx(20_000, rel=0.02)  # 0.05 ms/token
    assert result["decode_tps_change_per_1k_tokens"] == pytest.approx(-1.0, rel=0.01)
    assert fit_line([1, 1], [2, 3]) is None


def test_knee_is_the_first_turn_past_the_factor():
    ttfts = [50, 52, 48, 60, 80, 101, 130, 40]
    turns = [
        {
            "turn": i + 1,
            "ok": True,
            "prompt_tokens": 1000 * (i + 1),
            "ttft_ms": t,
            "decode_tps": 100.0,
        }
        for i, t in enumerate(ttfts)
    ]
    knee = analyse(turns, knee_factor=2.0, baseline_turns=3)["ttft_knee"]
    assert (knee["turn"], knee["context_tokens"], knee["baseline"]) == (6, 6000, 50)
    assert analyse(turns, knee_factor=3.0)["ttft_knee"] is None
    assert analyse(turns)["decode_knee"] is None


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
        assert m.ttfa_ms >= m.ttft_ms
