"""The layer rules of docs/architecture.md, read from the code (function-level imports too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tfnn"

# The command-line layer and the benchmark tools: everything else is the library.
COMMAND_LINE = ("tfnn.cli", "tfnn.cli_flags", "tfnn.commands", "tfnn.bench")
CONFIG_FILE_CALLS = {
    "open",
    "mkdir",
    "makedirs",
    "rmtree",
    "unlink",
    "rmdir",
    "write_text",
    "write_bytes",
    "touch",
    "rename",
    "replace",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
TREES = {name: ast.parse(path.read_text(), str(path)) for name, path in MODULES.items()}


def imported_names(name: str) -> set[str]:
    """Every module ``name`` imports anywhere in its body: ``tfnn`` ones resolved to
    the module (``from tfnn.x import y`` is ``tfnn.x.y`` when that is a module)."""
    is_package = MODULES[name].name == "__init__.py"
    found = set()
    for node in ast.walk(TREES[name]):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
    return found


IMPORTS = {name: imported_names(name) for name in MODULES}


def is_command_line(name: str) -> bool:
    return name.endswith("__main__") or any(
        name == layer or name.startswith(layer + ".") for layer in COMMAND_LINE
    )


def in_layer(name: str, layer: str) -> bool:
    return name == layer or name.startswith(layer + ".")


def test_the_scan_sees_the_package():
    assert "tfnn.training.runner" in MODULES and "tfnn.cli" in MODULES
    assert "tfnn.training.fit" in IMPORTS["tfnn.training.runner"]


def test_the_library_knows_no_command_line():
    offenders = {
        name: sorted(
            imported
            for imported in imports
            if imported == "argparse"
            or in_layer(imported, "tfnn.cli")
            or in_layer(imported, "tfnn.cli_flags")
            or in_layer(imported, "tfnn.commands")
        )
        for name, imports in IMPORTS.items()
        if not is_command_line(name)
    }
    assert {name: bad for name, bad in offenders.items() if bad} == {}


@pytest.mark.parametrize(
    "layer, forbidden",
    [
        ("tfnn.data", ("tfnn.models", "tfnn.training", "tfnn.tensorboard", "tfnn.tuning")),
        ("tfnn.models", ("tfnn.tensorboard", "tfnn.data", "tfnn.training", "tfnn.tuning")),
        ("tfnn.tensorboard", ("tfnn.training", "tfnn.tuning", "tfnn.experiments")),
        ("tfnn.training", ("tfnn.tuning", "tfnn.experiments", "tfnn.studies")),
        ("tfnn.configs", ("tensorflow", "keras", "tfnn.training", "tfnn.data", "tfnn.models")),
    ],
)
def test_layer_rules(layer, forbidden):
    broken = sorted(
        f"{name} imports {imported}"
        for name, imports in IMPORTS.items()
        if in_layer(name, layer)
        for imported in imports
        if any(in_layer(imported, rule) for rule in forbidden)
    )
    assert broken == []


def test_configs_touch_no_files():
    calls = sorted(
        f"{name}:{node.lineno} {ast.unparse(node.func).split('.')[-1]}"
        for name, tree in TREES.items()
        if in_layer(name, "tfnn.configs")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Attribute) and node.func.attr in CONFIG_FILE_CALLS)
            or (isinstance(node.func, ast.Name) and node.func.id in CONFIG_FILE_CALLS)
        )
    )
    # str.replace is not a file operation: only calls on paths count.
    calls = [call for call in calls if not call.endswith(" replace")]
    assert calls == []


def test_no_import_cycles():
    """No module reaches itself through tfnn imports (a package's ``__init__``
    re-exporting its own modules is not a cycle: the package is what users import)."""
    graph = {
        name: {
            imported
            for imported in imports
            if imported in MODULES and imported != name and not name.startswith(imported + ".")
        }
        for name, imports in IMPORTS.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    assert cycles == []


def test_modules_are_small_and_packages_say_what_they_hold():
    long = {
        name: count
        for name, path in MODULES.items()
        if (count := len(path.read_text().splitlines())) > 400
    }
    assert long == {}
    silent = sorted(
        name
        for name, path in MODULES.items()
        if path.name == "__init__.py" and not ast.get_docstring(TREES[name])
    )
    assert silent == []
