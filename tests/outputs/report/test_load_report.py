"""The report's load section without a browser: the model of a real load session, the section's
table, capacity and charts, escaping, sparse documents, twenty points, and the history."""

from __future__ import annotations

import copy
import html
import re
from typing import Any

import pytest

from pytest_llmbench.outputs.report import render_html
from pytest_llmbench.outputs.report.load_charts import MarkLine, PointMark, labelled_chart
from pytest_llmbench.outputs.report.model import extract
from pytest_llmbench.outputs.report.svg import AxisSpec
from pytest_llmbench.schema import Key

from .builder import minimal_document, scaled
from .load_builder import DISTORTED_REASON, HOSTILE, SLOS, sweep_document, with_hostile_target
from .test_render import parse


def load_part(page: str) -> str:
    """The load section of a page."""
    assert '<section id="load">' in page
    return page.split('<section id="load">', 1)[1].split("</section>", 1)[0]


def test_model_reads_every_point_of_the_session(load_document):
    run = extract(load_document)
    points = run.load.points
    assert [(p.target, p.point) for p in points][:4] == [
        ("embedded/sim-quick", "c1"),
        ("embedded/sim-quick", "c4"),
        ("embedded/sim-quick", "c16"),
        ("embedded/sim-quick", "r40poisson"),
    ]
    assert len(points) == 8 and run.label("embedded/sim-quick") == "sim-quick"  # from records
    for p, raw in zip(points, load_document["load"]["points"], strict=True):
        window = "steady" if raw["steady"]["completed"] else "whole"
        assert p.window == window and p.output_tps == raw[window]["output_tps"]
        assert p.pct(Key.TTFT_MS, "p50") == raw["percentiles"][Key.TTFT_MS]["p50"]
        assert p.pct(Key.TTFT_MS, "p99") == raw["percentiles"][Key.TTFT_MS]["p99"]
        assert p.completed == raw["completed"] and p.slos == tuple(SLOS)
        assert len(p.timeline) == len(raw["timeline"]) and p.timeline[0].t_s == 0.0
        assert p.load == (raw["concurrency"] if p.kind == "concurrency" else raw["rate"])
    quick, slow = run.load.capacities
    assert (quick.value, quick.bracket, quick.interval, quick.cliff) == (
        12,
        (12, 13),
        (8, 13),
        False,
    )
    assert (slow.kind, slow.interval, slow.cliff) == ("rate", None, True)
    assert next(p for p in points if p.point == "c4").reasons == (DISTORTED_REASON,)


@pytest.mark.parametrize(
    "load",
    [
        pytest.param(None, id="none"),
        pytest.param({"points": None, "capacities": None}, id="nulls"),
        pytest.param({"points": [{}, {"target": 3}, "x"]}, id="no-target"),
        pytest.param({"points": [{"target": "p/m", "point": "c1"}]}, id="bare-point"),
        pytest.param(
            {
                "points": [
                    {
                        "target": "p/m",
                        "point": "c2",
                        "kind": "concurrency",
                        "concurrency": "two",
                        "percentiles": {Key.TTFT_MS: {"n": 3, "p50": "x", "p99": None}},
                        "timeline": [{"t_s": 0, "completed": None}, {"t_s": "later"}],
                        "steady": {"completed": 0},
                        "whole": {"output_tps": 5.0, "start_ns": 1, "end_ns": 0},
                        "client": {"distorted": "yes"},
                        "flags": [None, "distorted"],
                    }
                ],
                "capacities": [{"target": "p/m", "bracket": [1], "interval": [1, None]}, {}],
            },
            id="malformed",
        ),
    ],
)
def test_partial_load_sections_render(load):
    document = minimal_document()
    document["load"] = load
    page = render_html([document])
    assert page.rstrip().endswith("</html>") and "Traceback" not in page


def test_no_load_section_without_load_points(real_document):
    for document in (real_document, minimal_document()):
        page = render_html([document])
        assert 'id="load"' not in page and 'href="#load"' not in page
        assert "load point" not in page
    assert extract(real_document).load.points == []


def test_section_and_contents_entry_with_load_points(load_document):
    page = render_html([load_document])
    assert 'href="#load">Load</a>' in page and "8 load points" in page
    part = load_part(page)
    headers = re.findall(r'<th scope="col"[^>]*>(?:<button[^>]*>)?([^<]+)', part)
    assert headers[:5] == ["target", "point", "window", "req/s", "out tok/s"]
    for name in ("TTFT p99 ms", "ITL p99 ms", "E2E p99 ms", "goodput req/s", "good %", "flags"):
        assert name in headers
    assert part.count("<tr><td>sim-quick</td>") + part.count("<td>sim-quick</td>") >= 4
    for chart in ("chart-load-ttft_ms", "chart-load-tpot_ms", "chart-concurrency-ttft_ms"):
        assert f'id="{chart}"' in part
    assert 'id="chart-rate-ttft_ms"' in part and 'id="timeline-7"' in part
    assert "SLOs: tpot_ms.p50 &lt;= 5, ttft_ms.p99 &lt;= 200." in part
    tags = parse(page).tags
    assert all(a.get("title") for t, a in tags if t == "th")  # every header has its definition


def test_goodput_only_with_slos(load_document):
    document = copy.deepcopy(load_document)
    for point in document["load"]["points"]:
        point["slos"] = []
    part = load_part(render_html([document]))
    headers = re.findall(r'<th scope="col"[^>]*>(?:<button[^>]*>)?([^<]+)', part)
    assert "goodput req/s" not in headers and "good %" not in headers and "errors" in headers
    assert "No SLOs were set: no goodput." in part
    assert "SLO p" not in part  # no limit line


