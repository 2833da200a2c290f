"""The run report's overview: one row per target × context tier, sortable and filterable, with
each gated metric's change against the baseline where the gate compared one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ...schema import Key
from .glossary import SHORT_LABELS, tip
from .layout import none, section, tier_text
from .markup import Cell, Column, Markup, esc, fmt, fmt_pct, table
from .model import Group, Run, num

__all__ = ["baseline_delta", "overview_section"]

_COLUMNS = (
    Column("target", Key.TARGET),
    Column("provider", Key.PROVIDER),
    Column("model", Key.MODEL),
    Column("tier", Key.TIER, numeric=True),
    Column("n", "n", numeric=True),
    Column("TTFT p50 ms", numeric=True, tip_text=f"Median. {tip(Key.TTFT_MS)}"),
    Column("TTFT p90 ms", numeric=True, tip_text=f"90th percentile. {tip(Key.TTFT_MS)}"),
    Column("decode tok/s p50", numeric=True, tip_text=f"Median. {tip(Key.DECODE_TPS)}"),
    Column("TPOT p50 ms", numeric=True, tip_text=f"Median. {tip(Key.TPOT_MS)}"),
    Column("out tok p50", numeric=True, tip_text=f"Median. {tip(Key.OUTPUT_TOKENS)}"),
    Column("errors", Key.ERRORS, numeric=True),
    Column("skipped", Key.SKIPPED, numeric=True),
)
_BASELINE_COLUMN = Column(
    "vs baseline",
    tip_text="Change of each gated metric against the "
    "baseline (see the Gate section for intervals and verdicts).",
)
#: The filters above the table: (row attribute and glossary key, label).
_FILTERS = ((Key.PROVIDER, "provider"), (Key.MODEL, "model"), (Key.TIER, "tier"))


def baseline_delta(run: Run, target: str, tier: int | None) -> str:
    """The changes against the baseline for one target × tier, e.g. 'TTFT +30.3 % · tok/s −23 %'."""
    parts: list[str] = []
    for check in run.gate:
        if not isinstance(check, Mapping) or check.get(Key.TARGET) != target:
            continue
        if check.get(Key.TIER) != tier or num(check.get("change_pct")) is None:
            continue
        metric = str(check.get("limit", "")).split(".")[0]
        name = SHORT_LABELS.get(metric, metric)
        parts.append(f"{name} {fmt_pct(num(check.get('change_pct')))}")
    return " · ".join(parts) or "—"


def _select(name: str, label: str, values: Sequence[str]) -> str:
    options = "".join(f'<option value="{esc(v)}">{esc(v)}</option>' for v in values)
    return (
        f'<label title="{esc(tip(name))}">{esc(label)} <select data-filter="{esc(name)}">'
        f'<option value="">all</option>{options}</select></label>'
    )


def _choices(name: str, attrs: Sequence[Mapping[str, str]]) -> list[str]:
    """A filter's values: tiers in the order the rows first show them, names sorted."""
    values = [a[name] for a in attrs]
    return list(dict.fromkeys(values)) if name == Key.TIER else sorted(set(values))


def _filters(table_id: str, attrs: Sequence[Mapping[str, str]]) -> str:
    selects = "".join(_select(name, label, _choices(name, attrs)) for name, label in _FILTERS)
    return (
        f'<div class="filters" data-table="{esc(table_id)}">{selects}'
        '<span class="count" aria-live="polite"></span></div>'
    )


def _row(run: Run, group: Group) -> tuple[list[Cell], dict[str, str]]:
    info = run.targets.get(group.target)
    provider = info.provider if info else group.target.partition("/")[0]
    model = info.model if info else group.target.partition("/")[2]
    ttft = group.stat(Key.TTFT_MS)
    medians = [group.stat(k).median for k in (Key.DECODE_TPS, Key.TPOT_MS, Key.OUTPUT_TOKENS)]
    cells: list[Cell] = [
        (run.label(group.target), run.label(group.target)),
        provider,
        model,
        (tier_text(group.tier), group.tier if group.tier is not None else -1),
        ttft.n,
        (fmt(ttft.median), ttft.median),
        (fmt(ttft.p90), ttft.p90),
        *((fmt(median), median) for median in medians),
        group.errors,
        group.skipped,
    ]
    attrs = {Key.PROVIDER: provider, Key.MODEL: model, Key.TIER: tier_text(group.tier)}
    return cells, attrs


def overview_section(run: Run, prefix: str) -> Markup:
    section_id, table_id = f"{prefix}overview", f"{prefix}overview-table"
    if not run.groups:
        return section("Overview", none("no throughput results"), section_id=section_id)
    with_baseline = any(c.get("change_pct") is not None for c in run.gate)
    columns = [*_COLUMNS, _BASELINE_COLUMN] if with_baseline else list(_COLUMNS)
    rows, attrs = [], []
    for group in run.groups:
        cells, row_attrs = _row(run, group)
        if with_baseline:
            cells.append(baseline_delta(run, group.target, group.tier))
        rows.append(cells)
        attrs.append(row_attrs)
    body = _filters(table_id, attrs) + table(
        columns, rows, table_id=table_id, sortable=True, row_attrs=attrs
    )
    intro = "One row per target × context tier; click a header to sort, use the filters to narrow."
    return section("Overview", Markup(body), section_id=section_id, intro=intro)
