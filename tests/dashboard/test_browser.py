"""The dashboard in a real browser (Debian's Chromium driven by Playwright) against a real
uvicorn on a loopback port and the built-in server: what a person sees and does.

Set a key and see it masked; add a model and see a bad value refused with the plugin's message;
start a run and see its rows arrive while it runs, then open its report; cancel a second run
mid-way and find its finished records on disk; compare two runs. A canary key never appears in a
page, a response body, the server's log or a result file; a model named ``<img onerror>`` stays
text. Screenshots of every page, at desktop and at a narrow width, go to the test's tmp_path.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = playwright_api.expect

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
CANARY = "sk-canary-0b3e9f14d2c7a85e-DO-NOT-LEAK"
NEW_KEY = "sk-new-4f2a9c7e1b3d5a60-WXYZ"
INERT = "<img src=x onerror=window.__pwned=1>"
FAST = {"ttft_ms": 5, "itl_ms": 3, "output_tokens": 8}
SLOW = {"ttft_ms": 300, "itl_ms": 5, "output_tokens": 8}  # a test every third of a second
SIZES = {"desktop": {"width": 1280, "height": 900}, "narrow": {"width": 390, "height": 844}}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    folder = tmp_path_factory.mktemp("project")
    document = {
        "defaults": {"max_tokens": 16, "context_tiers": [0], "timeout_s": 10},
        "providers": {
            "embedded": {
                "managed": "simulator",
                "models": [{"id": "sim-a", "sim": FAST}, {"id": "sim-slow", "sim": SLOW}],
                "load": {"points": ["concurrency=2"], "duration_s": 60, "output_tokens": 8},
            },
            "hosted": {"api_base": "http://127.0.0.1:9/v1", "api_key_env": "HOSTED_KEY",
                       "models": [{"id": INERT}]},
            "second": {"api_base": "http://127.0.0.1:9/v1", "api_key_env": "SECOND_KEY",
                       "models": [{"id": "m2"}]},
        },
    }  # fmt: skip
    (folder / "config.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    (folder / ".env").write_text(f"HOSTED_KEY={CANARY}\n")
    (folder / "benchmarks").mkdir()
    for name in ("test_throughput.py", "test_load.py"):
        shutil.copy(REPO / "benchmarks" / name, folder / "benchmarks" / name)
    port = _free_port()
    log = folder.parent / "dashboard.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")}
    env.pop("HOSTED_KEY", None)
    env.pop("SECOND_KEY", None)
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "pytest_llmbench.cli", "dashboard", "--config",
             str(folder / "config.yaml"), "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env={**env, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base + "/api/project", timeout=2)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline and server.poll() is None, log.read_text()
            time.sleep(0.1)
    try:
        yield base, folder, log
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(dashboard: Any) -> Iterator[Any]:
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


class Visit:
    """One page of the dashboard, with everything it heard and every response's body."""

    def __init__(self, browser: Any, base: str, size: str = "desktop") -> None:
        self.context = browser.new_context(viewport=SIZES[size])
        self.page = self.context.new_page()
        self.base = base
        self.errors: list[str] = []
        self.bodies: list[str] = []
        self.hosts: set[str] = set()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("request", lambda r: self.hosts.add(r.url.split("/")[2]))
        self.page.on("response", self._keep)
        self.page.goto(base + "/")
        expect(self.page.locator("#target-table tbody tr").first).to_be_visible()

    def _keep(self, response: Any) -> None:
        if "text/event-stream" in (response.headers.get("content-type") or ""):
            return  # a stream's body is read by the page as it comes
        try:
            self.bodies.append(response.text())
        except Exception:  # a redirect or a navigation's body that is gone: nothing to read
            return

    def tab(self, name: str) -> None:
        self.page.locator(f"nav button[data-tab={name}]").click()

    def shot(self, path: Path, name: str) -> None:
        self.page.screenshot(path=str(path / f"{name}.png"), full_page=True)

    def close(self, refused: int = 0) -> None:
        """Check what the page heard: no error but the ``refused`` answers it was meant to get
        (the browser logs each 4xx answer as a console error)."""
        answers = [e for e in self.errors if "status of 422" in e]
        assert len(answers) == refused, self.errors
        assert [e for e in self.errors if e not in answers] == [], self.errors
        assert self.hosts <= {self.base.split("/")[2]}, self.hosts  # nothing from elsewhere
        assert not any(CANARY in body or NEW_KEY in body for body in self.bodies)
        self.context.close()


