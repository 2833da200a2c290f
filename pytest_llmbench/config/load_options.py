"""The load mode's options (``--llm-load*``) and their ini twins, read into :class:`LoadOptions`.

``--llm-load SPEC`` (repeatable) replaces the config's ``load.points`` with the points of the
specs (the grammar of :mod:`.load_grammar`: ``concurrency=1,8,64``, ``rate=2,4,8:poisson``,
``rate=4:gamma=0.5``, ``rate=8:poisson:max=16``, or one ``sweep`` or ``search``);
``--llm-load-slo`` (repeatable) replaces ``load.slos``; the window and seed options replace one key
each. :func:`~.load_layers.load_settings` puts them over the config's layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from .load_grammar import POINT_FORMS, parse_load_spec, parse_slo, point_list_problem
from .load_spec import MAX_REQUESTS, MAX_SEED, LoadMode, LoadPoint, Slo
from .option_values import (
    flag_name,
    non_negative_float,
    non_negative_int,
    parse_option,
    positive_float,
    positive_int,
)

__all__ = ["LOAD_OPTIONS", "LoadOptions", "load_options"]

_APPEND: dict[str, Any] = {"action": "append", "default": None}
# (option name, ini name, help, ini type, argparse extras), as options._OPTIONS
LOAD_OPTIONS: tuple[tuple[str, str, str, str, dict[str, Any]], ...] = (
    (
        "--llm-load",
        "llm_load",
        f"load mode: the points, repeatable, replacing the config's load.points: {POINT_FORMS}",
        "linelist",
        {"metavar": "SPEC", **_APPEND},
    ),
    (
        "--llm-load-duration",
        "llm_load_duration",
        "seconds each load point runs (overrides load.duration_s; default 60, or none when "
        "only requests are given)",
        "string",
        {"metavar": "S"},
    ),
    (
        "--llm-load-requests",
        "llm_load_requests",
        "requests each load point sends (overrides load.requests; with a duration, whichever "
        "ends first)",
        "string",
        {"metavar": "N"},
    ),
    (
        "--llm-load-warmup",
        "llm_load_warmup",
        "seconds at the start of each load point left out of the steady state (overrides "
        "load.warmup_s)",
        "string",
        {"metavar": "S"},
    ),
    (
        "--llm-load-cooldown",
        "llm_load_cooldown",
        "seconds at the end of each load point left out of the steady state (overrides "
        "load.cooldown_s)",
        "string",
        {"metavar": "S"},
    ),
    (
        "--llm-load-slo",
        "llm_load_slo",
        "a load SLO, repeatable, replacing the config's load.slos: 'ttft_ms.p99 <= 500', "
        "'tpot_ms <= 50' (p99 unless named)",
        "linelist",
        {"metavar": "EXPR", **_APPEND},
    ),
    (
        "--llm-load-shards",
        "llm_load_shards",
        "under pytest-xdist (--dist load), how many workers run each load point together, each "
        "a share of it (default: every worker; 1: each point on one worker)",
        "string",
        {"metavar": "N"},
    ),
    (
        "--llm-load-seed",
        "llm_load_seed",
        "seed of the arrivals and request sizes (overrides load.seed)",
        "string",
        {"metavar": "N"},
    ),
)


@dataclass(frozen=True)
class LoadOptions:
    """What the command line (else ini) says of load mode; ``None``: the config decides."""

    #: ``points`` (also when ``--llm-load`` is not given), ``sweep`` or ``search``.
    mode: LoadMode = "points"
    #: ``--llm-load``: replaces every target's points (a sweep or search: its one marker).
    points: tuple[LoadPoint, ...] | None = None
    duration_s: float | None = None
    requests: int | None = None
    warmup_s: float | None = None
    cooldown_s: float | None = None
    slos: tuple[Slo, ...] | None = None
    seed: int | None = None
    #: ``--llm-load-shards``: workers per load point under pytest-xdist (``None``: every one).
    shards: int | None = None


def _lines(config: pytest.Config, name: str) -> list[str] | None:
    """A repeatable option's values, else its ini lines; an empty value given is refused."""
    given = config.getoption(name)
    if given:
        if any(not text.strip() for text in given):
            raise pytest.UsageError(
                f"{flag_name(name)}: an empty value (leave the option out for the config's)"
            )
        return [text.strip() for text in given]
    lines = [line.strip() for line in (config.getini(name) or []) if line.strip()]
    return lines or None


def _points(config: pytest.Config) -> tuple[LoadPoint, ...] | None:
    texts = _lines(config, "llm_load")
    if texts is None:
        return None
    points: list[LoadPoint] = []
    for text in texts:
        try:
            points.extend(parse_load_spec(text))
        except ValueError as exc:
            raise pytest.UsageError(f"--llm-load / ini llm_load: {exc}") from None
    problem = point_list_problem(points)
    if problem is not None:
        raise pytest.UsageError(f"--llm-load / ini llm_load: {problem[1]}")
    return tuple(points)


def _slos(config: pytest.Config) -> tuple[Slo, ...] | None:
    texts = _lines(config, "llm_load_slo")
    if texts is None:
        return None
    try:
        return tuple(parse_slo(text) for text in texts)
    except ValueError as exc:
        raise pytest.UsageError(f"--llm-load-slo / ini llm_load_slo: {exc}") from None


def _requests(text: str) -> int:
    number = positive_int(text)
    if number > MAX_REQUESTS:
        raise ValueError(text)
    return number


def _seed(text: str) -> int:
    number = non_negative_int(text)
    if number > MAX_SEED:
        raise ValueError(text)
    return number


def _check_window(options: LoadOptions) -> None:
    """The options' own window leaves a steady state (with the config's, see load_settings)."""
    edges = (options.warmup_s or 0.0) + (options.cooldown_s or 0.0)
    if options.duration_s is not None and edges >= options.duration_s:
        raise pytest.UsageError(
            f"--llm-load-warmup / --llm-load-cooldown: warm-up and cool-down ({edges:g} s) "
            f"leave no steady state in --llm-load-duration {options.duration_s:g} s"
        )


def _mode(points: tuple[LoadPoint, ...] | None) -> LoadMode:
    """``sweep`` or ``search`` for that marker (which stands alone), else ``points``."""
    kinds = {point.kind for point in points or ()}
    if "sweep" in kinds:
        return "sweep"
    return "search" if "search" in kinds else "points"


def load_options(config: pytest.Config) -> LoadOptions:
    """The ``--llm-load*`` options; raises :class:`pytest.UsageError` naming a bad one."""
    seconds = "a finite number of seconds"
    points = _points(config)
    options = LoadOptions(
        mode=_mode(points),
        points=points,
        duration_s=parse_option(config, "llm_load_duration", positive_float, f"{seconds} > 0"),
        requests=parse_option(
            config, "llm_load_requests", _requests, f"a whole number from 1 to {MAX_REQUESTS:,}"
        ),
        warmup_s=parse_option(config, "llm_load_warmup", non_negative_float, f"{seconds} >= 0"),
        cooldown_s=parse_option(config, "llm_load_cooldown", non_negative_float, f"{seconds} >= 0"),
        slos=_slos(config),
        seed=parse_option(config, "llm_load_seed", _seed, f"a whole number from 0 to {MAX_SEED}"),
        shards=parse_option(config, "llm_load_shards", positive_int, "a whole number >= 1"),
    )
    _check_window(options)
    return options
