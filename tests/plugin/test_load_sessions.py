"""Load mode end to end: whole pytest sessions of benchmarks/test_load.py (pytester, the ``bench``
fixture) against the built-in server and the hostile server (:mod:`tests.hostile`).

What a user relies on: a point is a test (``test_load[embedded-sim-a-c8]``, ``-k c8`` selects);
the results JSON's ``load`` section holds each point's figures and its requests' records, kept
apart from the top-level records and aggregates; the terminal shows a row per point and a
search's capacity; a point whose error rate passes ``max_error_rate`` fails its test with the
counts by kind and the session goes on; a LiteLLM target is skipped saying why; an SLO gives
goodput; a sweep and a search run and list their points; a target's key is in no output.

The sims are quick (20 ms to the first token, 2 ms a token, 8 to 16 tokens) and the points short
(16 requests, or 1 s for a sweep or a search's window), so each session takes seconds.
"""

from __future__ import annotations

import re
import resource
import statistics
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_llmbench.outputs.load_tables import LOAD_COLUMNS
from pytest_llmbench.schema import Key

from ..sessions import BenchProject, sim_config

REPO = Path(__file__).resolve().parents[2]
LOAD_TEST = (REPO / "benchmarks" / "test_load.py").read_text()
TOKENS = 16
SIM = {"ttft_ms": 20, "itl_ms": 2, "output_tokens": TOKENS}
SHAPE = {Key.OUTPUT_TOKENS: TOKENS, Key.PROMPT_TOKENS: 32}
SECRET = "sk-canary-3b9d7e21a0c4f658-DO-NOT-LEAK"
KEY_ENV = "LLMBENCH_TEST_LOAD_KEY"
#: No session here should take longer (the sweep and the search take ~15 s on two cores).
TIMEOUT_S = 180
LITELLM_REASON = (
    "the load mode speaks the OpenAI-compatible wire; this target uses "
    "LiteLLM's openai/ (client: litellm)"
)


def _setup(
    bench: BenchProject,
    models: dict[str, dict[str, Any]] | None = None,
    extra_providers: dict[str, Any] | None = None,
    load: dict[str, Any] | None = None,
    tokens: int = TOKENS,
) -> None:
    config = sim_config(
        models if models is not None else {"sim-a": SIM},
        max_tokens=tokens,
        extra_providers=extra_providers,
        provider_extra={"load": {**SHAPE, Key.OUTPUT_TOKENS: tokens, **(load or {})}},
    )
    if models == {}:  # no simulated provider at all
        document = yaml.safe_load(config)
        del document["providers"]["embedded"]
        config = yaml.safe_dump(document, sort_keys=False)
    bench.setup(config, tests={"test_load": LOAD_TEST})


def _run(bench: BenchProject, *args: str) -> pytest.RunResult:
    return bench.pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:randomly", *args, timeout=TIMEOUT_S
    )


def _hostile_provider(base_url: str, *models: str, key: bool = False) -> dict[str, Any]:
    provider: dict[str, Any] = {"api_base": base_url, "models": [{"id": m} for m in models]}
    if key:
        provider["api_key_env"] = KEY_ENV
    return provider


def _table_rows(stdout: str) -> dict[tuple[str, str], list[str]]:
    """The load table's rows by (target, point), their cells as shown (columns are two spaces
    apart), from under the header to the first line that is not a row."""
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["target", "point"])
    rows: dict[tuple[str, str], list[str]] = {}
    for line in lines[header + 2 :]:
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) < len(LOAD_COLUMNS) - 1:  # the flags may be empty
            break
        rows[(cells[0], cells[1])] = cells
    return rows


def _cell(cells: list[str], column: str) -> str:
    return cells[LOAD_COLUMNS.index(column)]


def _point_records(document: dict[str, Any], point: str) -> list[dict[str, Any]]:
    return [r for r in document["load"]["records"] if r[Key.POINT] == point]