def test_distorted_point_is_marked(load_document):
    part = load_part(render_html([load_document]))
    rows = re.findall(r'<tr data-distorted="true">(.*?)</tr>', part)
    c4 = '<td>sim-quick</td><td data-v="concurrency 00000000004.000">c4</td>'  # sorts by load
    assert [r for r in rows if r.startswith(c4)]
    badges = re.findall(r'<span class="badge warn"[^>]*title="([^"]*)"[^>]*>distorted</span>', part)
    assert len(badges) == len(rows)
    assert [b for b in badges if b.endswith(f"Here: {html.escape(DISTORTED_REASON)}")]
    assert f"sim-quick · c4</strong>: {html.escape(DISTORTED_REASON)}" in part  # listed beside
    assert re.search(r'<text[^>]*class="plabel">c4 ⚠</text>', part)  # labelled in the charts
    assert 'fill="#fff" stroke="#0072B2"' in part  # and drawn hollow


def test_capacity_is_stated_and_drawn(load_document):
    part = load_part(render_html([load_document]))
    fact = re.search(r'<li class="capacity"><strong>sim-quick</strong>: (.*?)</li>', part)
    assert fact is not None
    assert fact.group(1).startswith("capacity: concurrency 12; SLOs ttft_ms.p99 &lt;= 200")
    assert "highest pass 12, lowest fail 13; 95 % interval 8–13; no cliff" in fact.group(1)
    assert "cliff: r25 passes, r27.5 fails at 2.4× a limit" in part
    concurrency = part.split('id="chart-concurrency-ttft_ms"', 1)[1].split("</figure>", 1)[0]
    assert "capacity 12 · sim-quick" in concurrency and 'class="band"' in concurrency
    assert "SLO p99 ≤ 200 ms" in concurrency and 'class="hline"' in concurrency
    rate = part.split('id="chart-rate-ttft_ms"', 1)[1].split("</figure>", 1)[0]
    assert "capacity 25 · sim-slow" in rate and 'class="band"' not in rate  # no interval
    tpot = part.split('id="chart-concurrency-tpot_ms"', 1)[1].split("</figure>", 1)[0]
    assert "SLO p50 ≤ 5 ms" in tpot


def test_a_hostile_target_name_stays_text(load_document):
    page = render_html([with_hostile_target(load_document)])
    assert HOSTILE not in page and html.escape(HOSTILE, quote=True) in page
    tags = parse(page).tags
    assert "img" not in [t for t, _ in tags]
    assert not [(t, a) for t, a in tags for k in a if k.startswith("on")]
    assert page.count("<script") == page.count("</script>") == 1


def test_twenty_points_keep_the_page_small(load_document):
    page = render_html([sweep_document(load_document, points=20, seconds=60)])
    part = load_part(page)
    assert len(page.encode()) < 700_000
    assert part.count('<option value="') == 20  # one timeline shown, a select for the others
    assert part.count("<div data-choice=") == 20 and part.count("<div data-choice=") - 1 == (
        part.count('" hidden>')
    )
    assert "concurrency (log scale)" in part
    ticks = re.findall(r'class="tick">(\d+)</text>', part.split('id="chart-concurrency-ttft')[1])
    assert {"1", "512"} <= set(ticks)


def _label_boxes(svg: str) -> list[tuple[float, float, float, float]]:
    boxes = []
    for x, y, anchor, label in re.findall(
        r'<text x="([\d.]+)" y="([\d.]+)" text-anchor="(\w+)" class="plabel">([^<]*)</text>', svg
    ):
        width = len(html.unescape(label)) * 6.4
        x0 = float(x) - {"start": 0, "end": width, "middle": width / 2}[anchor]
        boxes.append((x0, float(y) - 10, x0 + width, float(y) + 3))
    return boxes


def test_point_labels_do_not_overlap():
    marks = [PointMark(100 + i * 3, 40 + (i % 3), f"tip {i}", f"c{2**i}") for i in range(12)]
    svg = labelled_chart(
        [MarkLine("a", 0, marks)], AxisSpec("x"), AxisSpec("y", include_zero=True), label="t"
    )
    boxes = _label_boxes(svg)
    assert 4 <= len(boxes) <= 12  # crowded: some left out (their marks' tooltips name them)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def _history(load_document: dict[str, Any]) -> list[dict[str, Any]]:
    first = scaled(load_document, "2026-11-01T10:00:00+00:00", {})
    second = scaled(load_document, "2026-11-02T10:00:00+00:00", {})
    for point in second["load"]["points"]:
        point["steady"]["output_tps"] *= 0.5
        point["whole"]["output_tps"] *= 0.5
    second["load"]["capacities"][0]["value"] = 8
    return [first, second]


def test_history_compares_load_points_and_capacities(load_document, history):
    page = render_html(_history(load_document))
    assert 'href="#load-history">Load across runs</a>' in page
    part = page.split('<section id="load-history">', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", part)
    quick = [r for r in rows if "<td>sim-quick</td><td>c4</td>" in r]
    assert len(quick) == 2 and "-50.0 %" in quick[1] and "—" in quick[0]
    assert "Capacity across runs" in part and "concurrency 8" in part
    assert '<section id="latest-load">' in page  # the latest run's own section
    assert 'id="load-history"' not in render_html(history)  # no load points in any run
