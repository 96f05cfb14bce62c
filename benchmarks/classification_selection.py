"""The classifier's defaults chosen on the archive problems' training parts only.

``classification.py`` scores the test parts; this script never reads them. For
each problem of that study and each seed, the training sequences are split into
stratified folds (``StratifiedKFold(3, shuffle=True, random_state=seed)``), and
every candidate below is fitted on two folds and scored (accuracy) on the third.
Each (problem, seed, candidate) runs in a fresh process with JAX's persistent
compilation cache off, so that every candidate pays its own compilation, as a
user's first fit does (two such processes at once). The candidates and the rule
were fixed before the run:

- ``today``: ``patch_size=1`` (step by step), ``learning_rate=3e-3``, ``epochs=100``;
- ``patches<=16``: patches of ``ceil(T / 16)`` steps, otherwise ``today``;
- ``patches<=16, lr 1e-3, 300 epochs``;
- ``patches<=32, lr 1e-3, 300 epochs``.

Every candidate pretrains as ``LSTMSAEClassifier()`` does. Rule: the highest mean
accuracy over problems (per seed, then averaged over seeds); among the candidates
within 1 point of it, the one with the lowest total fit seconds.

Usage::

    python benchmarks/classification_selection.py           # results/classification_selection.json
    python benchmarks/classification_selection.py --quick   # smoke test: tiny networks
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from _classification_data import DEFAULT_PROBLEMS, QUICK_PROBLEMS, load_problem, study_arguments
from _common import RESULTS, machine_info, markdown_table, report, run_worker, summarize
from _common import write_json

SCRIPT = Path(__file__).resolve()
FOLDS = 3
#: name -> (most steps the encoders read, or None for step by step; other parameters)
CANDIDATES = {
    "today": (None, {"learning_rate": 3e-3, "epochs": 100}),
    "patches<=16": (16, {"learning_rate": 3e-3, "epochs": 100}),
    "patches<=16, lr 1e-3, 300 epochs": (16, {"learning_rate": 1e-3, "epochs": 300}),
    "patches<=32, lr 1e-3, 300 epochs": (32, {"learning_rate": 1e-3, "epochs": 300}),
}
WITHIN_POINTS = 1.0


def classifier(name, timesteps, seed, quick):
    """Candidate ``name`` for windows of ``timesteps`` steps (``--quick``: tiny networks)."""
    from sae_keras import LSTMSAEClassifier, LSTMSAEEncoder

    most_steps, params = CANDIDATES[name]
    patch_size = 1 if most_steps is None else -(-timesteps // most_steps)
    params = dict(params, patch_size=patch_size)
    if quick:
        params.update(hidden_units=(8, 4), epochs=2,
                      pretraining=LSTMSAEEncoder(pretrain_epochs=1))
    return LSTMSAEClassifier(random_state=seed, **params)


def run_job(problem, seed, name, quick):
    """Candidate ``name`` on every fold of ``problem``'s training part (the test part unread)."""
    from sklearn.model_selection import StratifiedKFold

    split = load_problem(problem)
    X, y = split.X_train, split.y_train  # the training part only
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(X[:, 0, 0], y)
    result = {"accuracy": [], "fit_seconds": []}
    for train, held in folds:
        model = classifier(name, X.shape[1], seed, quick)
        started = time.perf_counter()
        model.fit(X[train], y[train])
        result["fit_seconds"].append(time.perf_counter() - started)
        result["accuracy"].append(float(model.score(X[held], y[held])))
        result["patch_size"] = model.patch_size_
    return {"problem": problem, "seed": seed, "candidate": name, **result}


def choose(table):
    """The rule: best mean accuracy; within ``WITHIN_POINTS`` of it, the fastest."""
    best = max(row["accuracy"]["mean"] for row in table.values())
    close = [name for name, row in table.items()
             if 100 * (best - row["accuracy"]["mean"]) <= WITHIN_POINTS]
    return min(close, key=lambda name: table[name]["fit_seconds_total"])


def summarise(results, problems, seeds):
    """Per candidate: accuracy per problem, mean over problems (per seed), fit seconds."""
    table = {}
    for name in CANDIDATES:
        per_problem, per_seed, seconds = {}, [], 0.0
        mine = [r for r in results if r["candidate"] == name]
        for problem in problems:
            runs = [r for r in mine if r["problem"] == problem]
            per_problem[problem] = {
                "accuracy": summarize([np.mean(run["accuracy"]) for run in runs]),
                "patch_size": runs[0]["patch_size"],
            }
            seconds += sum(sum(run["fit_seconds"]) for run in runs)
        for seed in range(seeds):
            per_seed.append(np.mean([np.mean(r["accuracy"]) for r in mine
                                     if r["seed"] == seed]))
        table[name] = {"problems": per_problem, "accuracy": summarize(per_seed),
                       "fit_seconds_total": seconds}
    return table


def study(args):
    started = time.perf_counter()
    jobs = [(problem, seed, name) for seed in range(args.seeds) for problem in args.problems
            for name in CANDIDATES]
    flags = ["--quick"] if args.quick else []

    def one(job):
        problem, seed, name = job
        result = run_worker(SCRIPT, [*flags, "--problem", problem, "--seed", seed,
                                     "--candidate", name],
                            env={"JAX_ENABLE_COMPILATION_CACHE": "false"}, timeout=args.timeout)
        print(f"  {problem} seed {seed} {name}: done at "
              f"{(time.perf_counter() - started) / 60:.1f} min"
              + (f" ERROR {result['error'][-300:]}" if "error" in result else ""), flush=True)
        return result

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(one, jobs))
    failed = [r for r in results if "error" in r]
    if failed:
        raise SystemExit(f"{len(failed)} job(s) failed; nothing is chosen or written.")
    table = summarise(results, args.problems, args.seeds)
    chosen = choose(table)
    payload = {
        "machine": machine_info(),
        "protocol": {"problems": args.problems, "seeds": args.seeds, "folds": FOLDS,
                     "quick": args.quick, "concurrent_jobs": args.jobs,
                     "processes": "one per (problem, seed, candidate), JAX's persistent "
                                  "compilation cache off",
                     "candidates": {n: {"most_steps": s, **p} for n, (s, p) in
                                    CANDIDATES.items()},
                     "rule": f"highest mean accuracy over problems; within {WITHIN_POINTS} "
                             "point(s) of it, the lowest total fit seconds",
                     "test_part": "never read"},
        "table": table, "chosen": chosen, "runs": results,
        "wall_seconds": time.perf_counter() - started,
    }
    out = args.out or RESULTS / ("classification_selection_quick.json" if args.quick
                                 else "classification_selection.json")
    write_json(out, payload)
    rows = [[name, *(f"{row['problems'][p]['accuracy']['mean']:.3f}" for p in args.problems),
             f"{row['accuracy']['mean']:.3f}", f"{row['fit_seconds_total']:.0f}"]
            for name, row in table.items()]
    print(markdown_table(["candidate", *args.problems, "mean", "fit s"], rows))
    print(f"chosen: {chosen}   ({out})")
    return payload


def main(argv=None):
    parser = study_arguments(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]),
                             "smoke test: tiny networks")
    parser.add_argument("--candidate", choices=list(CANDIDATES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.problems = args.problems or (QUICK_PROBLEMS if args.quick else DEFAULT_PROBLEMS)
    args.seeds = args.seeds or (1 if args.quick else 2)
    if args.worker:
        report(run_job(args.problem, args.seed, args.candidate, args.quick))
    else:
        return study(args)


if __name__ == "__main__":
    main()
