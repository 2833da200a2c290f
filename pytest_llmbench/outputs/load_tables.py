"""The load points in the terminal (and the CI step summary): one row per point, a line per
flagged point, and the live progress line a running point shows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..schema import Key, LoadPointResult, PointSummary

__all__ = ["LOAD_COLUMNS", "capacity_line", "load_rows", "point_notes", "progress_line"]

LOAD_COLUMNS = (
    "target",
    "point",
    "req/s",
    "out tok/s",
    "TTFT p50",
    "TTFT p99",
    "TPOT p50",
    "TPOT p99",
    "goodput",
    "errors",
    "flags",
)


def _number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _at(summary: PointSummary | None, name: str) -> float | None:
    if summary is None:
        return None
    value = summary.get(name)
    return value if isinstance(value, (int, float)) else None


def load_rows(points: Sequence[LoadPointResult]) -> list[tuple[str, ...]]:
    """One row per load point, as display strings (steady-state rates where there is one)."""
    rows: list[tuple[str, ...]] = []
    for point in points:
        ttft = point["percentiles"].get(Key.TTFT_MS)
        tpot = point["percentiles"].get(Key.TPOT_MS)
        window = point["steady"] if point["steady"]["completed"] else point["whole"]
        goodput = _number(point["goodput"], 2) if point["slos"] else "—"
        rows.append(
            (
                point["target"],
                point["point"],
                _number(window["request_rate"], 2),
                _number(window["output_tps"]),
                _number(_at(ttft, "p50")),
                _number(_at(ttft, "p99")),
                _number(_at(tpot, "p50"), 2),
                _number(_at(tpot, "p99"), 2),
                goodput,
                f"{point['errors']}/{point['started']}",
                ", ".join(point["flags"]) or "",
            )
        )
    return rows


def point_notes(points: Sequence[LoadPointResult]) -> list[str]:
    """A line for each reason a point is flagged (a distorted client names its figures)."""
    lines = []
    for point in points:
        name = f"{point['target']} {point['point']}"
        lines += [f"{name}: client distorted: {why}" for why in point["client"]["distorted"]]
        if point["errors_by_kind"]:
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(point["errors_by_kind"].items()))
            lines.append(f"{name}: errors by kind: {kinds}")
    return lines


def capacity_line(capacity: Mapping[str, Any]) -> str:
    """``capacity embedded/sim-fast: c12 under ttft_ms.p99 <= 500 (passes c12, fails c13;
    95 % interval c10–c12)``, and what else the search found."""
    prefix = "c" if capacity.get("kind") == "concurrency" else "r"

    def shown(value: Any) -> str:
        return "—" if value is None else f"{prefix}{value:g}"

    low, high = [*(capacity.get("bracket") or ()), None, None][:2]
    interval = capacity.get("interval")
    text = (
        f"capacity {capacity.get(Key.TARGET)}: {shown(capacity.get('value'))} under "
        f"{' and '.join(capacity.get('slos') or ())} (passes {shown(low)}, fails {shown(high)}"
    )
    if interval:
        text += f"; 95 % interval {shown(interval[0])}–{shown(interval[1])}"
    text += ")"
    notes = list(capacity.get("notes") or ())
    return "; ".join([text, *notes])


def progress_line(
    name: str,
    elapsed_s: float,
    planned_s: float | None,
    done: int,
    in_flight: int,
    errors: int,
    events_per_s: float,
) -> str:
    """``c64 local/m: 12/60 s · 1,234 done · 64 in flight · 5,432 events/s · 0 errors``."""
    plan = f"/{planned_s:g}" if planned_s is not None else ""
    return (
        f"{name}: {elapsed_s:.0f}{plan} s · {done:,} done · {in_flight:,} in flight · "
        f"{events_per_s:,.0f} events/s · {errors:,} errors"
    )
