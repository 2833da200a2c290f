"""Context filler: hits the tier within 1 % and differs on every run (cache-busting)."""

import random

import pytest

from pytest_llmbench.measure.filler import make_filler, mark_unique
from pytest_llmbench.tokens import CL100K_SHA256, count_tokens, encoding


@pytest.mark.parametrize("tokens", [1, 7, 100, 1000, 5000, 20000])
def test_reaches_target_within_one_percent(tokens):
    text = make_filler(tokens)
    assert abs(count_tokens(text) - tokens) <= max(1, tokens * 0.01)


def test_every_call_differs_from_the_first_token():
    first_tokens = {tuple(encoding().encode_ordinary(make_filler(500))[:3]) for _ in range(5)}
    texts = {make_filler(500) for _ in range(5)}
    assert len(texts) == 5
    assert len(first_tokens) == 5, "runs share their first tokens: a prefix cache could reuse them"


def test_seeded_filler_is_reproducible():
    assert make_filler(300, random.Random(7)) == make_filler(300, random.Random(7))


def test_zero_tokens_is_empty():
    assert make_filler(0) == ""


def test_a_bare_prompt_gets_a_short_nonce_of_its_own():
    prompt = "Write a haiku about latency."
    marked = [mark_unique(prompt) for _ in range(5)]
    assert all(m.endswith(prompt) for m in marked)
    assert len({tuple(encoding().encode_ordinary(m)[:3]) for m in marked}) == 5
    assert max(count_tokens(m) - count_tokens(prompt) for m in marked) <= 10


def test_tokenizer_loads_offline_from_the_shipped_file(monkeypatch, tmp_path):
    # A cache dir with nothing in it and no network: the shipped, hash-checked file serves.
    import hashlib

    from pytest_llmbench import tokens

    data = tokens._BPE_FILE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == CL100K_SHA256
    assert count_tokens("hello world") == 2
