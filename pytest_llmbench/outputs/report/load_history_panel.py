"""The history report's load points across runs: each target × point id's output tok/s and TTFT
p99 in every run that has it, with the change from the run before, and the capacities found."""

from __future__ import annotations

from collections.abc import Sequence

from ...schema import Key
from .compare import run_label
from .glossary import tip
from .layout import section
from .load_model import CapacityFound, PointFigures, load_value_text
from .markup import EMPTY, Cell, Column, Markup, fmt, fmt_pct, table
from .model import Run

__all__ = ["load_history_section"]

_CHANGE = (
    "Change against the previous run that has this point. A load point is one measurement: "
    "there is no run-to-run spread to judge it by, so no verdict is given."
)
_POINT_COLUMNS = (
    Column("target", Key.TARGET),
    Column("point", Key.POINT),
    Column("run", "run_index"),
    Column("out tok/s", "output_tps", numeric=True),
    Column("change", numeric=True, tip_text=f"{_CHANGE} Higher output tok/s is better."),
    Column("TTFT p99 ms", numeric=True, tip_text=f"{tip('point_percentile')} {tip(Key.TTFT_MS)}"),
    Column("change", numeric=True, tip_text=f"{_CHANGE} Lower TTFT is better."),
    Column("flags", "flags"),
)
_CAPACITY_COLUMNS = (
    Column("target", Key.TARGET),
    Column("SLOs", "slos"),
    Column("run", "run_index"),
    Column("capacity", "capacity", numeric=True),
    Column("bracket", "bracket"),
    Column("95 % interval", "capacity_interval"),
    Column("cliff", "cliff"),
)


def _change(before: float | None, now: float | None) -> Cell:
    if before is None or now is None or not before:
        return ("—", None)
    pct = (now - before) / abs(before) * 100
    return (fmt_pct(pct), pct)


def _point_rows(runs: Sequence[Run]) -> list[list[Cell]]:
    keys = list(dict.fromkeys(k for run in runs for k in run.load.by_key()))
    rows: list[list[Cell]] = []
    for key in keys:
        previous: PointFigures | None = None
        for i, run in enumerate(runs):
            p = run.load.by_key().get(key)
            if p is None:
                continue
            ttft = p.pct(Key.TTFT_MS, "p99")
            before_tps = previous.output_tps if previous else None
            before_ttft = previous.pct(Key.TTFT_MS, "p99") if previous else None
            flags = ["distorted"] if p.distorted else []
            flags += [f for f in p.flags if f != "distorted"]
            rows.append(
                [
                    run.label(p.target),
                    p.point,
                    (run_label(runs, i), f"{i:06d}"),
                    (fmt(p.output_tps), p.output_tps),
                    _change(before_tps, p.output_tps),
                    (fmt(ttft), ttft),
                    _change(before_ttft, ttft),
                    ", ".join(flags) or "—",
                ]
            )
            previous = p
    return rows


def _capacity_row(runs: Sequence[Run], i: int, cap: CapacityFound) -> list[Cell]:
    low, high = cap.bracket
    interval = f"{fmt(cap.interval[0])}–{fmt(cap.interval[1])}" if cap.interval else "—"
    return [
        runs[i].label(cap.target),
        ", ".join(cap.slos) or "—",
        (run_label(runs, i), f"{i:06d}"),
        (load_value_text(cap.kind, cap.value), cap.value),
        f"{fmt(low)} pass – {fmt(high)} fail",
        interval,
        "yes" if cap.cliff else "no",
    ]


def load_history_section(runs: Sequence[Run]) -> Markup:
    """Load points and capacities across the runs (nothing when no run has load points)."""
    if not any(run.load.points for run in runs):
        return EMPTY
    body = table(_POINT_COLUMNS, _point_rows(runs), table_id="load-history-table", sortable=True)
    found = [
        (cap.target, cap.kind, i, cap) for i, run in enumerate(runs) for cap in run.load.capacities
    ]
    capacities = [_capacity_row(runs, i, cap) for *_, i, cap in sorted(found, key=lambda f: f[:3])]
    if capacities:
        body = Markup(f"{body}<h3>Capacity across runs</h3>{table(_CAPACITY_COLUMNS, capacities)}")
    intro = (
        "The same target and point id in each run that has it (rates of the steady window); "
        "p99 needs 100 requests in a point."
    )
    return section("Load across runs", body, section_id="load-history", intro=intro)
