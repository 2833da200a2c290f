"""Command-line options and ini keys, merged once into a frozen :class:`Settings`.

Every ``--llm-*`` option has an ini twin in ``[tool.pytest.ini_options]`` (``llm_runs = 3``); the
command line wins. Bad values are pytest usage errors (exit 4) that name the option: an empty value
given on the command line (``--llm-config ''``) is one, where an empty ini value means unset;
numbers are finite; the output paths given (results folder, baseline, export) are checked here, at
configure time, so a file in the way is found before any request rather than after the last.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .load_options import LOAD_OPTIONS, LoadOptions, load_options
from .load_spec import LoadMode
from .option_values import flag_name as _flag_of
from .option_values import given_option as _option
from .option_values import non_negative_float as _non_negative_float
from .option_values import non_negative_int as _non_negative_int
from .option_values import option_or_ini as _raw
from .option_values import parse_option as _parse
from .option_values import positive_float as _positive_float
from .option_values import positive_int as _positive_int
from .spec import MAX_TIER
from .thresholds import Threshold, parse_threshold

__all__ = ["Settings", "add_options"]

# (option name, ini name, help, ini type, argparse extras)
_OPTIONS: tuple[tuple[str, str, str, str, dict[str, Any]], ...] = (
    (
        "--llm-config",
        "llm_config",
        "path of the benchmark config.yaml (default: config.yaml in the rootdir)",
        "string",
        {"metavar": "PATH"},
    ),
    (
        "--llm-runs",
        "llm_runs",
        "measured runs per target and context tier (default 1)",
        "string",
        {"metavar": "N"},
    ),
    (
        "--llm-provider",
        "llm_provider",
        "only these providers (comma-separated names)",
        "string",
        {"metavar": "NAMES"},
    ),
    (
        "--llm-model",
        "llm_model",
        "only models whose id or display name contains this text (case-insensitive)",
        "string",
        {"metavar": "TEXT"},
    ),
    (
        "--llm-context-tiers",
        "llm_context_tiers",
        f"context tiers in prompt tokens, e.g. 0,5000,50000, each at most {MAX_TIER:,} "
        "(default: the config's defaults.context_tiers)",
        "string",
        {"metavar": "LIST"},
    ),
    (
        "--llm-max-tokens",
        "llm_max_tokens",
        "max output tokens per request (overrides the config)",
        "string",
        {"metavar": "N"},
    ),
    (
        "--llm-temperature",
        "llm_temperature",
        "sampling temperature (overrides the config)",
        "string",
        {"metavar": "T"},
    ),
    (
        "--llm-timeout",
        "llm_timeout",
        "seconds without data from the server before a request fails (overrides the config)",
        "string",
        {"metavar": "SECONDS"},
    ),
    (
        "--llm-total-timeout",
        "llm_total_timeout",
        "seconds a whole request may take, connect to end of stream (overrides the config; "
        "default: the read timeout + 30 s + 0.25 s per max_tokens)",
        "string",
        {"metavar": "SECONDS"},
    ),
    (
        "--llm-turns",
        "llm_turns",
        "conversation benchmark: the first N turns (0: all; default: the config's "
        "conversation.turns)",
        "string",
        {"metavar": "N"},
    ),
    (
        "--llm-prompts",
        "llm_prompts",
        "conversation benchmark: your own prompts file (default: the config's "
        "conversation.prompts, else the built-in 231-prompt conversation; shape: "
        "pytest_llmbench/data/lalm_conversation.schema.json)",
        "string",
        {"metavar": "PATH"},
    ),
    (
        "--llm-fail",
        "llm_fail",
        "a performance limit, repeatable, overriding the config's thresholds: "
        "'ttft_ms.p90 <= 800', 'ttft_ms <= 500' (every request), 'decode_tps.median: -10%'",
        "linelist",
        {"metavar": "LIMIT", "action": "append", "default": None},
    ),
    (
        "--llm-baseline",
        "llm_baseline",
        "compare with a saved results or baseline file, or 'latest' (the newest in the results "
        "directory); relative limits are checked against it",
        "string",
        {"metavar": "PATH|latest"},
    ),
    (
        "--llm-save-baseline",
        "llm_save_baseline",
        "write a compact baseline file (meant to be committed) from this session",
        "string",
        {"metavar": "PATH"},
    ),
    (
        "--llm-export-benchmark",
        "llm_export_benchmark",
        "also write the session in pytest-benchmark's JSON format (for pytest-benchmark compare)",
        "string",
        {"metavar": "PATH"},
    ),
    (
        "--llm-parallel",
        "llm_parallel",
        "under pytest-xdist (--dist load): 'providers' runs each provider's tests on one worker, "
        "its models one after another, and the providers side by side",
        "string",
        {"metavar": "providers", "choices": ["providers"]},
    ),
    (
        "--llm-events",
        "llm_events",
        "append the session's progress to this file as it happens, a JSON line each (each "
        "finished test, each running load point every second, the end): what a dashboard follows",
        "string",
        {"metavar": "PATH"},
    ),
    (
        "--llm-results-dir",
        "llm_results_dir",
        "where results are written (default: results/ in the rootdir)",
        "string",
        {"metavar": "DIR"},
    ),
    (
        "--llm-no-save",
        "llm_no_save",
        "write no result files",
        "bool",
        {"action": "store_true", "default": None},
    ),
    (
        "--llm-verbose",
        "llm_verbose",
        "print every measured request and LiteLLM's debug log",
        "bool",
        {"action": "store_true", "default": None},
    ),
    *LOAD_OPTIONS,
)


def add_options(parser: pytest.Parser) -> None:
    """Register the ``--llm-*`` options and their ini keys (``pytest_addoption``)."""
    group = parser.getgroup("llmbench", "LLM benchmarks (pytest-llmbench)")
    for flag, ini, help_text, ini_type, extra in _OPTIONS:
        # argparse expands %-formats in help ("-10%" would crash ``pytest --help``)
        group.addoption(flag, dest=ini, help=help_text.replace("%", "%%"), **extra)
        parser.addini(ini, help=help_text, type=ini_type, default=None)  # type: ignore[arg-type]


def _tiers(text: str) -> tuple[int, ...]:
    tiers = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    if not tiers or any(not 0 <= tier <= MAX_TIER for tier in tiers):
        raise ValueError(text)
    return tuple(dict.fromkeys(tiers))


def _names(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise ValueError(text)
    return names


def _path(config: pytest.Config, name: str, default: str) -> tuple[Path, bool]:
    """A path option: relative to the invocation directory on the command line, to the rootdir
    (where the ini file lives) in ini, and ``default`` under the rootdir otherwise."""
    rootdir = Path(config.rootpath)
    value = _option(config, name)
    if value is not None:
        return (Path(config.invocation_params.dir) / str(value)).resolve(), True
    value = config.getini(name)
    if value not in (None, ""):
        return (rootdir / str(value)).resolve(), True
    return (rootdir / default).resolve(), False


def _folder_problem(folder: Path, target: Path) -> str | None:
    """Why no file can be made in ``folder`` (made with its parents when missing), or ``None``.
    Checked without writing anything: the plugin stays inert until a test uses it."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    name = "" if probe == target else f"{probe} "
    if not probe.is_dir():
        return f"{name}is a file, not a directory"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{name}is not writable"
    return None


