"""Reading a baseline (``--llm-baseline``): a results file or a compact baseline file, and every
malformed one refused with the file, the key and the problem (a ValueError, exit 4 upstream)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_llmbench.results.baseline import BASELINE_FORMAT, load_baseline, resolve, write_baseline
from pytest_llmbench.schema import Key

NAN = float("nan")
RECORD = {Key.OK: True, Key.TARGET: "p/m", Key.TIER: 0, Key.TTFT_MS: 40.0}


def _compact(*groups: Any) -> dict[str, Any]:
    return {"format": BASELINE_FORMAT, "version": 1, "groups": list(groups)}


def _file(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "base.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_a_written_baseline_reads_back(tmp_path):
    path = write_baseline(tmp_path / "b.json", [RECORD, {**RECORD, Key.TTFT_MS: 44.0}], None)
    samples, about = load_baseline(path)
    assert samples[("p/m", 0)][Key.TTFT_MS] == [40.0, 44.0]
    assert about["path"] == str(path)


def test_a_results_file_reads_too(tmp_path):
    samples, _ = load_baseline(_file(tmp_path, {"records": [RECORD], "metadata": {}}))
    assert samples == {("p/m", 0): {Key.TTFT_MS: [40.0]}}


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (_compact({"tier": 0, "samples": {}}), "groups[0].target: missing required key"),
        (_compact({"target": 7, "tier": 0}), "groups[0].target: must be a string, got 7"),
        (_compact({"target": "p/m", "tier": "x"}), "groups[0].tier: must be a whole number"),
        (_compact("p/m"), "groups[0]: must be an object, got 'p/m'"),
        ({"format": BASELINE_FORMAT, "groups": {}}, "groups: must be a list, got {}"),
        (
            _compact({"target": "p/m", "tier": 0, "samples": [1]}),
            "groups[0].samples: must be an object, got [1]",
        ),
        (
            _compact({"target": "p/m", "tier": 0, "samples": {"ttft_ms": 4}}),
            "groups[0].samples.ttft_ms: must be a list of numbers, got 4",
        ),
        (
            _compact({"target": "p/m", "tier": 0, "samples": {"ttft_ms": [1, "x"]}}),
            "groups[0].samples.ttft_ms[1]: must be a finite number, got 'x'",
        ),
        (
            _compact({"target": "p/m", "tier": 0, "samples": {"ttft_ms": [True]}}),
            "groups[0].samples.ttft_ms[0]: must be a finite number, got True",
        ),
        (
            json.dumps(_compact({"target": "p/m", "tier": 0, "samples": {"ttft_ms": [NAN]}})),
            "groups[0].samples.ttft_ms[0]: must be a finite number, got nan",
        ),
        ({"records": {"a": 1}}, "records: must be a list, got {'a': 1}"),
        ({"records": [RECORD, 3]}, "records[1]: must be an object, got 3"),
        ({"records": [], "metadata": []}, "metadata: must be an object, got []"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_a_malformed_baseline_names_file_key_and_problem(tmp_path, document, problem):
    path = _file(tmp_path, document)
    with pytest.raises(ValueError, match=r"^--llm-baseline: ") as info:
        load_baseline(path)
    message = str(info.value)
    assert message.startswith(f"--llm-baseline: {path}: "), message
    assert problem in message, message
    assert len(message) < len(str(path)) + 400, message[:600]


def test_a_directory_is_named_as_one(tmp_path):
    (tmp_path / "base").mkdir()
    with pytest.raises(ValueError, match=r"base is a directory, not a results or baseline file"):
        resolve("base", tmp_path, tmp_path)


def test_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        resolve("nope.json", tmp_path, tmp_path)
