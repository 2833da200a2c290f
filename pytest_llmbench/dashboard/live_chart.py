"""The chart a run's page redraws as its tests finish, drawn by the HTML report's own chart code.

The static report and the dashboard share one chart layer (:mod:`..outputs.report.charts`): here,
the report's strip chart of one metric per target, every finished test a mark and the median a
bar, from the run's events so far (``--llm-events``). The markup is the report's (every string
escaped there, as in the static report), styled by the report's own chart rules
(:func:`chart_css`), which the dashboard serves as a file of its own (its policy allows no
inline style).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from statistics import median
from typing import Any

from ..schema import Key

__all__ = ["LIVE_METRICS", "chart_css", "live_chart"]

#: What the chart can show: the event's figure, and the axis title.
LIVE_METRICS = {Key.TTFT_MS: "TTFT (ms)", Key.DECODE_TPS: "decode tok/s"}


def chart_css() -> str:
    """The report's stylesheet rules for its SVG charts (``svg …``), and none of the rules that
    style the report's page itself (its body, headings, tables)."""
    from ..outputs.report.assets import CSS

    rules = (rule.strip() for rule in CSS.split("}"))
    return "".join(f"{rule}}}\n" for rule in rules if rule.startswith("svg"))


def live_chart(events: Iterable[Mapping[str, Any]], metric: str = Key.TTFT_MS) -> str:
    """The strip chart of ``metric`` per target over the run's finished tests (an empty string
    before the first)."""
    from ..outputs.report.charts import StripRow, strip_chart
    from ..outputs.report.svg import AxisSpec

    by_target: dict[str, list[tuple[float, str]]] = {}
    for event in events:
        if event.get("event") != "test":
            continue
        value = (event.get("figures") or {}).get(metric)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            tip = f"{str(event.get('test', '')).split('::')[-1]}: {value:.4g}"
            by_target.setdefault(str(event.get("target")), []).append((float(value), tip))
    if not by_target:
        return ""
    rows = [
        StripRow(target, index, target, values, median(v for v, _ in values))
        for index, (target, values) in enumerate(sorted(by_target.items()))
    ]
    axis = AxisSpec(LIVE_METRICS[metric], include_zero=True)
    return str(strip_chart(rows, axis, label=f"{LIVE_METRICS[metric]} of each finished test"))
