"""The layout's rules, read from the code (every import, at any depth): `core/` is what every
side shares, `pipelines/` writes, `queries/` reads, `dashboard/` renders, `cli/` is the command
line over all of them. Imports run one way (README, "Architecture"):
cli -> dashboard | pipelines -> queries -> core, never back; `benchmarks/` times the product and
never imports `tests/`; and no import cycle between modules."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("core", "queries", "pipelines", "dashboard", "cli", "benchmarks", "tests")
FORBIDDEN = {  # importer -> packages it must never import
    "core": {"queries", "pipelines", "dashboard", "cli", "benchmarks", "tests"},
    "queries": {"pipelines", "dashboard", "cli", "benchmarks", "tests"},
    "pipelines": {"dashboard", "cli", "benchmarks", "tests"},
    "dashboard": {"pipelines", "cli", "benchmarks", "tests"},
    "cli": {"tests"},  # `pulse bench` (cli/bench.py) runs benchmarks/
    "benchmarks": {"cli", "tests"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Every project module and the project modules it imports (a `from a import b` of a
    module b counts as a.b)."""
    modules = {module_name(p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found |= {
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                    for a in node.names
                }
        graph[name] = {m for m in found if m.split(".")[0] in PACKAGES and m in modules}
    return graph


def test_imports_run_one_way() -> None:
    graph = imports()
    assert len(graph) > 80
    wrong = sorted(
        f"{importer} imports {target}"
        for importer, targets in graph.items()
        for target in targets
        if target.split(".")[0] in FORBIDDEN.get(importer.split(".")[0], set())
    )
    assert wrong == []


def test_no_import_cycle() -> None:
    graph = imports()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                cycles.append([*path[path.index(t) :], t])
            elif t not in state:
                visit(t, [*path, t])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []
