"""Coverage of the package's conformal intervals: multi-step AR(1) simulation and MSFT prices.

**Simulation.** An AR(1) series (φ = 0.95, unit innovations), windows of 24
steps and targets of ``h`` = 1, 6 or 24 steps; per seed a Ridge regression
(the cheap point forecaster, ``alpha=1``) is fitted on 300 windows, the next
``n_cal`` windows calibrate, and the 200 windows after them are tested, with
``h - 1`` windows left out before each part (the purge gap). The 90 % half
widths come from the package's own :func:`sae_keras.forecasting._intervals.conformal_half_width`
with :func:`~sae_keras.forecasting._intervals.lead_times` (what ``predict_interval`` calls).
Every calibration size is a multiple of ``h`` from the fewest the estimator
accepts (9 per lead time at 90 %). "Before" is the rule this replaced: the
rank ``ceil((n + 1) · 0.9)`` of all scores, no gap, no count of effective
windows, at ``n_cal`` = 100 (the issue's measurement) and at the same sizes.
Coverage is the share of test targets (all lead times) inside their interval,
averaged over seeds.

**MSFT.** Daily Microsoft closes (pmdarima's ``load_msft``, 1986-2017), windows
of 20 days, the next close as target; the last 20 % of the windows are the test
part, the rest trains (the last 10 % of it calibrates, ``calibration_fraction
=0.1``, split by the package's ``split_calibration``). Point forecaster: a
Ridge on the window (and, in the full run, one small ``LSTMSAERegressor``).
Both ``method="conformal"`` and ``method="normalized"`` (errors relative to
the window's mean absolute daily change: :func:`~sae_keras.forecasting._intervals.local_scale`)
are scored on the test part, overall and per calendar year. Settings were
fixed before looking at the test part and not changed after.

Usage::

    python benchmarks/conformal_coverage.py           # 1000 seeds, 8 sizes, + LSTM on MSFT
    python benchmarks/conformal_coverage.py --quick   # 100 seeds, 3 sizes, Ridge only

With 100 seeds the mean coverage at h = 24 has a standard error of about 0.8
points (each seed's 200 test windows hold few independent errors), so the
quick run checks that everything runs; the 1.5-point target is read from the
full run (standard error about 0.25 points).

writes ``benchmarks/results/conformal_coverage[_quick].{json,png}`` and prints tables.
"""

from __future__ import annotations

import math
import sys

import numpy as np
from _common import Stopwatch, machine_info, markdown_table, save_figure, script_args
from _common import write_json

PHI, TIMESTEPS, N_TRAIN, N_TEST, COVERAGE = 0.95, 24, 300, 200, 0.9
HORIZONS = (1, 6, 24)
MULTIPLES = {True: (9, 12, 30), False: (9, 10, 12, 15, 20, 30, 50, 100)}
TOLERANCE, MSFT_TOLERANCE = 0.015, 0.03
MSFT_TIMESTEPS, MSFT_TEST, MSFT_CALIBRATION = 20, 0.2, 0.1
LSTM = dict(hidden_units=(16,), epochs=20, random_state=0)
LSTM_PRETRAIN_EPOCHS = 2  # per layer: pretraining=LSTMSAEEncoder(pretrain_epochs=2)


def _ar1(rng, length):
    noise = rng.normal(size=length + 200)
    x = np.empty(len(noise))
    x[0] = noise[0] / math.sqrt(1 - PHI**2)
    for t in range(1, len(x)):
        x[t] = PHI * x[t - 1] + noise[t]
    return x[200:]


def _windows(series, timesteps, horizon):
    origins = np.arange(len(series) - timesteps - horizon + 1)[:, None]
    return series[origins + np.arange(timesteps)], series[origins + timesteps + np.arange(horizon)]


