"""The run report's calibration section: how far the measured TTFT and TPOT were from what the
built-in server logged it did, pooled (the calibration summary) and per request and target."""

from __future__ import annotations

from typing import NamedTuple

from ...schema import Key
from .charts import StripRow, strip_chart
from .glossary import tip
from .layout import none, section, styles
from .markup import Cell, Column, Markup, details_table, figure, table
from .model import CalibrationErrors, Run, Stats, as_map, num
from .svg import AxisSpec

__all__ = ["calibration_section"]


class _Error(NamedTuple):
    key: str  # its summary's key in the calibration, and its glossary key
    name: str
    unit: str
    abs_key: str  # the calibration's largest absolute error


_ERRORS = (
    _Error(Key.TTFT_ERROR_MS, "TTFT error", "ms", Key.TTFT_ABS_MAX_MS),
    _Error(Key.TPOT_ERROR_PCT, "TPOT error", "%", Key.TPOT_ABS_MAX_PCT),
)
_COLUMNS = (
    Column("error", tip_text="Measured minus the simulator's logged truth."),
    Column("n", "n", numeric=True),
    Column("mean", numeric=True, tip_text="Mean error."),
    Column("median", "median", numeric=True),
    Column("p90", "p90", numeric=True),
    Column("min", numeric=True, tip_text="Smallest error."),
    Column("max", numeric=True, tip_text="Largest error."),
    Column("max |error|", numeric=True, tip_text="Largest absolute error."),
)


def _pooled_row(cal: CalibrationErrors, error: _Error) -> list[Cell]:
    """The calibration summary's row for one error (the document's, or the records')."""
    s = Stats.from_aggregate(as_map(cal.summary.get(error.key)))
    abs_max = num(cal.summary.get(error.abs_key))
    return [f"{error.name} ({error.unit})", s.n, s.mean, s.median, s.p90, s.min, s.max, abs_max]


def _per_target(run: Run, pooled: dict[str, list[float]], error: _Error, prefix: str) -> str:
    """Every request's error per target as a strip (with the median), and its data table."""
    style = styles(run)
    name, unit = error.name, error.unit
    strips = [
        StripRow(
            run.label(t),
            style.get(t, 0),
            f"t{style.get(t, 0)}",
            [(v, f"{run.label(t)}: {v:+.3g} {unit}") for v in values],
            Stats.of(values).median,
        )
        for t, values in pooled.items()
    ]
    if not strips:
        return ""
    axis = AxisSpec(name, tip(error.key), unit, include_zero=True, zero_line=True)
    per_target = [
        [run.label(t), len(v), Stats.of(v).median, min(v), max(v)] for t, v in pooled.items()
    ]
    columns = [Column("target", Key.TARGET), Column("n", "n", numeric=True)] + [
        Column(f"{c} ({unit})", numeric=True, tip_text=f"{c} of the {name}.")
        for c in ("median", "min", "max")
    ]
    return figure(
        f"{name}: measured − simulator truth, every request per target",
        strip_chart(strips, axis, label=f"{name} per request"),
        better="closer to 0 is better",
        data=details_table(columns, per_target),
        chart_id=f"{prefix}chart-{error.key}",
    )


def calibration_section(run: Run, prefix: str) -> Markup:
    cal = run.calibration
    title = "Calibration against the built-in server"
    if cal is None:
        return section(
            title, none("none (no simulator truth in this run)"), section_id=f"{prefix}calibration"
        )
    pooled = (cal.ttft_error_ms, cal.tpot_error_pct)
    rows = [_pooled_row(cal, error) for error in _ERRORS]
    figures = [_per_target(run, p, error, prefix) for p, error in zip(pooled, _ERRORS, strict=True)]
    body = table(_COLUMNS, rows) + "".join(figures)
    intro = "How far the measured values were from what the simulator logged it did."
    return section(title, Markup(body), section_id=f"{prefix}calibration", intro=intro)