# -- points as tests, the results and the terminal -------------------------------------------------
def test_points_are_tests_and_the_results_keep_their_figures_and_records_apart(bench):
    _setup(bench)
    result = _run(
        bench, "-v", "--llm-load", "concurrency=2,8", "--llm-load", "rate=20:poisson:max=4",
        "--llm-load-requests", "16", "--llm-load-slo", "ttft_ms.p50 <= 1000",
        "-k", "c8 or r20",
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=2, deselected=1)
    result.stdout.fnmatch_lines(
        [
            "*test_load.py::test_load[[]embedded-sim-a-c8[]] PASSED*",
            "*test_load.py::test_load[[]embedded-sim-a-r20poisson-m4[]] PASSED*",
        ]
    )
    assert "sim-a-c2" not in result.stdout.str()
    document = bench.results()
    # requests made under load are not requests made one at a time
    assert document["records"] == [] and document["aggregates"] == []
    assert document["calibration"] is None
    load = document["load"]
    assert [p["point"] for p in load["points"]] == ["c8", "r20poisson-m4"]
    assert load["capacities"] == []
    assert all(note.startswith("embedded/sim-a ") for note in load["notes"]), load["notes"]
    c8, rate = load["points"]
    assert c8["test"] == "test_load.py::test_load[embedded-sim-a-c8]"
    for point in (c8, rate):
        assert point["target"] == "embedded/sim-a"
        assert point["started"] == point["completed"] == 16 and point["errors"] == 0
        assert point["errors_by_kind"] == {}
        assert point["whole"]["request_rate"] > 0 and point["whole"]["output_tps"] > 0
        assert point["whole"][Key.OUTPUT_TOKENS] == 16 * TOKENS
        ttft = point["percentiles"][Key.TTFT_MS]
        assert ttft["n"] == 16 and 20 <= ttft["p50"] < 1000
        assert point["percentiles"][Key.TPOT_MS]["p50"] == pytest.approx(2.0, rel=0.2)
        # the SLO: every request met it
        assert point["slos"] == ["ttft_ms.p50 <= 1000"]
        assert point["good"] == 16 and point["good_fraction"] == 1.0
        assert point["goodput"] == pytest.approx(point["whole"]["request_rate"])
        assert point["timeline"] and point["client"]["cpu_share"] is not None
    assert c8["kind"] == "concurrency" and c8["concurrency"] == 8 and c8["in_flight_max"] == 8
    assert rate["kind"] == "rate" and rate["rate"] == 20 and rate["arrival"] == "poisson"
    assert rate["max_in_flight"] == 4 and rate["in_flight_max"] <= 4
    # one record per request, with its schedule
    assert len(load["records"]) == 32
    for name in ("c8", "r20poisson-m4"):
        records = _point_records(document, name)
        assert sorted(r["request"] for r in records) == list(range(16))
        for record in records:
            assert record[Key.OK] and record["status"] == "passed" and record[Key.GOOD]
            assert record[Key.TARGET] == "embedded/sim-a"
            assert record[Key.T0_NS] >= record[Key.SCHED_NS] > 0
            late = (record[Key.T0_NS] - record[Key.SCHED_NS]) / 1e6 - record[Key.QUEUE_MS]
            assert record[Key.SEND_LATE_MS] == pytest.approx(late, abs=1e-3)
            assert 0 <= record[Key.SEND_LATE_MS] < 50
            assert record["truth"][Key.TTFT_MS] > 0  # the built-in server's truth, per request
    arrivals = [r[Key.SCHED_NS] for r in sorted(_point_records(document, "r20poisson-m4"),
                                               key=lambda r: r["request"])]  # fmt: skip
    assert arrivals == sorted(arrivals) and len(set(arrivals)) == 16
    # each request streamed to the .jsonl as its test finished
    assert len(bench.jsonl()) == 32
    # the records carried in the results are slim; the full ones, with every event's time, are
    # in the points' records file beside the results, marked steady as the figures count them
    stem = next(bench.results_dir.glob("*.json")).stem
    assert {p["records_file"] for p in load["points"]} == {f"{stem}.load.jsonl"}
    assert not any(Key.EVENT_MS in r or Key.ITL_MS in r for r in load["records"])
    full = bench.load_jsonl()
    assert len(full) == 32
    slim = {(r[Key.POINT], r["request"]): r for r in load["records"]}
    for record in full:
        kept = slim[(record[Key.POINT], record["request"])]
        assert len(record[Key.EVENT_MS]) == TOKENS and len(record[Key.ITL_MS]) == TOKENS - 1
        assert record[Key.STEADY] == kept[Key.STEADY]
        lists = (Key.EVENT_MS, Key.ITL_MS, Key.ICL_MS)
        added = ("status", "test")  # by the recorder
        assert {k: v for k, v in record.items() if k not in lists} == {
            k: v for k, v in kept.items() if k not in added
        }
    # the ITL percentiles are those of every gap of the full records
    gaps = sorted(
        g for r in full if r[Key.POINT] == "c8" for g in r[Key.ITL_MS]
    )  # float32: 7 digits
    itl = c8["percentiles"][Key.ITL_MS]
    assert itl["n"] == len(gaps) and itl["max"] == pytest.approx(gaps[-1], rel=1e-6)
    assert itl["p50"] == pytest.approx(statistics.median(gaps), rel=1e-6)
    # the terminal: the load table, one row per point
    stdout = result.stdout.str()
    assert " ".join(LOAD_COLUMNS) in " ".join(stdout.split())
    rows = _table_rows(stdout)
    assert set(rows) == {("embedded/sim-a", "c8"), ("embedded/sim-a", "r20poisson-m4")}, rows
    for cells in rows.values():
        assert _cell(cells, "errors") == "0/16"
        assert re.fullmatch(r"[\d,]+\.\d\d", _cell(cells, "goodput")), cells


