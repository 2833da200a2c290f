"""The package's layout holds: data flows one way through the stages, nothing imports in a
circle, names say what they are, and modules and functions stay short.

The stages, in the order data flows (docs/architecture.md): each imports only from itself and
the stages before it. ``schema``, ``tokens`` and ``validation`` are the base every folder may
import; ``clients/`` and ``servers/`` stand apart and import nothing of the package but the base.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "pytest_llmbench"
BASE = ("schema", "timers", "tokens", "validation")
STAGES = (
    "config",
    "matrix",
    "measure",
    "conversation",
    "results",
    "gate",
    "outputs",
    "plugin",
    "dashboard",
    "cli",
)
APART = ("clients", "servers")
#: Long functions allowed: their docstring says why (see test_functions_are_short).
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 400


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path, known: set[str]) -> Iterator[tuple[int, str]]:
    """``(line, module)`` for every import of the package in ``path``, at any depth (imports
    inside functions and under ``TYPE_CHECKING`` count: they are dependencies all the same)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == root.name:
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.split(".")[0] != root.name:
                continue
            for alias in node.names:  # "from . import fixtures" imports a module
                sub = f"{target}.{alias.name}"
                yield node.lineno, sub if sub in known else target


def unit_of(module: str) -> str:
    """The stage, base module or apart folder a module belongs to (``""``: the package root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layout_problems(root: Path) -> list[str]:
    """Every import that runs against the flow, and every import cycle, in package ``root``."""
    files = sorted(root.rglob("*.py"))
    known = {module_name(f, root) for f in files}
    graph: dict[str, set[str]] = {m: set() for m in known}
    problems = []
    for path in files:
        source = module_name(path, root)
        here = unit_of(source)
        for line, target in imports_of(path, root, known):
            graph[source].add(target)
            there = unit_of(target)
            where = f"{path.relative_to(root.parent)}:{line}: {source} imports {target}"
            if here in ("", there) or there in BASE:
                continue
            if here in BASE:
                problems.append(f"{where} (the base imports nothing of the package)")
            elif here in APART:
                problems.append(f"{where} ({here}/ imports no stage)")
            elif there in STAGES and here in STAGES and STAGES.index(there) > STAGES.index(here):
                problems.append(f"{where} (a later stage: {there} comes after {here})")
            elif there == "":
                problems.append(f"{where} (the package root only re-exports)")
    problems += [f"import cycle: {' -> '.join(cycle)}" for cycle in _cycles(graph)]
    return problems


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of modules (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append([*sorted(group), sorted(group)[0]])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_folder_is_a_known_stage():
    units = {unit_of(module_name(p, PACKAGE)) for p in PACKAGE.rglob("*.py")}
    assert units - {""} <= set(STAGES) | set(BASE) | set(APART)
    assert set(STAGES) | set(BASE) | set(APART) <= units


def test_imports_follow_the_flow_and_make_no_cycle():
    problems = layout_problems(PACKAGE)
    assert not problems, "\n".join(problems)


def _fake_package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pytest_llmbench"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"config/a.py": "from ..results import b\n", "results/b.py": ""}, "a later stage"),
        ({"measure/a.py": "def f():\n    from ..plugin.x import y\n", "plugin/x.py": ""}, "later"),
        ({"servers/a.py": "from ..config import b\n", "config/b.py": ""}, "imports no stage"),
        ({"schema.py": "from .config import b\n", "config/b.py": ""}, "the base imports"),
        ({"results/a.py": "from . import b\n", "results/b.py": "from .a import c\n"}, "cycle"),
    ],
)
def test_the_check_catches_backward_imports_and_cycles(tmp_path, files, problem):
    root = _fake_package(tmp_path, {"__init__.py": "", **files})
    problems = layout_problems(root)
    assert any(problem in p for p in problems), problems


def test_the_check_allows_forward_imports(tmp_path):
    files = {
        "__init__.py": "",
        "schema.py": "",
        "config/a.py": "from ..schema import K\n",
        "results/b.py": "from ..config.a import x\nfrom ..servers import s\n",
        "servers/__init__.py": "from ..schema import K\n",
    }
    assert layout_problems(_fake_package(tmp_path, files)) == []


def _public_definitions() -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
            if isinstance(node, kinds) and not node.name.startswith("_"):
                names.setdefault(node.name, []).append(module_name(path, PACKAGE))
    return names


def test_no_two_public_definitions_share_a_name():
    # ``main`` is what ``python -m`` and console scripts run: each program has its own.
    twice = {n: m for n, m in _public_definitions().items() if len(m) > 1 and n != "main"}
    assert not twice, twice


def test_no_two_modules_share_a_name():
    # ``__init__`` and ``__main__`` are Python's, and ``server`` is each server kind's.
    stems: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        stems.setdefault(path.stem, []).append(str(path.relative_to(PACKAGE)))
    allowed = ("__init__", "__main__", "server")
    twice = {s: p for s, p in stems.items() if len(p) > 1 and s not in allowed}
    assert not twice, twice


def test_modules_are_short():
    long = {
        str(p.relative_to(REPO)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, long


def test_functions_are_short_or_say_why():
    long = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            doc = ast.get_docstring(node) or ""
            if lines > MAX_FUNCTION_LINES and "longer than" not in doc:
                long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}: {lines} lines")
    assert not long, "\n".join(long)


def test_comments_speak_of_this_project_only():
    # The project's own documents are in the repository (docs/); an upstream bug may be named.
    outside = re.compile(
        r"\.\./shared|shared/METRICS|(studio|context-window|lalm) seed|\bthe seeds?\b|"
        r"(?<!xdist )\bissue \d"
    )
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in PACKAGE.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if outside.search(line)
    ]
    assert not found, "\n".join(found)
