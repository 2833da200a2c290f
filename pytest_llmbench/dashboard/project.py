"""The project a dashboard opens: the folder of its config, with ``.env`` and ``results/`` beside.

:class:`Project` reads the config as the plugin does (:func:`~..config.load_config`: a bad file
is the plugin's own message, naming the file, key and problem) and says what the pages show of
it: each provider and model with its tiers, context window and whether its key is set (in the
environment, or in the ``.env``), and the key variables the config names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..config import BenchConfig, ConfigError, load_config
from .env_file import EnvFile, hint

__all__ = ["Project"]


@dataclass(frozen=True)
class Project:
    """The config at ``config_path`` and what lies beside it."""

    config_path: Path

    @property
    def folder(self) -> Path:
        return self.config_path.parent

    @property
    def env(self) -> EnvFile:
        return EnvFile(self.folder / ".env")

    @property
    def results_dir(self) -> Path:
        return self.folder / "results"

    def config(self) -> BenchConfig:
        """The config, validated (:class:`~..config.ConfigError` when it is not)."""
        return load_config(self.config_path)

    def key_names(self) -> list[str]:
        """The key variables the config names (``api_key_env``), read from the file as written
        even when the config is invalid otherwise (the keys page still works)."""
        try:
            providers = self.config().providers
            names = [p.api_key_env for p in providers if p.api_key_env]
        except ConfigError:
            names = self._raw_key_names()
        return sorted(set(names))

    def _raw_key_names(self) -> list[str]:
        try:
            document = yaml.safe_load(self.config_path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            return []
        providers = document.get("providers") if isinstance(document, dict) else None
        if not isinstance(providers, dict):
            return []
        return [
            str(p["api_key_env"])
            for p in providers.values()
            if isinstance(p, dict) and isinstance(p.get("api_key_env"), str)
        ]

    def key_states(self) -> list[dict[str, Any]]:
        """Each key variable: whether it is set in the ``.env``, in the environment, and at
        most the last four characters of the value the plugin would use."""
        in_file = self.env.values()
        shown = []
        for name in self.key_names():
            from_env = os.environ.get(name)
            used = from_env or in_file.get(name)
            shown.append(
                {
                    "name": name,
                    "set": bool(used),
                    "in_file": name in in_file,
                    "in_environment": bool(from_env),
                    "hint": hint(used),
                }
            )
        return shown

    def targets(self) -> dict[str, Any]:
        """Every provider and model with its tiers, context window and key; or the config's
        error (the plugin's message)."""
        try:
            config = self.config()
        except ConfigError as exc:
            return {"providers": [], "error": str(exc)}
        keys = {k["name"]: k["set"] for k in self.key_states()}
        providers = []
        for provider in config.providers:
            tiers = provider.context_tiers or config.defaults.context_tiers
            providers.append(
                {
                    "name": provider.name,
                    "display_name": provider.display_name,
                    "managed": provider.managed,
                    "api_base": provider.api_base,
                    "key_env": provider.api_key_env,
                    "key_set": keys.get(provider.api_key_env or "", provider.api_key_env is None),
                    "models": [
                        {
                            "id": model.id,
                            "display_name": model.display_name,
                            "context_window": model.context_window,
                            "tiers": list(tiers),
                        }
                        for model in provider.models
                    ],
                }
            )
        return {"providers": providers, "error": None}
