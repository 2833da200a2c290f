"""``config.yaml``: load, validate, freeze.

Sections: ``defaults``, ``providers`` (each with ``api_base``, ``api_key_env``, ``model_prefix``,
``models`` and the keys of :class:`~.spec.ProviderSpec`), ``conversation`` and ``thresholds``; a
managed provider's models carry a ``sim:`` or ``llama_cpp:`` block; ``defaults``, a provider and a
model may each have a ``load:`` section (:mod:`.load_reader`). Every problem is reported as one
:class:`ConfigError` naming the file, the key path and what is wrong; the plugin turns it into a
pytest usage error (exit 4) before any request is sent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..validation import ValidationError, short_repr
from .load_layers import check_load_sections
from .load_reader import read_load_section
from .load_spec import LoadLayer
from .reader import ConfigError, ConfigReader
from .spec import (
    DEFAULT_PROMPT,
    MANAGED_KINDS,
    MAX_TIER,
    OPENAI_COMPATIBLE_PREFIXES,
    BenchConfig,
    ConversationSpec,
    Defaults,
    ModelSpec,
    ProviderSpec,
    ThresholdSpec,
)
from .thresholds import Threshold, parse_threshold
from .yaml_file import read_yaml

__all__ = ["load_config"]


def _tiers(reader: ConfigReader) -> tuple[int, ...]:
    tiers = reader.get("context_tiers", list, [0])
    return _tier_list(reader, tiers)


def _tier_list(reader: ConfigReader, tiers: list[Any]) -> tuple[int, ...]:
    for index, tier in enumerate(tiers):
        if isinstance(tier, bool) or not isinstance(tier, int) or not 0 <= tier <= MAX_TIER:
            raise ConfigError(
                reader.path,
                reader.sub(f"context_tiers[{index}]"),
                f"must be a whole number of tokens from 0 to {MAX_TIER:,}, got {short_repr(tier)}",
            )
    if not tiers:
        raise ConfigError(reader.path, reader.sub("context_tiers"), "must list at least one tier")
    return tuple(dict.fromkeys(tiers))


def _defaults(path: Path, data: object) -> Defaults:
    reader = ConfigReader(path, data if data is not None else {}, "defaults")
    reader.check_keys(
        {"max_tokens", "temperature", "context_tiers", "prompt", "timeout_s", "total_timeout_s"}
        | {"load"}
    )
    return Defaults(
        max_tokens=reader.number("max_tokens", 512, 1, integer=True),
        temperature=float(reader.number("temperature", 0.7, 0)),
        context_tiers=_tiers(reader),
        prompt=reader.text("prompt", DEFAULT_PROMPT),
        timeout_s=float(reader.number("timeout_s", 120.0, 0, strict=True)),
        total_timeout_s=reader.number("total_timeout_s", None, 0, strict=True),
        load=read_load_section(path, reader.data.get("load"), "defaults.load") or LoadLayer(),
    )


def _limits(path: Path, data: object, key: str) -> tuple[Threshold, ...]:
    if isinstance(data, str):
        data = [data]
    if not isinstance(data, list):
        raise ConfigError(path, key, "must be a list of limits like 'ttft_ms.p90 <= 800'")
    limits = []
    for index, text in enumerate(data):
        if not isinstance(text, str):
            raise ConfigError(
                path,
                f"{key}[{index}]",
                f"must be a string like 'ttft_ms.p90 <= 800', got {short_repr(text)}",
            )
        try:
            limits.append(parse_threshold(text, source=f"{path.name}: {key}"))
        except ValueError as exc:
            raise ConfigError(path, f"{key}[{index}]", str(exc)) from None
    return tuple(limits)


def _thresholds(path: Path, data: object) -> ThresholdSpec:
    reader = ConfigReader(path, data if data is not None else {}, "thresholds")
    reader.check_keys({"defaults", "providers", "models"})
    groups = {}
    for name in ("providers", "models"):
        sub = ConfigReader(path, reader.data.get(name) or {}, f"thresholds.{name}")
        groups[name] = {str(k): _limits(path, v, sub.sub(str(k))) for k, v in sub.data.items()}
    return ThresholdSpec(
        defaults=_limits(path, reader.data.get("defaults") or [], "thresholds.defaults"),
        providers=groups["providers"],
        models=groups["models"],
    )


def _conversation(path: Path, data: object) -> ConversationSpec:
    reader = ConfigReader(path, data if data is not None else {}, "conversation")
    reader.check_keys(
        {
            "prompts",
            "turns",
            "max_tokens",
            "temperature",
            "reasoning_effort",
            "knee_factor",
            "baseline_turns",
        }
    )
    base = ConversationSpec()
    effort = reader.get("reasoning_effort", str, base.reasoning_effort)
    if "reasoning_effort" in reader.data and reader.data["reasoning_effort"] is None:
        effort = None
    return ConversationSpec(
        prompts=reader.text("prompts", base.prompts),
        turns=reader.number("turns", base.turns, 0, integer=True),
        max_tokens=reader.number("max_tokens", base.max_tokens, 1, integer=True),
        temperature=float(reader.number("temperature", base.temperature, 0)),
        reasoning_effort=effort,
        knee_factor=float(reader.number("knee_factor", base.knee_factor, 1, strict=True)),
        baseline_turns=reader.number("baseline_turns", base.baseline_turns, 1, integer=True),
    )


def _server_block(reader: ConfigReader, name: str, managed: str | None) -> dict[str, Any] | None:
    """A model's settings for the server its provider manages (``sim:`` or ``llama_cpp:``)."""
    block = reader.get(name, Mapping)
    kind = "simulator" if name == "sim" else name
    if block is not None and managed != kind:
        raise ConfigError(
            reader.path,
            reader.sub(name),
            f"only models of a 'managed: {kind}' provider take these settings",
        )
    if managed == kind:
        return dict(block or {})
    return None


