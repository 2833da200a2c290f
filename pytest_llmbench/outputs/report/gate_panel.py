"""The gate panel: every limit checked at the end of the session, with baseline and verdict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ...schema import Key
from .layout import none, section, tier_text
from .markup import Column, Markup, fmt, fmt_pct, table
from .model import Run, num

__all__ = ["gate_section"]

_COLUMNS = (
    Column("target", Key.TARGET),
    Column("tier", Key.TIER, numeric=True),
    Column(
        "limit",
        tip_text=f"The limit: absolute ('{Key.TTFT_MS}.p90 <= 800') or relative to the "
        f"baseline ('{Key.DECODE_TPS}.median: -10%', how much worse is allowed).",
    ),
    Column("baseline", numeric=True, tip_text="The statistic over the baseline's runs."),
    Column("current", numeric=True, tip_text="The statistic over this run's requests."),
    Column("change", numeric=True, tip_text="(current − baseline) / baseline."),
    Column(
        "95% interval",
        tip_text="Bootstrap interval of the change (percentile method); "
        "a relative limit fails only when all of it lies past the limit.",
    ),
    Column("n", "n", tip_text="Runs: baseline/current, or this run's n for absolute limits."),
    Column(
        "verdict",
        tip_text="ok / broken for absolute limits; regressed, improved, "
        "inconclusive or unchanged against a baseline; '(weak)' when n < 3.",
    ),
)


def _interval(value: object) -> str:
    if isinstance(value, Sequence) and len(value) == 2:
        low, high = num(value[0]), num(value[1])
        if low is not None and high is not None:
            return f"[{low:+.1f} %, {high:+.1f} %]"
    return "—"


def gate_section(run: Run, prefix: str) -> Markup:
    title = "Gate"
    checks = [c for c in run.gate if isinstance(c, Mapping)]
    if not checks:
        return section(
            title,
            none("none (no aggregate or baseline limits configured)"),
            section_id=f"{prefix}gate",
        )
    rows = []
    for check in checks:
        failed = bool(check.get("failed"))
        verdict = str(check.get("verdict", ""))
        tier = check.get(Key.TIER)
        rows.append(
            [
                run.label(str(check.get(Key.TARGET))),
                tier_text(tier if isinstance(tier, int) else None),
                str(check.get("limit", "")),
                fmt(num(check.get("baseline"))),
                fmt(num(check.get("value"))),
                fmt_pct(num(check.get("change_pct"))),
                _interval(check.get("interval_pct")),
                str(check.get("n") or "—"),
                ("✗ " + verdict.upper()) if failed else verdict,
            ]
        )
    broken = sum(1 for c in checks if c.get("failed"))
    intro = (
        f"{broken} limit(s) broken: the session failed." if broken else "Every checked limit held."
    )
    return section(
        title,
        table(_COLUMNS, rows, table_id=f"{prefix}gate-table"),
        section_id=f"{prefix}gate",
        intro=intro,
    )
