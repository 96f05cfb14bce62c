"""Scaling: fit time and peak memory against windows, time steps and hidden units.

Each point is one fresh process: a random 8-channel series, cut by
``make_windows`` (windows are read-only views of the series, not copies), then
one epoch of ``LSTMSAERegressor(pretraining=None)`` at batch size 128, without the
built-in scaling and linear skip (the defaults when the results were recorded).
Recorded: fit seconds, windows per second, the process's peak RSS and its RSS
before the data was made (the libraries' own share).

Sweeps (defaults in brackets): windows 1e3 … 1e6 [T=24, F=8, hidden (64, 32)];
time steps 12 … 96 [1e4 windows]; hidden units (16, 8) … (128, 64) [1e4
windows]. The exponent of a least-squares fit of log time on log windows says
whether time grows linearly (1.0) with the data.

Usage::

    python benchmarks/scaling.py            # windows up to 1e6, both backends
    python benchmarks/scaling.py --quick    # windows up to 3e4

writes ``benchmarks/results/scaling[_quick].json`` and a log-log ``.png``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from _common import RESULTS, current_rss_mb, machine_info, markdown_table, peak_rss_mb, report
from _common import run_worker, save_figure, write_json

SCRIPT = Path(__file__).resolve()
BACKENDS = ("tensorflow", "jax")
CHANNELS, TIMESTEPS, UNITS, WINDOWS = 8, 24, (64, 32), 10_000


def worker(n_windows, timesteps, units):
    import keras  # noqa: F401  (the libraries' memory counts as the baseline)

    from sae_keras import LSTMSAERegressor, make_windows

    baseline = current_rss_mb()
    rng = np.random.default_rng(0)
    series = rng.normal(size=(n_windows + timesteps, CHANNELS)).astype(np.float32)
    X, y = make_windows(series, timesteps, target=0)
    X, y = X[:n_windows], y[:n_windows]
    # The settings recorded in results/scaling.json (the defaults before the defaults
    # study): batch 128, no built-in scaling, no linear skip, no early stopping.
    regressor = LSTMSAERegressor(units, pretraining=None, epochs=1, random_state=0,
                                 batch_size=128, scaling=None, linear_skip=None,
                                 early_stopping=False)
    start = time.perf_counter()
    regressor.fit(X, y)
    seconds = time.perf_counter() - start
    return {"windows": n_windows, "timesteps": timesteps, "units": list(units),
            "fit_seconds": seconds, "windows_per_s": n_windows / seconds,
            "peak_rss_mb": peak_rss_mb(), "baseline_rss_mb": baseline,
            "windows_view_mb": X.nbytes / 2**20}


def sweeps(quick):
    windows = [1_000, 10_000, 30_000] if quick else [1_000, 10_000, 100_000, 1_000_000]
    small = 3_000 if quick else WINDOWS
    return {
        "windows": [(n, TIMESTEPS, UNITS) for n in windows],
        "timesteps": [(small, t, UNITS) for t in (12, 24, 48, 96)],
        "hidden_units": [(small, TIMESTEPS, (u, u // 2)) for u in (16, 32, 64, 128)],
    }


def exponent(points):
    """Slope of log(fit seconds) against log(windows), over the points ≥ 1e4 windows."""
    large = [p for p in points if p["windows"] >= 10_000 and "fit_seconds" in p]
    if len(large) < 2:
        return None
    x = np.log([p["windows"] for p in large])
    y = np.log([p["fit_seconds"] for p in large])
    return float(np.polyfit(x, y, 1)[0])


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for backend, sweep in results.items():
        points = [p for p in sweep["windows"] if "fit_seconds" in p]
        n = [p["windows"] for p in points]
        axes[0].loglog(n, [p["fit_seconds"] for p in points], "o-", label=backend)
        axes[1].loglog(n, [p["peak_rss_mb"] for p in points], "o-", label=backend)
    for ax, label in zip(axes, ("fit seconds (1 epoch)", "peak RSS (MiB)")):
        ax.set_xlabel("windows (T=24, F=8)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    save_figure(fig, path)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        n, t, *units = (int(a) for a in argv[1:])
        report(worker(n, t, tuple(units)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    info = machine_info()
    results = {}
    for backend in args.backends:
        results[backend] = {}
        for sweep, points in sweeps(args.quick).items():
            results[backend][sweep] = []
            for n, t, units in points:
                result = run_worker(SCRIPT, [n, t, *units], backend=backend, timeout=3600)
                result.setdefault("windows", n)
                results[backend][sweep].append(result)
                print(f"{backend} {sweep}: n={n} T={t} units={units}: "
                      + (f"{result['fit_seconds']:.1f} s, peak RSS {result['peak_rss_mb']:.0f} MiB"
                         if "fit_seconds" in result else "FAILED " + result["error"][-300:]),
                      flush=True)
        results[backend]["time_exponent_in_windows"] = exponent(results[backend]["windows"])
    name = "scaling_quick" if args.quick else "scaling"
    write_json(args.output / f"{name}.json", {"machine": info, "results": results})
    try:
        plot({b: r for b, r in results.items()}, args.output / f"{name}.png")
    except ImportError:
        print("matplotlib missing: no plot")
    rows = []
    for backend, sweep_results in results.items():
        for sweep in ("windows", "timesteps", "hidden_units"):
            for p in sweep_results[sweep]:
                if "fit_seconds" not in p:
                    continue
                rows.append([backend, sweep, f"{p['windows']:,}", str(p["timesteps"]),
                             str(tuple(p["units"])), f"{p['fit_seconds']:.1f}",
                             f"{p['windows_per_s']:,.0f}", f"{p['peak_rss_mb']:,.0f}",
                             f"{p['baseline_rss_mb']:,.0f}"])
    print(markdown_table(["backend", "sweep", "windows", "T", "hidden", "fit s",
                          "windows/s", "peak RSS MiB", "RSS before data MiB"], rows))
    for backend, sweep_results in results.items():
        print(f"{backend}: fit time ∝ windows^{sweep_results['time_exponent_in_windows']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
