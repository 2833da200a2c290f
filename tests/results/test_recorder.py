"""The session's records: built per test, streamed to ``.jsonl``, written as one JSON at the end."""

import json
import os
import statistics
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_llmbench.measure.metrics import Measurement
from pytest_llmbench.measure.stream import Sample
from pytest_llmbench.results.calibration import calibration
from pytest_llmbench.results.recorder import Recorder
from pytest_llmbench.results.records import PREVIEW_CHARS, outcome, sample_records
from pytest_llmbench.results.stats import aggregate
from pytest_llmbench.schema import SCHEMA_VERSION

CASE = {
    "target": "prov/model",
    "provider": "prov",
    "model": "model",
    "display_name": "Model",
    "client": "lean",
    "simulated": False,
    "tier": 0,
    "run": 1,
}


def _record(i, **fields):
    return {**CASE, "test": f"t.py::test[{i}]", "request": 0, "ok": True, "status": "passed",
            "ttft_ms": 10.0 + i, **fields}  # fmt: skip


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _open_fds_to(path):
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        pytest.skip("needs /proc/self/fd")
    target = os.path.realpath(path)
    found = 0
    for fd in fd_dir.iterdir():
        try:
            if os.path.realpath(fd) == target:
                found += 1
        except OSError:
            continue
    return found


# --- Recorder: names ------------------------------------------------------------------------


def test_open_keeps_a_free_stamp(tmp_path):
    recorder = Recorder.open("20260101-120000", tmp_path)
    assert recorder.stamp == "20260101-120000"
    assert recorder.jsonl_path == tmp_path / "20260101-120000.jsonl"
    assert recorder.json_path == tmp_path / "20260101-120000.json"


def test_open_picks_the_next_free_suffix(tmp_path):
    (tmp_path / "stamp.jsonl").write_text("")
    assert Recorder.open("stamp", tmp_path).stamp == "stamp-2"
    (tmp_path / "stamp-2.jsonl").write_text("")
    assert Recorder.open("stamp", tmp_path).stamp == "stamp-3"


def test_open_never_appends_to_an_earlier_sessions_file(tmp_path):
    earlier = tmp_path / "stamp.jsonl"
    earlier.write_text(json.dumps({"earlier": True}) + "\n", encoding="utf-8")
    recorder = Recorder.open("stamp", tmp_path)
    recorder.add(_record(1))
    assert _lines(earlier) == [{"earlier": True}]
    assert recorder.jsonl_path is not None and _lines(recorder.jsonl_path) == [_record(1)]


def test_without_a_results_dir_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recorder = Recorder.open("stamp", None)
    assert recorder.stamp == "stamp"
    assert recorder.jsonl_path is None and recorder.json_path is None
    recorder.add(_record(1))
    assert recorder.records == [_record(1)]
    assert recorder.finish(recorder.document({})) is None
    assert list(tmp_path.iterdir()) == []


# --- Recorder: the .jsonl ------------------------------------------------------------------------


def test_each_record_is_a_jsonl_line_as_soon_as_it_is_added(tmp_path):
    results = tmp_path / "results" / "nested"  # created on the first record
    recorder = Recorder.open("s", results)
    assert recorder.jsonl_path is not None
    for i in range(1, 4):
        recorder.add(_record(i))
        # read back by another reader before finish(): already on disk, one line per record
        assert _lines(recorder.jsonl_path) == [_record(k) for k in range(1, i + 1)]
    recorder.finish(recorder.document({}))


def test_jsonl_lines_survive_values_json_cannot_hold(tmp_path):
    recorder = Recorder.open("s", tmp_path)
    recorder.add(_record(1, path=Path("/x/y")))
    assert recorder.jsonl_path is not None
    (line,) = _lines(recorder.jsonl_path)
    assert line["path"] == str(Path("/x/y"))
    recorder.finish(recorder.document({}))


