"""How the documentation's gallery runs ``examples/*.py`` (mkdocs-gallery's ``conf_script``).

Every example runs in its quick setting (``--quick``, as a user would type it),
in the process that builds the site, under the ``KERAS_BACKEND`` of that
process. Options that name an output file (``--plot``, ``--output``) are pointed
into a temporary folder, so that a build writes nothing into ``examples/``; the
plots the gallery shows are the matplotlib figures each example leaves open.

``EXPECTED`` is the line each example's printed output must contain:
``tools/mkdocs_hooks.py`` fails the build when one is missing (and mkdocs-gallery
fails it when an example raises), and ``tests/test_examples.py`` checks that
every example has an entry here. Imports nothing from the package or MkDocs.
"""

import atexit
import functools
import pathlib
import re
import shutil
import tempfile
import warnings

#: Example file name -> a line its output must contain.
EXPECTED = {
    "forecast_pm25.py": "LSTM-SAE",
    "pipeline_gridsearch.py": "best:",
    "feature_extraction.py": "LSTM-SAE codes + last step",
    "tutorial_autoencoders.py": "variable-length codes:",
    "anomaly_detection.py": "events found",
    "bottleneck_size.py": "each larger size gains less than",
    "unlabeled_pretraining.py": "unlabeled windows change the LSTM-SAE's test RMSE",
    "forecast_intervals.py": "encoders, next hour, same settings",
    "rolling_origin.py": "LSTM-SAE beats Ridge at",
    "classify_sequences.py": "pretraining on the unlabeled sequences changes held-out accuracy by",
    "search_optuna.py": "test RMSE: best trial refitted",
    "many_series.py": "one LSTM-SAE for",
}

# An argparse option that names a file the example writes, and its default.
_OUTPUT_OPTION = re.compile(
    r"""add_argument\(\s*"(?P<flag>--(?:plot|output))"\s*,\s*default="(?P<default>[^"]+)\"""")



@functools.cache
def _output_dir():
    """A temporary folder for the files examples write, removed when the build ends."""
    folder = tempfile.mkdtemp(prefix="sae_keras_gallery_")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return pathlib.Path(folder)


def quick_argv(script):
    """The command-line arguments an example runs with in the gallery."""
    source = pathlib.Path(script.src_py_file).read_text(encoding="utf-8")
    argv = ["--quick"]
    for match in _OUTPUT_OPTION.finditer(source):
        argv += [match["flag"], str(_output_dir() / match["default"])]
    return argv


try:  # Keras logs through absl: let its handler hold the real stderr, not the
    import absl.logging  # noqa: F401  # gallery's capture of an example's output
except ImportError:
    pass

# As a standalone run shows them: the backends' own deprecation notices stay hidden
# (MkDocs turns Python's deprecation warnings on for the whole build).
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"(keras|jax|tensorflow)\.")

conf = {"reset_argv": quick_argv}
