"""What one request is sent with, and the limits it is held to: the layers of settings.

Each value comes from the most specific layer that sets it: the call (a test's own parameters),
then the command line (``--llm-*``), then the model, then the provider, then the config's
``defaults:`` (or, for the conversation, ``conversation:``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config.options import Settings
from ..config.spec import BenchConfig
from ..config.thresholds import Threshold
from ..matrix import Target

__all__ = ["RequestLayers"]


@dataclass(frozen=True)
class RequestLayers:
    """The settings and the config, read in layers for one target."""

    settings: Settings
    config: BenchConfig

    def limits_for(self, target: Target) -> tuple[Threshold, ...]:
        """The target's limits (see :meth:`limits_by_name`)."""
        return self.limits_by_name(target.provider.name, target.key)

    def limits_by_name(self, provider: str, target_key: str) -> tuple[Threshold, ...]:
        """Config defaults, then the provider's, then the model's, then ``--llm-fail``; a more
        specific limit on the same metric and statistic replaces one before it."""
        spec = self.config.thresholds
        layers = (
            spec.defaults,
            spec.providers.get(provider, ()),
            spec.models.get(target_key, ()),
            self.settings.fail,
        )
        merged: dict[tuple[str, str | None, str], Threshold] = {}
        for layer in layers:
            for limit in layer:
                merged[(limit.field, limit.statistic, limit.kind)] = limit
        return tuple(merged.values())

    def max_tokens(self, target: Target) -> int:
        """``--llm-max-tokens``, else the provider's ``max_tokens``, else the config default."""
        chosen = self.settings.max_tokens or target.provider.max_tokens
        return chosen or self.config.defaults.max_tokens

    def tiers(self, target: Target) -> tuple[int, ...]:
        """``--llm-context-tiers``, else the provider's ``context_tiers``, else the defaults."""
        chosen = self.settings.context_tiers or target.provider.context_tiers
        return chosen or self.config.defaults.context_tiers

    def request_params(self, target: Target, extra: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults, then provider, model and call parameters; ``None`` removes a key."""
        defaults = self.config.defaults
        return self._params(target, self.max_tokens(target), defaults.temperature, {}, extra)

    def conversation_params(self, target: Target, extra: Mapping[str, Any]) -> dict[str, Any]:
        """The conversation's defaults (``conversation:``), then the same layers."""
        spec = self.config.conversation
        base = {"reasoning_effort": spec.reasoning_effort} if spec.reasoning_effort else {}
        max_tokens = self.settings.max_tokens or target.provider.max_tokens or spec.max_tokens
        return self._params(target, max_tokens, spec.temperature, base, extra)

    def _params(
        self,
        target: Target,
        max_tokens: int,
        temperature: float,
        base: Mapping[str, Any],
        extra: Mapping[str, Any],
    ) -> dict[str, Any]:
        params: dict[str, Any] = {target.provider.max_tokens_field: max_tokens}
        if not target.model.skip_temperature:
            chosen = self.settings.temperature
            params["temperature"] = chosen if chosen is not None else temperature
        for layer in (base, target.provider.params, target.model.params, extra):
            params.update(layer)
        if target.model.skip_temperature:
            params.pop("temperature", None)
        return params
