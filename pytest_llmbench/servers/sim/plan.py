"""What one request's answer will be, and when each of its events is due.

A plan is fixed before the first event is sent: the token texts, how they group into events, the
gap before each event and where a mid-stream fault strikes. All randomness comes from
``random.Random(f"{seed}:{request_number}")``, so a run is reproducible while every request of it
differs.
"""

from __future__ import annotations

import itertools
import operator
import random
from dataclasses import dataclass
from typing import Literal

from pytest_llmbench.servers.sim.profile import SimProfile
from pytest_llmbench.servers.sim.text import draw_tokens

__all__ = ["THINK_CLOSE", "THINK_OPEN", "EventGroup", "Plan", "TokenKind", "build_plan"]

TokenKind = Literal["reasoning", "answer", "tag"]
FinishReason = Literal["stop", "length"]

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


@dataclass(frozen=True)
class EventGroup:
    """The tokens of one streamed event (never more than one kind)."""

    kind: TokenKind
    text: str
    tokens: int


@dataclass(frozen=True)
class Plan:
    """The answer to one request and its timing, relative to the moment the request arrived."""

    groups: tuple[EventGroup, ...]
    ttft_ns: int
    gaps_ns: tuple[int, ...]  # gaps_ns[i]: wait before groups[i], after groups[i - 1]; [0] == 0
    finish_reason: FinishReason
    output_tokens: int  # every token, tags included
    reasoning_tokens: int  # tokens of kind "reasoning" (tags excluded)
    ttft_target_ms: float
    fault_index: int  # how many groups go out before a mid-stream fault strikes

    @property
    def duration_ns(self) -> int:
        """From receipt to the last event's deadline (to the first-token deadline if none)."""
        return self.ttft_ns + sum(self.gaps_ns)

    def text_of(self, *kinds: TokenKind) -> str:
        """The concatenated text of every group whose kind is among ``kinds``."""
        return "".join(g.text for g in self.groups if g.kind in kinds)


def _sequence(profile: SimProfile, rng: random.Random, tags: bool) -> list[tuple[TokenKind, str]]:
    reasoning_n = profile.reasoning_tokens if profile.reasoning != "none" else 0
    words = draw_tokens(rng, reasoning_n + profile.output_tokens)
    reasoning: list[tuple[TokenKind, str]] = [("reasoning", w) for w in words[:reasoning_n]]
    answer: list[tuple[TokenKind, str]] = [("answer", w) for w in words[reasoning_n:]]
    if profile.reasoning == "think_tags" and tags:
        return [("tag", THINK_OPEN), *reasoning, ("tag", THINK_CLOSE), *answer]
    return reasoning + answer


def _group(sequence: list[tuple[TokenKind, str]], per_event: int) -> list[EventGroup]:
    """Cut ``sequence`` into events: each run of one kind in chunks of up to ``per_event`` tokens,
    every tag an event of its own."""
    groups: list[EventGroup] = []
    for kind, run in itertools.groupby(sequence, key=operator.itemgetter(0)):
        texts = [text for _, text in run]
        size = 1 if kind == "tag" else per_event
        if size == 1:
            groups.extend(EventGroup(kind, text, 1) for text in texts)
            continue
        for start in range(0, len(texts), size):
            chunk = texts[start : start + size]
            groups.append(EventGroup(kind, "".join(chunk), len(chunk)))
    return groups


def _fault_index(groups: list[EventGroup], after_tokens: int) -> int:
    if after_tokens <= 0:
        return 0
    sent = 0
    for i, group in enumerate(groups):
        sent += group.tokens
        if sent >= after_tokens:
            return i + 1
    return len(groups)


def _gaps_ns(profile: SimProfile, rng: random.Random, groups: list[EventGroup]) -> tuple[int, ...]:
    """The plan's ``gaps_ns``: 0 before the first event, then ``itl_ms`` times the event's tokens
    plus the jitter (drawn in event order), never below 0."""
    if not groups:
        return ()
    itl, jitter = profile.itl_ms, profile.jitter_ms
    if jitter > 0:
        gaps_ms = (itl * group.tokens + rng.uniform(-jitter, jitter) for group in groups[1:])
        return (0, *(round(max(0.0, gap_ms) * 1e6) for gap_ms in gaps_ms))
    # without jitter every event of a size has the same gap: work it out once per size
    by_size = {n: round(max(0.0, itl * n) * 1e6) for n in {group.tokens for group in groups}}
    return (0, *(by_size[group.tokens] for group in groups[1:]))


def build_plan(
    profile: SimProfile,
    prompt_tokens: int,
    max_tokens: int | None,
    request_number: int,
    *,
    tags: bool = True,
) -> Plan:
    """Plan the answer of request number ``request_number`` under ``profile``.

    ``tags`` says whether the wire carries ``think_tags`` reasoning as ``<think>`` text (OpenAI)
    or has a reasoning channel of its own (Anthropic thinking blocks, Gemini thought parts).
    """
    rng = random.Random(f"{profile.seed}:{request_number}")
    sequence = _sequence(profile, rng, tags)
    finish: FinishReason = "stop"
    if max_tokens is not None and len(sequence) > max_tokens:
        sequence = sequence[:max_tokens]
        finish = "length"
    groups = _group(sequence, profile.tokens_per_event)
    target_ms = profile.ttft_target_ms(prompt_tokens)
    return Plan(
        groups=tuple(groups),
        ttft_ns=round(target_ms * 1e6),
        gaps_ns=_gaps_ns(profile, rng, groups),
        finish_reason=finish,
        output_tokens=len(sequence),
        reasoning_tokens=sum(g.tokens for g in groups if g.kind == "reasoning"),
        ttft_target_ms=target_ms,
        fault_index=_fault_index(groups, profile.fault_after_tokens),
    )
