"""One target's load settings: the config's ``load:`` levels and the options, key by key.

Each key comes from the most specific place that sets it: the ``--llm-load*`` options, then the
model's ``load:``, then its provider's, then ``defaults.load``. A point listed as a mapping may
set its own window keys, which beat the sections' but not the options'. ``points`` and ``slos``
are replaced whole, never merged. A point ends at ``duration_s`` (60 s unless set, or none when
only ``requests`` is set) or after ``requests``, whichever comes first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NamedTuple

from ..validation import join_key
from .load_options import LoadOptions
from .load_spec import MAX_REQUESTS, WINDOW_FIELDS, LoadLayer, LoadPoint, LoadSettings, PointEntry
from .options import Settings
from .reader import ConfigError
from .spec import BenchConfig, ModelSpec, ProviderSpec

__all__ = ["check_load_sections", "load_settings"]

#: The flag of each option that replaces a key.
_FLAGS = {
    "points": "--llm-load",
    "duration_s": "--llm-load-duration",
    "requests": "--llm-load-requests",
    "warmup_s": "--llm-load-warmup",
    "cooldown_s": "--llm-load-cooldown",
    "slos": "--llm-load-slo",
    "seed": "--llm-load-seed",
}
_OPTION_RANK = 10


class _Chosen(NamedTuple):
    """A key's value, where it was set (a key path or a flag), and how specific that is."""

    value: Any
    key: str
    rank: int


def _layered(layers: list[LoadLayer], options: LoadOptions) -> dict[str, _Chosen]:
    """Every key set by a level or an option, from the most specific one that sets it."""
    chosen: dict[str, _Chosen] = {}
    for rank, layer in enumerate(layers):
        for field in dataclasses.fields(LoadLayer):
            value = getattr(layer, field.name)
            if field.name != "key" and value is not None:
                chosen[field.name] = _Chosen(value, join_key(layer.key, field.name), rank)
    for name, flag in _FLAGS.items():
        value = getattr(options, name)
        if value is not None:
            chosen[name] = _Chosen(value, flag, _OPTION_RANK)
    if options.points is not None:
        entries = tuple(PointEntry(point, "--llm-load") for point in options.points)
        chosen["points"] = _Chosen(entries, "--llm-load", _OPTION_RANK)
    return chosen


def _window(
    entry: PointEntry, chosen: Mapping[str, _Chosen], options: LoadOptions
) -> dict[str, _Chosen]:
    """The point's window keys: the options', else its own, else the sections'."""
    window = {name: chosen[name] for name in WINDOW_FIELDS if name in chosen}
    for name in entry.sets:
        window[name] = _Chosen(getattr(entry.point, name), join_key(entry.key, name), 5)
    for name in WINDOW_FIELDS:
        value = getattr(options, name)
        if value is not None:
            window[name] = _Chosen(value, _FLAGS[name], _OPTION_RANK)
    if "duration_s" not in window:
        window["duration_s"] = _Chosen(None if "requests" in window else 60.0, "", -1)
    return window


def _window_problem(point: LoadPoint) -> tuple[tuple[str, ...], str] | None:
    """What is wrong with the point's window, and the keys to blame (on a tie, the first)."""
    edges = point.warmup_s + point.cooldown_s
    if point.duration_s is not None and edges >= point.duration_s:
        return ("warmup_s", "cooldown_s", "duration_s"), (
            f"warm-up {point.warmup_s:g} s + cool-down {point.cooldown_s:g} s leave no steady "
            f"state in the point's {point.duration_s:g} s"
        )
    if point.kind == "rate" and point.requests is None and point.duration_s is not None:
        planned = (point.rate or 0) * point.duration_s
        if planned > MAX_REQUESTS:
            return ("duration_s",), (
                f"{point.rate:g}/s for {point.duration_s:g} s plans {planned:,.0f} requests, "
                f"more than {MAX_REQUESTS:,} (set requests, or a shorter duration)"
            )
    return None


def _point(
    config: BenchConfig, entry: PointEntry, window: Mapping[str, _Chosen], who: str
) -> LoadPoint:
    """The entry's point with its window; a window that makes no sense names the key to
    blame: the most specific of those that set it."""
    point = dataclasses.replace(
        entry.point,
        duration_s=window["duration_s"].value,
        requests=window["requests"].value if "requests" in window else None,
        warmup_s=float(window["warmup_s"].value) if "warmup_s" in window else 0.0,
        cooldown_s=float(window["cooldown_s"].value) if "cooldown_s" in window else 0.0,
    )
    found = _window_problem(point)
    if found is not None:
        names, problem = found
        blamed = [window[name] for name in names if name in window and window[name].rank >= 0]
        key = max(blamed, key=lambda chosen: chosen.rank).key if blamed else entry.key
        raise ConfigError(config.path, key, f"{point.id} of {who}: {problem}")
    return point


def load_settings(
    config: BenchConfig,
    provider: ProviderSpec,
    model: ModelSpec,
    settings: Settings | None = None,
) -> LoadSettings:
    """The load settings of the target ``provider``/``model``: the config's levels under the
    options of ``settings`` (none: the config alone). Raises :class:`ConfigError` naming the key
    (or the option) when the layers together make no sense: a window with no steady state, a
    rate that plans too many requests; with ``settings``, a search without an SLO (options
    may still bring one when the config alone is checked)."""
    options = settings.load if settings is not None else LoadOptions()
    levels = (config.defaults.load, provider.load, model.load)
    layers = [layer for layer in levels if layer is not None]
    chosen = _layered(layers, options)
    who = f"{provider.name}/{model.id}"
    entries: tuple[PointEntry, ...] = chosen["points"].value if "points" in chosen else ()
    points = tuple(_point(config, entry, _window(entry, chosen, options), who) for entry in entries)
    base = LoadSettings()
    shape = dataclasses.replace(
        base.shape,
        **{
            field.name: chosen[field.name].value
            for field in dataclasses.fields(base.shape)
            if field.name in chosen
        },
    )
    result = LoadSettings(
        points=points,
        shape=shape,
        slos=chosen["slos"].value if "slos" in chosen else base.slos,
        max_error_rate=(
            chosen["max_error_rate"].value if "max_error_rate" in chosen else base.max_error_rate
        ),
    )
    if settings is not None and result.mode == "search" and not result.slos:
        where = chosen["slos"].key if "slos" in chosen else entries[0].key
        raise ConfigError(
            config.path,
            where,
            f"a search of {who} needs at least one SLO to search under (load.slos or "
            "--llm-load-slo, e.g. 'ttft_ms.p99 <= 500')",
        )
    return result


def check_load_sections(config: BenchConfig) -> None:
    """Resolve every model's load settings from the config alone, so that levels which make no
    sense together stop the session when the config is loaded, before any request."""
    for provider in config.providers:
        for model in provider.models:
            load_settings(config, provider, model)
