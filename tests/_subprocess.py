"""Run a Python snippet in a fresh interpreter (fresh Keras, fresh backend)."""

import os
import subprocess
import sys
import textwrap

#: The tests folder, where ``conftest`` and this module live: a snippet that imports
#: them puts it on ``sys.path``.
TESTS = os.path.dirname(os.path.abspath(__file__))


def run_python(code, *, env=None, timeout=300):
    """Run ``code`` in a fresh interpreter; ``env`` values of ``None`` unset a variable."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    full_env = {name: value for name, value in full_env.items() if value is not None}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )
