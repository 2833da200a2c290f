"""``--llm-parallel providers`` under pytest-xdist (the studio's concurrency): every test of one
provider runs on one worker, its models one after another in order, and the providers side by
side on different workers; without pytest-xdist's ``--dist load`` it is a usage error."""

from __future__ import annotations

import re
import sys

import pytest

from ..sessions import BenchProject, sim_config

FAST = {"ttft_ms": 5, "itl_ms": 1, "output_tokens": 4}


def _setup(bench: BenchProject) -> None:
    second = {
        "managed": "simulator",
        "models": [{"id": "c", "sim": FAST}, {"id": "d", "sim": FAST}],
    }
    bench.setup(sim_config({"a": FAST, "b": FAST}, extra_providers={"second": second}))


@pytest.mark.skipif(sys.platform != "linux", reason="xdist runs checked on Linux CI")
def test_each_providers_models_run_in_order_on_one_worker_and_providers_side_by_side(
    bench: BenchProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT"):
        monkeypatch.delenv(name, raising=False)
    _setup(bench)
    result = bench.run("-p", "no:randomly", "-n", "2", "-v", "--llm-runs", "2",
                       "--llm-parallel", "providers")  # fmt: skip
    out = result.stdout.str()
    assert result.ret == 0, out
    ran = re.findall(r"\[(gw\d)\] \[\s*\d+%\] PASSED \S+\[(\w+)-(\w)-ctx0-run(\d)\]", out)
    assert len(ran) == 8, out
    by_provider: dict[str, set[str]] = {}
    order: dict[str, list[tuple[str, str]]] = {}
    for worker, provider, model, run in ran:
        by_provider.setdefault(provider, set()).add(worker)
        order.setdefault(provider, []).append((model, run))
    assert all(len(workers) == 1 for workers in by_provider.values()), by_provider
    assert by_provider["embedded"] != by_provider["second"], by_provider  # side by side
    assert order["embedded"] == [("a", "1"), ("a", "2"), ("b", "1"), ("b", "2")], order
    assert order["second"] == [("c", "1"), ("c", "2"), ("d", "1"), ("d", "2")], order


def test_without_xdist_it_is_a_usage_error(bench: BenchProject) -> None:
    _setup(bench)
    result = bench.run("-p", "no:randomly", "--llm-parallel", "providers")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--llm-parallel providers: providers run side by side only*"])
