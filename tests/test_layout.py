"""The package's shape: imports run one way down the pipeline, and only the CLI speaks click."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "xzdoc"

# Lower layers never import higher ones. Reading a project and the shared vocabulary
# (config, model) form the foundation together: all are built from strict YAML.
LAYERS = {
    "errors": 0,
    "source": 1, "standard": 1, "config": 1, "keys": 1, "model": 1,
    "history": 2,
    "rules": 3,
    "render": 4,
    "portfolio": 5,
    "authoring": 6,
    "report": 7, "doctor": 7,
    "cli": 8, "__main__": 8,
}


def _unit(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "xzdoc":
        return None
    return parts[1] if len(parts) > 1 else ""


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every xzdoc import in the file, including the lazy ones inside functions."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] if node.module != "xzdoc" else [f"xzdoc.{a.name}" for a in node.names]
            found += [(node.lineno, n) for n in names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
    return found


def _own_unit(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    return rel.parts[0]


def test_every_module_belongs_to_a_known_layer() -> None:
    units = {_own_unit(p) for p in _modules()} - {"__init__"}
    assert units <= set(LAYERS), f"new top-level module or package without a layer: {units - set(LAYERS)}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_one_way(path: Path) -> None:
    own = _own_unit(path)
    if own == "__init__":
        return
    upward = []
    for line, module in _imports(path):
        unit = _unit(module)
        if unit and unit in LAYERS and LAYERS[unit] > LAYERS[own]:
            upward.append(f"{path.name}:{line} imports {module}")
    assert not upward, "imports running back up the pipeline: " + "; ".join(upward)


def test_only_the_cli_imports_click() -> None:
    offenders = [f"{p.relative_to(PACKAGE)}:{line}" for p in _modules() if _own_unit(p) != "cli"
                 for line, module in _imports(p) if module.split(".")[0] == "click"]
    assert not offenders, offenders


def test_every_module_says_what_it_owns() -> None:
    missing = [str(p.relative_to(PACKAGE)) for p in _modules() if not ast.get_docstring(ast.parse(p.read_text()))]
    assert not missing, f"modules without a docstring: {missing}"


MAX_MODULE_LINES, MAX_FUNCTION_LINES = 500, 60


def test_modules_stay_small() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in _modules() if (n := len(p.read_text("utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them by concern): {long}"


def test_long_functions_say_why() -> None:
    unexplained = []
    for path in _modules():
        source = path.read_text("utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno:
                length = node.end_lineno - node.lineno + 1
                opening = lines[node.lineno:node.lineno + 3]
                if length > MAX_FUNCTION_LINES and not any(line.strip().startswith("#") for line in opening):
                    unexplained.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({length} lines)")
    assert not unexplained, f"functions over {MAX_FUNCTION_LINES} lines without a comment saying why: {unexplained}"
