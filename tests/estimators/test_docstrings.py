"""The estimators' docstrings, filled from the shared fragments of ``sae_keras.estimators._docstrings``.

Every public estimator's rendered docstring documents each ``__init__``
parameter once, in signature order, with the signature's default and no
placeholder left unfilled; every shared fragment serves at least two classes;
the fragments module imports nothing from the package.
"""

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

import sae_keras
from sae_keras.estimators import _docstrings

PACKAGE = Path(sae_keras.__file__).parent
ESTIMATORS = ["LSTMSAEClassifier", "LSTMSAEEncoder", "LSTMSAEForecaster", "LSTMSAERegressor",
              "LSTMSAEOutlierDetector", "SequenceScaler", "TableForecaster"]
_SECTION = re.compile(r"^([A-Z][A-Za-z ]+)\n-+$", re.MULTILINE)
_ENTRY = re.compile(r"^(\*{0,2}[A-Za-z_]\w*)(?: : (.*))?$")
_UNFILLED = re.compile(r"^[ ]*\{\w+\}[ ]*$", re.MULTILINE)


def _estimator(name):
    return getattr(sae_keras, name)


def documented_parameters(doc):
    """``[(name, header), ...]`` of the "Parameters" section of ``doc``, in order."""
    doc = inspect.cleandoc(doc)
    sections = {match.group(1): match.end() for match in _SECTION.finditer(doc)}
    if "Parameters" not in sections:
        return []
    body = doc[sections["Parameters"]:]
    following = _SECTION.search(body)
    body = body[:following.start()] if following else body
    entries = []
    for line in body.splitlines():
        if line and not line[0].isspace():
            match = _ENTRY.match(line)  # anything else is kept whole, a wrong name
            entries.append((match.group(1), match.group(2) or "") if match else (line, ""))
    return entries


def check_docstring(cls):
    """Problems of ``cls``' docstring, as a list of sentences (empty when none)."""
    problems = []
    doc = cls.__doc__ or ""
    signature = inspect.signature(cls.__init__)
    expected = [name for name in signature.parameters if name != "self"]
    entries = documented_parameters(doc)
    names = [name for name, _ in entries]
    if names != expected:
        duplicated = sorted({name for name in names if names.count(name) > 1})
        problems.append(
            f"{cls.__name__} documents {names}, expected {expected} "
            f"(missing {sorted(set(expected) - set(names))}, "
            f"extra {sorted(set(names) - set(expected))}, duplicated {duplicated})"
        )
    for name, header in entries:
        default = re.search(r"default=(.*)$", header)
        if default is None or name not in signature.parameters:
            continue
        try:
            documented = ast.literal_eval(default.group(1).strip())
        except (ValueError, SyntaxError):
            continue  # not a literal (a class, a phrase): nothing to compare
        actual = signature.parameters[name].default
        if documented != actual or type(documented) is not type(actual):
            problems.append(f"{cls.__name__}.{name}: documented default {documented!r}, "
                            f"signature {actual!r}")
    for where, text in [(cls.__name__, doc)] + [
        (f"{cls.__name__}.{name}", member.__doc__ or "")
        for name, member in inspect.getmembers(cls, inspect.isfunction)
    ]:
        for placeholder in _UNFILLED.findall(text):
            problems.append(f"{where}: unfilled placeholder {placeholder.strip()}")
    return problems


@pytest.mark.parametrize("name", ESTIMATORS)
def test_each_parameter_documented_once_in_order(name):
    assert check_docstring(_estimator(name)) == []


def _placeholders_by_class():
    """``{fragment name: {class names}}`` from the docstrings as written in the sources."""
    users = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            texts = [ast.get_docstring(node, clean=False) or ""] + [
                ast.get_docstring(item, clean=False) or "" for item in node.body
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
            ]
            for text in texts:
                for placeholder in _UNFILLED.findall(text):
                    users.setdefault(placeholder.strip()[1:-1], set()).add(
                        f"{path.stem}.{node.name}")
    return users


def test_every_fragment_is_shared():
    users = _placeholders_by_class()
    assert set(users) <= set(_docstrings.PARAMETERS), "placeholder without a fragment"
    single = {name: sorted(users.get(name, ())) for name in _docstrings.PARAMETERS
              if len(users.get(name, ())) < 2}
    assert single == {}, f"fragments used by fewer than two classes: {single}"


def test_fragments_follow_numpydoc_layout():
    for name, text in _docstrings.PARAMETERS.items():
        header, *description = text.split("\n")
        assert header.startswith(f"{name} : "), header
        assert description, f"{name} has no description"
        assert all(line.startswith("    ") and not line.startswith("     ")
                   or line == "" for line in description), name


def test_fragments_module_imports_no_package_module():
    tree = ast.parse((PACKAGE / "estimators" / "_docstrings.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not (node.module or "").startswith("sae_keras"), \
                ast.unparse(node)
        elif isinstance(node, ast.Import):
            assert not any(alias.name.startswith("sae_keras") for alias in node.names), \
                ast.unparse(node)


def test_fill_indents_entries_and_refuses_unknown_names():
    doc = "Summary.\n\n    Parameters\n    ----------\n    {tol}\n        More on tol.\n"
    filled = _docstrings._fill(doc)
    expected_entry = "\n".join("    " + line for line in _docstrings.PARAMETERS["tol"].split("\n"))
    assert expected_entry + "\n        More on tol.\n" in filled
    assert _docstrings._fill('    x : {"a", "b"}\n') == '    x : {"a", "b"}\n'  # value sets
    assert _docstrings._fill(None) is None
    with pytest.raises(KeyError, match="no_such_parameter"):
        _docstrings._fill("    {no_such_parameter}\n")


def test_the_check_catches_broken_docstrings():
    class Good:
        """Doc.

        Parameters
        ----------
        a : int, default=1
            A.
        b : str, default="x"
            B.
        """

        def __init__(self, a=1, b="x"):
            pass

    assert check_docstring(Good) == []
    broken = {
        "swapped": Good.__doc__.replace("a : int", "TMP").replace("b : str", "a : int")
        .replace("TMP", "b : str"),
        "duplicated": Good.__doc__.replace('b : str, default="x"', "a : int, default=1"),
        "missing": Good.__doc__.replace('b : str, default="x"\n            B.\n', ""),
        "stale default": Good.__doc__.replace("default=1", "default=2"),
        "unfilled": Good.__doc__.replace("            B.\n", "            B.\n        {tol}\n"),
    }
    for what, doc in broken.items():
        cls = type("Broken", (), {"__doc__": doc, "__init__": Good.__init__})
        assert check_docstring(cls), what


def test_estimator_modules_use_the_fragments():
    # The shared text is applied at import: the modules hold placeholders, the
    # classes the filled entries.
    for module, name in [("estimators._encoder", "LSTMSAEEncoder"),
                         ("estimators._regressor", "LSTMSAERegressor")]:
        source = (PACKAGE / f"{module.replace('.', '/')}.py").read_text(encoding="utf-8")
        assert "    {hidden_units}\n" in source
        doc = getattr(importlib.import_module(f"sae_keras.{module}"), name).__doc__
        assert "    " + _docstrings.PARAMETERS["hidden_units"].split("\n")[0] in doc
