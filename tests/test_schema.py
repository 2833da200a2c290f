"""The results schema is the one place that spells a metric, and it matches docs/metrics.md and
what the measuring code produces."""

from __future__ import annotations

import ast
import dataclasses
import re
import typing
from pathlib import Path

from pytest_llmbench.measure.metrics import Measurement
from pytest_llmbench.measure.stream import Sample
from pytest_llmbench.results.records import sample_records
from pytest_llmbench.schema import (
    AGGREGATED_FIELDS,
    GATED_FIELDS,
    HIGHER_IS_BETTER,
    LOWER_IS_BETTER,
    METRICS,
    Key,
    Record,
)

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "pytest_llmbench"
METRIC_KEYS = {m.key for m in METRICS} | {Key.EVENT_MS}
#: Where a metric's name may be spelled: the schema, the report's labels, and the modules that
#: speak another party's vocabulary, not our records: the providers' wire formats (OpenAI's
#: ``usage.prompt_tokens``) in clients/, and the servers' own (the simulator's profile keys, its
#: truth log, llama.cpp's log) in servers/. Neither builds nor reads a record.
ALLOWED = ("schema/", "outputs/report/glossary.py", "clients/", "servers/")


def _literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and node.value in METRIC_KEYS
    ]


def test_no_module_spells_a_metric_key_but_the_schema():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(ALLOWED):
            continue
        found += [f"{relative}:{line}: {value!r}" for line, value in _literals(path)]
    assert not found, "use schema.Key instead:\n" + "\n".join(found)


def test_the_check_sees_a_literal_but_not_a_docstring(tmp_path):
    path = tmp_path / "m.py"
    path.write_text('"""ttft_ms in a docstring."""\nx = record["ttft_ms"]\ny = "ttft"\n')
    assert _literals(path) == [(2, "ttft_ms")]


def test_every_per_request_field_of_the_contract_is_a_metric():
    contract = (REPO / "docs" / "metrics.md").read_text()
    table = contract.split("## Per request", 1)[1].split("\n## ", 1)[0]
    first_cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    fields = {name for cell in first_cells for name in re.findall(r"`([a-z0-9_]+)", cell)}
    assert fields, "the contract's table was not found"
    assert fields <= METRIC_KEYS, fields - METRIC_KEYS


def test_every_metric_is_a_record_field_with_a_direction_where_it_has_one():
    fields = typing.get_type_hints(Record)
    assert {m.key for m in METRICS} <= set(fields)
    assert set(AGGREGATED_FIELDS) <= GATED_FIELDS | {Key.PROMPT_TOKENS}
    assert not HIGHER_IS_BETTER & LOWER_IS_BETTER
    for metric in METRICS:
        if metric.unit == "tok/s":
            assert metric.better == "higher", metric
        elif metric.unit == "ms":
            assert metric.better == "lower", metric


def test_a_measured_record_holds_only_schema_fields():
    fields = set(typing.get_type_hints(Record))
    texts = {Key.ANSWER, Key.REASONING}  # kept as a preview and lengths, not stored whole
    measured = {f.name for f in dataclasses.fields(Measurement)}
    assert measured - texts <= fields, measured - texts - fields
    case = {Key.TARGET: "p/m", Key.PROVIDER: "p", Key.MODEL: "m", Key.TIER: 0, Key.RUN: 1}
    sample = Sample(Measurement(ok=True, answer="x" * 500), extra={Key.TURN: 3})
    (record,) = sample_records(case, [sample])
    assert set(record) <= fields, set(record) - fields
    assert record[Key.ANSWER_CHARS] == 500
    assert len(record[Key.ANSWER_PREVIEW]) < 500
