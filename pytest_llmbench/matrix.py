"""The test matrix: targets × context tiers × runs, and targets × load points, as plain data with
stable, -k friendly ids."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .config.load_shard import Shard
from .config.load_spec import LoadPoint, LoadSettings
from .config.options import Settings
from .config.reader import ConfigError
from .config.spec import BenchConfig, ModelSpec, ProviderSpec
from .schema import Key
from .validation import key_problem

__all__ = [
    "CONTEXT_MARGIN",
    "Case",
    "LoadCase",
    "Secret",
    "Target",
    "build_cases",
    "build_load_cases",
    "build_turn_cases",
    "headroom_reason",
    "safe_id",
    "select_targets",
]

#: Tokens of a model's context window kept free beyond the prompt and the planned output: the
#: throughput tiers' headroom and the conversation's last turn both leave this margin.
CONTEXT_MARGIN = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


def safe_id(text: str) -> str:
    """Make ``text`` safe inside a pytest id and a ``-k`` expression (``/``, spaces → ``_``)."""
    return _UNSAFE.sub("_", text.strip()).strip("_") or "_"


class Secret:
    """An API key that never shows itself in a repr, a log or a JSON dump."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class Target:
    """One model at one provider, with what a client needs to reach it."""

    provider: ProviderSpec
    model: ModelSpec
    api_key: Secret | None = field(default=None, repr=False, compare=False)
    skip_reason: str | None = None
    timeout_s: float = 120.0
    #: The whole request's deadline (``None``: the clients' default, which scales with max_tokens).
    total_timeout_s: float | None = None

    @property
    def key(self) -> str:
        """``provider/model-id``: how results name the target."""
        return f"{self.provider.name}/{self.model.id}"

    @property
    def id(self) -> str:
        return f"{safe_id(self.provider.name)}-{safe_id(self.model.display_name)}"

    @property
    def simulated(self) -> bool:
        return self.provider.simulated

    def describe(self) -> dict[str, Any]:
        """Plain data for results: names only, never the key."""
        return {
            "target": self.key,
            "provider": self.provider.name,
            "model": self.model.id,
            "display_name": self.model.display_name,
            "client": self.provider.client,
            "simulated": self.simulated,
        }


@dataclass(frozen=True)
class Case:
    """One parametrization: a target, a context tier (``None`` when the test has none), a run."""

    target: Target
    tier: int | None
    run: int
    skip_reason: str | None = None
    turn: int | None = None

    @property
    def id(self) -> str:
        if self.turn is not None:
            return f"{self.target.id}-turn{self.turn:03d}"
        parts = [self.target.id]
        if self.tier is not None:
            parts.append(f"ctx{self.tier}")
        parts.append(f"run{self.run}")
        return "-".join(parts)

    def describe(self) -> dict[str, Any]:
        data = {**self.target.describe(), "tier": self.tier, "run": self.run}
        if self.turn is not None:
            data["turn"] = self.turn
        return data


@dataclass(frozen=True)
class LoadCase:
    """One load test: a target at a load point (a ``sweep`` or ``search`` marker: the whole
    sweep or search), with the target's load settings."""

    target: Target
    point: LoadPoint
    load: LoadSettings = field(default_factory=LoadSettings)
    skip_reason: str | None = None
    #: One shard of the point, under pytest-xdist (``None``: the whole point in one process).
    shard: Shard | None = None

    @property
    def id(self) -> str:
        """``vllm-Llama-3.1-8B-c64``, ``zai-GLM-4.6-r8poisson``, ``vllm-Llama-3.1-8B-sweep``;
        a shard's ends ``-shard1of2``."""
        name = f"{self.target.id}-{self.point.id}"
        return f"{name}-{self.shard.label}" if self.shard is not None else name

    def describe(self) -> dict[str, Any]:
        """Plain data for results: the target's names and the point's id."""
        return {**self.target.describe(), Key.POINT: self.point.id}


def _env_file(config_path: Path) -> Mapping[str, str | None]:
    dotenv = config_path.parent / ".env"
    if not dotenv.is_file():
        return {}
    from dotenv import dotenv_values

    return dotenv_values(dotenv)


def _reachable(api_base: str, timeout: float = 0.3) -> bool:
    parts = urlsplit(api_base)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "localhost", port), timeout=timeout):
            return True
    except OSError:
        return False


def _managed_reason(model: ModelSpec) -> str | None:
    """Why a ``managed: llama_cpp`` model cannot run here (its packages are not installed)."""
    from .servers.llama_cpp import LlamaCppSpec, missing_reason

    return missing_reason(LlamaCppSpec.from_mapping(model.llama_cpp or {}))


