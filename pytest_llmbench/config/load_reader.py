"""A level's ``load:`` section of ``config.yaml`` (under ``defaults:``, a provider, a model),
validated into a :class:`~.load.LoadLayer`.

Keys: ``points`` (a list of point specs in the ``--llm-load`` grammar of :mod:`.load_grammar`,
or mappings with the fields of :class:`~.load.LoadPoint`), ``duration_s``, ``requests``,
``warmup_s``, ``cooldown_s``, ``prompt_tokens`` and ``output_tokens`` (a whole number, or
``{kind: uniform, low, high}`` / ``{kind: normal, mean, stdev, low?, high?}``), ``ignore_eos``,
``shared_prefix`` (0..1), ``dataset`` (a JSONL file relative to the config, read and checked
here), ``seed``, ``slos`` (``'ttft_ms.p99 <= 500'``) and ``max_error_rate`` (0..1). Every problem
is a :class:`~.reader.ConfigError` naming the file and the full key.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..schema import Key
from ..validation import short_repr
from .load_dataset import read_load_dataset
from .load_grammar import POINT_FORMS, parse_load_spec, parse_slo, point_list_problem
from .load_spec import (
    MAX_CONCURRENCY,
    MAX_RATE,
    MAX_REQUESTS,
    MAX_SEED,
    WINDOW_FIELDS,
    LoadLayer,
    LoadPoint,
    PointEntry,
    Size,
    Slo,
)
from .reader import ConfigError, ConfigReader
from .spec import MAX_TIER

__all__ = ["LOAD_KEYS", "read_load_section"]

LOAD_KEYS = frozenset(
    {
        "points",
        *WINDOW_FIELDS,
        Key.PROMPT_TOKENS,
        Key.OUTPUT_TOKENS,
        "ignore_eos",
        "shared_prefix",
        "dataset",
        "seed",
        "slos",
        "max_error_rate",
    }
)
_RATE_ONLY = ("rate", "arrival", "burstiness", "max_in_flight")
_POINT_KEYS = ("kind", "concurrency", *_RATE_ONLY, *WINDOW_FIELDS)


def _whole(reader: ConfigReader, name: str, low: int, high: int, what: str = "") -> int | None:
    """A whole number from ``low`` to ``high``, or ``None`` when absent."""
    value = reader.data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        reader.fail(
            name, f"must be a whole number{what} from {low} to {high:,}, got {short_repr(value)}"
        )
    return value


def _seconds(reader: ConfigReader, name: str, strict: bool) -> float | None:
    value = reader.number(name, None, 0, strict=strict)
    return None if value is None else float(value)


def _fraction(reader: ConfigReader, name: str) -> float | None:
    value = reader.number(name, None, 0)
    if value is not None and value > 1:
        reader.fail(name, f"must be a share from 0 to 1, got {short_repr(value)}")
    return None if value is None else float(value)


def _window(reader: ConfigReader) -> dict[str, Any]:
    """The window keys this mapping sets: ``duration_s``, ``requests``, ``warmup_s``,
    ``cooldown_s``."""
    values: dict[str, float | int | None] = {
        "duration_s": _seconds(reader, "duration_s", strict=True),
        "requests": _whole(reader, "requests", 1, MAX_REQUESTS),
        "warmup_s": _seconds(reader, "warmup_s", strict=False),
        "cooldown_s": _seconds(reader, "cooldown_s", strict=False),
    }
    return {name: value for name, value in values.items() if value is not None}


def _required(reader: ConfigReader, name: str, problem: str) -> None:
    if reader.data.get(name) is None:
        reader.fail(name, problem)


def _rate_point(reader: ConfigReader) -> LoadPoint:
    """A rate point's own keys: ``rate``, ``arrival``, ``burstiness``, ``max_in_flight``."""
    if reader.data.get("concurrency") is not None:
        reader.fail("concurrency", "a rate point has none (cap it with max_in_flight)")
    _required(reader, "rate", "missing required key (requests per second)")
    rate = float(reader.number("rate", None, 0, strict=True))
    if rate > MAX_RATE:
        reader.fail("rate", f"must be at most {MAX_RATE:,g} requests per second, got {rate:g}")
    arrival = reader.choice("arrival", "constant", ("constant", "poisson", "gamma"))
    burstiness = reader.number("burstiness", None, 0, strict=True)
    if burstiness is not None and arrival != "gamma":
        reader.fail("burstiness", "only gamma arrivals take one (arrival: gamma)")
    if burstiness is None and arrival == "gamma":
        reader.fail("burstiness", "gamma arrivals need it: K > 0 (1: Poisson; below 1 burstier)")
    return LoadPoint(
        "rate",
        rate=rate,
        arrival=arrival,
        burstiness=float(burstiness or 1.0),
        max_in_flight=_whole(reader, "max_in_flight", 1, MAX_CONCURRENCY),
    )