def _model(path: Path, data: object, key: str, managed: str | None) -> ModelSpec:
    reader = ConfigReader(path, data, key)
    reader.check_keys(
        {
            "id",
            "display_name",
            "context_window",
            "skip_temperature",
            "params",
            "sim",
            "llama_cpp",
            "filler_in",
            "load",
        }
    )
    model_id = reader.text("id", required=True)
    filler_in = reader.choice("filler_in", "system", ("system", "user"))
    return ModelSpec(
        id=model_id,
        display_name=reader.text("display_name", model_id),
        context_window=reader.number("context_window", None, 1, integer=True),
        skip_temperature=reader.get("skip_temperature", bool, False),
        params=dict(reader.get("params", Mapping, {})),
        sim=_server_block(reader, "sim", managed),
        llama_cpp=_server_block(reader, "llama_cpp", managed),
        filler_in=filler_in,
        load=read_load_section(path, reader.data.get("load"), reader.sub("load")),
    )


def _api_base(reader: ConfigReader) -> str | None:
    """An ``http://`` or ``https://`` URL with a host (and a valid port), or ``None``."""
    api_base: str | None = reader.text("api_base")
    if api_base is None:
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in api_base):
        reader.fail(
            "api_base", f"must not hold spaces or control characters, got {short_repr(api_base)}"
        )
    parts = urlsplit(api_base)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        reader.fail(
            "api_base",
            f"must be an http:// or https:// URL, got {short_repr(api_base)}",
        )
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        reader.fail("api_base", f"the port must be 1-65535, got {short_repr(api_base)}")
    return api_base


def _check_unique_ids(reader: ConfigReader, models: tuple[ModelSpec, ...]) -> None:
    """Two models with one id would be measured as one target (one aggregate, one baseline)."""
    first: dict[str, int] = {}
    for index, model in enumerate(models):
        earlier = first.setdefault(model.id, index)
        if earlier != index:
            reader.fail(
                f"models[{index}].id",
                f"duplicate model id {short_repr(model.id)} (also models[{earlier}]); give each "
                "model of a provider its own id",
            )


