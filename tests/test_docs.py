"""Documentation that must not drift from the code or the shared contract."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_METRICS = REPO.parent / "shared" / "METRICS.md"


@pytest.mark.skipif(not SHARED_METRICS.exists(), reason="no ../shared beside this checkout")
def test_metrics_doc_is_the_shared_contract():
    ours = (REPO / "docs" / "metrics.md").read_text()
    ours = re.sub(r"\n<!--.*?-->\n", "", ours, count=1)
    assert ours == SHARED_METRICS.read_text()


def test_ci_runs_exactly_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    command = next(
        line
        for line in readme.splitlines()
        if line.startswith("python3 -m venv") and "pytest tests" in line
    )
    assert command in (REPO / ".ci" / "run").read_text()


def test_readme_documents_every_option():
    from pytest_llmbench.config.options import _OPTIONS

    readme = (REPO / "README.md").read_text()
    for flag, ini, *_ in _OPTIONS:
        assert f"`{flag}" in readme and f"`{ini}`" in readme, flag


ARCHITECTURE = REPO / "docs" / "architecture.md"


def test_architecture_names_every_folder_and_only_real_ones():
    text = ARCHITECTURE.read_text()
    package = REPO / "pytest_llmbench"
    folders = {
        p.parent.relative_to(package).as_posix() + "/"
        for p in package.rglob("__init__.py")
        if p.parent != package
    }
    named = set(re.findall(r"`((?:[a-z_]+/)+)`", text))
    assert folders <= named, f"folders missing from docs/architecture.md: {folders - named}"
    tests_named = {n for n in named if n.startswith("tests/")}
    assert all((REPO / n).is_dir() for n in tests_named), tests_named
    assert all((package / n).is_dir() for n in named - tests_named), named - folders
    for link in re.findall(r"\]\((\.\./[^)#]+)\)", text):
        assert (ARCHITECTURE.parent / link).exists(), link


def test_readme_links_the_architecture():
    assert "(docs/architecture.md)" in (REPO / "README.md").read_text()
