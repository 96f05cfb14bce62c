"""Inference latency and throughput: ``LSTMSAERegressor.predict`` against Keras' own.

One fitted forecaster (LSTM 64 → 32 over 24 steps × 8 channels, dense head) per
Keras backend, each in a fresh process. Contenders on the same weights:

- ``sae_keras predict`` — the estimator's ``predict`` (input checks included),
  which runs a compiled forward pass (``jax.jit`` on JAX; on TensorFlow a
  ``tf.function``, XLA-compiled for batches of at most 32 windows) in
  power-of-two batches;
- ``model.predict`` — Keras' ``Model.predict`` of the same model, as a plain
  script serves it;
- ``model.predict_on_batch`` — Keras' lighter single-batch call, for reference;
- ``onnxruntime (exported)`` — the estimator's ``export(format="onnx")`` (through
  ``tf2onnx`` on TensorFlow, ``jax2onnx`` on JAX) run by an ONNX Runtime
  ``InferenceSession`` with its default settings, as a serving process would
  (left out, with the reason, when ``onnxruntime`` or the converter is missing).

Figures: one window, p50 and p99 over ``--calls`` calls (after warm-up), and
10,000 windows, the median of 5 calls, as windows per second.

Usage::

    python benchmarks/latency.py            # 300 calls per one-window figure
    python benchmarks/latency.py --quick    # 50 calls

writes ``benchmarks/results/latency[_quick].json`` and prints a table.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import machine_info, markdown_table, run_worker, script_args, worker_call
from _common import write_json

SCRIPT = Path(__file__).resolve()
BACKENDS = ("tensorflow", "jax")
TIMESTEPS, CHANNELS, UNITS, BULK = 24, 8, (64, 32), 10_000


def _call_seconds(function, x, calls, warmup):
    """Seconds of each of ``calls`` calls ``function(x)``, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        function(x)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        function(x)
        times.append(time.perf_counter() - start)
    return times


def _latencies(function, x, calls):
    times = _call_seconds(function, x, calls, warmup=3)
    return {"p50_ms": 1e3 * float(np.percentile(times, 50)),
            "p99_ms": 1e3 * float(np.percentile(times, 99)), "calls": calls}


def _throughput(function, x, repeats=5):
    median = float(np.median(_call_seconds(function, x, repeats, warmup=1)))
    return {"windows_per_s": len(x) / median, "median_s": median}


def _onnx_runner(regressor, folder):
    """``x -> forecasts`` through the exported model in ONNX Runtime, or the reason it cannot run."""
    try:
        import onnxruntime

        path = regressor.export(Path(folder) / "latency.onnx", format="onnx")
    except ImportError as error:
        return None, f"not run: {error}"
    session = onnxruntime.InferenceSession(str(path))
    return (lambda x: session.run(None, {"window": x})[0]), None


def worker(calls):
    from sae_keras import LSTMSAERegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(2_000, TIMESTEPS, CHANNELS)).astype(np.float32)
    y = X[:, -1, 0]
    # Without the built-in scaling and linear skip, so that regressor.predict and the
    # Keras model's own predict compute the same thing (as recorded in latency.json).
    regressor = LSTMSAERegressor(UNITS, pretraining=None, epochs=1, random_state=0,
                                 scaling=None, linear_skip=None).fit(X, y)
    model = regressor.model_
    one, bulk = X[:1], rng.normal(size=(BULK, TIMESTEPS, CHANNELS)).astype(np.float32)
    contenders = {
        "sae_keras predict": regressor.predict,
        "model.predict": lambda x: model.predict(x, verbose=0),
        "model.predict_on_batch": model.predict_on_batch,
    }
    expected = regressor.predict(bulk[:256])
    agree = np.allclose(expected, model.predict(bulk[:256], verbose=0)[:, 0], atol=1e-5)
    result = {"same_predictions": bool(agree)}
    with tempfile.TemporaryDirectory() as folder:
        onnx, reason = _onnx_runner(regressor, folder)
        if onnx is None:
            result["onnxruntime (exported)"] = {"skipped": reason}
        else:
            contenders["onnxruntime (exported)"] = onnx
            # Within 1e-5 of the largest forecast: the float32 rounding of two runtimes.
            result["onnx_same_predictions"] = bool(np.allclose(
                onnx(bulk[:256]), expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max()
            ))
        for name, function in contenders.items():
            result[name] = {"one_window": _latencies(function, one, calls)}
            if name != "model.predict_on_batch":  # one batch of 10,000 is not its use
                result[name]["bulk"] = _throughput(function, bulk)
    return result


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if worker_call(argv, worker, lambda rest: (int(rest[0]),)):
        return 0
    args = script_args(argv, __doc__, "--calls", quick=50, full=300)
    calls = args.calls
    info = machine_info()
    results = {backend: run_worker(SCRIPT, [calls], backend=backend) for backend in BACKENDS}
    rows = []
    for backend, result in results.items():
        if "error" in result:
            rows.append([backend, "FAILED: " + result["error"][-200:], "", "", ""])
            continue
        ours = result["sae_keras predict"]
        for name in ("sae_keras predict", "model.predict", "model.predict_on_batch",
                     "onnxruntime (exported)"):
            if "skipped" in result.get(name, {}):
                rows.append([backend, name, result[name]["skipped"][:200], "", ""])
                continue
            one = result[name]["one_window"]
            bulk = result[name].get("bulk")
            rows.append([
                backend, name, f"{one['p50_ms']:.2f} / {one['p99_ms']:.2f}",
                f"{one['p50_ms'] / ours['one_window']['p50_ms']:.1f}×",
                f"{bulk['windows_per_s']:,.0f}" if bulk else "—",
            ])
    payload = {"machine": info, "settings": {"timesteps": TIMESTEPS, "channels": CHANNELS,
                                             "units": UNITS, "bulk_windows": BULK,
                                             "one_window_calls": calls},
               "results": results}
    write_json(args.output / ("latency_quick.json" if args.quick else "latency.json"), payload)
    print(markdown_table(["backend", "contender", "1 window p50 / p99 (ms)",
                          "p50 vs sae_keras", f"{BULK:,} windows: windows/s"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
