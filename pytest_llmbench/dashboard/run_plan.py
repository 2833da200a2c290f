"""What a person asks the dashboard to run, checked, as the argument list of ``pytest benchmarks``.

Every value is checked here before anything runs (a bad one is a :class:`PlanError` naming the
field), and the command is an argument list built from the checked values, never a shell
string: targets become ``-k`` over their test ids (the config's own targets only; a free ``-k``
text is one argument pytest parses itself), tiers ``--llm-context-tiers``, and so on.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .history import STAMP
from .project import Project

__all__ = ["PlanError", "RunPlan"]

MAX_RUNS = 100
MAX_TOKENS = 1_000_000
#: Providers side by side at most (one pytest-xdist worker each).
MAX_WORKERS = 8


class PlanError(ValueError):
    """A field of a run the dashboard refuses (the message names it)."""


def _int(data: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PlanError(f"{name}: expected a whole number from {low} to {high:,}, got {value!r}")
    return value


def _temperature(value: Any) -> float | None:
    if value is None or value == "":
        return None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not 0 <= value <= 2:
        raise PlanError(f"temperature: expected a number from 0 to 2, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class RunPlan:
    """A checked run: which targets (test-id prefixes) or ``-k`` text, and the options."""

    targets: tuple[str, ...] = ()
    keyword: str | None = None
    tiers: tuple[int, ...] = ()
    runs: int | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    turns: int | None = None
    load: tuple[str, ...] = ()
    baseline: str | None = None
    #: ``--llm-parallel providers`` over this many pytest-xdist workers (0: one process).
    parallel_workers: int = 0

    @classmethod
    def from_request(cls, data: Mapping[str, Any], project: Project) -> RunPlan:
        """Check what the page sent (:class:`PlanError` on the first bad field)."""
        from ..config.load_grammar import parse_load_spec
        from ..matrix import Target

        known = {
            f"{p.name}/{m.id}": Target(provider=p, model=m).id
            for p in project.config().providers
            for m in p.models
        }
        targets = data.get("targets") or []
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise PlanError("targets: expected a list of provider/model names")
        unknown = [t for t in targets if t not in known]
        if unknown:
            raise PlanError(f"targets: not in the config: {', '.join(unknown)}")
        keyword = data.get("keyword") or None
        if keyword is not None and (not isinstance(keyword, str) or "\n" in keyword):
            raise PlanError("keyword: expected one line of -k text")
        tiers = data.get("tiers") or []
        if not isinstance(tiers, list) or not all(
            isinstance(t, int) and not isinstance(t, bool) and 0 <= t <= 2_000_000 for t in tiers
        ):
            raise PlanError(f"tiers: expected whole numbers of prompt tokens, got {tiers!r}")
        temperature = _temperature(data.get("temperature"))
        load = data.get("load") or []
        if not isinstance(load, list) or not all(isinstance(s, str) for s in load):
            raise PlanError("load: expected a list of load point specs")
        for spec in load:
            try:
                parse_load_spec(spec)
            except ValueError as exc:
                raise PlanError(f"load: {exc}") from None
        baseline = data.get("baseline") or None
        if baseline is not None and (not isinstance(baseline, str) or not STAMP.match(baseline)):
            raise PlanError(f"baseline: expected a run's name (YYYYmmdd-HHMMSS), got {baseline!r}")
        if baseline is not None and not (project.results_dir / f"{baseline}.json").is_file():
            raise PlanError(f"baseline: no run {baseline} in {project.results_dir}")
        parallel = data.get("parallel_providers") or False
        if not isinstance(parallel, bool):
            raise PlanError(f"parallel_providers: expected true or false, got {parallel!r}")
        chosen = {t.split("/", 1)[0] for t in targets}
        chosen = chosen or {p.name for p in project.config().providers}
        return cls(
            parallel_workers=min(len(chosen), MAX_WORKERS) if parallel and len(chosen) > 1 else 0,
            targets=tuple(known[t] for t in targets), keyword=keyword, tiers=tuple(tiers),
            runs=_int(data, "runs", 1, MAX_RUNS),
            max_tokens=_int(data, "max_tokens", 1, MAX_TOKENS),
            temperature=temperature,
            turns=_int(data, "turns", 0, 100_000), load=tuple(load), baseline=baseline,
        )  # fmt: skip

    def argv(self, project: Project, events: Path) -> list[str]:
        """``python -m pytest benchmarks …`` for this plan, its progress to ``events``."""
        args = [sys.executable, "-m", "pytest", "benchmarks", "-p", "no:cacheprovider",
                "--llm-config", str(project.config_path), "--llm-events", str(events)]  # fmt: skip
        keywords = [" or ".join(self.targets)] if self.targets else []
        if self.keyword:
            keywords.append(f"({self.keyword})")
        if keywords:
            args += ["-k", " and ".join(f"({k})" if " or " in k else k for k in keywords)]
        if self.tiers:
            args += ["--llm-context-tiers", ",".join(str(t) for t in self.tiers)]
        for flag, value in (
            ("--llm-runs", self.runs), ("--llm-max-tokens", self.max_tokens),
            ("--llm-temperature", self.temperature), ("--llm-turns", self.turns),
        ):  # fmt: skip
            if value is not None:
                args += [flag, str(value)]
        for spec in self.load:
            args += ["--llm-load", spec]
        if self.baseline is not None:
            args += ["--llm-baseline", str(project.results_dir / f"{self.baseline}.json")]
        if self.parallel_workers:  # each provider on a worker of its own, its models in order
            args += ["-n", str(self.parallel_workers), "--llm-parallel", "providers"]
        return args