def _provider(path: Path, name: str, data: object) -> ProviderSpec:
    reader = ConfigReader(path, data, f"providers.{name}")
    reader.check_keys(
        {
            "display_name",
            "api_base",
            "api_key_env",
            "model_prefix",
            "client",
            "models",
            "managed",
            "optional",
            "timeout_s",
            "total_timeout_s",
            "max_tokens_field",
            "params",
            "context_tiers",
            "max_tokens",
            "load",
        }
    )
    managed = reader.choice("managed", None, MANAGED_KINDS)
    prefix = reader.text("model_prefix", "")
    lean = prefix.rstrip("/") in OPENAI_COMPATIBLE_PREFIXES
    client = reader.choice("client", "lean" if lean else "litellm", ("lean", "litellm"))
    api_base = _api_base(reader)
    if api_base is None and client == "lean" and managed is None:
        raise ConfigError(
            path,
            reader.sub("api_base"),
            "required for the lean OpenAI-compatible client (or set client: litellm)",
        )
    models = reader.get("models", list, required=True)
    if not models:
        raise ConfigError(path, reader.sub("models"), "must list at least one model")
    specs = tuple(
        _model(path, m, f"{reader.key}.models[{i}]", managed) for i, m in enumerate(models)
    )
    _check_unique_ids(reader, specs)
    return ProviderSpec(
        name=name,
        display_name=reader.text("display_name", name),
        api_base=api_base.rstrip("/") if api_base else None,
        api_key_env=reader.text("api_key_env"),
        model_prefix=prefix,
        client=client,
        models=specs,
        managed=managed,
        optional=reader.get("optional", bool, False),
        timeout_s=reader.number("timeout_s", None, 0, strict=True),
        total_timeout_s=reader.number("total_timeout_s", None, 0, strict=True),
        max_tokens_field=reader.text("max_tokens_field", "max_tokens"),
        params=dict(reader.get("params", Mapping, {})),
        context_tiers=(_tiers(reader) if reader.data.get("context_tiers") is not None else None),
        max_tokens=reader.number("max_tokens", None, 1, integer=True),
        load=read_load_section(path, reader.data.get("load"), reader.sub("load")),
    )


def load_config(path: Path) -> BenchConfig:
    """Read and validate ``path``; raises :class:`ConfigError` with the file, key and problem."""
    document = read_yaml(path)
    root = ConfigReader(path, document if document is not None else {}, "")
    root.check_keys({"defaults", "providers", "thresholds", "conversation"})
    providers = root.get("providers", Mapping, required=True)
    if not providers:
        raise ConfigError(path, "providers", "must list at least one provider")
    config = BenchConfig(
        path=path,
        defaults=_defaults(path, root.data.get("defaults")),
        providers=tuple(_provider(path, str(name), data) for name, data in providers.items()),
        conversation=_conversation(path, root.data.get("conversation")),
        thresholds=_thresholds(path, root.data.get("thresholds")),
    )
    check_load_sections(config)
    return _check_managed_settings(config)


def _check_managed_settings(config: BenchConfig) -> BenchConfig:
    """Validate ``sim:`` and ``llama_cpp:`` blocks at load time, so a typo is a usage error, not
    a failed test, naming the block's key in full; a llama.cpp model without a
    ``context_window`` gets its ``n_ctx``."""
    providers = []
    for provider in config.providers:
        models = []
        for index, model in enumerate(provider.models):
            key = f"providers.{provider.name}.models[{index}]"
            try:
                if provider.simulated:
                    from ..servers.sim.profile import SimProfile

                    SimProfile.from_mapping(model.sim or {}, key=f"{key}.sim")
                elif provider.managed == "llama_cpp":
                    from ..servers.llama_cpp import LlamaCppSpec

                    spec = LlamaCppSpec.from_mapping(model.llama_cpp or {}, key=f"{key}.llama_cpp")
                    if model.context_window is None:
                        model = dataclasses.replace(model, context_window=spec.n_ctx)
            except ValidationError as exc:
                raise ConfigError.from_error(config.path, exc) from None
            models.append(model)
        providers.append(dataclasses.replace(provider, models=tuple(models)))
    return dataclasses.replace(config, providers=tuple(providers))
