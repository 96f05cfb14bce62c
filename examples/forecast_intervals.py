"""Prediction intervals, calendar covariates and encoder variants on Beijing PM2.5.

Shows, on the bundled hourly PM2.5 data (24-hour windows of all eight channels,
the last 20% of the windows as the test part, targets the change of PM2.5 from
the window's last hour):

1. 90% prediction intervals for the next hour and for each of the next 24
   hours: split conformal (``calibration_fraction=0.1``, the most recent tenth
   of the training windows held out to calibrate) and Monte-Carlo dropout,
   with their empirical coverage and mean width on the test windows, beside a
   split-conformal interval around Ridge calibrated on the same windows;
2. known-future covariates: the hour of day and day of week of each forecast
   hour, cut by ``make_windows(future_covariates=...)``, for a 24-hour model;
3. forecasting 24 hours by feeding the next-hour model's forecasts back
   (``predict_recursive``) against the direct 24-hour head: RMSE by lead time
   (plot ``forecast_intervals.png``);
4. the three encoders (``"lstm"``, ``"bilstm"``, ``"cnn_lstm"``) at the same
   settings on the next hour: RMSE, skill over persistence, fit time.

Run ``python examples/forecast_intervals.py --quick`` for a short version.
"""

import argparse
import json
import time

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor, make_windows
from sae_keras.forecasting._intervals import conformal_half_width, lead_times, split_calibration  # its rule
from sae_keras.data._split import purge_gap
from sae_keras.data.datasets import load_beijing_pm25
from sae_keras.evaluation.metrics import rmse

parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
parser.add_argument("--quick", action="store_true", help="less data, small networks, few epochs")
parser.add_argument("--coverage", type=float, default=0.9, help="wanted coverage of the intervals")
parser.add_argument("--output", default="forecast_intervals.json", help="where to save the results")
args = parser.parse_args()

frame = load_beijing_pm25()
frame["wnd_dir"] = pd.Categorical(frame["wnd_dir"]).codes
hours, days = frame.index.hour.to_numpy(), frame.index.day_of_week.to_numpy()
calendar = ["hour_sin", "hour_cos", "day_sin", "day_cos"]
frame[calendar] = np.stack([np.sin(2 * np.pi * hours / 24), np.cos(2 * np.pi * hours / 24),
                            np.sin(2 * np.pi * days / 7), np.cos(2 * np.pi * days / 7)], axis=1)
channels = [c for c in frame.columns if c not in calendar]
frame = frame.iloc[-3000:] if args.quick else frame
settings = dict(hidden_units=(16,), pretraining=LSTMSAEEncoder(pretrain_epochs=1),
                epochs=3) if args.quick else {}
CALIBRATION = 0.1


def windows(horizon):
    X, y, future = make_windows(frame, timesteps=24, horizon=horizon, target="pollution",
                                future_covariates=calendar)
    X = X[:, :, [frame.columns.get_loc(c) for c in channels]]  # the calendar only as future
    last = X[:, -1, 0]  # pollution is channel 0
    change = y - (last if horizon == 1 else last[:, None])
    split = int(0.8 * len(X))
    return X, change, future, last, split


def interval_row(name, y_true, lower, upper):
    inside = (y_true >= lower) & (y_true <= upper)
    return {"model": name, "coverage": float(inside.mean()), "mean_width": float(np.mean(upper - lower))}


def ridge_conformal(X, change, train_end, split):
    """Ridge on the same training part, split-conformal on the same calibration windows."""
    flat = X.reshape(len(X), -1)
    gap = purge_gap(change.shape[1:])
    (flat_fit, change_fit), (flat_cal, change_cal) = split_calibration(
        CALIBRATION, gap, flat[:train_end], change[:train_end])
    ridge = RidgeCV(alphas=np.logspace(-2, 6, 17)).fit(flat_fit, change_fit)
    scores = np.abs(ridge.predict(flat_cal) - change_cal)
    half = conformal_half_width(scores, args.coverage, lead_times(change.shape[1:]))
    prediction = ridge.predict(flat[split:])
    return prediction, prediction - half, prediction + half


results = {"coverage_wanted": args.coverage, "quick": args.quick, "intervals": {},
           "rmse": {}, "encoders": [], "rmse_by_lead": {}}