def _skip_reason(provider: ProviderSpec, key: str | None, config_path: Path) -> str | None:
    if provider.api_key_env and not key:
        return f"{provider.api_key_env} is not set (environment, or .env beside {config_path.name})"
    if provider.optional and provider.api_base and not _reachable(provider.api_base):
        return f"no server answering at {provider.api_base} (start it, or deselect {provider.name})"
    return None


def _resolve_key(
    config: BenchConfig, provider: ProviderSpec, env_file: Mapping[str, str | None]
) -> str | None:
    """The provider's key from the environment, else the ``.env`` file; a key that no HTTP header
    can carry is a :class:`ConfigError` naming the variable (never the value)."""
    name = provider.api_key_env
    if not name:
        return None
    key, where = os.environ.get(name), "the environment"
    if not key:
        key, where = env_file.get(name), f".env beside {config.path.name}"
    problem = key_problem(key) if key else None
    if problem is not None:
        raise ConfigError(
            config.path,
            f"providers.{provider.name}.api_key_env",
            f"the key in {name} ({where}) {problem}; an API key is one line of printable text "
            "(the value is not shown)",
        )
    return key or None


def select_targets(config: BenchConfig, settings: Settings) -> list[Target]:
    """Targets after ``--llm-provider`` / ``--llm-model``, with keys resolved and skips decided;
    raises :class:`ConfigError` for a key that cannot be sent."""
    env_file = _env_file(config.path)
    wanted = {name.lower() for name in settings.providers}
    needle = (settings.model_filter or "").lower()
    targets: list[Target] = []
    for provider in config.providers:
        if wanted and provider.name.lower() not in wanted:
            continue
        models = [
            m for m in provider.models if needle in m.id.lower() or needle in m.display_name.lower()
        ]
        if not models:
            continue
        key = _resolve_key(config, provider, env_file)
        reason = _skip_reason(provider, key, config.path)
        timeout = settings.timeout_s or provider.timeout_s or config.defaults.timeout_s
        total = (
            settings.total_timeout_s or provider.total_timeout_s or config.defaults.total_timeout_s
        )
        secret = Secret(key) if key else None
        for model in models:
            why = reason
            if why is None and provider.managed == "llama_cpp":
                why = _managed_reason(model)
            targets.append(Target(provider, model, secret, why, timeout, total))
    return targets


def headroom_reason(target: Target, tier: int, max_tokens: int) -> str | None:
    """Why ``tier`` does not fit the model's context window, or ``None`` when it does."""
    window = target.model.context_window
    if window is None:
        return None
    headroom = window - max_tokens - CONTEXT_MARGIN
    if tier > headroom:
        return (
            f"tier {tier} exceeds {target.model.display_name}'s headroom {headroom} "
            f"(context_window {window} - max_tokens {max_tokens} - {CONTEXT_MARGIN})"
        )
    return None


def build_cases(
    targets: Iterable[Target],
    tiers: Callable[[Target], Sequence[int | None]],
    runs: int,
    max_tokens: Callable[[Target], int],
) -> list[Case]:
    """Target-major order: every tier and run of one target, then the next target."""
    cases: list[Case] = []
    for target in targets:
        for tier in tiers(target):
            reason = target.skip_reason
            if reason is None and tier is not None:
                reason = headroom_reason(target, tier, max_tokens(target))
            cases.extend(Case(target, tier, run, reason) for run in range(1, runs + 1))
    return cases


def build_turn_cases(targets: Iterable[Target], turns: int) -> list[Case]:
    """One case per turn of one conversation per target, in turn order."""
    return [
        Case(target, None, 1, target.skip_reason, turn)
        for target in targets
        for turn in range(1, turns + 1)
    ]


def build_load_cases(
    targets: Iterable[Target],
    load_for_target: Callable[[Target], LoadSettings],
    shards: int = 1,
) -> list[LoadCase]:
    """Target-major order: every point of one target (as its load settings list them), then the
    next target; a sweep or a search is one case, or ``shards`` cases (its shards, one after
    the other) when spread over workers. A target without points has no case."""
    cases: list[LoadCase] = []
    split = [Shard(i, shards) for i in range(shards)] if shards > 1 else [None]
    for target in targets:
        load = load_for_target(target)
        cases.extend(
            LoadCase(target, point, load, target.skip_reason, shard)
            for point in load.points
            for shard in split
        )
    return cases
