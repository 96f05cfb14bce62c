"""JAX's persistent compilation cache: a small grid search with it and without it.

Keras' JAX trainer jits a new training step for every model it builds, so a search
compiles the same programs once per candidate and fold, and again in every fresh
process. ``LSTMSAERegressor`` gives JAX's persistent compilation cache a user folder
when the user has not (``sae_keras/nn/_compile_cache.py``). Each contender below
runs the same search in a fresh process on JAX: ``GridSearchCV`` over 10 small
networks (hidden units × learning rate) with 3 ``TimeSeriesSplit`` folds and a
refit, on the first windows of the bundled PM2.5 series:

- ``no cache``: ``JAX_ENABLE_COMPILATION_CACHE=false`` (the documented opt-out);
- ``sae_keras default, cold``: the default, its folder empty (a first run);
- ``sae_keras default, warm``: the same folder, in a second process (a second run);
- ``JAX's threshold, cold`` and ``warm``: a folder the user set
  (``JAX_COMPILATION_CACHE_DIR``), JAX's own 1 s compile-time threshold kept (what
  a user who only sets the folder gets).

Figures: the search's wall seconds and their ratio to ``no cache``, the cache's
files and size after the run, and whether every contender chose the same
candidate with the same score (the cache must change the time, nothing else).

Usage::

    python benchmarks/jax_cache.py           # 10 candidates, 3 folds, 3 epochs
    python benchmarks/jax_cache.py --quick   # 2 candidates, 2 folds, 1 epoch

writes ``benchmarks/results/jax_cache[_quick].{json,png}`` and prints a table.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from _common import machine_info, markdown_table, run_worker, save_figure, script_args
from _common import worker_call, write_json

SCRIPT = Path(__file__).resolve()
WINDOWS, TIMESTEPS = 3000, 24
GRID = {"hidden_units": [(8,), (16,), (8, 4), (16, 8), (32, 16)],
        "learning_rate": [1e-3, 3e-3]}
QUICK_GRID = {"hidden_units": [(8,), (8, 4)], "learning_rate": [3e-3]}
#: JAX's variables that decide the cache; each contender starts from none of them.
JAX_CACHE_ENV = ("JAX_COMPILATION_CACHE_DIR", "JAX_ENABLE_COMPILATION_CACHE",
                 "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
                 "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "XDG_CACHE_HOME")


def worker(quick):
    import jax
    from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

    from sae_keras import LSTMSAEEncoder, LSTMSAERegressor, make_windows
    from sae_keras.data.datasets import load_beijing_pm25

    frame = load_beijing_pm25().iloc[: WINDOWS + TIMESTEPS]
    X, y = make_windows(frame.select_dtypes("number"), timesteps=TIMESTEPS, horizon=1,
                        target="pollution")
    epochs = 1 if quick else 3
    search = GridSearchCV(
        LSTMSAERegressor(epochs=epochs, early_stopping=False, random_state=0,
                         pretraining=LSTMSAEEncoder(pretrain_epochs=1, early_stopping=False)),
        QUICK_GRID if quick else GRID, cv=TimeSeriesSplit(2 if quick else 3),
        scoring="neg_root_mean_squared_error",
    )
    start = time.perf_counter()
    search.fit(X, y)
    seconds = time.perf_counter() - start
    folder = jax.config.jax_compilation_cache_dir
    files = [p for p in Path(folder).rglob("*") if p.is_file()] if folder else []
    return {"seconds": seconds, "windows": int(len(X)),
            "candidates": len(search.cv_results_["params"]),
            "best_params": {k: list(v) if isinstance(v, tuple) else v
                            for k, v in search.best_params_.items()},
            "best_score": float(search.best_score_),
            "mean_test_score": [float(s) for s in search.cv_results_["mean_test_score"]],
            "cache_dir_used": bool(folder),
            "min_compile_seconds": float(jax.config.jax_persistent_cache_min_compile_time_secs),
            "cache_files": len(files),
            "cache_mb": sum(p.stat().st_size for p in files) / 2**20}


def contenders(root):
    """(name, extra environment) of each run, in the order they run."""
    ours = {"XDG_CACHE_HOME": str(root / "user_cache")}
    users = {"JAX_COMPILATION_CACHE_DIR": str(root / "jax_folder")}
    return [("no cache", {"JAX_ENABLE_COMPILATION_CACHE": "false"}),
            ("sae_keras default, cold", ours), ("sae_keras default, warm", ours),
            ("JAX's threshold, cold", users), ("JAX's threshold, warm", users)]


def _plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n, r in results.items() if "error" not in r]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.barh(names, [results[n]["seconds"] for n in names], color="tab:blue")
    ax.invert_yaxis()
    ax.set_xlabel("grid search wall time (s), fresh process, JAX")
    ax.grid(True, axis="x", alpha=0.3)
    save_figure(fig, path)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if worker_call(argv, worker, lambda rest: (rest[0] == "quick",)):
        return 0
    args = script_args(argv, __doc__)
    info = machine_info()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, env in contenders(Path(tmp)):
            results[name] = run_worker(SCRIPT, ["quick" if args.quick else "full"],
                                       backend="jax", env=env,
                                       unset=[v for v in JAX_CACHE_ENV if v not in env])
            print(f"  {name}: {results[name].get('seconds', results[name].get('error'))}",
                  flush=True)
    ok = {n: r for n, r in results.items() if "error" not in r}
    base = ok.get("no cache", {}).get("seconds", float("nan"))
    choices = {(str(r["best_params"]), round(r["best_score"], 9)) for r in ok.values()}
    rows = []
    for name, result in results.items():
        if "error" in result:
            rows.append([name, "FAILED: " + result["error"][-200:], "", "", ""])
            continue
        rows.append([name, f"{result['seconds']:.1f}", f"{base / result['seconds']:.2f}×",
                     f"{result['cache_files']}", f"{result['cache_mb']:.1f}"])
    payload = {"machine": info,
               "settings": {"windows": WINDOWS, "timesteps": TIMESTEPS,
                            "grid": QUICK_GRID if args.quick else GRID,
                            "folds": 2 if args.quick else 3,
                            "epochs": 1 if args.quick else 3, "pretrain_epochs": 1},
               "results": results,
               "same_choice_and_scores": len(choices) == 1 and len(ok) == len(results)}
    name = "jax_cache_quick" if args.quick else "jax_cache"
    write_json(args.output / f"{name}.json", payload)
    _plot(results, args.output / f"{name}.png")
    print(markdown_table(["contender", "search (s)", "speed-up vs no cache",
                          "cache files", "cache MiB"], rows))
    print(f"every contender chose the same candidate with the same score: "
          f"{payload['same_choice_and_scores']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
