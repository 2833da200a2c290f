"""The validated config as frozen data: providers, models, defaults, the conversation, limits.

Built by :func:`~pytest_llmbench.config.loader.load_config`; nothing here reads a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .load_spec import LoadLayer
from .thresholds import Threshold

__all__ = [
    "DEFAULT_PROMPT",
    "MANAGED_KINDS",
    "MAX_TIER",
    "OPENAI_COMPATIBLE_PREFIXES",
    "BenchConfig",
    "ConversationSpec",
    "Defaults",
    "ModelSpec",
    "ProviderSpec",
    "ThresholdSpec",
]

ClientKind = Literal["lean", "litellm"]
ManagedKind = Literal["simulator", "llama_cpp"]
FillerRole = Literal["system", "user"]
MANAGED_KINDS = ("simulator", "llama_cpp")
#: The largest context tier, in prompt tokens: beyond any model's context window today (the
#: largest take 1-2 million), and a filler of this size is ~7.5 MB of text, built in seconds.
MAX_TIER = 2_000_000

# LiteLLM prefixes that speak the OpenAI wire format: these take the lean path by default.
OPENAI_COMPATIBLE_PREFIXES = {"", "openai", "lm_studio", "hosted_vllm", "openai_like", "llamacpp"}
DEFAULT_PROMPT = (
    "Write a detailed, well-structured explanation of how a transformer language model generates "
    "text one token at a time, covering attention, the KV cache and sampling."
)


@dataclass(frozen=True)
class Defaults:
    max_tokens: int = 512
    temperature: float = 0.7
    context_tiers: tuple[int, ...] = (0,)
    prompt: str = DEFAULT_PROMPT
    timeout_s: float = 120.0
    #: The whole request's deadline; ``None``: it scales with max_tokens (clients.StreamBounds).
    total_timeout_s: float | None = None
    #: ``defaults.load``: the load mode's settings below every provider's and model's.
    load: LoadLayer = field(default_factory=LoadLayer)


@dataclass(frozen=True)
class ThresholdSpec:
    """``thresholds:``: limits for every target, then per provider, then per ``provider/model``."""

    defaults: tuple[Threshold, ...] = ()
    providers: Mapping[str, tuple[Threshold, ...]] = field(default_factory=dict)
    models: Mapping[str, tuple[Threshold, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ConversationSpec:
    """The conversation benchmark's settings: its prompts, how many turns, the request defaults.

    ``prompts``: a prompts file relative to the config's folder; ``None``, the built-in
    conversation that ships in the package (``pytest_llmbench/data/lalm_conversation.json``).
    """

    prompts: str | None = None
    turns: int = 12
    max_tokens: int = 32768
    temperature: float = 0.7
    reasoning_effort: str | None = "low"
    knee_factor: float = 2.0
    baseline_turns: int = 3


@dataclass(frozen=True)
class ModelSpec:
    id: str
    display_name: str
    context_window: int | None = None
    skip_temperature: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)
    sim: Mapping[str, Any] | None = None
    llama_cpp: Mapping[str, Any] | None = None
    filler_in: FillerRole = "system"
    load: LoadLayer | None = None


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    display_name: str
    api_base: str | None
    api_key_env: str | None
    model_prefix: str
    client: ClientKind
    models: tuple[ModelSpec, ...]
    managed: ManagedKind | None = None
    optional: bool = False
    timeout_s: float | None = None
    total_timeout_s: float | None = None
    max_tokens_field: str = "max_tokens"
    params: Mapping[str, Any] = field(default_factory=dict)
    context_tiers: tuple[int, ...] | None = None
    max_tokens: int | None = None
    load: LoadLayer | None = None

    @property
    def simulated(self) -> bool:
        return self.managed == "simulator"


@dataclass(frozen=True)
class BenchConfig:
    path: Path
    defaults: Defaults
    providers: tuple[ProviderSpec, ...]
    conversation: ConversationSpec = field(default_factory=ConversationSpec)
    thresholds: ThresholdSpec = field(default_factory=ThresholdSpec)

    def redacted(self) -> dict[str, Any]:
        """The config as plain data for the results file; it holds key *names*, never keys."""
        return {
            "path": str(self.path),
            "defaults": {
                "max_tokens": self.defaults.max_tokens,
                "temperature": self.defaults.temperature,
                "context_tiers": list(self.defaults.context_tiers),
                "prompt": self.defaults.prompt,
                "timeout_s": self.defaults.timeout_s,
            },
            "providers": {
                p.name: {
                    "api_base": p.api_base,
                    "api_key_env": p.api_key_env,
                    "model_prefix": p.model_prefix,
                    "client": p.client,
                    "managed": p.managed,
                    "models": [m.id for m in p.models],
                }
                for p in self.providers
            },
        }
