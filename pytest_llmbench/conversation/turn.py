"""The conversation benchmark: one ordered test per turn, the history kept per target.

Every turn sends the whole history plus its prompt, streams the answer, appends it, and records
the turn's metrics. A turn that fails stops its conversation (the later turns skip with "turn N
failed: …"); a turn that would not fit the model's context window, or that the server rejects as
too long, ends it as a result ("context window reached at turn N (X tokens)"); a turn whose
predecessor did not run (deselected) skips rather than send a history with holes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from ..config.prompts import PromptSet
from ..matrix import CONTEXT_MARGIN, Target
from ..measure.metrics import Measurement
from ..measure.stream import LLMStream
from ..schema import Key

__all__ = ["ConversationState", "ConversationTurn", "order_turns"]

_TOO_LONG = re.compile(
    r"context[_ ]length|maximum context|too (many|long)|context window", re.IGNORECASE
)


@dataclass
class ConversationState:
    """One target's conversation so far."""

    history: list[dict[str, str]] = field(default_factory=list)
    last_turn: int = 0
    failed: tuple[int, str] | None = None
    stopped: tuple[int, int] | None = None


class ConversationTurn:
    """Await :meth:`send` to run this test's turn of its target's conversation."""

    def __init__(
        self,
        stream: LLMStream,
        state: ConversationState,
        prompts: PromptSet,
        turn: int,
        turns_planned: int,
    ) -> None:
        self.stream, self.state, self.prompts = stream, state, prompts
        self.turn, self.turns_planned = turn, turns_planned

    @property
    def target(self) -> Target:
        return self.stream.target

    def _precondition(self) -> str | None:
        state, turn = self.state, self.turn
        if state.stopped is not None:
            at, tokens = state.stopped
            return f"context window reached at turn {at} ({tokens} tokens)"
        if state.failed is not None:
            at, error = state.failed
            return f"turn {at} failed: {error}"
        if state.last_turn != turn - 1:
            return (
                f"turn {turn - 1} of this conversation did not run (deselected?); turn {turn} "
                "would send a history with holes"
            )
        return None

    def _stop(self, tokens: int, detail: str = "") -> None:
        self.state.stopped = (self.turn, tokens)
        pytest.skip(f"context window reached at turn {self.turn} ({tokens} tokens){detail}")

    async def send(self, **params: Any) -> Measurement:
        """Send this turn; returns its :class:`~.metrics.Measurement`."""
        from ..tokens import count_tokens

        reason = self._precondition()
        if reason is not None:
            pytest.skip(reason)
        prompt = self.prompts.prompts[self.turn - 1]
        messages = [*self.state.history, {"role": "user", "content": prompt.text}]
        prompt_tokens = sum(count_tokens(m["content"]) for m in messages)
        extra = {
            Key.TURN: self.turn,
            Key.TURN_TIER: prompt.tier,
            Key.TURNS_PLANNED: self.turns_planned,
            Key.PROMPT_TOKENS_SENT: prompt_tokens,
        }
        window = self.target.model.context_window
        bench = self.stream.bench
        spec = bench.config().conversation
        request = bench.layers.conversation_params(self.target, params)
        field_name = self.target.provider.max_tokens_field
        if window is not None:
            room = window - prompt_tokens - CONTEXT_MARGIN
            if room < 1:
                self.stream.record_skip(
                    extra | {Key.CONTEXT_LIMIT: True, Key.PROMPT_TOKENS: prompt_tokens}
                )
                self._stop(prompt_tokens)
            request[field_name] = min(request.get(field_name) or spec.max_tokens, room)
        measurement = await self.stream(messages, check=False, extra=extra, **request)
        if not measurement.ok:
            if measurement.http_status == 400 and _TOO_LONG.search(measurement.error or ""):
                self.stream.mark_last(**{Key.CONTEXT_LIMIT: True})
                self._stop(prompt_tokens, f": {measurement.error}")
            self.state.failed = (self.turn, measurement.error or "failed")
            pytest.fail(f"{self.target.key} turn {self.turn}: {measurement.error}", pytrace=False)
        self.state.history += [messages[-1], {"role": "assistant", "content": measurement.answer}]
        self.state.last_turn = self.turn
        context = prompt_tokens + count_tokens(measurement.answer)
        reasoned = bool(measurement.reasoning_tokens)
        self.stream.mark_last(**{Key.CONTEXT_TOKENS: context, Key.REASONED: reasoned})
        return measurement


def order_turns(items: list[pytest.Item]) -> None:
    """Put each conversation's turn tests back in turn order, in the slots they occupy, whatever
    reordered them (``-p randomly``, ``--reverse``, …); other tests keep their places."""
    slots = []
    turns = []
    for index, item in enumerate(items):
        callspec = getattr(item, "callspec", None)
        case = callspec.params.get("llm_case") if callspec is not None else None
        if getattr(case, "turn", None) is not None:
            slots.append(index)
            turns.append(item)
    first_seen: dict[str, int] = {}
    for item in turns:
        key = item.callspec.params["llm_case"].target.key  # type: ignore[attr-defined]
        first_seen.setdefault(key, len(first_seen))

    def position(item: pytest.Item) -> tuple[int, int]:
        case = item.callspec.params["llm_case"]  # type: ignore[attr-defined]
        return first_seen[case.target.key], case.turn

    for index, item in zip(slots, sorted(turns, key=position), strict=True):
        items[index] = item
