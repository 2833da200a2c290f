"""What CI and people see besides the terminal: JUnit properties, step summary, pytest-html."""

import re
import xml.etree.ElementTree as ET

import pytest

from ..sessions import sim_config

FAST = {"ttft_ms": 5, "itl_ms": 1, "output_tokens": 12}


def test_junit_properties_carry_the_metrics(bench):
    bench.setup(sim_config({"sim-a": FAST}))
    result = bench.run("--llm-runs", "2", "--junitxml", "junit.xml")
    assert result.ret == 0
    cases = ET.parse(bench.pytester.path / "junit.xml").getroot().iter("testcase")
    records = {r["test"].split("::")[-1]: r for r in bench.results()["records"]}
    seen = 0
    for case in cases:
        props = {p.attrib["name"]: p.attrib["value"] for p in case.iter("property")}
        record = records[case.get("name")]
        assert props["llm_target"] == "embedded/sim-a"
        assert float(props["llm_ttft_ms"]) == pytest.approx(record["ttft_ms"], abs=0.001)
        assert int(props["llm_output_tokens"]) == record["output_tokens"] == 12
        assert props["llm_token_source"] == "usage"
        seen += 1
    assert seen == 2


def test_github_step_summary_gets_the_aggregates_table(bench, monkeypatch):
    summary = bench.pytester.path / "step_summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    bench.setup(sim_config({"sim-a": FAST}, tiers=(0, 100)))
    assert bench.run("--llm-runs", "2").ret == 0
    text = summary.read_text()
    assert text.startswith("earlier step\n### pytest-llmbench\n")
    assert "| target | tier | n | TTFT p50 ms |" in text
    assert re.search(r"\| embedded/sim-a \(simulated\) \| 100 \| 2 \| [\d.]+ \|", text)


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_pytest_html_gets_sortable_metric_columns_and_a_summary(bench, workers):
    pytest.importorskip("pytest_html")
    bench.setup(sim_config({"sim-a": FAST, "sim-b": FAST}))
    result = bench.run("--html", "report.html", "--self-contained-html", *workers)
    assert result.ret == 0, result.stdout.str()
    page = (bench.pytester.path / "report.html").read_text()
    for column in ("llm_ttft", "llm_decode", "llm_tokens"):
        assert (
            f"data-column-type=&#34;{column}&#34;" in page or f'data-column-type="{column}"' in page
        )
    assert 'id="llmbench-aggregates"' in page
    assert "embedded/sim-b (simulated)" in page
    assert "col-llm_ttft" in page


def test_without_pytest_html_nothing_breaks(bench):
    bench.setup(sim_config({"sim-a": FAST}))
    result = bench.run("-p", "no:html")
    assert result.ret == 0
    assert "html" not in result.stderr.str().lower()
