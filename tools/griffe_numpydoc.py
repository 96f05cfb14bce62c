"""Griffe extension of the documentation site: numpydoc as the package writes it.

- The package's numpydoc docstrings use Sphinx roles (``:class:`LSTMSAEEncoder```,
  ``:meth:`~sae_keras.LSTMSAERegressor.fit```), which Markdown would print as they
  are; this shows each as inline code of the name it points to (the last part
  after ``~``; the text before ``<target>`` when one is given).
- numpydoc types are prose (``"auto", None, LSTMSAEEncoder or FrozenEstimator``,
  ``{"ridge", "trained"} or None``). Griffe's numpy parser keeps only a leading ``{...}`` choice set
  of such a type, and reads a type that happens to parse as Python as an expression
  (showing ``{"a", "b"}`` as ``(a, b)``); here a parameter's type is shown as written
  whenever it holds a choice set, a comma or an "or". Griffe offers no option for
  this, so two private names of its numpy parser are replaced; if Griffe renames
  them, importing this file fails and so does the build.
"""

import re

import griffe
from griffe._internal.docstrings import numpy as _numpy_docstrings

_parse_annotation = _numpy_docstrings.parse_docstring_annotation

# The parameter line, without its special case for a leading choice set: the
# "choices" group, which the parser reads, never matches.
_numpy_docstrings._RE_PARAMETER = re.compile(
    rf"""
    (?P<names>{_numpy_docstrings._RE_NAME}(?:,\s{_numpy_docstrings._RE_NAME})*)
    (?:\s:\s(?:(?P<choices>(?!))|(?P<type>{_numpy_docstrings._RE_TYPE}))?)?
    """,
    re.IGNORECASE | re.VERBOSE,
)


def _prose_or_parsed(annotation, docstring, **kwargs):
    if isinstance(annotation, str) and re.search(r"[{},]| or ", annotation):
        return annotation
    return _parse_annotation(annotation, docstring, **kwargs)


_numpy_docstrings.parse_docstring_annotation = _prose_or_parsed

_ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|mod|attr|obj|data|exc|term|ref):`(?P<body>[^`]+)`")


def _code(match):
    body = match["body"].strip()
    if "<" in body and body.endswith(">"):
        return f"`{body[: body.index('<')].strip()}`"
    if body.startswith("~"):
        body = body[1:].rsplit(".", 1)[-1]
    return f"`{body}`"


def plain_roles(text):
    """``text`` with every Sphinx role replaced by inline code."""
    return _ROLE.sub(_code, text)


class NumpydocAsWritten(griffe.Extension):
    """Rewrites the Sphinx roles of every docstring Griffe loads."""

    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = plain_roles(obj.docstring.value)
