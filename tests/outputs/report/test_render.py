"""The renderer without a browser: escaping, size, sparse documents, history and comparison."""

from __future__ import annotations

import copy
import html
import re
from html.parser import HTMLParser

import pytest

from pytest_llmbench.outputs.report import render_html, write_html
from pytest_llmbench.outputs.report.compare import judge, sentence, steps
from pytest_llmbench.outputs.report.glossary import BETTER, UNITS
from pytest_llmbench.outputs.report.model import Stats, extract
from pytest_llmbench.outputs.report.svg import nice_ticks
from pytest_llmbench.results.calibration import calibration
from pytest_llmbench.schema import METRICS, Key

from .builder import CANARIES, minimal_document, scaled


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of th and svg axis titles."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    return parser


def assert_inert(page: str, scripts: int) -> None:
    tags = parse(page).tags
    names = [t for t, _ in tags]
    assert "img" not in names
    assert names.count("script") == scripts
    assert not [(t, a) for t, a in tags for k in a if k.startswith("on")]
    for canary in CANARIES.values():
        assert canary not in page  # only escaped forms
    assert page.count("<script") == page.count("</script>") == scripts


def test_every_rendered_field_is_escaped(canary_document):
    page = render_html([canary_document])
    assert_inert(page, scripts=1)
    for field, canary in CANARIES.items():
        assert html.escape(canary, quote=True) in page, field


def test_history_escapes_and_embeds_json_safely(history):
    page = render_html(history)
    assert_inert(page, scripts=2)  # the comparison data and the page script
    data = re.search(
        r'<script type="application/json" id="compare-data">(.*?)</script>', page, re.S
    )
    assert data and "<" not in data.group(1) and "\\u003cimg src=x" in data.group(1)


def test_reports_stay_small(real_document, history):
    run = render_html([real_document]).encode()
    assert len(run) < 300_000
    assert len(render_html(history).encode()) < 1_000_000


def test_run_report_has_every_section_and_chart(real_document):
    page = render_html([real_document])
    for section in ("overview", "spread", "context", "itl", "conversation", "calibration"):
        assert f'<section id="{section}">' in page
    charts = re.findall(r'<figure class="chart" id="([^"]+)"', page)
    for chart in (
        "chart-ttft_ms",
        "chart-decode_tps",
        "chart-context",
        "chart-itl",
        "chart-turn-ttft_ms",
        "chart-turn-decode_tps",
        "chart-turn-context_tokens",
        "chart-turn-reasoning_tokens",
        "chart-ttft_error_ms",
        "chart-tpot_error_pct",
    ):
        assert chart in charts
    assert "knee turn 4" in page or "knee turn" in page  # sim-a's TTFT knee is marked
    assert "fitted prefill ≈" in page
    assert "LLMBENCH_REPORT_TEST_NO_SUCH_KEY is not set" in page  # the skipped hosted target
    assert "HTTP 429" in page
    assert page.count("lower is better") >= 4 and "higher is better" in page


def test_every_header_and_axis_title_has_a_tooltip(real_document, history):
    for page in (render_html([real_document]), render_html(history)):
        tags = parse(page).tags
        headers = [a for t, a in tags if t == "th"]
        assert headers and all(a.get("title") for a in headers)
        titles = re.findall(r'<text class="axis-title"[^>]*>(<title>)?', page)
        assert titles and all(titles)


def test_single_data_point_renders_every_section():
    page = render_html([minimal_document()])
    assert "<h1>pytest-llmbench run report</h1>" in page
    assert 'id="chart-ttft_ms"' in page and 'id="chart-itl"' in page
    conversation = page.split('<section id="conversation">')[1].split("</section>")[0]
    assert '<p class="none">none</p>' in conversation
    calibration = page.split('<section id="calibration">')[1].split("</section>")[0]
    assert "none (no simulator truth in this run)" in calibration


