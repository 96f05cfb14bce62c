"""The package's imports run one way: no module imports one that imports it back, and
no room (subpackage) imports a room above it in the order of ``ROOMS``."""

import ast
import graphlib
from pathlib import Path

import sae_keras

PACKAGE = Path(sae_keras.__file__).parent


def _module_name(path, package):
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


#: The rooms of the package, top to bottom: a module may import from its own room
#: and the rooms below it, never from one above (CONTRIBUTING.md, "Layout").
ROOMS = ("cli", "integrations", "evaluation", "estimators", "forecasting", "training", "nn",
         "data", "io")

#: What a room may take from the package's facade (``sae_keras/__init__.py``);
#: anything else from it counts as an import of the top room.
FACADE_NAMES = {"__version__"}


def _imports(path, name, known):
    """The package's modules that ``path`` imports anywhere (inside functions too)."""
    return {target for target, _ in _import_statements(path, name, known)}


def _import_statements(path, name, known):
    """``(module, statement)`` for each of the package's modules ``path`` imports."""
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
        found |= {(t, node) for t in targets
                  if t in known and t != name and not t.startswith(name + ".")}
    return found


def import_graph(package=PACKAGE):
    """Module name -> the modules of ``package`` it imports."""
    paths = {_module_name(p, package): p for p in package.rglob("*.py")}
    return {name: _imports(path, name, paths) for name, path in paths.items()}


def _rank(module, rooms):
    """A module's place in ``rooms`` (0: the top); the facade and ``__main__`` rank above."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__main__":
        return -1
    if parts[1] not in rooms:
        raise AssertionError(f"{module} is in no room of {rooms}: add its subpackage to ROOMS")
    return rooms.index(parts[1])


def layer_violations(package=PACKAGE, rooms=ROOMS):
    """Each import of a room above the importing module's, named with its line."""
    paths = {_module_name(p, package): p for p in sorted(package.rglob("*.py"))}
    root = package.name
    found = []
    for name, path in paths.items():
        rank = _rank(name, rooms)
        for target, node in _import_statements(path, name, paths):
            if target == root and {a.name for a in node.names} <= FACADE_NAMES:
                continue
            above = 0 if target == root else _rank(target, rooms)
            if above < rank:
                statement = ast.unparse(node)
                found.append(f"{name} (line {node.lineno}: {statement}) imports {target}, "
                             f"a room above its own ({' -> '.join(rooms)})")
    return sorted(found)


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


def test_imports_run_down_the_rooms():
    assert layer_violations() == []


def test_the_layer_check_names_a_backward_import(tmp_path):
    # The check itself: a function-level import of a higher room, and one of the
    # facade beyond __version__, are found and named; imports downward are not.
    package = tmp_path / "pkg"
    for room in ("top", "low"):
        (package / room).mkdir(parents=True)
        (package / room / "__init__.py").write_text('"""A room."""\n')
    (package / "__init__.py").write_text("__version__ = '1'\n\ndef load():\n    from .top import a\n")
    (package / "top" / "a.py").write_text("from ..low import b\nfrom .. import load\n")
    (package / "low" / "b.py").write_text("from .. import __version__\n\ndef f():\n"
                                          "    from ..top.a import x\n")
    (package / "low" / "c.py").write_text("from .. import load\n")
    assert layer_violations(package, ("top", "low")) == [
        "pkg.low.b (line 4: from ..top.a import x) imports pkg.top.a, a room above its own "
        "(top -> low)",
        "pkg.low.c (line 1: from .. import load) imports pkg, a room above its own (top -> low)",
    ]


def test_importing_the_package_and_its_rooms_loads_no_backend():
    # Each room's __init__ is a docstring: importing a room costs nothing until one of
    # its modules is imported (the facade imports them on first use).
    from _subprocess import run_python

    rooms = ", ".join(f"sae_keras.{room}" for room in ROOMS)
    result = run_python(f"""
        import sys
        import sae_keras, {rooms}
        print(sorted(m for m in ("keras", "tensorflow", "jax") if m in sys.modules))
    """)
    assert result.stdout.strip() == "[]", result.stderr[-2000:]


def test_every_module_run_in_one_pass_exists():
    from _subprocess import TESTS
    from conftest import ABOVE_KERAS

    missing = [m for m in ABOVE_KERAS if not (Path(TESTS) / m).is_file()]
    assert not missing, f"tests/conftest.py's ABOVE_KERAS names modules that are gone: {missing}"
