"""Performance limits: their grammar, and which direction is better for each metric.

Two kinds, written the same way in ``config.yaml`` (``thresholds:``) and on the command line
(``--llm-fail``):

* absolute: ``ttft_ms.p90 <= 800``, ``decode_tps.median >= 40``; without a statistic
  (``ttft_ms <= 800``) the limit applies to every single request and fails that test;
* relative to a baseline: ``decode_tps.median: -10%``, ``ttft_ms.median: +20%``. The sign says
  how much worse is allowed; a change in the better direction never fails;
* on a target's capacity under its SLOs (what a load search found): ``capacity >= 48``,
  ``capacity: -20%`` (no statistic: a capacity is one figure with its interval).

A limit that can never be broken or never be met is refused: every metric a limit may name is
never negative, so a negative absolute bound (``ttft_ms <= -5``) is a typo, and a speed cannot
fall by 100 % or more (``decode_tps.median: -500%`` would pass anything).
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Literal

from ..schema import GATED_FIELDS, HIGHER_IS_BETTER, LOWER_IS_BETTER, Key
from ..validation import short_repr

__all__ = ["STATISTICS", "Threshold", "parse_threshold"]

STATISTICS = frozenset({"mean", "median", "p90", "p95", "p99", "min", "max"})

_ABSOLUTE = re.compile(r"^\s*([a-z_]+)(?:\.([a-z0-9]+))?\s*(<=|>=|<|>)\s*([-+]?[\d.]+)\s*$")
_RELATIVE = re.compile(r"^\s*([a-z_]+)(?:\.([a-z0-9]+))?\s*:\s*([-+][\d.]+)\s*%\s*$")


@dataclass(frozen=True)
class Threshold:
    """One limit on one metric (and statistic, except for per-request absolute limits)."""

    field: str
    statistic: str | None
    kind: Literal["absolute", "relative"]
    op: str | None = None
    value: float = 0.0
    source: str = ""

    @property
    def higher_is_better(self) -> bool:
        return self.field in HIGHER_IS_BETTER or self.field == Key.CAPACITY

    @property
    def per_request(self) -> bool:
        return self.kind == "absolute" and self.statistic is None and not self.on_capacity

    @property
    def on_capacity(self) -> bool:
        """A limit on a target's capacity (a load search's finding), not on requests."""
        return self.field == Key.CAPACITY

    @property
    def label(self) -> str:
        name = self.field + (f".{self.statistic}" if self.statistic else "")
        if self.kind == "relative":
            return f"{name}: {self.value:+g}%"
        return f"{name} {self.op} {self.value:g}"

    def holds(self, measured: float) -> bool:
        """For an absolute limit: does ``measured`` satisfy it?"""
        return {
            "<=": measured <= self.value,
            ">=": measured >= self.value,
            "<": measured < self.value,
            ">": measured > self.value,
        }[self.op or "<="]

    def allowed_ratio(self) -> float:
        """For a relative limit: the worst allowed current/baseline ratio (e.g. 0.9 for -10 %)."""
        return 1 + self.value / 100


def _number(text: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{short_repr(text)}: cannot read {value!r} as a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{short_repr(text)}: {short_repr(value)} is not a finite number")
    return number


def _match(text: str) -> Threshold:
    match = _ABSOLUTE.match(text)
    if match:
        field, statistic, op, value = match.groups()
        return Threshold(field, statistic, "absolute", op, _number(text, value))
    match = _RELATIVE.match(text)
    if not match:
        raise ValueError(
            f"cannot read {short_repr(text)}: expected 'FIELD[.STAT] <= VALUE' (also >=, <, >) or "
            "'FIELD.STAT: +N%' / '-N%', e.g. 'ttft_ms.p90 <= 800' or 'decode_tps.median: -10%'"
        )
    field, statistic, value = match.groups()
    return Threshold(field, statistic, "relative", None, _number(text, value))


def _check_possible(text: str, threshold: Threshold) -> None:
    """Refuse a limit that can never be met, or never be broken."""
    field, value = threshold.field, threshold.value
    if threshold.kind == "absolute":
        if value < 0 or (value == 0 and threshold.op == "<"):
            never = "hold" if threshold.op in ("<=", "<") else "fail"
            raise ValueError(f"{short_repr(text)}: can never {never}, as {field} is never negative")
        return
    if field == Key.CAPACITY:
        if value >= 0 or value <= -100:
            raise ValueError(
                f"{short_repr(text)}: a capacity is higher-is-better: the allowed change must be "
                "-N% with N below 100"
            )
        return
    if threshold.statistic is None:
        raise ValueError(
            f"{short_repr(text)}: a relative limit names a statistic: {field}.median: …%"
        )
    if field not in HIGHER_IS_BETTER | LOWER_IS_BETTER:
        raise ValueError(
            f"{short_repr(text)}: {field} has no better direction; use an absolute limit"
        )
    worse_sign = 1 if field in LOWER_IS_BETTER else -1
    if value * worse_sign <= 0:
        direction = "+" if worse_sign > 0 else "-"
        raise ValueError(
            f"{short_repr(text)}: {field} is {'lower' if worse_sign > 0 else 'higher'} is "
            f"better, so the allowed change must be {direction}N%"
        )
    if value <= -100:
        raise ValueError(
            f"{short_repr(text)}: can never fail, as {field} cannot fall by 100% or more: the "
            "allowed change must be above -100%"
        )


def parse_threshold(text: str, source: str = "") -> Threshold:
    """Parse ``text``; raises :class:`ValueError` with what is wrong and what is expected."""
    threshold = dataclasses.replace(_match(text), source=source)
    field = threshold.field
    if field not in GATED_FIELDS | {Key.CAPACITY}:
        raise ValueError(
            f"{short_repr(text)}: unknown metric {field!r} "
            f"(one of: {', '.join(sorted(GATED_FIELDS | {Key.CAPACITY}))})"
        )
    if threshold.on_capacity and threshold.statistic is not None:
        raise ValueError(f"{short_repr(text)}: a capacity has no statistic: 'capacity >= 48'")
    if threshold.statistic is not None and threshold.statistic not in STATISTICS:
        raise ValueError(
            f"{short_repr(text)}: unknown statistic {threshold.statistic!r} (one of: "
            f"{', '.join(sorted(STATISTICS))})"
        )
    _check_possible(text, threshold)
    return threshold
