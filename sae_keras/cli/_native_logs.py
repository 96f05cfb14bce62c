"""Keep the backend's native start-up lines (absl, oneDNN, CUDA probes) off stderr.

TensorFlow's C++ code writes a handful of ``I0000 ...`` lines to file
descriptor 2 when it is first imported, before Python logging or
``TF_CPP_MIN_LOG_LEVEL`` (which TensorFlow 2.21 ignores for them) can act, and
more (XLA service, CUDA probes, oneDNN fallbacks) when it first trains, at the
level it read from ``TF_CPP_MIN_LOG_LEVEL`` while being imported.

When *sae_keras* is the one to import the backend first, and only then, file
descriptor 2 is sent to ``os.devnull`` meanwhile and ``TF_CPP_MIN_LOG_LEVEL``
is ``"3"`` during the import unless the user set it (``TF_CPP_MIN_LOG_LEVEL=0``
brings the training-time lines back; importing ``keras`` before sae_keras
brings all of them). This covers ``from sae_keras import ...``,
``sae_keras.load`` and the ``sae-keras`` command. A backend the user imported first keeps its own
output; Python warnings and exceptions are untouched; the environment is as it
was afterwards.
"""

from __future__ import annotations

import contextlib
import os
import sys

_BACKEND_MODULES = ("keras", "tensorflow", "jax")


@contextlib.contextmanager
def quiet_native_stderr():
    """Send what native code writes to file descriptor 2 to /dev/null meanwhile."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no file descriptor 2 (some embedded interpreters)
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def quiet_backend_import():
    """:func:`quiet_native_stderr` if the backend is not imported yet, else nothing."""
    if any(name in sys.modules for name in _BACKEND_MODULES):
        yield
        return
    chosen = "TF_CPP_MIN_LOG_LEVEL" in os.environ
    if not chosen:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    try:
        with quiet_native_stderr():
            yield
    finally:
        if not chosen:
            os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
