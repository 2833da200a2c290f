"""Noise-aware verdicts: is the change between a baseline and this run beyond noise?

The change is the ratio current/baseline of a statistic (the median, p90, …) of each side's runs.
Its 95 % confidence interval comes from the bootstrap (percentile method, both sides resampled
with replacement, a fixed seed so the same data always give the same verdict). A relative limit
is broken only when the whole interval lies beyond it: a gate that fails at random teaches people
to ignore it, so the burden of proof is on "regressed".

* ``regressed``: the whole interval is worse than the limit (the gate fails);
* ``improved``: the whole interval is better than no change;
* ``inconclusive``: the interval reaches past the limit but not all of it (more runs would tell);
* ``unchanged``: otherwise (the interval holds no change, or stays inside the limit).

With fewer than three runs on either side there is no usable interval: the medians are compared
and the verdict says it is weak.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..config.thresholds import Threshold
from ..results.stats import percentile

__all__ = ["MIN_RUNS", "Verdict", "assess", "statistic_of"]

MIN_RUNS = 3
RESAMPLES = 2000
SEED = 20261123


def statistic_of(name: str) -> Callable[[Sequence[float]], float]:
    """The function computing statistic ``name`` of a sample."""
    if name == "mean":
        return statistics.fmean
    if name in ("min", "max"):
        return min if name == "min" else max
    q = 50.0 if name == "median" else float(name.removeprefix("p"))
    return lambda data: percentile(sorted(data), q)


@dataclass(frozen=True)
class Verdict:
    threshold: str
    baseline: float
    current: float
    change_pct: float
    interval_pct: tuple[float, float] | None
    verdict: str
    weak: bool
    failed: bool
    n_baseline: int
    n_current: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _interval(
    base: Sequence[float], current: Sequence[float], stat: Callable[[Sequence[float]], float]
) -> tuple[float, float]:
    rng = random.Random(SEED)
    ratios = []
    for _ in range(RESAMPLES):
        b = stat(rng.choices(base, k=len(base)))
        c = stat(rng.choices(current, k=len(current)))
        if b > 0:
            ratios.append(c / b)
    ratios.sort()
    return percentile(ratios, 2.5), percentile(ratios, 97.5)


def assess(threshold: Threshold, base: Sequence[float], current: Sequence[float]) -> Verdict:
    """The verdict of one relative limit on the runs of both sides."""
    stat = statistic_of(threshold.statistic or "median")
    b, c = stat(base), stat(current)
    ratio = c / b if b else float("inf")
    allowed = threshold.allowed_ratio()
    higher = threshold.higher_is_better

    def worse_than(r: float, limit: float) -> bool:
        return r < limit if higher else r > limit

    weak = min(len(base), len(current)) < MIN_RUNS
    interval = None
    if weak:
        low = high = ratio
    else:
        low, high = interval = _interval(base, current, stat)
    best, worst = (high, low) if higher else (low, high)
    if worse_than(best, allowed):
        verdict = "regressed"
    elif worse_than(1.0, best) and not worse_than(worst, 1.0):  # the whole interval is better
        verdict = "improved"
    elif worse_than(worst, allowed):
        verdict = "inconclusive"
    else:
        verdict = "unchanged"
    label = f"{verdict} (weak: n < {MIN_RUNS})" if weak else verdict
    return Verdict(
        threshold=threshold.label,
        baseline=b,
        current=c,
        change_pct=(ratio - 1) * 100,
        interval_pct=((interval[0] - 1) * 100, (interval[1] - 1) * 100) if interval else None,
        verdict=label,
        weak=weak,
        failed=verdict == "regressed",
        n_baseline=len(base),
        n_current=len(current),
    )
