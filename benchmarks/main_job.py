"""The main job's network settings, chosen for time on its own training part (#25 item 2).

The main job (``sae-keras`` on the bundled PM2.5 data) fits an ``LSTMSAERegressor`` on
its first 80% of windows and scores the last 20% (its test part). This study never
reads that test part. It cuts the job's training rows off the table and runs the job's
own code on them (``sae_keras.cli._job``: the same reading rules, split rule, change
target, Ridge and persistence): candidates fit on the first 80% of the training
windows and are scored on the last 20% of them, the *selection* part. Each candidate
and seed runs in a fresh process (Keras' default backend, as the command runs), seeds
interleaved, and the figure timed is the job's ``run`` (the LSTM-SAE fit, Ridge and
the forecasts), what the command prints as "fitted in".

Candidates are command lines of ``sae-keras`` (:data:`CANDIDATES`); the first is the
job as it is (the estimators' defaults). The rule, fixed before
the run (:func:`choose`): a candidate qualifies when its mean selection RMSE over the
seeds is within :data:`RMSE_TOLERANCE` of the reference's; the qualifying candidate
with the lowest median time wins.

Usage::

    python benchmarks/main_job.py            # every candidate, 2 seeds
    python benchmarks/main_job.py --quick    # 2 candidates, 1 seed, 2,000 rows, 1 epoch

writes ``benchmarks/results/main_job_selection[_quick].{json,png}`` and prints a table.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from _common import machine_info, markdown_table, run_worker, save_figure, script_args
from _common import median_spread, worker_call, write_json

SCRIPT = Path(__file__).resolve()
#: Command lines of ``sae-keras``: the network settings each candidate job runs with.
CANDIDATES = {
    "estimator defaults": [],
    "batch 128, stride 4": ["--batch-size", "128", "--pretrain-stride", "4"],
    "batch 256, stride 8": ["--batch-size", "256", "--pretrain-stride", "8"],
    "batch 256, stride 8, 5 pretraining epochs": [
        "--batch-size", "256", "--pretrain-stride", "8", "--pretrain-epochs", "5"],
    "batch 512, stride 16": ["--batch-size", "512", "--pretrain-stride", "16"],
}
REFERENCE = "estimator defaults"
#: A candidate's mean selection RMSE may exceed the reference's by this share at most.
RMSE_TOLERANCE = 0.01
QUICK_ROWS = 2000
QUICK_ARGS = ["--epochs", "1", "--pretrain-epochs", "1"]


def selection_data(args, rows=None):
    """The job's training rows, split by the job's rule into fitting and selection parts."""
    from sae_keras.cli import _job

    frame, target, categorical = _job.read_data(args)
    if rows is not None:
        frame = frame.iloc[:rows]
    # The job's own split of the whole table; its training rows are a prefix of it.
    training_rows = len(_job.prepare(frame, target, categorical, args).train)
    return _job.prepare(frame.iloc[:training_rows], target, categorical, args)


def worker(name, seed, quick):
    from sae_keras.cli import _command, _job

    argv = ["--quiet", "--seed", str(seed), *CANDIDATES[name], *(QUICK_ARGS if quick else [])]
    args = _command.build_parser().parse_args(argv)
    data = selection_data(args, QUICK_ROWS if quick else None)
    started = time.perf_counter()
    result = _job.run(data, args)
    seconds = time.perf_counter() - started
    history = result.model.regressor_.history_
    return {
        "candidate": name, "seed": seed, "argv": argv, "seconds": seconds,
        "fitting_windows": data.train_windows, "selection_windows": data.test_windows,
        "fine_tuning_epochs": len(history["finetune"]["loss"]),
        "pretraining_epochs": [len(curves["loss"]) for phase, curves in history.items()
                               if phase.startswith("pretrain")],
        "metrics": result.metrics,
    }


def choose(summary):
    """The rule: qualifying candidates (RMSE within the tolerance), the fastest of them."""
    bar = (1 + RMSE_TOLERANCE) * summary[REFERENCE]["rmse"]
    qualifies = {name: row["rmse"] <= bar for name, row in summary.items()}
    chosen = min((name for name in summary if qualifies[name]),
                 key=lambda name: summary[name]["seconds"])
    return {"rmse_bar": bar, "qualifies": qualifies, "chosen": chosen,
            "speed_up": summary[REFERENCE]["seconds"] / summary[chosen]["seconds"]}


def summarise(runs):
    """Per candidate: mean RMSE and skill over the seeds, median seconds and spread."""
    summary = {}
    for name in CANDIDATES:
        mine = [run for run in runs if run.get("candidate") == name]
        if not mine:
            continue
        lstm = [run["metrics"]["lstm-sae"] for run in mine]
        seconds = median_spread([run["seconds"] for run in mine])
        summary[name] = {
            "rmse": float(np.mean([row["rmse"] for row in lstm])),
            "rmse_std": float(np.std([row["rmse"] for row in lstm])),
            "skill_vs_persistence": float(np.mean([row["skill_vs_persistence"]
                                                   for row in lstm])),
            "ridge_rmse": mine[0]["metrics"]["ridge (flattened windows)"]["rmse"],
            "seconds": seconds["median"], "seconds_range": [seconds["min"], seconds["max"]],
            "fine_tuning_epochs": [run["fine_tuning_epochs"] for run in mine],
        }
    return summary


def plot(summary, choice, path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, row in summary.items():
        marker = "*" if name == choice["chosen"] else "o"
        ax.errorbar(row["seconds"], row["rmse"], yerr=row["rmse_std"], fmt=marker,
                    markersize=12 if marker == "*" else 6, capsize=3, label=name)
    ax.axhline(choice["rmse_bar"], color="grey", linestyle="--", linewidth=1,
               label=f"reference + {RMSE_TOLERANCE:.0%}")
    ax.set_xlabel("job seconds (median over seeds)")
    ax.set_ylabel("selection RMSE (µg/m³, mean ± std over seeds)")
    ax.set_title("The main job's settings on its training part")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if worker_call(argv, worker, lambda rest: (rest[0], int(rest[1]), rest[2] == "quick")):
        return
    args = script_args(argv, __doc__, "--seeds", quick=1, full=2)
    names = [REFERENCE, "batch 256, stride 8"] if args.quick else list(CANDIDATES)
    runs = []
    for seed in range(args.seeds):  # seeds interleaved: every candidate once per round
        for name in names:
            run = run_worker(SCRIPT, [name, str(seed), "quick" if args.quick else "full"])
            print(f"{name}, seed {seed}: "
                  + (f"{run['seconds']:.0f} s, RMSE {run['metrics']['lstm-sae']['rmse']:.3f}"
                     if "error" not in run else run["error"][-300:]), flush=True)
            runs.append(run)
    summary = summarise(runs)
    choice = choose(summary) if REFERENCE in summary else None
    suffix = "_quick" if args.quick else ""
    write_json(args.output / f"main_job_selection{suffix}.json", {
        "machine": machine_info(), "quick": args.quick, "seeds": args.seeds,
        "candidates": {name: CANDIDATES[name] for name in names},
        "rmse_tolerance": RMSE_TOLERANCE, "runs": runs, "summary": summary, "choice": choice,
    })
    if choice is not None:
        plot(summary, choice, args.output / f"main_job_selection{suffix}.png")
    rows = [[name, f"{row['seconds']:.0f} ({row['seconds_range'][0]:.0f}-{row['seconds_range'][1]:.0f})",
             f"{summary[REFERENCE]['seconds'] / row['seconds']:.2f}x",
             f"{row['rmse']:.3f} ± {row['rmse_std']:.3f}",
             f"{row['rmse'] / summary[REFERENCE]['rmse']:.3f}",
             f"{row['skill_vs_persistence']:+.1%}",
             "yes" if choice and choice["qualifies"][name] else "no"]
            for name, row in summary.items()]
    print(markdown_table(["candidate", "job s", "speed-up", "selection RMSE", "RMSE ratio",
                          "skill vs persistence", "qualifies"], rows))
    if choice is not None:
        print(f"\nchosen: {choice['chosen']} ({choice['speed_up']:.2f}x faster)")


if __name__ == "__main__":
    main()
