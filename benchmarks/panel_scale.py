"""Many series at scale: one global LSTM-SAE on 1,000 series × 2,000 steps × 4 channels.

A synthetic panel (no public one of this size ships offline): series ``i`` has 4
channels, each a seasonal AR(1) process with its own level and scale (levels
from 1 to 10,000, so that per-series scaling matters), seeded. Windows of
``TIMESTEPS`` steps of the 4 channels are cut per series (``make_windows``),
in the series' own units, targets the next step of channel 0, and are stacked
into one float32 array (a copy: the estimator takes one ``X``; 724 MiB at 1,000
series) with the series of each window. Then one epoch of each phase of
``LSTMSAERegressor()`` given ``series=`` (shipped defaults: hidden (64, 32),
each series standardised by its own statistics, pretrained as
``LSTMSAEEncoder`` does, the ridge start;
``pretraining=LSTMSAEEncoder(pretrain_epochs=1, early_stopping=False), epochs=1``,
no early stopping).

Each point runs in a fresh process; recorded: seconds to build the windows, fit
seconds, windows per second, peak RSS (target: at most 4 GiB at 1,000 series)
and the RSS before the data was made. The exponent of a least-squares fit of
log fit time on log series says whether time grows linearly (1.0).

Usage::

    KERAS_BACKEND=jax python benchmarks/panel_scale.py          # 250, 500, 1000 series (~25 min)
    KERAS_BACKEND=jax python benchmarks/panel_scale.py --quick  # 2, 4, 8 series (~1-2 min)

writes ``benchmarks/results/panel_scale[_quick].{json,png}`` and prints a table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from _common import RESULTS, current_rss_mb, machine_info, markdown_table, peak_rss_mb
from _common import report, run_worker, save_figure, write_json

SCRIPT = Path(__file__).resolve()
STEPS, CHANNELS, TIMESTEPS, SEASON = 2_000, 4, 24, 24
SERIES = {False: (250, 500, 1000), True: (2, 4, 8)}
RSS_LIMIT_MB = 4 * 1024


def synthetic_series(index, steps):
    """Series ``index`` of the panel: ``(steps, CHANNELS)`` float32, seeded by its index."""
    rng = np.random.default_rng([7, index])
    level = 10 ** rng.uniform(0, 4, CHANNELS)
    t = np.arange(steps)[:, None]
    season = np.sin(2 * np.pi * t / SEASON + rng.uniform(0, 2 * np.pi, CHANNELS))
    noise = np.empty((steps, CHANNELS))
    noise[0] = rng.normal(size=CHANNELS)
    shocks = rng.normal(size=(steps, CHANNELS))
    phi = rng.uniform(0.3, 0.9, CHANNELS)
    for k in range(1, steps):
        noise[k] = phi * noise[k - 1] + shocks[k]
    return (level * (1 + 0.1 * season + 0.05 * noise)).astype(np.float32)


def panel_windows(n_series, steps):
    """The windows of every series, stacked, and the series of each: ``(X, y, series)``.

    In each series' own units: the estimator standardises each series by its
    own statistics (``series=``).
    """
    from sae_keras import make_windows

    Xs, ys, ids = [], [], []
    for i in range(n_series):
        X, y = make_windows(synthetic_series(i, steps), TIMESTEPS, target=0)
        Xs.append(X)
        ys.append(y)
        ids.append(np.full(len(X), i, dtype=np.int32))
    # make_windows returns float64 windows; stacked as float32, what the network reads,
    # half the memory of stacking them as they come.
    return np.concatenate(Xs, dtype=np.float32), np.concatenate(ys), np.concatenate(ids)


def estimator(seed=0):
    """The one place the regressor is built: one epoch per phase, no early stopping."""
    from sae_keras import LSTMSAEEncoder, LSTMSAERegressor

    return LSTMSAERegressor(
        pretraining=LSTMSAEEncoder(pretrain_epochs=1, early_stopping=False), epochs=1,
        early_stopping=False, random_state=seed)


def worker(n_series, steps):
    import keras  # noqa: F401  (the libraries' memory counts as the baseline)

    import sae_keras  # noqa: F401

    baseline = current_rss_mb()
    start = time.perf_counter()
    X, y, series = panel_windows(n_series, steps)
    build = time.perf_counter() - start
    model = estimator()
    start = time.perf_counter()
    model.fit(X, y, series=series)
    seconds = time.perf_counter() - start
    return {"series": n_series, "steps": steps, "windows": len(X), "build_seconds": build,
            "fit_seconds": seconds, "windows_per_s": len(X) / seconds,
            "peak_rss_mb": peak_rss_mb(), "baseline_rss_mb": baseline,
            "windows_mb": X.nbytes / 2**20,
            "phases": {k: len(v["loss"]) for k, v in model.history_.items()}}


def exponent(points):
    """Slope of log(fit seconds) against log(series)."""
    good = [p for p in points if "fit_seconds" in p]
    if len(good) < 2:
        return None
    return float(np.polyfit(np.log([p["series"] for p in good]),
                            np.log([p["fit_seconds"] for p in good]), 1)[0])


def _plot(points, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    good = [p for p in points if "fit_seconds" in p]
    series = [p["series"] for p in good]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
    left.plot(series, [p["fit_seconds"] for p in good], "o-")
    left.set_xlabel("series")
    left.set_ylabel("fit seconds (one epoch per phase)")
    right.plot(series, [p["peak_rss_mb"] for p in good], "o-", label="peak RSS")
    right.plot(series, [p["windows_mb"] for p in good], "s--", label="stacked windows")
    right.axhline(RSS_LIMIT_MB, color="red", lw=0.8, label="4 GiB")
    right.set_xlabel("series")
    right.set_ylabel("MiB")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
    save_figure(fig, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--series", type=int, nargs="+", default=None)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--worker", type=int, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        report(worker(*args.worker))
        return 0
    info = machine_info()
    points = []
    for n in args.series or SERIES[args.quick]:
        print(f"{n} series ...", flush=True)
        point = run_worker(SCRIPT, [n, args.steps], timeout=3600)
        point.setdefault("series", n)
        points.append(point)
        print(f"  {point.get('fit_seconds', float('nan')):.0f} s, peak RSS "
              f"{point.get('peak_rss_mb', float('nan')):.0f} MiB"
              + (f" ERROR {point['error'][-300:]}" if "error" in point else ""), flush=True)
    largest = max((p for p in points if "peak_rss_mb" in p), key=lambda p: p["series"],
                  default=None)
    payload = {"machine": info,
               "settings": {"steps": args.steps, "channels": CHANNELS, "timesteps": TIMESTEPS,
                            "estimator": repr(estimator())},
               "points": points, "time_exponent": exponent(points),
               "rss_limit_mb": RSS_LIMIT_MB,
               "rss_within_limit_at_largest": (largest["peak_rss_mb"] <= RSS_LIMIT_MB
                                               if largest else None)}
    name = "panel_scale_quick" if args.quick else "panel_scale"
    write_json(args.output / f"{name}.json", payload)
    _plot(points, args.output / f"{name}.png")
    rows = [[str(p["series"]), f"{p.get('windows', 0):,}", f"{p.get('windows_mb', 0):.0f}",
             f"{p.get('build_seconds', float('nan')):.1f}",
             f"{p.get('fit_seconds', float('nan')):.0f}",
             f"{p.get('windows_per_s', float('nan')):,.0f}",
             f"{p.get('peak_rss_mb', float('nan')):,.0f}",
             f"{p['fit_seconds'] / points[0]['fit_seconds']:.2f}×"
             if "fit_seconds" in p and "fit_seconds" in points[0] else "-"]
            for p in points]
    print(markdown_table(["series", "windows", "windows MiB", "build s", "fit s", "windows/s",
                          "peak RSS MiB", "time vs first"], rows))
    print(f"\ntime exponent (1.0 = linear): {payload['time_exponent']}; peak RSS within "
          f"4 GiB at the largest: {payload['rss_within_limit_at_largest']}")
    return 0 if all("error" not in p for p in points) else 1


if __name__ == "__main__":
    sys.exit(main())