def _point_mapping(path: Path, data: object, key: str) -> PointEntry:
    """``{kind: concurrency, concurrency: 64}`` or ``{kind: rate, rate: 8, arrival: poisson,
    max_in_flight: 16}``, with window keys of its own; ``kind`` may be left to the key given."""
    reader = ConfigReader(path, data, key)
    reader.check_keys(_POINT_KEYS)
    if reader.data.get("kind") in ("sweep", "search"):
        reader.fail("kind", "a sweep or a search is the word alone: points: [sweep]")
    kind = reader.choice("kind", None, ("concurrency", "rate"))
    if kind is None:
        given = [name for name in ("concurrency", "rate") if reader.data.get(name) is not None]
        if len(given) != 1:
            reader.fail("kind", "missing: say 'concurrency' or 'rate' (or give just one of them)")
        kind = given[0]
    if kind == "rate":
        point = _rate_point(reader)
    else:
        for name in _RATE_ONLY:
            if reader.data.get(name) is not None:
                reader.fail(name, "only a rate point takes it (kind: rate)")
        _required(reader, "concurrency", "missing required key (streams kept in flight)")
        concurrency = _whole(reader, "concurrency", 1, MAX_CONCURRENCY)
        point = LoadPoint("concurrency", concurrency=concurrency)
    window = _window(reader)
    return PointEntry(dataclasses.replace(point, **window), key, frozenset(window))


def _points(reader: ConfigReader) -> tuple[PointEntry, ...] | None:
    """``points``: specs (one may make several points) and mappings, each point once."""
    data = reader.data.get("points")
    if data is None:
        return None
    if isinstance(data, str):
        data = [data]
    if not isinstance(data, list) or not data:
        reader.fail("points", f"must list one point or more: {POINT_FORMS}, or mappings")
    entries: list[PointEntry] = []
    for index, item in enumerate(data):
        key = reader.sub(f"points[{index}]")
        if isinstance(item, Mapping):
            entries.append(_point_mapping(reader.path, item, key))
            continue
        if not isinstance(item, str):
            raise ConfigError(
                reader.path,
                key,
                f"must be a spec like 'concurrency=8' or a mapping, got {short_repr(item)}",
            )
        try:
            entries.extend(PointEntry(point, key) for point in parse_load_spec(item))
        except ValueError as exc:
            raise ConfigError(reader.path, key, str(exc)) from None
    problem = point_list_problem([entry.point for entry in entries])
    if problem is not None:
        raise ConfigError(reader.path, entries[problem[0]].key, problem[1])
    return tuple(entries)


def _tokens(reader: ConfigReader, name: str, minimum: int, required: bool = False) -> int | None:
    if required:
        _required(reader, name, "missing required key")
    return _whole(reader, name, minimum, MAX_TIER, " of tokens")