@pytest.mark.parametrize(
    "document",
    [
        pytest.param({"records": []}, id="no-records"),
        pytest.param({"metadata": None, "records": None, "aggregates": []}, id="nulls"),
        pytest.param(minimal_document(ttft_ms=None, itl_ms=None, tier=None, run=None), id="nones"),
        pytest.param(minimal_document(status="failed", ok=False, error=None), id="failed-only"),
        pytest.param(
            {
                "metadata": {"started": "2026-01-01T00:00:00"},
                "aggregates": [
                    {
                        "target": "p/m",
                        "tier": 0,
                        "requests": 1,
                        "errors": 0,
                        "metrics": {"ttft_ms": {"n": 1, "median": 5.0, "min": 5.0, "max": 5.0}},
                    }
                ],
                "conversations": [{"target": "p/m", "degradation": None, "reasoning": None}],
                "calibration": {"ttft_error_ms": {"n": 0}},
            },
            id="aggregates-only",
        ),
    ],
)
def test_sparse_and_old_documents_render(document):
    page = render_html([document])
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "Traceback" not in page


def test_history_orders_runs_and_marks_steps(history):
    shuffled = [history[2], history[0], history[1]]
    page = render_html(shuffled)
    assert "<h1>pytest-llmbench history: 3 runs</h1>" in page
    assert re.search(r"run 3 \(2026-11-03 10:00\) vs run 2 \(2026-11-02 10:00\)", page)
    # sim-a's TTFT fell by 40 % in run 3: a step, marked in the trend at run 3 only.
    assert page.count("step -40 % improved") >= 2  # chart label and data table (both tiers)
    assert "step +0 %" not in page  # the 0.1 % wobble of run 2 is not a step
    assert "step -50 % regressed" in page  # sim-reasoning's decode speed halved
    assert page.count('<figure class="chart"') >= 6


def test_comparison_sentence_reads_direction_per_metric(history):
    page = render_html(history)
    found = re.search(r'<p class="lead" id="compare-sentence"[^>]*>(.*?)</p>', page)
    assert found is not None
    lead = html.unescape(found.group(1))
    # Lower TTFT is an improvement; lower decode tok/s is a regression.
    assert re.search(r"improved, most sim-a .*? TTFT by 40\.\d %", lead), lead
    assert re.search(r"regressed, most sim-reasoning · tier \S+ decode tok/s by 50\.0 %", lead)
    assert lead.count(".") >= 1 and lead.endswith("within run-to-run spread.")
    # And the other way round: the same change read backwards.
    back = render_html([scaled(history[2], "2026-12-01T00:00:00", {}), history[2]])
    assert "nothing improved or regressed" in back
    reverse = render_html([history[2], scaled(history[0], "2026-12-01T00:00:00", {})])
    found = re.search(r'id="compare-sentence"[^>]*>(.*?)</p>', reverse)
    assert found is not None
    lead = html.unescape(found.group(1))
    assert re.search(r"improved, most sim-reasoning .*? decode tok/s by 100\.0 %", lead), lead
    assert re.search(r"regressed, most sim-a .*? TTFT by 66\.\d %", lead), lead


def test_judge_and_steps_follow_the_rule():
    a = Stats.of([100.0, 101.0, 99.0])
    assert judge("ttft_ms", a, Stats.of([80.0, 81.0, 79.0]))[2] == "improved"
    assert judge("decode_tps", a, Stats.of([80.0, 81.0, 79.0]))[2] == "regressed"
    assert judge("ttft_ms", a, Stats.of([100.5, 101.0, 99.5]))[2] == "within spread"
    # Without spread (single runs) a change counts beyond 10 %.
    assert judge("ttft_ms", Stats.of([100.0]), Stats.of([109.0]))[2] == "within spread"
    assert judge("ttft_ms", Stats.of([100.0]), Stats.of([111.0]))[2] == "regressed"
    marks = steps("ttft_ms", [Stats.of([10, 10.1]), None, Stats.of([20, 20.1])])
    assert marks == ["", "", "step +100 % regressed"]
    assert sentence([], "run 1", "run 2").startswith("run 2 vs run 1: no target")