def test_a_failing_point_fails_its_test_with_the_counts_and_the_session_goes_on(bench, hostile):
    # the sim's http_500 refuses the warm-up too; the hostile no_end passes it (its warm-up is a
    # whole HTTP answer) and then every request of the point ends without [DONE]
    _setup(
        bench,
        {"fine": SIM, "refused": {**SIM, "fault": "http_500"}},
        extra_providers={
            "hostile": _hostile_provider(hostile.base_url, "no_end", "ok"),
            "adapter": {
                "api_base": "http://127.0.0.1:9/v1",
                "client": "litellm",
                "model_prefix": "openai/",
                "models": [{"id": "some-model"}],
            },
        },
    )
    result = _run(bench, "-v", "-rA", "--llm-load", "concurrency=2", "--llm-load-requests", "6")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.assert_outcomes(passed=2, failed=2, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*test_load[[]embedded-fine-c2[]] PASSED*",
            "*test_load[[]embedded-refused-c2[]] FAILED*",
            "*test_load[[]hostile-no_end-c2[]] FAILED*",
            "*test_load[[]hostile-ok-c2[]] PASSED*",
            "*test_load[[]adapter-some-model-c2[]] SKIPPED*",
        ]
    )
    stdout = result.stdout.str()
    assert (
        "hostile/no_end c2: 6 of 6 requests failed (100% > max_error_rate 5%; stream 6); first: "
        "stream cut: the stream ended without [DONE] or a finish_reason"
    ) in stdout
    result.stdout.fnmatch_lines(["*embedded/refused c2: HTTP 500: *The server had an error*"])
    assert LITELLM_REASON in stdout
    assert "Traceback" not in stdout
    document = bench.results()
    points = {p["target"]: p for p in document["load"]["points"]}
    assert set(points) == {"embedded/fine", "hostile/no_end", "hostile/ok"}
    failed = points["hostile/no_end"]
    assert failed["started"] == failed["errors"] == 6 and failed["completed"] == 0
    assert failed["errors_by_kind"] == {"stream": 6}
    assert "error rate 100 % above the limit (5 %)" in failed["flags"]
    for record in document["load"]["records"]:
        if record[Key.TARGET] == "hostile/no_end":
            assert record["status"] == "failed" and not record[Key.OK]
            assert record[Key.ERROR_KIND] == "stream"
            assert record[Key.ERROR].startswith("stream cut: ")
            assert record[Key.TTFT_MS] is not None  # what came before the failure is measured
    skipped = [r for r in document["load"]["records"] if r["status"] == "skipped"]
    assert [(r[Key.TARGET], r[Key.REASON]) for r in skipped] == [
        ("adapter/some-model", LITELLM_REASON)
    ]
    rows = _table_rows(stdout)
    assert set(rows) == {(target, "c2") for target in points}, rows
    assert _cell(rows[("hostile/no_end", "c2")], "errors") == "6/6"
    assert "error rate 100 % above the limit" in _cell(rows[("hostile/no_end", "c2")], "flags")
    assert "hostile/no_end c2: errors by kind: stream 6" in stdout
    # without an SLO there is no goodput to show
    assert all(p["slos"] == [] for p in points.values())
    assert _cell(rows[("embedded/fine", "c2")], "goodput") == "—"
    assert _cell(rows[("embedded/fine", "c2")], "errors") == "0/6"


