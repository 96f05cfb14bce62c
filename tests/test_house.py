"""The package's imports run one way: no module imports one that imports it back."""

import ast
import graphlib
from pathlib import Path

import sae_keras

PACKAGE = Path(sae_keras.__file__).parent


def _module_name(path, package):
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path, name, known):
    """The package's modules that ``path`` imports anywhere (inside functions too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # ``from m import name``: the module m.name where there is one, else m.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        else:
            continue
        # A package's __init__ gathering its own children is its facade, not a tie.
        found |= {t for t in targets if t in known and not t.startswith(name + ".")}
    found.discard(name)
    return found


def import_graph(package=PACKAGE):
    """Module name -> the modules of ``package`` it imports."""
    paths = {_module_name(p, package): p for p in package.rglob("*.py")}
    return {name: _imports(path, name, paths) for name, path in paths.items()}


def test_the_import_graph_has_no_circle():
    graph = import_graph()
    assert "sae_keras.io._zip" in graph and graph["sae_keras.estimators._encoder"]
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        raise AssertionError(f"import circle: {' -> '.join(exc.args[1])}") from None


def test_the_walk_sees_lazy_imports_and_circles(tmp_path):
    # The check itself: a function-level import that closes a circle is found.
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from . import a\n")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("def f():\n    from .a import x\n")
    graph = import_graph(package)
    assert graph == {"pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"}}
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError:
        return
    raise AssertionError("the circle pkg.a -> pkg.b -> pkg.a was not found")