def simulate(seed, horizon, n_calibration, rule):
    """Test coverage of one seed: ``rule`` is ``"sae_keras"`` or ``"before"``."""
    from sklearn.linear_model import Ridge

    from sae_keras.forecasting._intervals import conformal_half_width, lead_times
    from sae_keras.data._split import purge_gap

    gap = purge_gap((horizon,)) if rule == "sae_keras" else 0
    n_windows = N_TRAIN + gap + n_calibration + gap + N_TEST
    X, Y = _windows(_ar1(np.random.default_rng(seed), n_windows + TIMESTEPS + horizon - 1),
                    TIMESTEPS, horizon)
    forecast = Ridge(alpha=1.0).fit(X[:N_TRAIN], Y[:N_TRAIN]).predict(X).reshape(Y.shape)
    scores = np.abs(Y - forecast)
    start = N_TRAIN + gap
    calibration, test = scores[start:start + n_calibration], scores[-N_TEST:]
    if rule == "sae_keras":
        half_width = conformal_half_width(calibration, COVERAGE, lead_times((horizon,)))
    else:
        rank = math.ceil((n_calibration + 1) * COVERAGE)
        half_width = np.sort(calibration, axis=0)[rank - 1]
    return float(np.mean(test <= half_width))


def simulation(seeds, multiples):
    rows = []
    for horizon in HORIZONS:
        sizes = sorted({m * horizon for m in multiples} | {100})
        for n_calibration in sizes:
            row = {"horizon": horizon, "n_calibration": n_calibration,
                   "n_eff_worst": n_calibration / horizon}
            try:  # the package refuses too few effective windows
                row["sae_keras"] = _mean_se([simulate(s, horizon, n_calibration, "sae_keras")
                                             for s in range(seeds)])
            except ValueError:
                row["sae_keras"] = "refused"
            row["before"] = _mean_se([simulate(s, horizon, n_calibration, "before")
                                      for s in range(seeds)])
            rows.append(row)
    return rows


def _mean_se(values):
    se = float(np.std(values, ddof=1) / math.sqrt(len(values)))
    return {"mean": float(np.mean(values)), "se": se}


def _msft_windows():
    from pmdarima.datasets import load_msft

    from sae_keras.data._split import time_split

    frame = load_msft()
    close = frame["Close"].to_numpy(dtype=np.float64)
    X, y = _windows(close, MSFT_TIMESTEPS, 1)
    dates = np.asarray(frame["Date"].astype(str))[MSFT_TIMESTEPS:]
    n_train, n_test = time_split(MSFT_TEST, len(y), 0, name="MSFT_TEST")
    return X[..., None], y[:, 0], dates, n_train, n_test


def _coverages(y, lower, upper, years):
    inside = (y >= lower) & (y <= upper)
    return {"overall": float(inside.mean()),
            "by_year": {year: float(inside[years == year].mean()) for year in np.unique(years)},
            "mean_width": float(np.mean(upper - lower))}


def msft(with_lstm):
    from sklearn.linear_model import Ridge

    from sae_keras.forecasting._intervals import (
        conformal_half_width, local_scale, normalized_half_width, split_calibration,
    )

    X, y, dates, n_train, n_test = _msft_windows()
    X_test, y_test = X[-n_test:], y[-n_test:]
    years = np.array([d[:4] for d in dates[-n_test:]])
    (X_fit, y_fit), (X_cal, y_cal) = split_calibration(MSFT_CALIBRATION, 0, X[:n_train],
                                                       y[:n_train])
    ridge = Ridge(alpha=1.0).fit(X_fit[..., 0], y_fit)
    scores = np.abs(y_cal - ridge.predict(X_cal[..., 0]))
    forecast = ridge.predict(X_test[..., 0])
    q = conformal_half_width(scores, COVERAGE)
    width = normalized_half_width(scores, local_scale(X_cal), local_scale(X_test), COVERAGE)
    result = {
        "windows": {"train": int(n_train), "calibration": len(y_cal), "test": int(n_test),
                    "calibration_dates": [str(dates[n_train - len(y_cal)]),
                                          str(dates[n_train - 1])],
                    "test_dates": [str(dates[-n_test]), str(dates[-1])],
                    "calibration_mean_close": float(y_cal.mean()),
                    "test_mean_close": float(y_test.mean())},
        "Ridge": {"conformal": _coverages(y_test, forecast - q, forecast + q, years),
                  "normalized": _coverages(y_test, forecast - width, forecast + width, years)},
    }
    if with_lstm:
        from sae_keras import LSTMSAEEncoder, LSTMSAERegressor

        settings = {**LSTM,
                    "pretraining": LSTMSAEEncoder(pretrain_epochs=LSTM_PRETRAIN_EPOCHS)}
        with Stopwatch() as watch:
            reg = LSTMSAERegressor(**settings, calibration_fraction=MSFT_CALIBRATION).fit(
                X[:n_train], y[:n_train])
        result["LSTMSAERegressor"] = {"settings": settings, "fit_seconds": watch.seconds}
        for method in ("conformal", "normalized"):
            lower, upper = reg.predict_interval(X_test, coverage=COVERAGE, method=method)
            result["LSTMSAERegressor"][method] = _coverages(y_test, lower, upper, years)
    return result


