"""Memory and time of refitting in one process: what stays behind per fit, per backend.

A grid search, a rolling-origin evaluation or a test suite fits many estimators in
one process; whatever each fit leaves behind adds up. Each contender runs in a
fresh process and fits ``--fits`` times a small regressor (one LSTM layer of 4
units, 200 windows of 8 steps × 3 channels, 1 pretraining and 2 fine-tuning
epochs), predicts, drops it and collects garbage, reading the resident set size
after each round. Contenders:

- ``sae_keras``: ``LSTMSAERegressor`` as shipped;
- ``sae_keras, Keras as is`` (TensorFlow only): the same with the two TensorFlow
  measures of ``sae_keras/training/_loop.py`` turned off (the optimizer's gradient
  all-reduce kept on one replica, and the optimizer built lazily by Keras), which
  is what the library did before them;
- ``plain Keras``: ``Model.compile`` + ``Model.fit`` + ``Model.predict`` of the
  same forecaster, no estimator, for reference.

Figures: RSS growth per fit (slope of a line through the last two thirds of the
rounds, after the allocator has settled) and the median seconds of one round.

Usage::

    python benchmarks/refit_memory.py           # 40 fits per contender
    python benchmarks/refit_memory.py --quick   # 8

writes ``benchmarks/results/refit_memory[_quick].{json,png}`` and prints a table.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import time
from pathlib import Path

import numpy as np
from _common import current_rss_mb, machine_info, markdown_table, run_worker, save_figure
from _common import script_args, worker_call, write_json

SCRIPT = Path(__file__).resolve()
CONTENDERS = (
    ("tensorflow", "sae_keras"),
    ("tensorflow", "sae_keras, Keras as is"),
    ("tensorflow", "plain Keras"),
    ("jax", "sae_keras"),
    ("jax", "plain Keras"),
)
WINDOWS, TIMESTEPS, CHANNELS, UNITS = 200, 8, 3, (4,)
SETTINGS = dict(hidden_units=UNITS, epochs=2, batch_size=32)
#: The regressor's pretraining: one epoch per layer, in batches of 32 as fine-tuning.
PRETRAINING = dict(pretrain_epochs=1, batch_size=32)


def _keras_as_is():
    """Turn off the library's TensorFlow-only measures in this worker process."""
    from sae_keras.training import _loop

    _loop.skip_single_replica_all_reduce = lambda model: contextlib.nullcontext()
    _loop.build_optimizer = lambda model: None


def _round_function(contender, X, y):
    if contender == "plain Keras":
        import keras

        from sae_keras.nn.builders import build_forecaster

        def plain(seed):
            keras.utils.set_random_seed(seed)
            model = build_forecaster(TIMESTEPS, CHANNELS, UNITS, (1,))
            model.compile(keras.optimizers.Adam(3e-3), "mse")
            model.fit(X, y, epochs=2, batch_size=32, verbose=0)
            model.predict(X, verbose=0)

        return plain
    from sae_keras import LSTMSAEEncoder, LSTMSAERegressor

    if contender == "sae_keras, Keras as is":
        _keras_as_is()

    def ours(seed):
        LSTMSAERegressor(**SETTINGS, pretraining=LSTMSAEEncoder(**PRETRAINING),
                         random_state=seed).fit(X, y).predict(X)

    return ours


def worker(contender, fits):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(WINDOWS, TIMESTEPS, CHANNELS)).astype(np.float32)
    y = X[:, -1, 0] + 0.1 * rng.normal(size=WINDOWS)
    one_round = _round_function(contender, X, y)
    rss, seconds = [], []
    for seed in range(fits):
        start = time.perf_counter()
        one_round(seed)
        seconds.append(time.perf_counter() - start)
        gc.collect()
        rss.append(current_rss_mb())
    return {"rss_mb": rss, "seconds": seconds}


def growth_per_fit(rss):
    """MB per fit: slope of a least-squares line through the last two thirds of ``rss``."""
    settled = np.asarray(rss[len(rss) // 3:], dtype=float)
    return float(np.polyfit(np.arange(settled.size), settled, 1)[0])


def _plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for key, result in results.items():
        if "error" not in result:
            ax.plot(np.arange(1, len(result["rss_mb"]) + 1), result["rss_mb"], label=key)
    ax.set_xlabel("fits and predictions in one process")
    ax.set_ylabel("resident set size (MiB)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, path)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if worker_call(argv, worker, lambda rest: (rest[0], int(rest[1]))):
        return 0
    args = script_args(argv, __doc__, "--fits", quick=8, full=40)
    fits = args.fits
    info = machine_info()
    results, rows = {}, []
    for backend, contender in CONTENDERS:
        key = f"{backend} / {contender}"
        results[key] = run_worker(SCRIPT, [contender, fits], backend=backend)
    for backend, contender in CONTENDERS:
        result = results[f"{backend} / {contender}"]
        if "error" in result:
            rows.append([backend, contender, "FAILED: " + result["error"][-200:], "", "", ""])
            continue
        ours = results[f"{backend} / sae_keras"]
        result["growth_mb_per_fit"] = growth_per_fit(result["rss_mb"])
        result["median_seconds"] = float(np.median(result["seconds"]))
        time_ratio = (result["median_seconds"] / float(np.median(ours["seconds"]))
                      if "error" not in ours else float("nan"))
        rows.append([backend, contender, f"{result['growth_mb_per_fit']:.1f}",
                     f"{result['rss_mb'][-1]:,.0f}", f"{result['median_seconds']:.2f}",
                     f"{time_ratio:.2f}×"])
    name = "refit_memory_quick" if args.quick else "refit_memory"
    pretraining = {"estimator": "LSTMSAEEncoder", "params": PRETRAINING}
    payload = {"machine": info, "settings": {**SETTINGS, "pretraining": pretraining,
                                             "windows": WINDOWS, "timesteps": TIMESTEPS,
                                             "channels": CHANNELS, "fits": fits},
               "results": results}
    write_json(args.output / f"{name}.json", payload)
    _plot(results, args.output / f"{name}.png")
    print(markdown_table(["backend", "contender", "RSS growth (MB per fit)",
                          "RSS at the end (MiB)", "median s per fit + predict",
                          "time vs sae_keras"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