def _size_mapping(reader: ConfigReader, minimum: int) -> Size:
    """``{kind: uniform, low, high}`` or ``{kind: normal, mean, stdev, low?, high?}``; a normal
    size is clipped to [low, high], by default [``minimum``, mean + 4 stdev]."""
    _required(reader, "kind", "missing: 'uniform' or 'normal' (a fixed size is a whole number)")
    kind = reader.choice("kind", None, ("uniform", "normal"))
    if kind == "uniform":
        reader.check_keys({"kind", "low", "high"})
        low = _tokens(reader, "low", minimum, required=True) or minimum
        high = _tokens(reader, "high", minimum, required=True) or minimum
        if low > high:
            reader.fail("high", f"must be >= low ({low}), got {high}")
        return Size("uniform", mean=(low + high) // 2, low=low, high=high)
    reader.check_keys({"kind", "mean", "stdev", "low", "high"})
    mean = _tokens(reader, "mean", minimum, required=True) or minimum
    _required(reader, "stdev", "missing required key")
    stdev = float(reader.number("stdev", None, 0))
    given_low, given_high = _tokens(reader, "low", minimum), _tokens(reader, "high", minimum)
    low = minimum if given_low is None else given_low
    high = math.ceil(min(float(MAX_TIER), mean + 4 * stdev)) if given_high is None else given_high
    if not low <= mean <= high:
        reader.fail("", f"needs low <= mean <= high, got {low} <= {mean} <= {high}")
    return Size("normal", mean=mean, low=low, high=high, stdev=stdev)


def _size(reader: ConfigReader, name: str, minimum: int) -> Size | None:
    """A token count: a whole number (fixed) or a distribution's mapping."""
    value = reader.data.get(name)
    if isinstance(value, Mapping):
        return _size_mapping(ConfigReader(reader.path, value, reader.sub(name)), minimum)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        reader.fail(
            name,
            "must be a whole number of tokens, or {kind: uniform, low, high} or {kind: normal, "
            f"mean, stdev}}, got {short_repr(value)}",
        )
    count = _tokens(reader, name, minimum)
    return None if count is None else Size("fixed", count)


def _dataset(reader: ConfigReader) -> str | None:
    """The dataset's absolute path (given relative to the config's folder), its lines checked."""
    text = reader.text("dataset")
    if text is None:
        return None
    if not text.strip():
        reader.fail("dataset", "must not be empty (leave it out for the filler)")
    path = (reader.path.parent / Path(text).expanduser()).resolve()
    try:
        read_load_dataset(path)
    except ValueError as exc:
        reader.fail("dataset", str(exc))
    return str(path)


def _slos(reader: ConfigReader) -> tuple[Slo, ...] | None:
    """``slos``: a list of SLO strings (an empty list: none, over the levels below)."""
    data = reader.data.get("slos")
    if data is None:
        return None
    if isinstance(data, str):
        data = [data]
    if not isinstance(data, list):
        reader.fail(
            "slos", f"must be a list of SLOs like 'ttft_ms.p99 <= 500', got {short_repr(data)}"
        )
    slos = []
    for index, text in enumerate(data):
        key = reader.sub(f"slos[{index}]")
        if not isinstance(text, str):
            raise ConfigError(
                reader.path,
                key,
                f"must be a string like 'ttft_ms.p99 <= 500', got {short_repr(text)}",
            )
        try:
            slos.append(parse_slo(text))
        except ValueError as exc:
            raise ConfigError(reader.path, key, str(exc)) from None
    return tuple(slos)


def read_load_section(path: Path, data: object, key: str) -> LoadLayer | None:
    """The ``load:`` mapping ``data`` found at ``key`` of the config ``path`` (``None`` when the
    level has none); raises :class:`ConfigError` naming the file, the key and the problem."""
    if data is None:
        return None
    reader = ConfigReader(path, data, key)
    reader.check_keys(LOAD_KEYS)
    window = _window(reader)
    return LoadLayer(
        key=key,
        points=_points(reader),
        duration_s=window.get("duration_s"),
        requests=window.get("requests"),
        warmup_s=window.get("warmup_s"),
        cooldown_s=window.get("cooldown_s"),
        prompt_tokens=_size(reader, Key.PROMPT_TOKENS, 0),
        output_tokens=_size(reader, Key.OUTPUT_TOKENS, 1),
        ignore_eos=reader.get("ignore_eos", bool),
        shared_prefix=_fraction(reader, "shared_prefix"),
        dataset=_dataset(reader),
        seed=_whole(reader, "seed", 0, MAX_SEED),
        slos=_slos(reader),
        max_error_rate=_fraction(reader, "max_error_rate"),
    )