def _plot(rows, market, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for horizon, color in zip(HORIZONS, ("C0", "C1", "C2")):
        mine = [r for r in rows if r["horizon"] == horizon and r["sae_keras"] != "refused"]
        left.plot([r["n_eff_worst"] for r in mine], [r["sae_keras"]["mean"] for r in mine],
                  "o-", color=color, label=f"h={horizon}")
        left.plot([r["n_eff_worst"] for r in mine], [r["before"]["mean"] for r in mine],
                  "x:", color=color, label=f"h={horizon}, before")
    left.axhspan(COVERAGE - TOLERANCE, COVERAGE + TOLERANCE, color="0.9")
    left.axhline(COVERAGE, color="k", lw=0.8)
    left.set(xscale="log", xlabel="calibration windows / h", ylabel="mean test coverage",
             title="AR(1), φ=0.95: 90 % intervals")
    left.legend(fontsize=7, ncol=2)
    for model, marker in (("Ridge", "o"), ("LSTMSAERegressor", "s")):
        if model not in market:
            continue
        for method, color in (("conformal", "C3"), ("normalized", "C0")):
            by_year = market[model][method]["by_year"]
            right.plot([int(y) for y in by_year], list(by_year.values()), marker + "-",
                       color=color, alpha=1 if model == "Ridge" else 0.5,
                       label=f"{model}, {method}")
    right.axhline(COVERAGE, color="k", lw=0.8)
    right.set(xlabel="test year", ylabel="coverage", title="MSFT daily close, 90 % intervals")
    right.legend(fontsize=7)
    save_figure(fig, path)


def _cell(value):
    return value if isinstance(value, str) else f"{value['mean']:.3f} ± {value['se']:.3f}"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = script_args(argv, __doc__, "--seeds", quick=100, full=1000)
    info = machine_info()
    with Stopwatch() as watch:
        rows = simulation(args.seeds, MULTIPLES[args.quick])
    market = msft(with_lstm=not args.quick)
    accepted = [r for r in rows if r["sae_keras"] != "refused"]
    worst = max(abs(r["sae_keras"]["mean"] - COVERAGE) for r in accepted)
    targets = {"simulation_within_1.5_points": bool(worst <= TOLERANCE),
               "simulation_worst_gap": worst}
    for model in ("Ridge", "LSTMSAERegressor"):
        if model in market:
            gap = abs(market[model]["normalized"]["overall"] - COVERAGE)
            targets[f"msft_{model}_normalized_within_3_points"] = bool(gap <= MSFT_TOLERANCE)
    name = "conformal_coverage_quick" if args.quick else "conformal_coverage"
    payload = {"machine": info, "settings": {
        "phi": PHI, "timesteps": TIMESTEPS, "n_train": N_TRAIN, "n_test": N_TEST,
        "coverage": COVERAGE, "seeds": args.seeds, "multiples": MULTIPLES[args.quick],
        "msft": {"timesteps": MSFT_TIMESTEPS, "test_fraction": MSFT_TEST,
                 "calibration_fraction": MSFT_CALIBRATION}},
        "simulation_seconds": watch.seconds, "simulation": rows, "msft": market,
        "targets": targets}
    write_json(args.output / f"{name}.json", payload)
    _plot(rows, market, args.output / f"{name}.png")
    print(markdown_table(
        ["h", "calibration windows", "sae_keras coverage", "before (no gap, plain rank)"],
        [[str(r["horizon"]), str(r["n_calibration"]), _cell(r["sae_keras"]), _cell(r["before"])]
         for r in rows]))
    print()
    print(markdown_table(
        ["MSFT point forecaster", "method", "test coverage", "worst year", "mean width ($)"],
        [[model, method, f"{market[model][method]['overall']:.3f}",
          f"{min(market[model][method]['by_year'].values()):.3f}",
          f"{market[model][method]['mean_width']:.2f}"]
         for model in ("Ridge", "LSTMSAERegressor") if model in market
         for method in ("conformal", "normalized")]))
    print()
    print(f"targets: {targets}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