def test_finish_closes_the_jsonl(tmp_path):
    recorder = Recorder.open("s", tmp_path)
    recorder.add(_record(1))
    assert recorder.jsonl_path is not None
    assert _open_fds_to(recorder.jsonl_path) == 1
    recorder.finish(recorder.document({}))
    assert _open_fds_to(recorder.jsonl_path) == 0
    assert _lines(recorder.jsonl_path) == [_record(1)]


def test_finish_writes_the_document_atomically(tmp_path):
    recorder = Recorder.open("s", tmp_path)
    for i in range(3):
        recorder.add(_record(i))
    document = recorder.document({"python": "3.x", "where": Path("/tmp")})
    path = recorder.finish(document)
    assert path == tmp_path / "s.json" == recorder.json_path
    assert path is not None
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(document, default=str))
    assert not list(tmp_path.glob("*.partial"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json", "s.jsonl"]


def test_finish_replaces_a_stale_partial_and_an_old_json(tmp_path):
    (tmp_path / "s.json.partial").write_text("half a file")
    (tmp_path / "s.json").write_text("old")
    recorder = Recorder("s", tmp_path)
    path = recorder.finish({"schema_version": SCHEMA_VERSION})
    assert path is not None and json.loads(path.read_text()) == {"schema_version": SCHEMA_VERSION}
    assert not (tmp_path / "s.json.partial").exists()


# --- Recorder: reports and the document -------------------------------------------------------


def _report(status, longrepr=None, text=""):
    return SimpleNamespace(
        skipped=status == "skipped",
        failed=status == "failed",
        passed=status == "passed",
        longrepr=longrepr,
        longreprtext=text,
    )


def test_add_report_stamps_the_test_and_its_outcome(tmp_path):
    recorder = Recorder.open("s", tmp_path)
    measured = [{**CASE, "request": 0, "ok": True}, {**CASE, "request": 1, "ok": True}]
    recorder.add_report("t.py::a", _report("passed"), {"case": CASE, "records": measured})
    assert [(r["test"], r["status"], r["request"]) for r in recorder.records] == [
        ("t.py::a", "passed", 0),
        ("t.py::a", "passed", 1),
    ]
    assert recorder.jsonl_path is not None and _lines(recorder.jsonl_path) == recorder.records
    recorder.finish(recorder.document({}))


def test_add_report_of_a_skip_keeps_the_reason_and_the_case(tmp_path):
    recorder = Recorder.open("s", tmp_path)
    report = _report("skipped", ("t.py", 3, "Skipped: KEY is not set"))
    recorder.add_report("t.py::b", report, {"case": CASE, "records": []})
    (record,) = recorder.records
    assert record["status"] == "skipped" and record["reason"] == "KEY is not set"
    assert record["ok"] is False
    fields: Mapping[str, object] = record  # read by the case's keys, which are not literals
    assert {k: fields[k] for k in CASE} == CASE
    recorder.finish(recorder.document({}))


def test_add_report_of_a_failure_keeps_the_request_error_else_the_failure(tmp_path):
    recorder = Recorder.open("s", tmp_path)
    report = _report("failed", text="Traceback\n...\nE   assert 1 == 2")
    records = [{**CASE, "ok": False, "error": "HTTP 500: boom"}, {**CASE, "ok": True}]
    recorder.add_report("t.py::c", report, {"case": CASE, "records": records})
    assert [r["error"] for r in recorder.records] == ["HTTP 500: boom", "E   assert 1 == 2"]
    assert {r["status"] for r in recorder.records} == {"failed"}
    recorder.finish(recorder.document({}))


def test_document_holds_every_section(tmp_path):
    recorder = Recorder.open("s", tmp_path)
    records = [
        _record(1, truth={"ttft_ms": 10.5}),
        _record(2, tier=5000),
        _record(3, target="prov/other", model="other", ok=False, status="skipped"),
    ]
    turns = [
        _record(10 + t, tier=None, turn=t, prompt_tokens=100 * t, decode_tps=50.0) for t in (2, 1)
    ]
    for record in [*records, *turns]:
        recorder.add(record)
    document = recorder.document({"host": "here"})
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["metadata"] == {"host": "here"}
    assert document["records"] == [*records, *turns]
    assert document["aggregates"] == aggregate(recorder.records)
    assert [(a["target"], a["tier"]) for a in document["aggregates"]] == [
        ("prov/model", 0),
        ("prov/model", 5000),
        ("prov/other", 0),
    ]
    (conversation,) = document["conversations"]
    assert conversation["target"] == "prov/model"
    assert conversation["turns_measured"] == 2
    assert document["calibration"] == calibration(recorder.records)
    assert document["calibration"]["ttft_error_ms"]["n"] == 1
    assert document["crosscheck"] is None  # no llama.cpp timings
    json.dumps(document)  # plain data
    recorder.finish(document)


def test_document_of_an_empty_session(tmp_path):
    document = Recorder.open("s", tmp_path).document({})
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["records"] == []
    assert document["aggregates"] == []
    assert document["conversations"] == []
    assert document["calibration"] is None


# --- records: sample_records ---------------------------------------------------------------------


def _sample(answer="", reasoning="", truth=None, extra=None, server_timings=None, **fields):
    measurement = Measurement(ok=True, answer=answer, reasoning=reasoning, **fields)
    return Sample(measurement, truth=truth, extra=extra, server_timings=server_timings)


def test_sample_records_keep_a_preview_and_the_lengths_not_the_texts():
    answer = "".join(chr(ord("a") + i % 26) for i in range(PREVIEW_CHARS * 3 + 7))
    reasoning = "thinking " * 50
    (record,) = sample_records(CASE, [_sample(answer, reasoning, ttft_ms=12.5, output_tokens=9)])
    assert "answer" not in record and "reasoning" not in record
    assert record["answer_preview"] == answer[:PREVIEW_CHARS]
    assert len(record["answer_preview"]) == PREVIEW_CHARS
    assert record["answer_chars"] == len(answer)
    assert record["reasoning_chars"] == len(reasoning)
    assert reasoning not in json.dumps(record)
    assert record["ttft_ms"] == 12.5 and record["output_tokens"] == 9 and record["ok"] is True


def test_a_short_answer_is_previewed_whole():
    (record,) = sample_records(CASE, [_sample("short answer")])
    assert record["answer_preview"] == "short answer"
    assert record["answer_chars"] == len("short answer")
    assert record["reasoning_chars"] == 0


def test_sample_records_carry_the_case_index_truth_and_extra_fields():
    samples = [
        _sample("a", truth={"ttft_ms": 1.0}, extra={"turn": 3, "context_tokens": 77}),
        _sample("b", server_timings={"prompt_eval_ms": 4.0}),
        _sample("c"),
    ]
    records = sample_records(CASE, samples)
    assert [r["request"] for r in records] == [0, 1, 2]
    for record in records:
        fields: Mapping[str, object] = record  # read by the case's keys, which are not literals
        assert {k: fields[k] for k in CASE} == CASE
    assert records[0]["truth"] == {"ttft_ms": 1.0}
    assert records[0]["turn"] == 3 and records[0]["context_tokens"] == 77
    assert records[1]["truth"] is None
    assert records[1]["server_timings"] == {"prompt_eval_ms": 4.0}
    assert "server_timings" not in records[0] and "server_timings" not in records[2]
    assert "turn" not in records[1]


def test_extra_fields_win_over_measured_ones():
    sample = _sample("x", prompt_tokens=None, extra={"prompt_tokens": 1234, "context_limit": True})
    (record,) = sample_records(CASE, [sample])
    assert record["prompt_tokens"] == 1234 and record["context_limit"] is True


def test_sample_records_of_nothing():
    assert sample_records(CASE, []) == []


# --- records: outcome --------------------------------------------------------------------------


def test_outcome_of_a_pass():
    assert outcome(_report("passed")) == ("passed", None)


@pytest.mark.parametrize(
    ("longrepr", "reason"),
    [
        (("t.py", 3, "Skipped: KEY is not set"), "KEY is not set"),
        (("t.py", 3, "no prefix here"), "no prefix here"),
        ("not a tuple", None),
        (None, None),
    ],
)
def test_outcome_of_a_skip(longrepr, reason):
    assert outcome(_report("skipped", longrepr)) == ("skipped", reason)


def test_outcome_of_a_failure_is_its_last_line():
    report = _report("failed", text="Traceback (most recent call last):\n  ...\nE   boom\n\n")
    assert outcome(report) == ("failed", "E   boom")


def test_outcome_of_a_failure_is_cut_to_1000_characters():
    report = _report("failed", text="first\n" + "x" * 5000)
    status, message = outcome(report)
    assert status == "failed" and message == "x" * 1000


def test_outcome_of_a_failure_without_text():
    assert outcome(_report("failed", text="")) == ("failed", "failed")


# --- calibration ----------------------------------------------------------------------------------


def _calibrated(ttft, tpot, truth_ttft, truth_tpot, ok=True):
    return {"ok": ok, "ttft_ms": ttft, "tpot_ms": tpot,
            "truth": {"ttft_ms": truth_ttft, "tpot_ms": truth_tpot}}  # fmt: skip


def test_calibration_is_measured_minus_truth():
    records = [
        _calibrated(11.0, 10.2, 10.0, 10.0),  # +1 ms, +2 %
        _calibrated(19.5, 4.9, 20.0, 5.0),  # -0.5 ms, -2 %
        _calibrated(30.25, 8.0, 30.0, 8.0),  # +0.25 ms, 0 %
    ]
    result = calibration(records)
    assert result is not None
    ttft_errors = [1.0, -0.5, 0.25]
    tpot_errors = [2.0, -2.0, 0.0]
    assert result["ttft_error_ms"]["n"] == 3
    assert result["ttft_error_ms"]["mean"] == pytest.approx(statistics.fmean(ttft_errors))
    assert result["ttft_error_ms"]["max"] == pytest.approx(1.0)
    assert result["ttft_abs_max_ms"] == pytest.approx(1.0)
    assert result["tpot_error_pct"]["mean"] == pytest.approx(statistics.fmean(tpot_errors))
    assert result["tpot_abs_max_pct"] == pytest.approx(2.0)


def test_calibration_max_error_is_the_largest_in_size_whatever_the_sign():
    result = calibration([_calibrated(7.0, 9.0, 10.0, 10.0), _calibrated(11.0, 10.5, 10.0, 10.0)])
    assert result is not None
    assert result["ttft_abs_max_ms"] == pytest.approx(3.0)
    assert result["tpot_abs_max_pct"] == pytest.approx(10.0)


def test_calibration_uses_only_ok_records_with_truth():
    records = [
        _calibrated(11.0, 10.0, 10.0, 10.0),
        _calibrated(500.0, 99.0, 10.0, 10.0, ok=False),
        {"ok": True, "ttft_ms": 400.0, "tpot_ms": 3.0, "truth": None},
        {"ok": True, "ttft_ms": 400.0, "tpot_ms": 3.0},
    ]
    result = calibration(records)
    assert result is not None
    assert result["ttft_error_ms"]["n"] == 1
    assert result["ttft_abs_max_ms"] == pytest.approx(1.0)


def test_calibration_without_truth_is_none():
    assert calibration([]) is None
    assert calibration([{"ok": True, "ttft_ms": 5.0, "truth": None}]) is None


def test_calibration_without_a_tpot_truth_reports_only_ttft():
    records = [{"ok": True, "ttft_ms": 12.0, "tpot_ms": None, "truth": {"ttft_ms": 10.0}}]
    result = calibration(records)
    assert result is not None
    assert result["ttft_abs_max_ms"] == pytest.approx(2.0)
    assert result["tpot_error_pct"] == {"n": 0}
    assert result["tpot_abs_max_pct"] is None