def test_every_page_at_desktop_and_narrow_width_and_the_inert_model(dashboard, browser, tmp_path):
    base, _, _ = dashboard
    for size in SIZES:
        visit = Visit(browser, base, size)
        page = visit.page
        expect(page.locator("#target-table")).to_contain_text(INERT)  # shown as text
        assert page.locator("main img").count() == 0
        assert page.evaluate("window.__pwned === undefined")
        visit.shot(tmp_path, f"targets-{size}")
        for name in ("keys", "run", "history"):
            visit.tab(name)
            expect(page.locator(f"section#{name}")).to_be_visible()
            visit.shot(tmp_path, f"{name}-{size}")
        visit.close()


def test_a_key_set_in_the_page_is_shown_masked(dashboard, browser, tmp_path):
    base, folder, _ = dashboard
    visit = Visit(browser, base)
    page = visit.page
    visit.tab("keys")
    row = page.locator("#key-table tbody tr", has_text="SECOND_KEY")
    expect(row).to_contain_text("not set")
    row.locator("input[type=password]").fill(NEW_KEY)
    row.locator("button", has_text="set").click()
    expect(page.locator("#key-result")).to_have_text("SECOND_KEY set")
    row = page.locator("#key-table tbody tr", has_text="SECOND_KEY")
    expect(row).to_contain_text("…WXYZ")
    expect(page.locator("#key-table tbody tr", has_text="HOSTED_KEY")).to_contain_text(CANARY[-4:])
    assert NEW_KEY not in page.content() and CANARY not in page.content()
    assert NEW_KEY in (folder / ".env").read_text()
    visit.shot(tmp_path, "key-set")
    visit.close()


def test_a_model_is_added_and_a_bad_value_shows_the_plugins_message(dashboard, browser, tmp_path):
    base, folder, _ = dashboard
    visit = Visit(browser, base)
    page = visit.page
    form = page.locator("#add-model")
    form.locator("select[name=provider]").select_option("second")
    form.locator("input[name=id]").fill("m3")
    form.locator("input[name=context_window]").fill("-1")
    form.locator("button[type=submit]").click()
    expect(form.locator(".result")).to_contain_text("providers.second.models[1].context_window")
    expect(form.locator(".result")).to_contain_text(str(folder / "config.yaml"))
    visit.shot(tmp_path, "model-refused")
    form.locator("input[name=context_window]").fill("4096")
    form.locator("button[type=submit]").click()
    expect(form.locator(".result")).to_have_text("added m3")
    expect(page.locator("#target-table tbody tr", has_text="m3")).to_contain_text("4096")
    assert "m3" in (folder / "config.yaml").read_text()
    edit = page.locator("#edit-model")
    edit.locator("select[name=model]").select_option(label="second/m3")
    edit.locator("input[name=value]").fill("2048")
    edit.locator("button[type=submit]").click()
    expect(edit.locator(".result")).to_have_text("saved context_window")
    expect(page.locator("#target-table tbody tr", has_text="m3")).to_contain_text("2048")
    visit.close(refused=1)


def test_a_provider_is_added_edited_and_removed_in_the_page(dashboard, browser):
    base, folder, _ = dashboard
    visit = Visit(browser, base)
    page = visit.page
    form = page.locator("#add-provider")
    form.locator("input[name=name]").fill("extra")
    form.locator("select[name=managed]").select_option("simulator")
    form.locator("input[name=model]").fill("sim-x")
    form.locator("button[type=submit]").click()
    expect(form.locator(".result")).to_have_text("added extra")
    expect(page.locator("#target-table tbody tr", has_text="sim-x")).to_be_visible()
    edit = page.locator("#edit-provider")
    edit.locator("select[name=provider]").select_option("extra")
    edit.locator("select[name=key]").select_option("max_tokens")
    edit.locator("input[name=value]").fill("zero")
    edit.locator("button[type=submit]").click()
    expect(edit.locator(".result")).to_contain_text("providers.extra.max_tokens")
    edit.locator("input[name=value]").fill("32")
    edit.locator("button[type=submit]").click()
    expect(edit.locator(".result")).to_have_text("saved max_tokens")
    assert "max_tokens: 32" in (folder / "config.yaml").read_text()
    row = page.locator("#target-table tbody tr", has_text="sim-x")
    row.locator("button", has_text="remove provider").click()
    expect(page.locator("#target-table tbody tr", has_text="sim-x")).to_have_count(0)
    assert "extra" not in (folder / "config.yaml").read_text()
    visit.close(refused=1)


