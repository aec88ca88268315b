"""The house rules a newcomer finds their way by: no import circle in app/, no module over 400 lines, no service
looked up by a string key outside app/services.py.

A circle makes the order modules load in matter, hides itself behind imports inside functions, and leaves no module
a newcomer can read first. Every import counts, a function's too; only `if TYPE_CHECKING:` blocks, which never run,
do not.
"""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"


def _modules() -> dict[str, Path]:
    """{dotted name: file} of every module and package in app/."""
    modules = {}
    for path in APP.rglob("*.py"):
        parts = list(path.relative_to(APP.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _run_imports(tree: ast.AST):
    """Every Import and ImportFrom node that runs, leaving out the bodies of `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                yield from _run_imports(ast.Module(body=[child], type_ignores=[]))
            continue
        yield from _run_imports(node)


def _imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of app/ that `name` imports: the submodule a name is, or else the package it comes from."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _run_imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                found.add(target)
            continue
        base = node.module or ""
        if node.level:
            parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            base = ".".join(parts + ([node.module] if node.module else []))
        for alias in node.names:
            found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {target for target in found if target in modules and target != name}


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), list(graph[start])
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph[module])
    return seen


def import_circles() -> list[list[str]]:
    """Each set of app/ modules that import one another round a circle, sorted."""
    modules = _modules()
    graph = {name: _imported(name, path, modules) for name, path in modules.items()}
    reach = {name: _reachable(graph, name) for name in graph}
    circles = {
        frozenset({name} | {other for other in reach[name] if name in reach[other]})
        for name in graph
        if name in reach[name]
    }
    return sorted(sorted(circle) for circle in circles)


def test_no_import_circle_in_app():
    circles = import_circles()
    assert not circles, "import circles in app/: " + "; ".join(" ⇄ ".join(circle) for circle in circles)


def test_no_module_in_app_is_over_400_lines():
    long = {
        str(path.relative_to(APP.parent)): lines
        for path in APP.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}, "split these into modules that each do one job a newcomer would guess from its name"


def test_services_are_looked_up_by_key_only_in_the_services_module():
    found = [
        f"{path.relative_to(APP.parent)}:{number}"
        for path in APP.rglob("*.py")
        if path.name != "services.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "extensions[" in line or "extensions.get(" in line or "extensions.setdefault(" in line
    ]
    assert found == [], "reach each service through its accessor in app/services.py"
