"""The layout holds: rooms stay small (no module over 500 lines outside migrations, no function
over 60 lines, no front-end source file over 500 lines), no import circle among training/'s
modules, and the apps depend one way only (training -> annotation -> common; training/pipeline is
pure ML code). Imports are read from the source (AST), function-level ones included, so a circle
held together by an import inside a function is still a circle."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON_TREES = ("config", "common", "annotation", "training", "tests")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
FRONTEND_SOURCES = ("*.ts", "*.tsx", "*.css")
GENERATED_FRONTEND = {Path("frontend/src/api/schema.d.ts")}  # from the OpenAPI schema


def python_modules(*trees: str) -> list[Path]:
    """Hand-written Python files under these top-level folders (migrations are generated)."""
    return sorted(
        path.relative_to(ROOT)
        for tree in trees
        for path in (ROOT / tree).rglob("*.py")
        if "migrations" not in path.parts and "__pycache__" not in path.parts
    )


@cache
def syntax_tree(path: Path) -> ast.Module:
    return ast.parse((ROOT / path).read_text(encoding="utf-8"), filename=str(path))


def line_count(path: Path) -> int:
    return len((ROOT / path).read_text(encoding="utf-8").splitlines())


# -- sizes ----------------------------------------------------------------------------------


def test_no_python_module_is_over_500_lines() -> None:
    too_long = {
        str(path): lines
        for path in python_modules(*PYTHON_TREES)
        if (lines := line_count(path)) > MAX_MODULE_LINES
    }

    assert too_long == {}, "split these by concern"


def long_functions(path: Path) -> Iterator[tuple[str, int]]:
    for node in ast.walk(syntax_tree(path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                yield f"{path}:{node.lineno} {node.name}", lines


def test_no_python_function_is_over_60_lines() -> None:
    too_long = {
        where: lines
        for path in python_modules(*PYTHON_TREES)
        for where, lines in long_functions(path)
    }

    assert too_long == {}, "split these into named steps"


def test_no_front_end_source_file_is_over_500_lines() -> None:
    sources = (
        path.relative_to(ROOT)
        for pattern in FRONTEND_SOURCES
        for path in (ROOT / "frontend" / "src").rglob(pattern)
    )
    too_long = {
        str(path): lines
        for path in sorted(sources)
        if path not in GENERATED_FRONTEND and (lines := line_count(path)) > MAX_MODULE_LINES
    }

    assert too_long == {}, "split these by concern"


# -- imports --------------------------------------------------------------------------------


def module_name(path: Path) -> str:
    parts = path.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def project_modules() -> frozenset[str]:
    return frozenset(module_name(path) for path in python_modules(*PYTHON_TREES))


def imported_names(path: Path) -> Iterator[str]:
    return imports_in(syntax_tree(path), module_name(path), is_package=path.name == "__init__.py")


def imports_in(tree: ast.Module, module: str, *, is_package: bool) -> Iterator[str]:
    """Every module a module imports, at any depth, relative imports resolved; `from a import
    b` imports the module a.b when there is one, else a."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            source = ".".join([*base, node.module] if node.module else base)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                yield submodule if submodule in project_modules() else source


def import_graph(tree: str) -> dict[str, set[str]]:
    """Module -> the modules of the same tree it imports."""
    modules = {module_name(path): path for path in python_modules(tree)}
    return {
        name: {imported for imported in imported_names(path) if imported in modules} - {name}
        for name, path in modules.items()
    }


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                component.append(member)
            component.append(node)
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_a_circle_held_together_by_a_function_level_import_is_found() -> None:
    source = "import training.tasks\n\ndef later():\n    from .services import create_run\n"
    imports = set(imports_in(ast.parse(source), "training.execution", is_package=False))
    graph = {
        "training.execution": imports,
        "training.services": {"training.tasks"},
        "training.tasks": {"training.execution"},
        "training.models": set(),
    }

    assert imports == {"training.tasks", "training.services"}
    assert circles(graph) == [["training.execution", "training.services", "training.tasks"]]


def test_no_import_circle_among_training_modules() -> None:
    assert circles(import_graph("training")) == []


def imports_from(trees: tuple[str, ...], roots: tuple[str, ...]) -> dict[str, list[str]]:
    """Files under `trees` that import anything under the top-level packages `roots`."""
    crossing = {
        str(path): sorted({name for name in imported_names(path) if name.split(".")[0] in roots})
        for path in python_modules(*trees)
    }
    return {path: names for path, names in crossing.items() if names}


def test_the_apps_depend_one_way_training_annotation_common() -> None:
    assert imports_from(("annotation", "common"), ("training",)) == {}
    assert imports_from(("common",), ("annotation",)) == {}


def test_pipeline_source_imports_nothing_from_django_or_the_apps() -> None:
    roots = ("django", "rest_framework", "celery", "config", "common", "annotation")
    assert imports_from(("training/pipeline",), roots) == {}


def test_pipeline_imports_nothing_from_django_or_annotation() -> None:
    """The same at run time: importing all of training/pipeline loads none of them."""
    code = (
        "import sys, pkgutil, importlib, training.pipeline as p\n"
        "for m in pkgutil.iter_modules(p.__path__):\n"
        "    if m.name != '__main__':\n"
        "        importlib.import_module(f'training.pipeline.{m.name}')\n"
        "roots = ('django', 'annotation', 'config')\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in roots)\n"
        "print('loaded:', bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "loaded: []"
