"""The built wheel on its own: installed into a fresh virtual environment outside the repository,
it runs a user's own conversation test against the built-in server with the conversation that
ships in the package, whatever folder the config lies in.

No network: the wheel is built with this environment's setuptools (``--no-build-isolation``) and
installed with ``--no-deps``; the fresh environment sees this one's dependencies through a ``.pth``
file holding this site-packages' path. A plain path line adds the folder to ``sys.path`` but does
not run the ``.pth`` files inside it, so the editable install's finder (the repository's
``pytest_llmbench``) stays out, which the test checks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# The user's own conversation test, written the way benchmarks/test_conversation.py is.
USER_TEST = """\
import pytest


@pytest.mark.asyncio
async def test_conversation(llm_conversation):
    record = await llm_conversation.send()
    assert record.output_tokens > 0, "the model returned no tokens"
"""
FAST = {"ttft_ms": 5, "itl_ms": 1, "output_tokens": 16}
CONFIG = {
    "defaults": {"max_tokens": 64, "context_tiers": [0], "timeout_s": 10},
    "providers": {
        "embedded": {
            "managed": "simulator",
            "models": [{"id": "sim-fast", "sim": FAST}],
        }
    },
    "conversation": {"turns": 3, "max_tokens": 64},  # no "prompts": the built-in conversation
}
TURNS = 3
# Where the fresh environment imports pytest_llmbench from, and the site folder of the first
# distribution with a pytest11 "llmbench" entry point (pluggy registers that one, skips the rest).
WHERE = """\
import importlib.metadata
import pytest, pytest_llmbench
print(pytest_llmbench.__file__)
for dist in importlib.metadata.distributions():
    if any(ep.group == "pytest11" and ep.name == "llmbench" for ep in dist.entry_points):
        print(dist.locate_file(""))
        break
"""


def _run(args: list[str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYTEST"))}
    env["PIP_NO_INDEX"] = "1"  # nothing from the network, even by mistake
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _build_wheel(tmp_path: Path) -> Path:
    """Build from a copy of the build's inputs, so no build/ or egg-info lands in the checkout
    (and no stale build/lib of an earlier layout gets into the wheel)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(
        REPO / "pytest_llmbench",
        source / "pytest_llmbench",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    dist = tmp_path / "dist"
    built = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dist),
            str(source),
        ],
        cwd=tmp_path,
    )
    # A setuptools older than the test extra's (>=77) fails here on project.license.
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("pytest_llmbench-*.whl")
    return wheel


def _fresh_venv(tmp_path: Path, wheel: Path) -> tuple[Path, Path]:
    """A new environment with the wheel and, through a .pth path line, this one's packages."""
    root = tmp_path / "fresh-venv"
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(root)
    python = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=tmp_path,
        ).stdout.strip()
    )
    assert site.is_relative_to(root), site
    outer = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (site / "outer-site-packages.pth").write_text("".join(f"{path}\n" for path in outer))
    installed = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        cwd=tmp_path,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return python, site


def test_the_wheel_runs_a_conversation_from_anywhere(tmp_path):
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read("pytest_llmbench-0.1.0.dist-info/entry_points.txt").decode()
    for data in ("lalm_conversation.json", "lalm_conversation.schema.json", "cl100k_base.tiktoken"):
        assert f"pytest_llmbench/data/{data}" in names
    assert "pytest_llmbench/py.typed" in names
    assert "[pytest11]" in entry_points
    assert "llmbench = pytest_llmbench.plugin.hooks" in entry_points

    python, site = _fresh_venv(tmp_path, wheel)
    project = tmp_path / "project"
    elsewhere = tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    (project / "test_mine.py").write_text(USER_TEST)
    (elsewhere / "config.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False))

    where = _run([str(python), "-c", WHERE], cwd=project)
    assert where.returncode == 0, where.stderr
    module, entry_point = (Path(line) for line in where.stdout.splitlines())
    assert module.is_relative_to(site), module
    assert not module.is_relative_to(REPO), module
    # The first pytest11 "llmbench" entry point, the one pluggy loads, is the wheel's.
    assert entry_point == site, entry_point

    result = _run(
        [
            str(python),
            "-m",
            "pytest",
            "test_mine.py",
            "--llm-config",
            str(elsewhere / "config.yaml"),
            "-k",
            "embedded",
            "-p",
            "no:cacheprovider",
            "-v",
            "--trace-config",
        ],
        cwd=project,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # pytest found the plugin through the wheel's pytest11 entry point, in the fresh environment.
    hooks = site / "pytest_llmbench" / "plugin" / "hooks.py"
    assert f"PLUGIN registered: <module 'pytest_llmbench.plugin.hooks' from '{hooks}'>" in output
    assert str(REPO / "pytest_llmbench") not in output
    for turn in range(1, TURNS + 1):
        assert f"test_conversation[embedded-sim-fast-turn{turn:03d}] PASSED" in output, output
    assert f"{TURNS} passed" in output
    assert f"conversation embedded/sim-fast: {TURNS}/{TURNS} turns" in output
    # The per-test JSON lines, wherever the rootdir put them ("results: <path>.jsonl").
    (jsonl,) = (
        Path(line.split(": ", 1)[1])
        for line in result.stdout.splitlines()
        if line.startswith("results: ") and line.endswith(".jsonl")
    )
    turns = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [t["turn"] for t in turns] == list(range(1, TURNS + 1))
    assert [t["turn_tier"] for t in turns] == ["Foundations"] * TURNS
