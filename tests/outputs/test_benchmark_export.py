"""--llm-export-benchmark writes pytest-benchmark JSON that `pytest-benchmark compare` reads."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..sessions import sim_config

FAST = {"ttft_ms": 5, "itl_ms": 1, "output_tokens": 12}


def test_export_is_read_by_pytest_benchmark_compare(bench):
    pytest.importorskip("pytest_benchmark")
    compare = shutil.which("pytest-benchmark", path=str(Path(sys.executable).parent))
    if compare is None:
        pytest.skip("the pytest-benchmark console script is not installed")
    bench.setup(sim_config({"sim-a": FAST}, tiers=(0, 100)))
    for name in ("first.json", "second.json"):
        result = bench.run("--llm-runs", "3", "--llm-export-benchmark", name)
        assert result.ret == 0, result.stdout.str()
    document = json.loads((bench.pytester.path / "first.json").read_text())
    entries = {b["name"]: b for b in document["benchmarks"]}
    assert set(entries) == {
        f"{metric}[embedded/sim-a-ctx{tier}]"
        for metric in ("ttft_ms", "ttfa_ms", "tpot_ms", "e2e_ms")
        for tier in (0, 100)
    }
    ttft = entries["ttft_ms[embedded/sim-a-ctx0]"]
    assert ttft["stats"]["rounds"] == 3
    assert len(ttft["stats"]["data"]) == 3
    assert 0.004 < ttft["stats"]["median"] < 0.05  # seconds
    result = subprocess.run(
        [compare, "compare", "first.json", "second.json", "--group-by", "name"],
        cwd=bench.pytester.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "ttft_ms[embedded/sim-a-ctx100]" in result.stdout
    assert "first" in result.stdout and "second" in result.stdout
