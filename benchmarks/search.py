"""One hyper-parameter search, run each of the ways the search guide describes.

The same search space, folds, data and budget, each contender in a fresh process
with its own empty JAX compilation-cache folder (a first run):

- ``grid, one process``: ``GridSearchCV`` with ``n_jobs=None`` (the baseline);
- ``grid, joblib processes``: the same with ``n_jobs=2`` (joblib's loky processes);
- ``grid, Dask``: the same under joblib's Dask backend, on a two-process
  ``distributed.LocalCluster`` (one thread each);
- ``grid, Ray``: the same under Ray's joblib backend (``ray.util.joblib``), on a
  local Ray started with 2 CPUs;
- ``Optuna``: a TPE study with a median pruner over the same candidates (each a
  categorical choice), as many trials as the grid has candidates, run in one
  process; a Keras callback reports each fine-tuning epoch's validation loss and
  stops a trial the pruner gives up on (docs/guide/search.md). The best trial is
  refitted on all the search windows, as ``GridSearchCV`` refits. ``TPESampler``
  keeps Optuna's defaults: with fewer trials than its ``n_startup_trials`` (10),
  every trial is drawn at random, so this is a random search with pruning;
- ``Optuna, TPE after 3 random trials``: the same study with
  ``TPESampler(n_startup_trials=3)``, so that five of its eight trials are drawn
  from the sampler's model of the trials before.

Data: the first windows of the bundled PM2.5 series (24 steps, every channel, the
next hour's pollution), the last fifth held out for the test score after a gap of
one window length; three ``TimeSeriesSplit`` folds over the rest. Scored by RMSE
(cross-validated mean, and on the held-out part for the refitted best). A cluster's
start-up is timed apart from its search.

Figures: each contender's search seconds (start-up apart) and their ratio to the
one-process grid, the candidates it fitted (Optuna: complete and pruned trials),
its choice, its cross-validated and test RMSE.

Usage::

    python benchmarks/search.py           # 8 candidates, 3 folds, up to 10 epochs
    python benchmarks/search.py --quick   # 2 candidates, 2 folds, 2 epochs

writes ``benchmarks/results/search[_quick].{json,png}`` and prints a table. The
Dask, Ray and Optuna contenders need ``pip install ".[dask,ray,search]"``; a
contender whose package is missing is reported as skipped.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import time
from pathlib import Path

from _common import machine_info, markdown_table, run_worker, save_figure, script_args
from _common import worker_call, write_json

SCRIPT = Path(__file__).resolve()
WINDOWS, TIMESTEPS, TEST_FRACTION = 3000, 24, 0.2
GRID = {"hidden_units": [(8, 4), (16, 8)], "learning_rate": [1e-3, 3e-3],
        "dropout": [0.0, 0.2]}
QUICK_GRID = {"hidden_units": [(4,), (8,)], "learning_rate": [3e-3], "dropout": [0.0]}
#: (name, package the contender needs, or None)
CONTENDERS = [("grid, one process", None), ("grid, joblib processes", None),
              ("grid, Dask", "distributed"), ("grid, Ray", "ray"), ("Optuna", "optuna"),
              ("Optuna, TPE after 3 random trials", "optuna")]
#: ``TPESampler(n_startup_trials=...)`` of each Optuna contender (None: Optuna's default)
STARTUP_TRIALS = {"Optuna": None, "Optuna, TPE after 3 random trials": 3}


def settings(quick):
    """The search's fixed settings: the estimator's and the folds'."""
    return {"grid": QUICK_GRID if quick else GRID, "folds": 2 if quick else 3,
            "epochs": 2 if quick else 10, "pretrain_epochs": 1 if quick else 2,
            "n_iter_no_change": 3, "windows": 600 if quick else WINDOWS}


