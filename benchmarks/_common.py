"""What every benchmark script shares: machine facts, seed statistics, tables, files.

Benchmarks are scripts, not part of the package; this module is imported by
them (``benchmarks/`` is the script's own directory, so it is on ``sys.path``).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def machine_info():
    """The facts a reader needs to compare figures: CPU, cores used, versions, backend."""
    import keras

    versions = {}
    for package in ("sae-keras", "keras", "tensorflow", "jax", "scikit-learn", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "platform": platform.platform(),
        "processor": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_used": affinity,
        "python": platform.python_version(),
        "keras_backend": keras.backend.backend(),
        "devices": keras.distribution.list_devices(),
        "versions": versions,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def summarize(values):
    """Mean, standard deviation (ddof=1, 0 for one value) and the values themselves."""
    values = [float(v) for v in values]
    std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(np.mean(values)), "std": std, "values": values}


def mean_std(summary, digits=3):
    """``"mean ± std"`` of a :func:`summarize` result (just the mean for one value)."""
    if len(summary["values"]) == 1:
        return f"{summary['mean']:.{digits}f}"
    return f"{summary['mean']:.{digits}f} ± {summary['std']:.{digits}f}"


def markdown_table(header, rows):
    """A Markdown table from a header and rows of cells (already strings)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def write_json(path, payload):
    """Write ``payload`` as indented JSON, atomically; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(json.dumps(payload, indent=2, default=_jsonable) + "\n")
    partial.replace(path)
    return path


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, set)):
        return list(value)
    if hasattr(value, "get_params") and not isinstance(value, type):
        return estimator_record(value)
    return repr(value)


def estimator_record(estimator):
    """An estimator as results record it: ``{"estimator": class name, "params": ...}``.

    ``params`` are the parameters set to something other than the class's
    default (as the estimator's ``repr`` shows them); a parameter that is an
    estimator itself (``pretraining=LSTMSAEEncoder(...)``) is recorded the same
    way when the whole is written as JSON. :func:`from_record` reads it back.
    """
    import inspect

    signature = inspect.signature(type(estimator).__init__).parameters
    params = {
        name: value for name, value in estimator.get_params(deep=False).items()
        if name not in signature or repr(value) != repr(signature[name].default)
    }
    return {"estimator": type(estimator).__name__, "params": params}


def from_record(value):
    """``value`` with every :func:`estimator_record` in it (a ``sae_keras`` class) rebuilt.

    For settings that travel to worker processes as JSON: dicts and lists are
    walked, anything else is returned as it is.
    """
    if isinstance(value, list):
        return [from_record(item) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"estimator", "params"} and isinstance(value["params"], dict):
        import sae_keras

        if value["estimator"] not in sae_keras.__all__:
            raise ValueError(f"not a sae_keras estimator: {value['estimator']!r}")
        return getattr(sae_keras, value["estimator"])(**from_record(value["params"]))
    return {key: from_record(item) for key, item in value.items()}


class Stopwatch:
    """Wall-clock seconds of a ``with`` block, in ``.seconds``."""

    def __enter__(self):
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        return False


# -- contenders in worker processes -------------------------------------------
# The Keras backend is fixed when Keras is first imported, and a fair timing needs
# a fresh process per contender: a script runs each contender as
# ``python <script> --worker ...`` and reads back the one line it prints.

_RESULT_PREFIX = "RESULT "


def worker_call(argv, worker, parse):
    """Run ``worker(*parse(rest))`` and report it when ``argv`` is ``--worker rest...``.

    Returns whether it was a worker call, so that a script's ``main`` stops there.
    """
    if not argv or argv[0] != "--worker":
        return False
    report(worker(*parse(argv[1:])))
    return True


def script_args(argv, doc, count=None, quick=None, full=None):
    """Parse ``--quick``, ``--output`` and the integer option ``count`` of a script.

    ``count`` (for instance ``"--calls"``; none when ``None``) defaults to ``quick``
    with ``--quick`` and to ``full`` without.
    """
    import argparse

    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS)
    if count is None:
        return parser.parse_args(argv)
    parser.add_argument(count, type=int, default=None)
    args = parser.parse_args(argv)
    name = count.lstrip("-").replace("-", "_")
    if getattr(args, name) is None:
        setattr(args, name, quick if args.quick else full)
    return args


def run_worker(script, args, *, backend=None, env=None, unset=(), timeout=1800):
    """Run ``script --worker args`` in a fresh Python; return its result dict.

    ``backend`` sets ``KERAS_BACKEND``; ``env`` adds variables, ``unset`` removes
    some. A failed worker
    returns ``{"error": <last lines of its stderr>}`` instead of raising, so one
    broken contender does not lose a long run.
    """
    process = start_worker(script, args, backend=backend, env=env, unset=unset)
    return finish_worker(process, timeout)


def start_worker(script, args, *, backend=None, env=None, unset=()):
    """Start ``script --worker args`` without waiting; see :func:`finish_worker`."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    if backend is not None:
        environment["KERAS_BACKEND"] = backend
    for name in unset:
        environment.pop(name, None)
    return subprocess.Popen(
        [sys.executable, str(script), "--worker", *map(str, args)],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finish_worker(process, timeout=1800):
    """Wait for a worker started by :func:`start_worker`; return its result dict."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    for line in stdout.splitlines():
        if line.startswith(_RESULT_PREFIX):
            return json.loads(line[len(_RESULT_PREFIX):])
    return {"error": (stderr or stdout)[-2000:] or f"exit {process.returncode}"}


def save_figure(fig, path):
    """Lay out, write as a 120-dpi PNG and close a matplotlib figure."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report(result):
    """Print a worker's result where :func:`run_worker` reads it."""
    print(_RESULT_PREFIX + json.dumps(result, default=_jsonable), flush=True)


def peak_rss_mb():
    """This process's peak resident set size so far, in MiB (Linux ``ru_maxrss`` is KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb():
    """This process's resident set size now, in MiB (Linux ``/proc``; NaN elsewhere)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def median_spread(values):
    """Median, min and max of repeated measurements (the guide's "median and spread")."""
    values = [float(v) for v in values]
    return {"median": float(np.median(values)), "min": min(values), "max": max(values),
            "values": values}
