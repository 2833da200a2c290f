"""The run report's load section (only for a run with load points): the capacity found per
target, a sortable table of the points with distorted points marked (a badge, its reasons in the
tooltip and listed under the table), and the charts of :mod:`.load_plots`."""

from __future__ import annotations

from ...schema import Key
from .glossary import LABELS, tip
from .layout import section
from .load_model import CapacityFound, PointFigures, load_value_text
from .load_plots import curve_figures, throughput_figures, timeline_block
from .markup import EMPTY, Cell, Column, Markup, esc, fmt, table
from .model import Run

__all__ = ["load_section"]

#: The latency columns: (metric, percentile).
_LATENCIES = (
    (Key.TTFT_MS, "p50"),
    (Key.TTFT_MS, "p99"),
    (Key.TPOT_MS, "p50"),
    (Key.TPOT_MS, "p99"),
    (Key.ITL_MS, "p99"),
    (Key.E2E_MS, "p99"),
)
#: The tooltip of a flag's badge (other flags say what they are).
_FLAG_TIPS = {"saturated": tip("flags")}


def _latency_column(metric: str, q: str) -> Column:
    name = "E2E" if metric == Key.E2E_MS else LABELS[metric]
    return Column(
        f"{name} {q} ms", numeric=True, tip_text=f"{tip('point_percentile')} {tip(metric)}"
    )


def _columns(with_slos: bool) -> list[Column]:
    columns = [
        Column("target", Key.TARGET),
        Column("point", Key.POINT),
        Column("window", "window"),
        Column("req/s", "request_rate", numeric=True),
        Column("out tok/s", "output_tps", numeric=True),
        Column("in flight mean / max", "in_flight", numeric=True),
        *(_latency_column(m, q) for m, q in _LATENCIES),
    ]
    if with_slos:
        columns += [
            Column("goodput req/s", "goodput", numeric=True),
            Column("good %", "good_fraction", numeric=True),
        ]
    return [*columns, Column("errors", "errors_by_kind"), Column("flags", "flags")]


def _badges(p: PointFigures) -> Markup:
    """A badge for distorted (its reasons in the tooltip) and saturated; any other flag (a note
    of the measuring code: an error rate past the limit, requests built late) as its text."""
    badges = []
    if p.distorted:
        why = "; ".join(p.reasons) or "the client check"
        badges.append(
            f'<span class="badge warn" tabindex="0" title="{esc(tip("distorted"))} Here: '
            f'{esc(why)}">distorted</span>'
        )
    for flag in p.flags:
        if flag == "distorted":
            continue
        if flag in _FLAG_TIPS:
            badges.append(f'<span class="badge" title="{esc(_FLAG_TIPS[flag])}">{esc(flag)}</span>')
        else:
            badges.append(f'<span class="flag-note">{esc(flag)}</span>')
    return Markup(" ".join(badges))


def _errors(p: PointFigures) -> Cell:
    shown = f"{p.errors}/{p.started}"
    if p.errors_by_kind:
        shown += ": " + ", ".join(f"{k} {n}" for k, n in sorted(p.errors_by_kind.items()))
    return (shown, p.errors)


def _row(run: Run, p: PointFigures, with_slos: bool) -> list[Cell]:
    in_flight = f"{fmt(p.in_flight_mean)} / {fmt(p.in_flight_max)}"
    cells: list[Cell] = [
        run.label(p.target),
        (p.point, f"{p.kind} {p.load or 0:015.3f}"),  # by kind, then by load
        p.window,
        (fmt(p.request_rate), p.request_rate),
        (fmt(p.output_tps), p.output_tps),
        (in_flight, p.in_flight_mean),
        *((fmt(v), v) for v in (p.pct(m, q) for m, q in _LATENCIES)),
    ]
    if with_slos:
        good = p.good_fraction * 100 if p.good_fraction is not None and p.slos else None
        cells += [(fmt(p.goodput) if p.slos else "—", p.goodput if p.slos else None)]
        cells += [(fmt(good, 1) if good is not None else "—", good)]
    return [*cells, _errors(p), _badges(p)]


def _capacity_fact(run: Run, cap: CapacityFound) -> str:
    low, high = cap.bracket
    parts = [
        f"capacity: {load_value_text(cap.kind, cap.value)}"
        if cap.value is not None
        else "no capacity: the first value tried already fails",
        f"SLOs {', '.join(cap.slos)}" if cap.slos else "no SLO",
        f"bracket: highest pass {fmt(low)}, lowest fail {fmt(high)}",
    ]
    if cap.interval is not None:
        parts.append(f"95 % interval {fmt(cap.interval[0])}–{fmt(cap.interval[1])}")
    parts.append("cliff past the lowest fail" if cap.cliff else "no cliff")
    parts += cap.notes
    return (
        f'<li class="capacity"><strong>{esc(run.label(cap.target))}</strong>: '
        f"{esc('; '.join(parts))}</li>"
    )


def _facts(run: Run, prefix: str) -> str:
    facts = [_capacity_fact(run, c) for c in run.load.capacities]
    facts += [f"<li>{esc(note)}</li>" for note in run.load.notes]
    if not facts:
        return ""
    hint = " ".join(tip(k) for k in ("capacity", "bracket", "capacity_interval", "cliff"))
    ident = f"{prefix}load-capacity"
    return f'<ul class="facts" id="{esc(ident)}" title="{esc(hint)}">{"".join(facts)}</ul>'


def _distorted_list(run: Run) -> str:
    items = [
        f"<li><strong>{esc(run.label(p.target))} · {esc(p.point)}</strong>: "
        f"{esc('; '.join(p.reasons) or 'client check failed')}</li>"
        for p in run.load.points
        if p.distorted
    ]
    if not items:
        return ""
    return (
        f'<p class="note" title="{esc(tip("distorted"))}">Distorted points: the client was the '
        f"bottleneck, so their latencies speak of the client as much as of the server.</p>"
        f'<ul class="facts distorted">{"".join(items)}</ul>'
    )


def load_section(run: Run, prefix: str) -> Markup:
    """The load section, or nothing for a run without load points."""
    if not run.load.points:
        return EMPTY
    with_slos = run.load.with_slos
    rows = [_row(run, p, with_slos) for p in run.load.points]
    attrs = [{"distorted": "true"} if p.distorted else {} for p in run.load.points]
    points = table(
        _columns(with_slos),
        rows,
        table_id=f"{prefix}load-table",
        sortable=True,
        row_attrs=attrs,
    )
    charts = throughput_figures(run, prefix) + curve_figures(run, prefix)
    grid = f'<div class="grid2">{"".join(charts)}</div>' if charts else ""
    body = _facts(run, prefix) + points + _distorted_list(run) + grid + timeline_block(run, prefix)
    slos = sorted({s for p in run.load.points for s in p.slos})
    intro = (
        f"{len(run.load.points)} load points. Rates are of the steady window (the whole window "
        "where the steady one completed nothing); percentiles pool every request of a point."
        + (f" SLOs: {', '.join(slos)}." if slos else " No SLOs were set: no goodput.")
    )
    return section("Load", Markup(body), section_id=f"{prefix}load", intro=intro)