def _data(quick):
    from sae_keras import make_windows
    from sae_keras.data.datasets import load_beijing_pm25

    n = settings(quick)["windows"]
    frame = load_beijing_pm25().iloc[: n + TIMESTEPS]
    X, y = make_windows(frame.select_dtypes("number"), timesteps=TIMESTEPS, horizon=1,
                        target="pollution")
    cut = int((1 - TEST_FRACTION) * len(X))
    return X[:cut], y[:cut], X[cut + TIMESTEPS:], y[cut + TIMESTEPS:]


def _estimator(quick, **params):
    from sae_keras import LSTMSAEEncoder, LSTMSAERegressor

    s = settings(quick)
    return LSTMSAERegressor(
        epochs=s["epochs"], n_iter_no_change=s["n_iter_no_change"], random_state=0,
        pretraining=LSTMSAEEncoder(pretrain_epochs=s["pretrain_epochs"]), **params)


def _grid_search(quick, backend, X, y):
    """``GridSearchCV``, fitted under joblib ``backend`` (None: as it is)."""
    import joblib
    from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

    s = settings(quick)
    search = GridSearchCV(_estimator(quick), s["grid"], cv=TimeSeriesSplit(s["folds"]),
                          scoring="neg_root_mean_squared_error",
                          n_jobs=None if backend is None else 2)
    start = time.perf_counter()
    if backend in (None, "loky"):
        search.fit(X, y)
    else:
        with joblib.parallel_backend(backend):
            search.fit(X, y)
    return (search.best_estimator_, search.best_params_, -search.best_score_,
            time.perf_counter() - start, {"fits": len(search.cv_results_["params"]) * s["folds"]
                                          + 1})


def _optuna_search(quick, X, y, startup_trials=None):
    """A TPE study with a median pruner over the grid's candidates, then the refit.

    ``startup_trials`` is the sampler's ``n_startup_trials`` (None: Optuna's default).
    """
    import keras
    import numpy as np
    import optuna
    from sklearn.metrics import root_mean_squared_error
    from sklearn.model_selection import TimeSeriesSplit

    s = settings(quick)
    grid = s["grid"]
    choices = {name: list(range(len(values))) for name, values in grid.items()}

    def pruning(trial, fold):
        """Report fine-tuning's val_loss at step fold * epochs + epoch; prune on request."""
        callback = keras.callbacks.LambdaCallback()

        def on_epoch_end(epoch, logs):
            loss = (logs or {}).get("val_loss")
            if callback.model.name == "lstm_sae_forecaster" and loss is not None:
                trial.report(float(loss), fold * s["epochs"] + epoch)
                if trial.should_prune():
                    raise optuna.TrialPruned()

        callback.on_epoch_end = on_epoch_end
        return callback

    def candidate(trial):
        return {name: grid[name][trial.suggest_categorical(name, choices[name])]
                for name in grid}

    def objective(trial):
        params = candidate(trial)
        rmse = []
        for fold, (fit, held) in enumerate(TimeSeriesSplit(s["folds"]).split(X)):
            model = _estimator(quick, callbacks=[pruning(trial, fold)], **params)
            model.fit(X[fit], y[fit])
            rmse.append(root_mean_squared_error(y[held], model.predict(X[held])))
        return float(np.mean(rmse))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trials = int(np.prod([len(v) for v in grid.values()]))
    sampler_options = {} if startup_trials is None else {"n_startup_trials": startup_trials}
    study = optuna.create_study(
        direction="minimize", sampler=optuna.samplers.TPESampler(seed=0, **sampler_options),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1))
    start = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    params = {name: grid[name][index] for name, index in study.best_params.items()}
    best = _estimator(quick, **params).fit(X, y)
    seconds = time.perf_counter() - start
    states = [t.state for t in study.trials]
    distinct = {tuple(sorted(t.params.items())) for t in study.trials}
    return best, params, study.best_value, seconds, {
        "trials": len(states), "distinct_candidates": len(distinct),
        "complete": states.count(optuna.trial.TrialState.COMPLETE),
        "pruned": states.count(optuna.trial.TrialState.PRUNED)}


