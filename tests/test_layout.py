"""The package's shape, read from its own source (ast; nothing is imported, TensorFlow is not needed).

The rules keep the house one where common changes are easy: the Gradio layer in one package,
the public front imported by no one inside, no import circles, Hub code that knows folders, not
models, backbones that do not know their registry, tabs that do not know each other, no calls
into another module's private parts, and modules small enough to read.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "facerec"
TABS = {"facerec.app.collect", "facerec.app.train", "facerec.app.predict", "facerec.app.share"}
MAX_MODULE_LINES = 360
# Underscore names of other libraries that are public API by convention.
PUBLIC_UNDERSCORE = {"_replace", "_asdict", "_fields", "_make"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def type_checking_nodes(tree: ast.Module) -> set[int]:
    """ids of the nodes inside ``if TYPE_CHECKING:`` blocks (typing only, never executed)."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            inside.update(id(child) for statement in node.body for child in ast.walk(statement))
    return inside


def imports(name: str) -> set[str]:
    """The facerec modules (and "gradio") that module ``name`` imports, anywhere in it but typing blocks."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    typing_only = type_checking_nodes(tree)
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                package = name if is_package(name) else name.rsplit(".", 1)[0]
                package = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{package}.{base}" if base else package
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in MODULES else base)
    return {module if module in MODULES else module.split(".")[0] for module in found
            if module.startswith("facerec") or module.split(".")[0] == "gradio"}


GRAPH = {name: imports(name) - {name} for name in MODULES}


def test_only_the_app_package_imports_gradio():
    outside = sorted(name for name, imported in GRAPH.items() if "gradio" in imported and not name.startswith("facerec.app"))
    assert outside == []


def test_nothing_inside_the_library_imports_the_public_front():
    front = {"facerec", "facerec.api"}
    offenders = sorted(name for name, imported in GRAPH.items() if name not in front | {"facerec.__main__"} and imported & front)
    assert offenders == []


def test_no_import_circles():
    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for following in GRAPH.get(node, ()):
                if following == start:
                    return path + [start]
                if following not in path and following in MODULES:
                    stack.append((following, path + [following]))
        return None
    circles = {tuple(cycle) for name in MODULES if (cycle := cycle_from(name))}
    assert circles == set()


def test_the_hub_layer_knows_folders_not_models():
    assert "facerec.classifier" not in GRAPH["facerec.hub"]


def test_backbone_implementations_do_not_import_their_registry():
    implementations = [name for name in MODULES if name.startswith("facerec.backbones.")]
    assert implementations and [name for name in implementations if "facerec.backbones" in GRAPH[name]] == []


def test_tabs_do_not_import_each_other():
    assert {name: GRAPH[name] & TABS for name in TABS} == {name: set() for name in TABS}


def test_no_module_reaches_into_another_modules_private_parts():
    offenders = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("facerec"):
                offenders += [f"{name}: from {node.module} import {alias.name}" for alias in node.names
                              if alias.name.startswith("_") and not alias.name.startswith("__")]
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__") \
                    and node.attr not in PUBLIC_UNDERSCORE:
                owner = node.value
                if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                    offenders.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    assert offenders == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{name} has {lines} lines"


def test_the_space_entry_is_a_few_lines():
    assert len((ROOT / "app.py").read_text(encoding="utf-8").splitlines()) < 30
