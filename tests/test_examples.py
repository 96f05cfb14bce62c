"""Every example is in the documentation's gallery, which runs them all.

``mkdocs build --strict`` (CI's last step, ``.ci/run``) runs each script under
``examples/`` in its quick setting and fails when one raises or does not print its
line of ``EXPECTED`` (``docs/gallery_conf.py``); these are the cheap checks.
"""

import importlib.util
import pathlib
from types import SimpleNamespace

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _gallery_conf():
    spec = importlib.util.spec_from_file_location("gallery_conf", ROOT / "docs" / "gallery_conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GALLERY = _gallery_conf()


def test_every_example_has_its_expected_line():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(GALLERY.EXPECTED)


@pytest.mark.parametrize("name", sorted(GALLERY.EXPECTED))
def test_example_opens_with_what_it_shows_and_takes_quick(name):
    source = (EXAMPLES / name).read_text(encoding="utf-8")
    assert "Shows" in source.split('"""')[1]  # each example opens with what it shows
    assert '"--quick"' in source
    # The gallery runs examples with __doc__ set to "" (the docstring is the page's text).
    assert "__doc__.splitlines()[0]" not in source


def test_gallery_runs_examples_quick_and_writes_outside_the_repository():
    argv = GALLERY.quick_argv(SimpleNamespace(src_py_file=EXAMPLES / "forecast_intervals.py"))
    assert argv[0] == "--quick"
    assert argv[1] == "--output"
    output = pathlib.Path(argv[2])
    assert output.name == "forecast_intervals.json"
    assert ROOT not in output.parents
    assert GALLERY.quick_argv(SimpleNamespace(src_py_file=EXAMPLES / "forecast_pm25.py")) == ["--quick"]
