"""A grid search over fine-tuning settings, with and without a pretraining cache.

The search a user runs after the first model: ``GridSearchCV`` over
``LSTMSAERegressor`` fine-tuning settings (``epochs`` × ``dropout``, 4
candidates) with ``TimeSeriesSplit`` (3 folds) on one-hour-ahead PM2.5 changes
(24-hour windows × 8 channels of the last ``--rows`` hours of the bundled data),
the regressor's defaults otherwise (two layers, 64 → 32, 10 pretraining epochs
each). Without a cache every candidate and fold pretrains the same layers
again; with ``pretraining=LSTMSAEEncoder(memory=<folder>)`` each fold pretrains
once (and the refit once).
Both searches run in this process, one after the other, from a cold cache;
their scores must be identical.

Usage::

    python benchmarks/pretraining_cache.py            # 6,000 hours
    python benchmarks/pretraining_cache.py --quick    # 1,500 hours, tiny network

writes ``benchmarks/results/pretraining_cache[_quick].json`` and prints a table.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import pandas as pd
from _common import RESULTS, machine_info, markdown_table, write_json


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="little data, a tiny network")
    parser.add_argument("--rows", type=int, default=6000, help="most recent hours used")
    args = parser.parse_args(argv)

    from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

    from sae_keras import LSTMSAEEncoder, LSTMSAERegressor, make_windows
    from sae_keras.data.datasets import load_beijing_pm25

    frame = load_beijing_pm25()
    frame["wnd_dir"] = pd.Categorical(frame["wnd_dir"]).codes
    rows = 1500 if args.quick else args.rows
    X, y = make_windows(frame.iloc[-rows:], timesteps=24, target="pollution")
    y = y - X[:, -1, 0]  # the change from the last hour
    base, recipe = dict(random_state=0), {}
    if args.quick:
        base.update(hidden_units=(8,))
        recipe.update(pretrain_epochs=2)
    grid = {"epochs": [10, 30] if not args.quick else [1, 2], "dropout": [0.0, 0.2]}
    cv = TimeSeriesSplit(n_splits=3)

    runs = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, memory in (("no cache", None), ("memory=folder", folder)):
            pretraining = LSTMSAEEncoder(**recipe, memory=memory)
            search = GridSearchCV(LSTMSAERegressor(**base, pretraining=pretraining), grid,
                                  cv=cv)
            start = time.perf_counter()
            search.fit(X, y)
            runs[name] = {
                "seconds": time.perf_counter() - start,
                "mean_test_score": search.cv_results_["mean_test_score"].tolist(),
                "best_params": search.best_params_,
            }
    same = runs["no cache"]["mean_test_score"] == runs["memory=folder"]["mean_test_score"]
    speedup = runs["no cache"]["seconds"] / runs["memory=folder"]["seconds"]
    fits = cv.get_n_splits()
    result = {
        "machine": machine_info(),
        "windows": len(X),
        "grid": grid,
        "folds": fits,
        "fits": fits * 4 + 1,
        "runs": runs,
        "speedup": speedup,
        "identical_scores": same,
        "quick": args.quick,
    }
    path = write_json(RESULTS / f"pretraining_cache{'_quick' if args.quick else ''}.json", result)
    print(markdown_table(
        ["search", "wall s", "ratio", "best params", "mean CV R² of each candidate"],
        [[name, f"{run['seconds']:.1f}",
          f"{runs['no cache']['seconds'] / run['seconds']:.2f}x",
          str(run["best_params"]),
          ", ".join(f"{s:.4f}" for s in run["mean_test_score"])]
         for name, run in runs.items()],
    ))
    print(f"{len(X)} windows, {fits} folds x 4 candidates + refit; speed-up {speedup:.2f}x; "
          f"identical scores: {same}; wrote {path}")
    if not same:
        raise SystemExit("the cached search scored differently")
    return result


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