def _file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be written as a file, or ``None``."""
    if path.is_dir():
        return "is a directory, not a file"
    if path.exists() and not os.access(path, os.W_OK):
        return "is not writable"
    return _folder_problem(path.parent, path)


def _providers(text: str) -> str:
    if text != "providers":
        raise ValueError(text)
    return text


def _check_outputs(settings: Settings, results_explicit: bool) -> None:
    """Every output path given can be written: a usage error now, not after the last request.
    The default results folder is left alone (a session that never benchmarks must not fail)."""
    checks: list[tuple[str, Path, str | None]] = []
    if settings.save and results_explicit:
        results = settings.results_dir
        checks.append(("llm_results_dir", results, _folder_problem(results, results)))
    for name, path in (
        ("llm_save_baseline", settings.save_baseline),
        ("llm_export_benchmark", settings.export_benchmark),
        ("llm_events", settings.events_path),
    ):
        if path is not None:
            checks.append((name, path, _file_problem(path)))
    for name, path, problem in checks:
        if problem is not None:
            raise pytest.UsageError(f"{_flag_of(name)} / ini {name}: {path}: {problem}")


def _limits(config: pytest.Config) -> tuple[Threshold, ...]:
    texts = config.getoption("llm_fail") or config.getini("llm_fail") or []
    limits = []
    for text in texts:
        try:
            limits.append(parse_threshold(text, source="--llm-fail"))
        except ValueError as exc:
            raise pytest.UsageError(f"--llm-fail / ini llm_fail: {exc}") from None
    return tuple(limits)


def _flag(config: pytest.Config, name: str) -> bool:
    value = _raw(config, name)
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


@dataclass(frozen=True)
class Settings:
    """The session's ``--llm-*`` settings, from the command line, else ini, else defaults."""

    rootdir: Path
    config_path: Path
    config_explicit: bool
    runs: int = 1
    providers: tuple[str, ...] = ()
    model_filter: str | None = None
    context_tiers: tuple[int, ...] | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    timeout_s: float | None = None
    total_timeout_s: float | None = None
    fail: tuple[Threshold, ...] = ()
    baseline: str | None = None
    save_baseline: Path | None = None
    export_benchmark: Path | None = None
    #: ``--llm-events``: where the session's progress goes as it happens (JSON lines).
    events_path: Path | None = None
    #: ``--llm-parallel providers``: each provider's tests on one worker, providers side by side.
    parallel: str | None = None
    turns: int | None = None
    prompts_path: Path | None = None
    results_dir: Path = dataclasses.field(default=Path("results"))
    save: bool = True
    verbose: bool = False
    #: Load mode (``--llm-load*``): ``load.mode`` is ``points``, ``sweep`` or ``search``.
    load: LoadOptions = dataclasses.field(default_factory=LoadOptions)

    @property
    def load_mode(self) -> LoadMode:
        """What ``--llm-load`` asked: ``points`` (also when not given), ``sweep`` or ``search``."""
        return self.load.mode

    @classmethod
    def from_pytest_config(cls, config: pytest.Config) -> Settings:
        """Build the settings once; raises :class:`pytest.UsageError` naming a bad option."""
        config_path, config_explicit = _path(config, "llm_config", "config.yaml")
        results_dir, results_explicit = _path(config, "llm_results_dir", "results")
        model = _raw(config, "llm_model")
        settings = cls(
            rootdir=Path(config.rootpath),
            config_path=config_path,
            config_explicit=config_explicit,
            runs=_parse(config, "llm_runs", _positive_int, "a whole number >= 1") or 1,
            providers=_parse(config, "llm_provider", _names, "comma-separated provider names")
            or (),
            model_filter=str(model).strip() if model is not None else None,
            context_tiers=_parse(
                config,
                "llm_context_tiers",
                _tiers,
                f"comma-separated token counts from 0 to {MAX_TIER:,}",
            ),
            max_tokens=_parse(config, "llm_max_tokens", _positive_int, "a whole number >= 1"),
            temperature=_parse(
                config, "llm_temperature", _non_negative_float, "a finite number >= 0"
            ),
            timeout_s=_parse(
                config, "llm_timeout", _positive_float, "a finite number of seconds > 0"
            ),
            total_timeout_s=_parse(
                config, "llm_total_timeout", _positive_float, "a finite number of seconds > 0"
            ),
            fail=_limits(config),
            baseline=str(_raw(config, "llm_baseline")) if _raw(config, "llm_baseline") else None,
            save_baseline=(
                _path(config, "llm_save_baseline", "")[0]
                if _raw(config, "llm_save_baseline")
                else None
            ),
            export_benchmark=(
                _path(config, "llm_export_benchmark", "")[0]
                if _raw(config, "llm_export_benchmark")
                else None
            ),
            parallel=_parse(config, "llm_parallel", _providers, "'providers'"),
            events_path=(
                _path(config, "llm_events", "")[0] if _raw(config, "llm_events") else None
            ),
            turns=_parse(config, "llm_turns", _non_negative_int, "a whole number >= 0"),
            prompts_path=(
                _path(config, "llm_prompts", "")[0] if _raw(config, "llm_prompts") else None
            ),
            results_dir=results_dir,
            save=not _flag(config, "llm_no_save"),
            verbose=_flag(config, "llm_verbose"),
            load=load_options(config),
        )
        _check_outputs(settings, results_explicit)
        return settings
