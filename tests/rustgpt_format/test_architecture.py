"""The package's shape: no import cycles, no hidden imports, models that touch no files."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("rustgpt_format", "rustgpt_model")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
}


def imported(node: ast.Import | ast.ImportFrom, module: str) -> Iterator[str]:
    """The project's modules an import statement names (a submodule when it names one)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names if alias.name in MODULES)
        return
    base = node.module or ""
    if node.level:  # relative: resolve against the importing module's package
        package = module.split(".")
        if MODULES[module].name != "__init__.py":
            package = package[:-1]
        base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
    for alias in node.names:
        if f"{base}.{alias.name}" in MODULES:
            yield f"{base}.{alias.name}"
        elif base in MODULES:
            yield base


def imports(module: str, *, top_level: bool) -> set[str]:
    """What ``module`` imports of the project, at its top level or inside functions."""
    tree = ast.parse(MODULES[module].read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        at_top = node in tree.body or any(
            isinstance(parent, (ast.If, ast.Try)) and node in ast.walk(parent)
            for parent in tree.body
        )
        if at_top == top_level:
            found |= set(imported(node, module))
    return found - {module}


GRAPH = {module: imports(module, top_level=True) for module in MODULES}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for child in sorted(graph.get(node, ())):
            if state.get(child) == 1:
                return [*stack[stack.index(child) :], child]
            if child not in state and (cycle := visit(child)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    graph = {name: set(children) for name, children in GRAPH.items()}
    graph["rustgpt_format.errors"].add("rustgpt_format.reading")  # reading -> ... -> errors
    assert find_cycle(graph) is not None


def test_no_module_imports_itself_back() -> None:
    assert find_cycle(GRAPH) is None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_function_imports_the_packages_own_modules(module: str) -> None:
    assert imports(module, top_level=False) == set()


def reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        for child in GRAPH[node] - seen:
            seen.add(child)
            todo.append(child)
    return seen


FILE_MODULES = {
    "rustgpt_format.reading",
    "rustgpt_format.writing",
    "rustgpt_format.atomic",
    "rustgpt_format.forms",
    "rustgpt_format.codec",
    "rustgpt_format.validation",
}


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if m.startswith("rustgpt_format.models"))
)
def test_models_import_nothing_that_reads_or_writes(module: str) -> None:
    touched = {
        m for m in reachable(module) if m in FILE_MODULES or m.startswith("rustgpt_format.forms")
    }
    assert touched == set()
    source = MODULES[module].read_text()
    for word in ("open(", "read_bytes", "write_bytes", "os.replace", "orjson"):
        assert word not in source, f"{module} mentions {word}"


def test_the_format_never_imports_the_model() -> None:
    assert not [
        m
        for m in MODULES
        if m.startswith("rustgpt_format")
        and any(child.startswith("rustgpt_model") for child in GRAPH[m])
    ]