def test_a_warm_up_failure_is_one_message_naming_the_target_and_point(bench, hostile):
    _setup(bench, {}, extra_providers={"hostile": _hostile_provider(hostile.base_url,
                                                                    "echo_error")})  # fmt: skip
    result = _run(bench, "-rA", "--llm-load", "concurrency=1", "--llm-load-requests", "1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*hostile/echo_error c1: HTTP 401: *invalid credentials*"])
    assert "During handling of the above exception" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        ["FAILED test_load.py::test_load[[]hostile-echo_error-c1[]] - *hostile/echo_*"]
    )


def test_the_summary_names_a_skipped_load_target(bench):
    _setup(
        bench,
        {},
        extra_providers={
            "adapter": {
                "api_base": "http://127.0.0.1:9/v1",
                "client": "litellm",
                "model_prefix": "openai/",
                "models": [{"id": "some-model"}],
            }
        },
    )
    result = _run(bench, "--llm-load", "concurrency=1", "--llm-load-requests", "1")
    result.assert_outcomes(skipped=1)
    assert bench.results()["load"]["records"][0][Key.REASON] == LITELLM_REASON
    assert f"skipped adapter/some-model: {LITELLM_REASON}" in result.stdout.str()


def test_a_point_past_the_descriptor_limit_fails_alone_and_the_results_are_written(bench):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1024:
        pytest.skip(f"the hard descriptor limit is {hard}")
    _setup(bench, {"sim-a": {**SIM, "output_tokens": 4}}, tokens=4)
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))  # inherited by the session
    try:
        result = _run(bench, "--llm-load", "concurrency=1024", "--llm-load-requests", "1024")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output, output[-3000:]
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED), output[-3000:]
    assert bench.results()["load"]["records"]
    if result.ret == pytest.ExitCode.TESTS_FAILED:  # the point, alone, saying why
        reasons = ("open files", "Too many open files", "total deadline")
        assert any(reason in output for reason in reasons), output[-3000:]


# -- sweep and search ------------------------------------------------------------------------------
def test_a_sweep_runs_its_points_and_lists_them(bench):
    _setup(bench, {"sim-a": {**SIM, "output_tokens": 8}}, tokens=8)
    result = _run(bench, "-v", "--llm-load", "sweep", "--llm-load-duration", "1")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*test_load[[]embedded-sim-a-sweep[]] PASSED*"])
    document = bench.results()
    load = document["load"]
    names = [p["point"] for p in load["points"]]
    # c1, the rates between (lowest first, Poisson), c64
    assert names[0] == "sweep-c1" and names[-1] == "sweep-c64", names
    rates = names[1:-1]
    assert all(re.fullmatch(r"sweep-r[\d.]+poisson", name) for name in rates), names
    values = [p["rate"] for p in load["points"][1:-1]]
    assert values == sorted(values) and len(set(values)) == len(values)
    assert 1 <= len(rates) <= 6
    for point in load["points"]:
        assert point["test"] == "test_load.py::test_load[embedded-sim-a-sweep]"
        assert point["started"] > 0 and point["errors"] == 0, point["point"]
    assert load["points"][0]["concurrency"] == 1 and load["points"][-1]["concurrency"] == 64
    assert {r[Key.POINT] for r in load["records"]} == set(names)
    assert document["records"] == []
    assert {point for _, point in _table_rows(result.stdout.str())} == set(names)


def test_a_search_finds_a_capacity_and_reports_it(bench):
    # The default sim has no knee: the search stops where this machine stops keeping up (a
    # TTFT p50 over 30 ms, from the sim's 20), somewhere around c64..c256 on two cores, or at
    # the search's maximum. Only what is stable is asserted.
    _setup(bench, {"sim-a": {**SIM, "output_tokens": 8}}, tokens=8)
    result = _run(
        bench, "-v", "--llm-load", "search", "--llm-load-slo", "ttft_ms.p50 <= 30",
        "--llm-load-duration", "1",
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*test_load[[]embedded-sim-a-search[]] PASSED*"])
    load = bench.results()["load"]
    (capacity,) = load["capacities"]
    assert capacity[Key.TARGET] == "embedded/sim-a"
    assert capacity["kind"] == "concurrency" and capacity["slos"] == ["ttft_ms.p50 <= 30"]
    names = [p["point"] for p in load["points"]]
    assert names[:3] == ["search-c1", "search-c2", "search-c4"], names  # it doubles
    tried = [step["value"] for step in capacity["steps"]]
    assert [f"search-c{value:g}" for value in tried] == names
    value = capacity["value"]
    assert value is not None and value in tried  # c1 meets the SLO on any machine
    passed = {step["value"] for step in capacity["steps"] if step["verdict"]["passed"]}
    assert value == max(passed)
    assert capacity["bracket"][0] == value
    shown = f"capacity embedded/sim-a: c{value:g} under ttft_ms.p50 <= 30 (passes c{value:g}"
    assert shown in result.stdout.str()
    assert {point for _, point in _table_rows(result.stdout.str())} == set(names)


# -- secrets ---------------------------------------------------------------------------------------
def test_a_targets_key_is_in_no_output(bench, monkeypatch, hostile):
    # echo_error repeats the Authorization header in the warm-up's 401; echo_event passes the
    # warm-up and repeats it in an error event of every request
    monkeypatch.setenv(KEY_ENV, SECRET)
    provider = _hostile_provider(hostile.base_url, "echo_error", "echo_event", "ok", key=True)
    _setup(bench, {}, extra_providers={"hostile": provider})
    result = _run(
        bench, "-v", "-rA", "--llm-verbose", "--llm-load", "concurrency=2",
        "--llm-load-requests", "4",
    )  # fmt: skip
    result.assert_outcomes(passed=1, failed=2)
    outputs = {"stdout": result.stdout.str(), "stderr": result.stderr.str()}
    for path in bench.results_dir.iterdir():
        outputs[path.name] = path.read_text(encoding="utf-8", errors="replace")
    assert {Path(name).suffix for name in outputs} >= {".json", ".jsonl", ".html"}, outputs
    for name, text in outputs.items():
        assert SECRET not in text, f"the key is in {name}"
    result.stdout.fnmatch_lines(
        [
            "*hostile/echo_error c2: HTTP 401: *the request had Authorization: Bearer [*][*][*]*",
            "*hostile/echo_event c2: 4 of 4 requests failed*first: error event in stream: "
            "upstream refused the header Authorization: Bearer [*][*][*]*",
        ]
    )
    records = [r for r in bench.results()["load"]["records"] if r["model"] == "echo_event"]
    assert len(records) == 4
    assert all("Authorization: Bearer ***" in r[Key.ERROR] for r in records)
