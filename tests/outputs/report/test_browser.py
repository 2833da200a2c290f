"""The generated pages in a real browser (Debian's Chromium driven by Playwright).

Each page is opened from a file:// URL and must load with no console error, no page error and no
request other than the file itself; its charts are drawn, its tables sort and filter, the XSS
canaries stay text, and a screenshot is saved under the test's tmp_path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_llmbench.outputs.report import write_html

from .builder import CANARIES

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)
expect = playwright_api.expect

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@dataclass
class Visit:
    page: Any
    url: str
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.console == []
        assert self.errors == []
        assert self.requests == [self.url]


def visit(browser: Any, path: Path) -> Visit:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    seen = Visit(page, path.as_uri())
    page.on("console", lambda m: seen.console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    page.on("request", lambda r: seen.requests.append(r.url))
    page.goto(seen.url)
    page.wait_for_load_state("load")
    return seen


def assert_charts_drawn(page: Any, at_least: int, within: str = "") -> None:
    charts = page.locator(f"{within} figure.chart".strip())
    assert charts.count() >= at_least
    for i in range(charts.count()):
        chart = charts.nth(i)
        name = chart.locator("figcaption").inner_text()
        assert chart.locator("svg.plot").count() == 1, name
        assert chart.locator("svg.plot .mark").count() > 0, name
        assert chart.locator(".better").count() == 1, name  # says which direction is better


def assert_canaries_inert(page: Any) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img").count() == 0
    shown = page.get_by_text(CANARIES["display_name"], exact=False).first
    assert shown.is_visible()


def column(page: Any, table: str, index: int) -> list[float]:
    cells = page.locator(f"{table} tbody tr:not([hidden]) td:nth-child({index})")
    return [
        float(v) if v else float("-inf")
        for v in cells.evaluate_all("cells => cells.map(c => c.getAttribute('data-v') || '')")
    ]


@pytest.fixture(scope="module")
def run_page(tmp_path_factory: pytest.TempPathFactory, canary_document: dict[str, Any]) -> Path:
    return write_html([canary_document], tmp_path_factory.mktemp("run") / "run.html")


@pytest.fixture(scope="module")
def history_page(tmp_path_factory: pytest.TempPathFactory, history: list[dict[str, Any]]) -> Path:
    return write_html(history, tmp_path_factory.mktemp("history") / "history.html")


def test_run_report_in_chromium(browser, run_page, tmp_path):
    seen = visit(browser, run_page)
    page = seen.page
    assert_charts_drawn(page, at_least=10)
    assert_canaries_inert(page)
    assert page.get_by_text("HTTP 429", exact=False).first.is_visible()

    # Sorting: TTFT p50 (6th column) ascending, then descending.
    before = column(page, "#overview-table", 6)
    header = page.locator("#overview-table th", has_text="TTFT p50 ms")
    header.locator("button").click()
    ascending = column(page, "#overview-table", 6)
    assert ascending == sorted(before) and ascending != before
    assert header.get_attribute("aria-sort") == "ascending"
    header.locator("button").click()
    assert column(page, "#overview-table", 6) == sorted(before, reverse=True)

    # Filtering by tier.
    page.select_option("select[data-filter=tier]", "1,000")
    tiers = page.locator("#overview-table tbody tr:not([hidden])").evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-tier'))"
    )
    assert tiers and set(tiers) == {"1,000"}
    assert re.fullmatch(r"\d+ of \d+ rows", page.locator(".filters .count").inner_text())
    page.select_option("select[data-filter=tier]", "")

    # A legend toggle hides its series and shows it again.
    toggle = page.locator("#chart-ttft_ms .series-toggle").first
    series = toggle.get_attribute("data-series")
    toggle.click()
    assert page.locator(f'#chart-ttft_ms svg g[data-series="{series}"]').first.is_hidden()
    toggle.click()
    assert page.locator(f'#chart-ttft_ms svg g[data-series="{series}"]').first.is_visible()

    # Tooltips: a header's definition shows on hover.
    page.locator("#overview-table th", has_text="decode tok/s p50").hover()
    tip = page.locator(".tooltip")
    assert tip.is_visible() and "Higher is better" in tip.inner_text()
    page.locator("#chart-ttft_ms svg .mark").first.hover(force=True)  # a mark: its value
    assert re.search(r"tier \S+ run \d: [\d.]+ ms", tip.inner_text())
    page.locator("#chart-context .axis-title").first.hover()  # an axis title its definition
    assert tip.inner_text().startswith("Context tier: a target prompt size in tokens")
    page.mouse.move(1, 1)
    assert tip.is_hidden()
    assert page.locator("#chart-context .axis-title").first.locator("title").count() == 1

    page.locator("#copy-command").click()
    expect(page.locator("#copy-status")).to_have_text(re.compile("copied|select the text"))
    page.screenshot(path=str(tmp_path / "run-report.png"), full_page=True)
    assert (tmp_path / "run-report.png").stat().st_size > 20_000
    seen.assert_clean()


def test_history_report_in_chromium(browser, history_page, tmp_path):
    seen = visit(browser, history_page)
    page = seen.page
    assert page.locator("h1").inner_text() == "pytest-llmbench history: 3 runs"
    assert_charts_drawn(page, at_least=6)
    assert_canaries_inert(page)
    assert page.locator("#trends svg circle.flag").count() >= 2  # the run-3 steps are ringed
    page.screenshot(path=str(tmp_path / "history-report.png"), full_page=True)
    assert (tmp_path / "history-report.png").stat().st_size > 20_000
    seen.assert_clean()


def test_comparison_of_any_two_runs_in_chromium(browser, history_page, tmp_path):
    seen = visit(browser, history_page)
    page = seen.page
    sentence = page.locator("#compare-sentence")
    static_text = sentence.inner_text()
    static_rows = page.locator("#compare-table tbody").inner_text()
    assert static_text.startswith("run 3 (2026-11-03 10:00) vs run 2 (2026-11-02 10:00): ")
    assert "improved, most sim-a" in static_text and "regressed, most sim-reasoning" in static_text

    page.select_option("#compare-b", "1")
    page.select_option("#compare-a", "0")
    assert sentence.inner_text().startswith("run 2 (2026-11-02 10:00) vs run 1")
    assert "nothing improved or regressed beyond run-to-run spread" in sentence.inner_text()
    assert page.locator("#compare-table tbody tr").count() > 0

    # Back to the last two: the script's verdict equals the one rendered in Python.
    page.select_option("#compare-a", "1")
    page.select_option("#compare-b", "2")
    assert sentence.inner_text() == static_text
    assert page.locator("#compare-table tbody").inner_text() == static_rows

    # The re-rendered table still sorts (change %, the 5th column).
    page.locator("#compare-table th", has_text="change").locator("button").click()
    values = column(page, "#compare-table", 5)
    assert values == sorted(values)
    assert_canaries_inert(page)
    page.locator("#comparison").screenshot(path=str(tmp_path / "comparison.png"))
    assert (tmp_path / "comparison.png").stat().st_size > 10_000
    seen.assert_clean()


@pytest.fixture(scope="module")
def load_page(tmp_path_factory: pytest.TempPathFactory, load_document: dict[str, Any]) -> Path:
    return write_html([load_document], tmp_path_factory.mktemp("load") / "load.html")


#: Every text label's box in each load chart, as the browser laid it out.
_LABEL_BOXES = """figures => figures.map(f => Array.from(
  f.querySelectorAll('svg text.plabel, svg text.vlabel, svg text.hlabel')).map(t => {
    const b = t.getBBox(); return [t.textContent, b.x, b.y, b.x + b.width, b.y + b.height];
  }))"""


def assert_labels_apart(page: Any, selector: str) -> None:
    for boxes in page.locator(selector).evaluate_all(_LABEL_BOXES):
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                apart = a[3] <= b[1] or b[3] <= a[1] or a[4] <= b[2] or b[4] <= a[2]
                assert apart, (a, b)


def test_load_report_in_chromium(browser, load_page, tmp_path):
    seen = visit(browser, load_page)
    page = seen.page
    load = page.locator("#load")
    expect(load).to_be_visible()
    assert_charts_drawn(page, at_least=8, within="#load")
    for chart in ("load-ttft_ms", "load-tpot_ms", "concurrency-ttft_ms", "rate-ttft_ms"):
        figure = page.locator(f"#chart-{chart}")
        expect(figure).to_be_visible()
        assert figure.locator("svg.plot .mark").count() >= 2, chart
    labels = page.locator("#chart-load-ttft_ms text.plabel").all_text_contents()
    assert {"c1", "c4", "c16"} <= {label.removesuffix(" ⚠") for label in labels}, labels
    assert "c4 ⚠" in labels  # distorted by hand (others may be too, by the client's own check)
    assert all(page.locator("#chart-load-ttft_ms text.plabel").evaluate_all(
        "ts => ts.map(t => t.getBoundingClientRect().width > 0)"))  # fmt: skip
    assert_labels_apart(page, "#load figure.chart")
    capacity = page.locator("#chart-concurrency-ttft_ms text.vlabel")
    expect(capacity).to_have_text(re.compile(r"capacity 12 · sim-quick$"))  # after its tooltip
    slo = page.locator("#chart-concurrency-ttft_ms text.hlabel")
    expect(slo).to_have_text(re.compile(r"SLO p99 ≤ 200 ms$"))

    # The distorted point's badge gives its reasons on hover.
    page.locator("#load-table tr[data-distorted] .badge.warn").first.hover()
    tip = page.locator(".tooltip")
    assert tip.is_visible() and tip.inner_text().startswith("Distorted: the client self-check")

    # One timeline is shown; the select shows another.
    expect(page.locator("#timeline-0")).to_be_visible()
    expect(page.locator("#timeline-5")).to_be_hidden()
    page.select_option("#timelines-pick", "5")
    expect(page.locator("#timeline-5")).to_be_visible()
    expect(page.locator("#timeline-0")).to_be_hidden()
    page.locator("#timeline-5 rect.col").first.hover(force=True)
    assert re.search(r"^second 0–1: \d+ done", tip.inner_text())

    # The points table sorts by output tok/s (the 5th column).
    page.locator("#load-table th", has_text="out tok/s").locator("button").click()
    assert column(page, "#load-table", 5) == sorted(column(page, "#load-table", 5))
    page.mouse.move(1, 1)
    load.screenshot(path=str(tmp_path / "load-report.png"))
    assert (tmp_path / "load-report.png").stat().st_size > 20_000
    seen.assert_clean()