models = {}
for key, horizon, use_calendar in (("next hour", 1, False), ("next 24 hours", 24, False),
                                   ("next 24 hours, calendar covariates", 24, True)):
    X, change, future, last, split = windows(horizon)
    train_end = split - (horizon - 1)  # the purge gap: no training target is a test target
    truth = change[split:]
    covariates = {"future_covariates": future} if use_calendar else {}
    test_covariates = {"future_covariates": future[split:]} if use_calendar else {}
    started = time.perf_counter()
    model = LSTMSAERegressor(calibration_fraction=CALIBRATION, random_state=0, **settings)
    model.fit(X[:train_end], change[:train_end],
              **{k: v[:train_end] for k, v in covariates.items()})
    fit_seconds = time.perf_counter() - started
    prediction = model.predict(X[split:], **test_covariates)
    rows = []
    for method in ("conformal", "mc_dropout"):
        lower, upper = model.predict_interval(X[split:], coverage=args.coverage, method=method,
                                              **test_covariates)
        rows.append(interval_row(f"LSTM-SAE, {method.replace('_', ' ')}", truth, lower, upper))
    ridge_prediction, lower, upper = ridge_conformal(X, change, train_end, split)
    rows.append(interval_row("Ridge, conformal", truth, lower, upper))
    models[key] = model
    results["intervals"][key] = rows
    results["rmse"][key] = {"persistence": rmse(truth, np.zeros_like(truth)),
                            "Ridge": rmse(truth, ridge_prediction),
                            "LSTM-SAE": rmse(truth, prediction)}
    if horizon == 1:
        results["encoders"].append({"encoder": "lstm", "rmse": rmse(truth, prediction),
                                    "fit_seconds": fit_seconds})
        for kind in ("bilstm", "cnn_lstm"):
            started = time.perf_counter()
            variant = LSTMSAERegressor(cell=kind, calibration_fraction=CALIBRATION,
                                       random_state=0, **settings).fit(X[:split], change[:split])
            results["encoders"].append({
                "encoder": kind, "rmse": rmse(truth, variant.predict(X[split:])),
                "fit_seconds": time.perf_counter() - started,
            })
        persistence = results["rmse"][key]["persistence"]
        for row in results["encoders"]:
            row["skill_vs_persistence"] = 1 - row["rmse"] / persistence
    if key == "next 24 hours":  # direct 24-hour head vs the next-hour model fed back
        levels = truth + last[split:, None]
        recursive = models["next hour"].predict_recursive(X[split:], steps=24, change=True)
        by_lead = {"persistence": np.sqrt(np.mean(truth**2, axis=0)),
                   "direct": np.sqrt(np.mean((prediction - truth) ** 2, axis=0)),
                   "recursive": np.sqrt(np.mean((recursive - levels) ** 2, axis=0))}
        results["rmse_by_lead"] = {name: values.tolist() for name, values in by_lead.items()}

print(f"{len(frame)} hours; test: the last 20% of the windows; "
      f"{args.coverage:.0%} intervals, calibrated on the last {CALIBRATION:.0%} of training")
for key, rows in results["intervals"].items():
    scores = results["rmse"][key]
    print(f"\n{key}: RMSE persistence {scores['persistence']:.3f}, Ridge {scores['Ridge']:.3f}, "
          f"LSTM-SAE {scores['LSTM-SAE']:.3f}")
    print(f"{'interval':<28} {'coverage':>9} {'mean width':>11}")
    for row in rows:
        print(f"{row['model']:<28} {row['coverage']:9.1%} {row['mean_width']:11.2f}")
print(f"\nRMSE by lead (hours): {'lead':>4} {'persistence':>12} {'direct':>8} {'recursive':>10}")
for lead in (1, 2, 3, 6, 12, 24):
    values = [results["rmse_by_lead"][name][lead - 1]
              for name in ("persistence", "direct", "recursive")]
    print(f"{'':22}{lead:4d} {values[0]:12.2f} {values[1]:8.2f} {values[2]:10.2f}")
print(f"\nencoders, next hour, same settings\n{'encoder':<10} {'RMSE':>8} {'skill':>8} {'fit s':>7}")
for row in results["encoders"]:
    print(f"{row['encoder']:<10} {row['rmse']:8.3f} {row['skill_vs_persistence']:+8.1%} "
          f"{row['fit_seconds']:7.1f}")
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, values in results["rmse_by_lead"].items():
        ax.plot(range(1, 25), values, marker="o", markersize=3, label=name)
    ax.set(xlabel="lead time (hours)", ylabel="test RMSE (µg/m³)",
           title="PM2.5: direct 24-hour head vs next-hour model fed back")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.output.replace(".json", ".png"), dpi=120)
except ImportError:
    print("matplotlib not installed: no plot")
with open(args.output, "w") as handle:
    json.dump(results, handle, indent=2)
print(f"saved {args.output}")