def _start(page: Any, keyword: str, runs: str, target: str = "embedded/sim-a") -> None:
    page.locator("#run-form input[name=target]").evaluate_all(
        "(boxes) => boxes.forEach((b) => { b.checked = false; })"
    )
    page.locator(f"#run-form input[value='{target}']").check()
    page.locator("#run-form input[name=keyword]").fill(keyword)
    page.locator("#run-form input[name=runs]").fill(runs)
    page.locator("#run-form button[type=submit]").click()


def test_runs_arrive_live_a_cancelled_one_keeps_its_records_and_two_compare(
    dashboard, browser, tmp_path
):
    base, folder, log = dashboard
    visit = Visit(browser, base)
    page = visit.page
    visit.tab("run")
    _start(page, "throughput", "6", "embedded/sim-slow")
    live = page.locator("#live-table tbody tr")
    expect(live.first).to_be_visible(timeout=60_000)
    first_seen = live.count()
    visit.shot(tmp_path, "run-live")
    expect(page.locator("#live-report a")).to_be_visible(timeout=120_000)
    assert first_seen < 6, first_seen  # the rows came while it ran, a test every 0.3 s
    expect(live).to_have_count(6)
    _start(page, "throughput", "12")
    expect(page.locator("#live-title")).to_have_text("Live: run 2", timeout=30_000)
    expect(page.locator("#live-report a")).to_be_visible(timeout=120_000)
    report = page.frame_locator("#live-frame")  # the run's report, opened in the page
    expect(report.locator("h1")).to_be_visible(timeout=30_000)
    expect(live).to_have_count(12)
    expect(live.first).to_contain_text("passed")
    chart = page.locator("#live-chart svg.plot")  # the report's chart, redrawn as tests finish
    expect(chart).to_be_visible(timeout=10_000)
    expect(chart.locator(".series")).to_have_count(1)
    assert chart.locator(".median").count() == 1
    visit.shot(tmp_path, "run-finished")
    # a second run, with a 60 s load point: cancelled mid-way, its finished requests kept
    _start(page, "load", "1")
    expect(page.locator("#live-load")).to_contain_text("in flight", timeout=60_000)
    page.locator("#job-table tbody tr").nth(2).locator("button", has_text="cancel").click()
    expect(page.locator("#job-table tbody tr").nth(2)).to_contain_text("cancelled", timeout=60_000)
    records = [
        json.loads(line)
        for path in (folder / "results").glob("*.jsonl") if ".load" not in path.name
        for line in path.read_text().splitlines()
    ]  # fmt: skip
    assert any(r.get("point") == "c2" and r.get("ok") for r in records), records[-3:]
    # a comparison of two runs, then a run's report
    visit.tab("history")
    expect(page.locator("#run-table tbody tr").nth(1)).to_be_visible()  # both runs (and more)
    visit.shot(tmp_path, "history")
    runs = page.locator("#run-table tbody tr a")
    stamps = [runs.nth(i).inner_text() for i in range(2)]
    page.locator("#compare-form select[name=a]").select_option(stamps[1])
    page.locator("#compare-form select[name=b]").select_option(stamps[0])
    page.locator("#compare-form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("history: 2 runs")
    visit.shot(tmp_path, "compare")
    page.goto(base + f"/runs/{stamps[1]}")
    expect(page.locator("h1")).to_be_visible()
    visit.shot(tmp_path, "report")
    visit.close()
    for path in [log, *folder.glob("results/*"), *folder.glob(".llmbench-dashboard/*")]:
        text = path.read_text(errors="replace")
        assert CANARY not in text and NEW_KEY not in text, path
