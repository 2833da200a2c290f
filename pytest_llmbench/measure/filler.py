"""Context filler: prose that reaches a target token count (cl100k_base) within 1 %, new every run.

Each call starts from a fresh random nonce, which heads the text and seeds the word order, so no two
runs (in one session or across sessions) share a prefix that a server's prompt cache could reuse
(METRICS.md, "cache-busting"). A prompt sent with no filler (tier 0) gets a short nonce of its own,
:func:`mark_unique`, for the same reason.
"""

from __future__ import annotations

import random
import secrets

from ..tokens import count_tokens, encoding

__all__ = ["make_filler", "mark_unique", "tier_messages"]

_WORDS = (  # noqa: SIM905 - a paragraph of words reads better than a list literal
    "signal system network model layer memory buffer sample window frame filter channel stream "
    "packet request response server client latency throughput token context cache vector matrix "
    "tensor kernel thread process schedule queue batch worker value record index table column "
    "query result report measure metric average median spread range limit budget cost energy "
    "power clock cycle phase pulse wave tone pitch rhythm tempo chord scale note melody harmony "
    "voice speech language text word sentence paragraph chapter story history science theory "
    "method study analysis design pattern structure function module interface protocol format "
    "standard version release update change review test check proof claim reason evidence "
    "question answer problem solution option choice decision plan goal step stage level degree "
    "factor element feature property attribute parameter setting profile mode state event "
    "action effect impact outcome source target origin path route map region area zone field "
    "surface edge corner point line curve shape form image picture color light shadow sound "
    "noise silence distance speed weight height width depth length volume density pressure "
    "river mountain forest valley garden harbor bridge tower market village city country "
    "morning evening season winter summer spring autumn weather storm cloud rain wind "
    "careful quiet steady rapid gentle simple complex early later recent common rare formal "
    "useful practical careful bright heavy narrow broad local remote stable modern classic "
    "builds measures carries follows explains reveals supports changes compares combines "
    "describes connects improves reduces extends records reports returns selects shapes"
).split()


def _prose(rng: random.Random, words: int) -> str:
    out: list[str] = []
    while len(out) < words:
        sentence = rng.choices(_WORDS, k=rng.randint(8, 16))
        sentence[0] = sentence[0].capitalize()
        out.extend(sentence[:-1])
        out.append(sentence[-1] + ".")
    return " ".join(out)


def make_filler(tokens: int, rng: random.Random | None = None) -> str:
    """Return text of ``tokens`` cl100k_base tokens (within 1 %), unique to this call.

    ``rng`` makes the text reproducible (tests); by default every call draws a new nonce.
    """
    if tokens <= 0:
        return ""
    nonce = f"{rng.getrandbits(64):016x}" if rng is not None else secrets.token_hex(8)
    rng = rng or random.Random(nonce)
    head = f"[{nonce}] Reference notes. "
    text = head + _prose(rng, tokens + 16)
    enc = encoding()
    ids = enc.encode_ordinary(text)
    while len(ids) < tokens:  # rare: the prose came out shorter than one token per word
        text += " " + _prose(rng, tokens - len(ids) + 16)
        ids = enc.encode_ordinary(text)
    text = enc.decode(ids[:tokens])
    # Decoding a cut and encoding again can merge across the cut; trim until it fits exactly.
    while count_tokens(text) > tokens:
        text = text[:-1]
    return text


def mark_unique(prompt: str) -> str:
    """``prompt`` headed by a fresh nonce (a few tokens).

    Sent bare at every run, a prompt is served from the prompt cache from the second run on
    (llama.cpp reused 15 of its 16 tokens and cut TTFT from 118 to 24 ms), which would make
    tier 0 look faster than any first request really is.
    """
    return f"[{secrets.token_hex(4)}] {prompt}"


def tier_messages(prompt: str, tier: int, filler_in: str) -> list[dict[str, str]]:
    """``prompt`` padded with fresh filler to ``tier`` prompt tokens: as a system message, or as
    the head of the user message for models whose chat format drops system messages
    (``filler_in: user``). With no filler the prompt gets a nonce, so no run repeats another."""
    filler = make_filler(tier - count_tokens(prompt)) if tier else ""
    if not filler:
        return [{"role": "user", "content": mark_unique(prompt)}]
    if filler_in == "user":
        return [{"role": "user", "content": f"{filler}\n\n{prompt}"}]
    return [{"role": "system", "content": filler}, {"role": "user", "content": prompt}]