def test_model_falls_back_to_aggregates_and_counts(real_document):
    run = extract(real_document)
    keys = {(g.target, g.tier) for g in run.groups}
    assert ("embedded/sim-a", 1000) in keys and ("zai/glm-4.6", 0) in keys
    flaky = next(g for g in run.groups if g.target == "embedded/sim-x")
    assert flaky.errors == 2 and flaky.stat("ttft_ms").n == 0
    assert {d.kind for d in run.distributions} == {"itl_ms", "icl_ms"}
    doc = copy.deepcopy(real_document)
    doc["records"] = []
    assert extract(doc).groups[0].stat("ttft_ms").median is not None


def test_nice_ticks_cover_the_range():
    for lo, hi in ((0, 1), (41.1, 106.5), (-0.004, 0.048), (5, 5), (0, 123456)):
        ticks = nice_ticks(lo, hi)
        assert ticks[0] <= lo and ticks[-1] >= hi and len(ticks) <= 12


def test_write_html_writes_utf8(tmp_path, real_document):
    path = write_html([real_document], tmp_path / "out" / "report.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "≈" in text
    with pytest.raises(ValueError, match="at least one"):
        render_html([])


def test_gate_panel_and_baseline_delta_column():
    document = minimal_document()
    target = document["records"][0]["target"]
    document["gate"] = [
        {
            "target": target,
            "tier": 0,
            "limit": "ttft_ms.median: +20%",
            "baseline": 40.0,
            "value": 52.0,
            "change_pct": 30.0,
            "interval_pct": [28.5, 31.3],
            "n": "5/5",
            "verdict": "regressed",
            "failed": True,
        },
        {
            "target": target,
            "tier": 0,
            "limit": "decode_tps.median >= 10",
            "value": 120.0,
            "n": 5,
            "verdict": "ok",
            "failed": False,
        },
    ]
    page = render_html([document])
    gate = page[page.index('id="gate"') : page.index("</section>", page.index('id="gate"'))]
    assert "1 limit(s) broken: the session failed." in gate
    assert "✗ REGRESSED" in gate and "[+28.5 %, +31.3 %]" in gate
    assert "decode_tps.median &gt;= 10" in gate
    assert "vs baseline" in page and "TTFT +30.0 %" in page


def test_gate_panel_says_none_without_limits():
    page = render_html([minimal_document()])
    assert "none (no aggregate or baseline limits configured)" in page


def test_crosscheck_section_shows_llama_cpp_figures_escaped() -> None:
    document = minimal_document()
    target = '<img src=x onerror="alert(1)">/m'
    document["crosscheck"] = {
        target: {
            "e2e_minus_total_ms": {"n": 3, "median": 17.5, "min": 4.0, "max": 30.0},
            "decode_tps_diff_pct": {"n": 3, "median": -16.9, "min": -20.0, "max": -10.0},
        }
    }
    page = render_html([document])
    assert "Cross-check against llama.cpp&#x27;s own timings" in page
    assert "e2e − llama.cpp total (ms)" in page and "17.5" in page and "-16.9" in page
    assert '<img src=x onerror="alert(1)">' not in page
    assert render_html([minimal_document()]).count("no managed llama.cpp server in this run") == 1


def test_units_and_directions_are_the_schemas():
    for metric in METRICS:
        assert UNITS[metric.key] == metric.unit
        assert BETTER.get(metric.key) == {"higher": 1, "lower": -1, None: None}[metric.better]


def test_calibration_is_the_documents_or_else_that_of_its_records(real_document):
    run = extract(real_document)
    assert run.calibration is not None
    assert run.calibration.summary == real_document["calibration"]
    doc = copy.deepcopy(real_document)
    doc["calibration"] = None
    recomputed = extract(doc).calibration
    assert recomputed is not None
    assert recomputed.summary == calibration(doc["records"])
    assert render_html([doc]) == render_html([real_document])
    # One request's errors are results.calibration's, per target.
    errors = [e for values in run.calibration.ttft_error_ms.values() for e in values]
    assert errors and len(errors) == real_document["calibration"][Key.TTFT_ERROR_MS]["n"]
