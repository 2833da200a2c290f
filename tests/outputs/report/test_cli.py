"""``llmbench report``: files in, one page out; unusable files are a clear exit 2."""

from __future__ import annotations

import json

import pytest

from pytest_llmbench.cli import main
from pytest_llmbench.outputs.report import ReportInputError, load_document

from .builder import minimal_document


def test_report_writes_a_run_report_and_a_history(tmp_path, capsys):
    files = []
    for day in (2, 1):
        doc = minimal_document()
        doc["metadata"]["started"] = f"2026-01-0{day}T00:00:00+00:00"
        files.append(tmp_path / f"run{day}.json")
        files[-1].write_text(json.dumps(doc))
    out = tmp_path / "single.html"
    assert main(["report", str(files[0]), "-o", str(out)]) == 0
    assert "run report" in out.read_text(encoding="utf-8")
    assert f"report: {out} (run report" in capsys.readouterr().out
    out = tmp_path / "history.html"
    assert main(["report", *map(str, files), "--output", str(out)]) == 0
    assert "history: 2 runs" in out.read_text(encoding="utf-8")


def test_report_reads_a_jsonl_record_stream(tmp_path):
    path = tmp_path / "crashed.jsonl"
    path.write_text(json.dumps(minimal_document()["records"][0]) + "\n\n")
    assert load_document(path)["records"][0]["model"] == "m"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{", "not valid JSON"),
        ("[1, 2]", "not a pytest-llmbench results file"),
        ('{"records": {}}', "not a pytest-llmbench results file"),
        (b"\xff\xfe", "cannot read"),
    ],
)
def test_unusable_files_exit_2_naming_the_file(tmp_path, capsys, content, message):
    path = tmp_path / "bad.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(path), "-o", str(tmp_path / "out.html")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"llmbench report: error: {path}: {message}"), err
    assert "Traceback" not in err
    assert not (tmp_path / "out.html").exists()


def test_bad_jsonl_line_names_the_line(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"a": 1}\nnot json\n')
    with pytest.raises(ReportInputError, match=r"r\.jsonl:2: not valid JSON"):
        load_document(path)


def test_report_needs_files(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["report"])
    assert exit_info.value.code == 2
    assert "FILE" in capsys.readouterr().err


@pytest.mark.parametrize(("name", "depth"), [("deep.json", 100_000), ("deep.jsonl", 100_000)])
def test_json_nested_too_deeply_exits_2_with_a_message(tmp_path, capsys, name, depth):
    path = tmp_path / name
    path.write_text("[" * depth + "]" * depth + "\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(path), "-o", str(tmp_path / "out.html")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    where = f"{path}:1" if name.endswith("l") else str(path)
    assert err.startswith(f"llmbench report: error: {where}: nested too deeply"), err[:500]
    assert "Traceback" not in err


def test_records_that_are_not_objects_are_refused(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"records": [minimal_document()["records"][0], [1]]}))
    with pytest.raises(ReportInputError, match=r"r\.json: records\[1\] is not a JSON object"):
        load_document(path)
