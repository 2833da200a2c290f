"""Static checks as tests, so CI enforces them: ruff (lint and format) and mypy --strict."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return found


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(
            ["ruff", "check", "pytest_llmbench", "tests", "benchmarks", "perf"], id="ruff-check"
        ),
        pytest.param(["ruff", "format", "--check", "pytest_llmbench"], id="ruff-format"),
        pytest.param(["mypy"], id="mypy-strict"),
    ],
)
def test_static_check(args):
    result = subprocess.run(
        [_tool(args[0]), *args[1:]], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
