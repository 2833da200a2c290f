"""Simulation profiles: what the simulator's timing, output and faults look like for one model.

Standard library only (the plugin imports this through :mod:`pytest_llmbench.servers.sim.server`).
Each profile is complete on its own: fields not given take the class defaults below, not the
values of the server's default profile.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

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


def _describe(value: object) -> str:
    return repr(value)


def _number(key: str, value: object, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"sim.{key}: must be a number >= {minimum:g}, got {_describe(value)}")
    number = float(value)
    if not math.isfinite(number) or number < minimum:
        raise ValueError(f"sim.{key}: must be a number >= {minimum:g}, got {_describe(value)}")
    return number


def _integer(key: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"sim.{key}: must be an integer >= {minimum}, got {_describe(value)}")
    if value < minimum:
        raise ValueError(f"sim.{key}: must be an integer >= {minimum}, got {_describe(value)}")
    return value


def _any_integer(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"sim.{key}: must be an integer, got {_describe(value)}")
    return value


def _optional_integer(key: str, value: object, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(
            f"sim.{key}: must be null or an integer >= {minimum}, got {_describe(value)}"
        )
    return value


def _choice(key: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"sim.{key}: must be one of {options}, got {_describe(value)}")
    return value


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
    def from_mapping(cls, d: Mapping[str, object]) -> SimProfile:
        """Build a profile from ``d``; unknown keys and bad values raise :class:`ValueError`."""
        if not isinstance(d, Mapping):
            raise ValueError(f"sim: profile must be a mapping, got {_describe(d)}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(str(k) for k in d if k not in known)
        if unknown:
            raise ValueError(
                f"sim.{unknown[0]}: unknown key (known keys: {', '.join(sorted(known))})"
            )
        kwargs: dict[str, object] = {}
        for key, value in d.items():
            kwargs[key] = _PARSERS[key](key, value)
        return cls(**kwargs)  # type: ignore[arg-type]


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
    def from_mapping(cls, d: Mapping[str, object]) -> SimConfig:
        """Parse ``{"default": {...}, "models": {"name": {...}}}`` (both keys optional)."""
        if not isinstance(d, Mapping):
            raise ValueError(f"sim: profiles must be a mapping, got {_describe(d)}")
        unknown = sorted(str(k) for k in d if k not in ("default", "models"))
        if unknown:
            raise ValueError(f"sim.{unknown[0]}: unknown key (known keys: default, models)")
        default_raw = d.get("default", {})
        models_raw = d.get("models", {})
        if not isinstance(default_raw, Mapping):
            raise ValueError(f"sim.default: must be a mapping, got {_describe(default_raw)}")
        if not isinstance(models_raw, Mapping):
            raise ValueError(f"sim.models: must be a mapping, got {_describe(models_raw)}")
        models: dict[str, SimProfile] = {}
        for name, raw in models_raw.items():
            if not isinstance(raw, Mapping):
                raise ValueError(f"sim.models.{name}: must be a mapping, got {_describe(raw)}")
            try:
                models[str(name)] = SimProfile.from_mapping(raw)
            except ValueError as exc:
                message = str(exc).replace("sim.", f"sim.models.{name}.", 1)
                raise ValueError(message) from None
        return cls(default=SimProfile.from_mapping(default_raw), models=models)


_Parser = Callable[[str, object], object]


def _int_at_least(minimum: int) -> _Parser:
    return lambda key, value: _integer(key, value, minimum)


def _optional_int_at_least(minimum: int) -> _Parser:
    return lambda key, value: _optional_integer(key, value, minimum)


def _one_of(allowed: tuple[str, ...]) -> _Parser:
    return lambda key, value: _choice(key, value, allowed)


_PARSERS: dict[str, _Parser] = {
    "ttft_ms": _number,
    "prefill_us_per_token": _number,
    "itl_ms": _number,
    "jitter_ms": _number,
    "stall_s": _number,
    "seed": _any_integer,
    "tokens_per_event": _int_at_least(1),
    "output_tokens": _int_at_least(0),
    "reasoning_tokens": _int_at_least(0),
    "fault_after_tokens": _int_at_least(0),
    "context_window": _optional_int_at_least(1),
    "fault_at_turn": _optional_int_at_least(1),
    "reasoning": _one_of(get_args(ReasoningMode)),
    "usage": _one_of(get_args(UsageMode)),
    "fault": _one_of(get_args(FaultKind)),
}