def worker(name, quick):
    import os

    from sklearn.metrics import root_mean_squared_error

    X, y, X_test, y_test = _data(quick)
    startup = 0.0
    if name in STARTUP_TRIALS:
        best, params, cv_rmse, seconds, extra = _optuna_search(quick, X, y,
                                                               STARTUP_TRIALS[name])
    elif name == "grid, Dask":
        import distributed

        start = time.perf_counter()
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, \
                distributed.Client(cluster, timeout="60s"):
            startup = time.perf_counter() - start
            best, params, cv_rmse, seconds, extra = _grid_search(quick, "dask", X, y)
    elif name == "grid, Ray":
        import ray
        from ray.util.joblib import register_ray

        start = time.perf_counter()
        keep = ("KERAS_BACKEND", "XDG_CACHE_HOME", "TF_CPP_MIN_LOG_LEVEL")
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {k: os.environ[k] for k in keep if k in os.environ}})
        register_ray()
        startup = time.perf_counter() - start
        try:
            best, params, cv_rmse, seconds, extra = _grid_search(quick, "ray", X, y)
        finally:
            ray.shutdown()
    else:
        backend = "loky" if name == "grid, joblib processes" else None
        best, params, cv_rmse, seconds, extra = _grid_search(quick, backend, X, y)
    return {"seconds": seconds, "startup_seconds": startup,
            "best_params": {k: list(v) if isinstance(v, tuple) else v
                            for k, v in params.items()},
            "cv_rmse": float(cv_rmse),
            "test_rmse": float(root_mean_squared_error(y_test, best.predict(X_test))),
            "search_windows": int(len(X)), "test_windows": int(len(X_test)), **extra}


def _plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n, r in results.items() if "seconds" in r]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.barh(names, [results[n]["seconds"] for n in names], color="tab:blue",
            label="search and refit")
    ax.barh(names, [results[n]["startup_seconds"] for n in names],
            left=[results[n]["seconds"] for n in names], color="tab:gray",
            label="cluster start-up")
    ax.invert_yaxis()
    ax.set_xlabel("wall seconds, fresh process")
    ax.legend(loc="lower right")
    ax.grid(True, axis="x", alpha=0.3)
    save_figure(fig, path)


def _row(name, result, base):
    if "seconds" not in result:
        return [name, result.get("skipped") or "FAILED: " + result["error"][-200:]] + [""] * 5
    fitted = (f"{result['complete']} complete, {result['pruned']} pruned "
              f"({result['distinct_candidates']} distinct)" if "trials" in result
              else f"{result['fits']} fits")
    return [name, f"{result['seconds']:.1f} (+{result['startup_seconds']:.1f})",
            f"{base / result['seconds']:.2f}×", fitted, str(result["best_params"]),
            f"{result['cv_rmse']:.3f}", f"{result['test_rmse']:.3f}"]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if worker_call(argv, worker, lambda rest: (rest[0], rest[1] == "quick")):
        return 0
    args = script_args(argv, __doc__)
    info = machine_info()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, package) in enumerate(CONTENDERS):
            if package and importlib.util.find_spec(package) is None:
                results[name] = {"skipped": f"skipped: {package} is not installed"}
            else:  # its own empty cache folder: every contender compiles from scratch
                results[name] = run_worker(
                    SCRIPT, [name, "quick" if args.quick else "full"],
                    env={"XDG_CACHE_HOME": str(Path(tmp) / str(i))},
                    unset=["JAX_COMPILATION_CACHE_DIR"])
            print(f"  {name}: {results[name].get('seconds', 'not run')}", flush=True)
    base = results["grid, one process"].get("seconds", float("nan"))
    payload = {"machine": info, "settings": settings(args.quick), "results": results}
    name = "search_quick" if args.quick else "search"
    write_json(args.output / f"{name}.json", payload)
    _plot(results, args.output / f"{name}.png")
    print(markdown_table(["contender", "search s (+ start-up)", "speed-up", "fitted",
                          "chosen", "CV RMSE", "test RMSE"],
                         [_row(n, r, base) for n, r in results.items()]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
