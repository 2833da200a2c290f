"""Simulation profiles: what the simulator's timing, output and faults look like for one model.

Standard library and :mod:`pytest_llmbench.validation` only (the plugin's config stage checks a
model's ``sim:`` block with :meth:`SimProfile.from_mapping`). Each profile is complete on its own:
fields not given take the class defaults below, not the values of the server's default profile.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pytest_llmbench.validation import Reader

__all__ = [
    "FaultKind",
    "ReasoningMode",
    "SimConfig",
    "SimProfile",
    "UsageMode",
]

ReasoningMode = Literal["none", "think_tags", "reasoning_content"]
UsageMode = Literal["when_asked", "always", "never"]
FaultKind = Literal["none", "http_429", "http_500", "cut", "malformed", "error_event", "stall"]


@dataclass(frozen=True)
class SimProfile:
    """Timing, output and fault settings of one simulated model.

    - TTFT (server side) = ``ttft_ms + prefill_us_per_token * prompt_tokens / 1000`` ms; the gap
      before each later event is ``itl_ms`` times its tokens, plus uniform ``+-jitter_ms``
      (never below 0), all paced against absolute deadlines.
    - Output: ``reasoning_tokens`` (if ``reasoning`` is not ``"none"``) then ``output_tokens``
      answer tokens, in events of up to ``tokens_per_event`` tokens that never mix the two. With
      ``think_tags`` the OpenAI wire adds ``<think>`` / ``</think>`` events (one token each); the
      Anthropic and Gemini wires carry reasoning in their own thinking channel in either mode.
      The request's token cap cuts the whole sequence (finish reason ``length``).
    - ``usage`` governs the OpenAI stream's usage chunk (non-streaming OpenAI responses carry
      usage unless it is ``"never"``); the Anthropic and Gemini wires always report usage.
    - ``fault`` strikes once ``fault_after_tokens`` tokens are out (0: before the first token),
      only on requests with ``fault_at_turn`` user messages if that is set.
    """

    ttft_ms: float = 50.0
    prefill_us_per_token: float = 0.0
    itl_ms: float = 10.0
    jitter_ms: float = 0.0
    seed: int = 0
    tokens_per_event: int = 1
    output_tokens: int = 64
    reasoning: ReasoningMode = "none"
    reasoning_tokens: int = 0
    usage: UsageMode = "when_asked"
    context_window: int | None = None
    fault: FaultKind = "none"
    fault_after_tokens: int = 3
    fault_at_turn: int | None = None
    stall_s: float = 30.0

    def ttft_target_ms(self, prompt_tokens: int) -> float:
        """Server-side time to first token for a prompt of ``prompt_tokens`` tokens."""
        return self.ttft_ms + self.prefill_us_per_token * prompt_tokens / 1000.0

    def fault_applies(self, turn: int) -> bool:
        """Whether this profile's fault hits a request carrying ``turn`` user messages."""
        if self.fault == "none":
            return False
        return self.fault_at_turn is None or self.fault_at_turn == turn

    def to_mapping(self) -> dict[str, object]:
        """The profile as a JSON-ready mapping (round-trips through :meth:`from_mapping`)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_mapping(cls, d: object, key: str = "sim") -> SimProfile:
        """Build a profile from the mapping ``d`` found at key path ``key``; an unknown key or a
        bad value raises :class:`~pytest_llmbench.validation.ValidationError` naming it."""
        reader = Reader(d, key)
        reader.check_keys(f.name for f in dataclasses.fields(cls))
        base = cls()

        def number(name: str) -> float:
            return float(reader.number(name, getattr(base, name), 0))

        def whole(name: str, minimum: int | None) -> Any:
            return reader.number(name, getattr(base, name), minimum, integer=True)

        def choice(name: str, kind: Any) -> Any:
            return reader.choice(name, getattr(base, name), get_args(kind))

        return cls(
            ttft_ms=number("ttft_ms"),
            prefill_us_per_token=number("prefill_us_per_token"),
            itl_ms=number("itl_ms"),
            jitter_ms=number("jitter_ms"),
            seed=whole("seed", None),
            tokens_per_event=whole("tokens_per_event", 1),
            output_tokens=whole("output_tokens", 0),
            reasoning=choice("reasoning", ReasoningMode),
            reasoning_tokens=whole("reasoning_tokens", 0),
            usage=choice("usage", UsageMode),
            context_window=whole("context_window", 1),
            fault=choice("fault", FaultKind),
            fault_after_tokens=whole("fault_after_tokens", 0),
            fault_at_turn=whole("fault_at_turn", 1),
            stall_s=number("stall_s"),
        )


@dataclass(frozen=True)
class SimConfig:
    """The server's profiles: one per model name, and a default for every other name."""

    default: SimProfile = SimProfile()
    models: Mapping[str, SimProfile] = dataclasses.field(default_factory=dict)

    def for_model(self, model: str) -> SimProfile:
        """The profile of ``model`` (a Gemini ``models/`` prefix is ignored), else the default."""
        if model in self.models:
            return self.models[model]
        bare = model.removeprefix("models/")
        return self.models.get(bare, self.default)

    @classmethod
    def from_mapping(cls, d: object, key: str = "sim") -> SimConfig:
        """Parse ``{"default": {...}, "models": {"name": {...}}}`` (both keys optional) found at
        key path ``key``; the default profile's errors name ``key.field``, a model's
        ``key.models.NAME.field``."""
        reader = Reader(d, key)
        reader.check_keys({"default", "models"})
        default = SimProfile.from_mapping(reader.get("default", Mapping, {}), key)
        models = Reader(reader.get("models", Mapping, {}), reader.sub("models"))
        return cls(
            default=default,
            models={
                str(name): SimProfile.from_mapping(raw, models.sub(str(name)))
                for name, raw in models.data.items()
            },
        )
