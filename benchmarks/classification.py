"""LSTM-SAE classifiers beside the field's baselines, on UCR/UEA archive problems.

Six archive problems read offline from aeon's wheel, with their official
train/test splits (``_classification_data.py``: two multivariate, two of
variable length). Each (problem, seed) job runs every contender side by side in
one fresh process, on the same training sequences in the same (seeded) order:

- 1-NN DTW (aeon ``KNeighborsTimeSeriesClassifier``, full window; dependent DTW
  on multivariate problems; variable-length sequences as they are);
- MiniRocket (aeon ``MiniRocketClassifier``; shorter sequences zero-padded);
- ``LogisticRegression`` on the flattened windows (padding: column mean, so 0
  after standardising, plus a missing-value indicator per column);
- ``LSTMSAEEncoder`` codes + ``LogisticRegression``, in a ``Pipeline``;
- ``LSTMSAEClassifier()`` with its defaults, and with ``pretraining=None``.

The LSTM-SAE estimators read NaN right-padded windows. Then the scarce-label
study: 10 % and 25 % of the training labels (stratified, at least one per class),
the rest of the training sequences passed without labels as ``X_unlabeled``
(and pretrained on by the encoder of the pipeline). Accuracy on the test part,
fit and predict seconds; 3 seeds; the published accuracies of the archive and
the bake-offs as quoted rows. Last, alone: the speed target, a classifier fit on
300 synthetic sequences of 100 steps x 6 channels on 2 cores.

``LSTMSAEClassifier`` rows are skipped, with the reason printed and recorded,
while ``from sae_keras import LSTMSAEClassifier`` fails.

Usage::

    python benchmarks/classification.py           # results/classification.{json,png}
    python benchmarks/classification.py --quick   # smoke test: 2 problems, tiny networks

Two jobs run at once (``--jobs``): fit seconds are those of a fit sharing the
2-core machine with another; the speed check runs alone.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from _classification_data import DEFAULT_PROBLEMS, NOT_FOUND, PROBLEMS, QUICK_PROBLEMS
from _classification_data import aeon_input, labeled_subset, load_problem, published_rows
from _classification_data import study_arguments, zero_filled
from _common import RESULTS, Stopwatch, machine_info, markdown_table, report, run_worker
from _common import save_figure, summarize, write_json

SCRIPT = Path(__file__).resolve()
FRACTIONS = (0.1, 0.25)

DTW, MINIROCKET, LOGREG = "1-NN DTW", "MiniRocket", "LogisticRegression (flattened)"
PIPELINE = "LSTMSAEEncoder + LogisticRegression"
CLASSIFIER, NO_PRETRAINING = "LSTMSAEClassifier()", "LSTMSAEClassifier(pretraining=None)"
PREVIOUS = "LSTMSAEClassifier(previous defaults)"
#: The classifier's defaults before one layer (``classification_selection.py --round
#: depth``): two stacked layers, for the before/after comparison in one run.
PREVIOUS_DEFAULTS = {"hidden_units": (64, 32)}
FULL = [DTW, MINIROCKET, LOGREG, PIPELINE, CLASSIFIER, NO_PRETRAINING, PREVIOUS]
ENCODER_LABELED = "LSTMSAEEncoder (labeled only) + LogisticRegression"
ENCODER_ALL = "LSTMSAEEncoder (all windows) + LogisticRegression"
CLASSIFIER_UNLABELED = "LSTMSAEClassifier() + X_unlabeled"
SCARCE = [DTW, MINIROCKET, LOGREG, ENCODER_LABELED, ENCODER_ALL, CLASSIFIER_UNLABELED,
          NO_PRETRAINING]
# The full-label row each scarce-label row becomes with every label (for the plot).
AT_ALL_LABELS = {DTW: DTW, MINIROCKET: MINIROCKET, LOGREG: LOGREG, ENCODER_LABELED: PIPELINE,
                 ENCODER_ALL: PIPELINE, CLASSIFIER_UNLABELED: CLASSIFIER,
                 NO_PRETRAINING: NO_PRETRAINING}
SPEED_SHAPE = (300, 100, 6)  # the target: fit in under 60 s on 2 cores


# -- the estimators ------------------------------------------------------------------


def lstm_sae(kind, seed, quick, depth=2):
    """Every LSTM-SAE estimator of the benchmark is built here, and only here.

    ``kind``: ``"encoder"``, ``"classifier"`` (its defaults), ``"no_pretraining"`` or
    ``"previous"`` (:data:`PREVIOUS_DEFAULTS`). ``--quick`` shrinks the networks
    (8, then 4 units, as many layers as the full-size network: ``depth`` for the
    encoder; 1 pretraining epoch per layer, 2 fine-tuning epochs); the study passes
    nothing but ``random_state``, ``pretraining=None`` and the previous defaults.
    Raises ``ImportError`` while the classifier is missing.
    """
    from sae_keras import LSTMSAEEncoder

    if kind == "encoder":
        small = {"hidden_units": (8, 4)[:depth], "pretrain_epochs": 1} if quick else {}
        return LSTMSAEEncoder(random_state=seed, **small)
    from sae_keras import LSTMSAEClassifier

    params = {}
    if kind == "previous":
        params.update(PREVIOUS_DEFAULTS)
    if quick:
        depth = len(params.get("hidden_units", LSTMSAEClassifier().hidden_units))
        params.update(hidden_units=(8, 4)[:depth], epochs=2)
    if kind == "no_pretraining":
        params["pretraining"] = None
    elif quick:  # a composed encoder, as the classifier pretrains through one
        params["pretraining"] = lstm_sae("encoder", seed, quick, depth)
    return LSTMSAEClassifier(random_state=seed, **params)


def baseline(name, seed):
    """A baseline classifier, and the input it reads (see :func:`inputs`)."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == DTW:
        from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

        return KNeighborsTimeSeriesClassifier(n_neighbors=1, distance="dtw"), "sequences"
    if name == MINIROCKET:
        from aeon.classification.convolution_based import MiniRocketClassifier

        return MiniRocketClassifier(random_state=seed), "zero_padded"
    return make_pipeline(SimpleImputer(strategy="mean", add_indicator=True),
                         StandardScaler(), LogisticRegression(max_iter=5000)), "flat"


def codes_classifier(encoder):
    """``encoder`` (fitted in the pipeline, or frozen) -> standardised codes -> LogReg."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(encoder, StandardScaler(), LogisticRegression(max_iter=5000))


def inputs(kind, sequences, X):
    """The same sequences in the form a contender reads."""
    if kind == "sequences":
        return aeon_input(sequences)
    if kind == "zero_padded":
        return zero_filled(X)
    if kind == "flat":
        return X.reshape(len(X), -1)
    return X  # NaN right-padded windows, (n, steps, channels)


# -- one job: a problem and a seed, in a fresh process --------------------------------


def _fit_score(model, kind, train, test, **fit_params):
    """Fit on ``train`` = (sequences, X, y), score on ``test``: accuracy and seconds."""
    with Stopwatch() as fit:
        model.fit(inputs(kind, train[0], train[1]), train[2], **fit_params)
    with Stopwatch() as predict:
        predicted = np.asarray(model.predict(inputs(kind, test[0], test[1])))
    row = {"accuracy": float(np.mean(predicted.astype(str) == test[2])),
           "fit_seconds": fit.seconds, "predict_seconds": predict.seconds}
    if hasattr(model, "steps"):  # a pipeline: its encoder's pretraining phases
        model = model.steps[0][1]
    history = getattr(model, "history_", None)
    if isinstance(history, dict):
        row["epochs"] = {phase: len(curves.get("loss", [])) for phase, curves in history.items()}
    return row


def _warm_up_numba(split):
    """Compile aeon's numba kernels for this problem's input kinds, untimed."""
    rng = np.random.default_rng(0)
    channels = split.train[0].shape[1]
    lengths = (12, 10, 11) if split.variable_length else (12, 12, 12)
    sequences = [rng.normal(size=(n, channels)) for n in lengths]
    X = np.stack([np.pad(s, ((0, 12 - len(s)), (0, 0)), constant_values=np.nan)
                  for s in sequences])
    for name in (DTW, MINIROCKET):
        model, kind = baseline(name, 0)
        model.fit(inputs(kind, sequences, X), np.array(["a", "b", "a"]))
        model.predict(inputs(kind, sequences, X))


def run_job(problem, seed, quick, fractions):
    """Every contender on ``problem`` with ``seed``: full labels, then scarce labels."""
    split = load_problem(problem)
    order = np.random.default_rng(seed).permutation(len(split.train))
    sequences = [split.train[i] for i in order]
    X, y = split.X_train[order], split.y_train[order]
    train, test = (sequences, X, y), (split.test, split.X_test, split.y_test)
    _warm_up_numba(split)
    full, skipped = {}, {}
    for name in (DTW, MINIROCKET, LOGREG):
        full[name] = _fit_score(*baseline(name, seed), train, test)
    pipeline = codes_classifier(lstm_sae("encoder", seed, quick))
    full[PIPELINE] = _fit_score(pipeline, "windows", train, test)
    encoder, encoder_seconds = pipeline.steps[0][1], full[PIPELINE]["fit_seconds"]
    for name, kind in ((CLASSIFIER, "classifier"), (NO_PRETRAINING, "no_pretraining"),
                       (PREVIOUS, "previous")):
        try:
            model = lstm_sae(kind, seed, quick)
        except ImportError as error:
            skipped[name] = f"not importable: {error}"
            continue
        full[name] = _fit_score(model, "windows", train, test)
    scarce = {}
    for fraction in fractions:
        labeled, rest = labeled_subset(y, fraction, seed)
        part = ([sequences[i] for i in labeled], X[labeled], y[labeled])
        rows = {name: _fit_score(*baseline(name, seed), part, test)
                for name in (DTW, MINIROCKET, LOGREG)}
        rows[ENCODER_LABELED] = _fit_score(
            codes_classifier(lstm_sae("encoder", seed, quick)), "windows", part, test)
        from sklearn.frozen import FrozenEstimator

        # The encoder of the full-label pipeline pretrained on these same windows
        # (labeled and unlabeled alike, no label read): its fit time is counted here.
        rows[ENCODER_ALL] = _fit_score(codes_classifier(FrozenEstimator(encoder)),
                                       "windows", part, test)
        rows[ENCODER_ALL]["fit_seconds"] += encoder_seconds
        for name, kind, extra in ((CLASSIFIER_UNLABELED, "classifier", {"X_unlabeled": X[rest]}),
                                  (NO_PRETRAINING, "no_pretraining", {})):
            try:
                model = lstm_sae(kind, seed, quick)
            except ImportError as error:
                skipped[name] = f"not importable: {error}"
                continue
            rows[name] = _fit_score(model, "windows", part, test, **extra)
        scarce[str(fraction)] = {"n_labeled": len(labeled), "n_unlabeled": len(rest),
                                 "rows": rows}
    return {"problem": problem, "seed": seed, "data": split.describe(), "full": full,
            "scarce": scarce, "skipped": skipped}


def speed_check(quick):
    """Fit seconds on the issue's synthetic case, on (at most) 2 cores, nothing else running."""
    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 2:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2])
    n, steps, channels = SPEED_SHAPE
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=n)
    t = np.arange(steps)[None, :, None]
    frequency = (1 + y)[:, None, None] / 25.0
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, channels))
    X = np.sin(2 * np.pi * frequency * t + phase) + 0.3 * rng.normal(size=(n, steps, channels))
    result = {"shape": list(SPEED_SHAPE), "classes": 3, "quick": quick,
              "cpus_used": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
              else None}
    for name, kind in (("LSTMSAEEncoder()", "encoder"), (CLASSIFIER, "classifier")):
        try:
            model = lstm_sae(kind, 0, quick)
        except ImportError as error:
            result[name] = {"skipped": f"not importable: {error}"}
            continue
        data = (X,) if kind == "encoder" else (X, y)
        with Stopwatch() as fit:
            model.fit(*data)
        result[name] = {"fit_seconds": fit.seconds}
    return result


# -- the study ------------------------------------------------------------------------


def _run_jobs(args):
    jobs = [(problem, seed) for seed in range(args.seeds) for problem in args.problems]
    flags = ["--fractions", *args.fractions] + (["--quick"] if args.quick else [])
    started, done = time.perf_counter(), []

    def one(job):
        problem, seed = job
        result = run_worker(SCRIPT, [*flags, "--problem", problem, "--seed", seed],
                            timeout=args.timeout)
        done.append(job)
        elapsed = time.perf_counter() - started
        eta = elapsed / len(done) * (len(jobs) - len(done))
        print(f"  [{len(done)}/{len(jobs)}] {problem} seed {seed} done at {elapsed / 60:.1f} min"
              f" (about {eta / 60:.0f} min left)"
              + (f" ERROR {result['error'][-300:]}" if "error" in result else ""), flush=True)
        return result

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        return list(pool.map(one, jobs))


def _rows(result, fraction):
    return result["full"] if fraction is None else result["scarce"][fraction]["rows"]


def summarise(results, problems, fractions):
    """Per setting (full labels, then each fraction), problem and contender: seeds' stats."""
    settings = {"full": (None, FULL), **{f"{f} of the labels": (str(f), SCARCE) for f in fractions}}
    ok = [r for r in results if "full" in r]
    table = {}
    for setting, (fraction, names) in settings.items():
        entry = {"problems": {}, "mean_over_problems": {}}
        for problem in problems:
            runs = [r for r in ok if r["problem"] == problem]
            cells = {}
            for name in names:
                rows = [_rows(r, fraction)[name] for r in runs if name in _rows(r, fraction)]
                if rows:
                    cells[name] = {key: summarize([row[key] for row in rows])
                                   for key in ("accuracy", "fit_seconds", "predict_seconds")}
            extra = ({"n_labeled": runs[0]["scarce"][fraction]["n_labeled"]}
                     if fraction and runs else {})
            entry["problems"][problem] = {**extra, "contenders": cells}
        for name in names:
            # Per seed the mean over problems, then the seeds' mean and spread.
            per_seed = []
            for seed in sorted({r["seed"] for r in ok}):
                accuracies = [_rows(r, fraction)[name]["accuracy"] for r in ok
                              if r["seed"] == seed and name in _rows(r, fraction)]
                if len(accuracies) == len(problems):
                    per_seed.append(float(np.mean(accuracies)))
            if per_seed:
                entry["mean_over_problems"][name] = summarize(per_seed)
        table[setting] = entry
    return table


def _accuracy(table, setting, problem, name):
    cell = table[setting]["problems"][problem]["contenders"].get(name)
    return None if cell is None else cell["accuracy"]["mean"]


def targets(table, speed, problems, fractions):
    """The issue's targets, checked on the figures (``None`` where a row is missing)."""
    means = table["full"]["mean_over_problems"]
    out = {}
    if CLASSIFIER in means and DTW in means:
        out["beats_1nn_dtw_on_mean"] = means[CLASSIFIER]["mean"] > means[DTW]["mean"]
        gaps = {}
        for problem in problems:
            others = [_accuracy(table, "full", problem, n) for n in FULL if n != CLASSIFIER]
            best = max(a for a in others if a is not None)
            gaps[problem] = _accuracy(table, "full", problem, CLASSIFIER) - best
        out["points_behind_best_contender"] = {p: round(100 * g, 2) for p, g in gaps.items()}
        out["within_3_points_of_best_everywhere"] = all(g >= -0.03 for g in gaps.values())
    else:
        out["classifier"] = "not measured (LSTMSAEClassifier rows skipped)"
    if 0.1 in fractions:
        setting = "0.1 of the labels"
        for label, with_, without in (("classifier", CLASSIFIER_UNLABELED, NO_PRETRAINING),
                                      ("encoder_pipeline", ENCODER_ALL, ENCODER_LABELED)):
            gains = [_accuracy(table, setting, p, with_) - _accuracy(table, setting, p, without)
                     for p in problems
                     if None not in (_accuracy(table, setting, p, with_),
                                     _accuracy(table, setting, p, without))]
            if len(gains) == len(problems):
                gain = float(np.mean(gains))
                out[f"pretraining_gain_at_10pct_{label}_points"] = round(100 * gain, 2)
                if label == "classifier":
                    out["pretraining_gain_at_10pct_met"] = gain >= 0.03
    fit = speed.get(CLASSIFIER, {}).get("fit_seconds")
    out["speed_fit_seconds"] = fit
    out["speed_met"] = None if fit is None or speed.get("quick") else fit < 60
    return out


def study(args):
    results = _run_jobs(args)
    print("  speed check (alone) ...", flush=True)
    speed = run_worker(SCRIPT, ["--speed"] + (["--quick"] if args.quick else []),
                       timeout=args.timeout)
    problems = list(args.problems)
    table = summarise(results, problems, args.fractions)
    skipped = {name: reason for r in results for name, reason in r.get("skipped", {}).items()}
    for name, reason in skipped.items():
        print(f"  skipped {name}: {reason}")
    payload = {
        "machine": machine_info(),
        "protocol": {
            "problems": problems, "seeds": args.seeds, "fractions": args.fractions,
            "quick": args.quick, "concurrent_jobs": args.jobs,
            "training_order": "permuted with numpy default_rng(seed), the same for every "
                              "contender (some archive training sets are sorted by class)",
            "padding": "NaN right-padding to the longest sequence of either part for the "
                       "LSTM-SAE estimators; zeros for MiniRocket; column mean + missing "
                       "indicator for LogisticRegression; none for 1-NN DTW",
            "scarce_labels": "stratified subset, max(n_classes, round(fraction * n_train)) "
                             "labels; the rest of the training sequences as X_unlabeled",
            "numba": "aeon's kernels compiled on tiny data before any timing",
        },
        "problems": {p: {**PROBLEMS[p].__dict__,
                         **next((r["data"] for r in results if r.get("problem") == p
                                 and "data" in r), {})} for p in problems},
        "results": table,
        "published": published_rows(problems),
        "published_not_found": {p: NOT_FOUND[p] for p in problems if p in NOT_FOUND},
        "speed": speed,
        "skipped": skipped,
        "targets": targets(table, speed, problems, args.fractions),
        "runs": results,
    }
    path = write_json(args.out or RESULTS / ("classification_quick.json" if args.quick
                                             else "classification.json"), payload)
    _plot(table, payload["published"], problems, args.fractions, path.with_suffix(".png"))
    _print_tables(payload, problems)
    print(f"\nwrote {path}")
    return payload


def _cell(summary):
    return "-" if summary is None else (f"{summary['mean']:.3f}" if len(summary["values"]) == 1
                                        else f"{summary['mean']:.3f} ± {summary['std']:.3f}")


def _print_tables(payload, problems):
    table = payload["results"]
    print("\n" + markdown_table(
        ["problem", "channels", "length", "classes", "train/test"],
        [[p, str(d.get("channels")), f"{d.get('length_min')}-{d.get('length_max')}",
          str(d.get("classes")), f"{d.get('n_train')}/{d.get('n_test')}"]
         for p, d in payload["problems"].items()]))
    for setting, entry in table.items():
        names = [n for n in (FULL if setting == "full" else SCARCE)
                 if n in entry["mean_over_problems"]
                 or any(n in c["contenders"] for c in entry["problems"].values())]
        rows = []
        for name in names:
            cells = [entry["problems"][p]["contenders"].get(name) for p in problems]
            best_gap = [c["accuracy"]["mean"] - max(o["accuracy"]["mean"] for o in
                        entry["problems"][p]["contenders"].values())
                        for p, c in zip(problems, cells) if c is not None]
            fit = sum(c["fit_seconds"]["mean"] for c in cells if c is not None)
            rows.append([name] + [_cell(c and c["accuracy"]) for c in cells]
                        + [_cell(entry["mean_over_problems"].get(name)),
                           f"{100 * np.mean(best_gap):+.1f}" if best_gap else "-", f"{fit:.1f}"])
        if setting == "full":
            for label, row in payload["published"].items():
                rows.append([f"{label} (quoted, not measured)"]
                            + [f"{row['accuracy'][p]:.3f}" if p in row["accuracy"] else "-"
                               for p in problems] + ["-", "-", "-"])
        print(f"\naccuracy, {setting} (mean ± std over seeds; gap: mean points behind the best "
              "measured row per problem; fit s: summed over problems)")
        print(markdown_table(["contender", *problems, "mean", "gap", "fit s"], rows))
    print("\nspeed check:", json.dumps({k: v for k, v in payload["speed"].items()
                                        if k != "cpus_used"}))
    print("targets:", json.dumps(payload["targets"]))


def _plot(table, published, problems, fractions, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (bars, curves) = plt.subplots(1, 2, figsize=(14, 4.8),
                                       gridspec_kw={"width_ratios": [1.6, 1]})
    full = table["full"]
    names = [n for n in FULL if any(n in full["problems"][p]["contenders"] for p in problems)]
    width = 0.8 / max(len(names), 1)
    for k, name in enumerate(names):
        cells = [full["problems"][p]["contenders"].get(name) for p in problems]
        bars.bar(np.arange(len(problems)) + k * width,
                 [c["accuracy"]["mean"] if c else np.nan for c in cells], width,
                 yerr=[c["accuracy"]["std"] if c else 0 for c in cells], label=name)
    centres = np.arange(len(problems)) + 0.4 - width / 2
    for marker, (label, row) in zip("xd^v*s", published.items()):
        # Over the bar of the measured row it compares with.
        match = MINIROCKET if "Rocket" in label or "ROCKET" in label else DTW
        offset = names.index(match) * width if match in names else 0.4 - width / 2
        at = [(k, row["accuracy"][p]) for k, p in enumerate(problems) if p in row["accuracy"]]
        bars.scatter([k + offset for k, _ in at], [a for _, a in at], marker=marker,
                     color="black", zorder=3, label=f"{label} (quoted)")
    bars.set_xticks(centres, problems, rotation=20, ha="right")
    bars.set_ylim(0, 1.45)  # room for the legend above the bars
    bars.set_yticks(np.linspace(0, 1, 6))
    bars.set_ylabel("test accuracy")
    bars.set_title("All training labels (mean ± std over seeds)")
    bars.legend(fontsize=7, loc="upper center", ncol=3)
    for name in SCARCE:
        points = [(f, table[f"{f} of the labels"]["mean_over_problems"].get(name))
                  for f in fractions]
        points.append((1.0, full["mean_over_problems"].get(AT_ALL_LABELS[name])))
        points = [(f, s) for f, s in points if s is not None]
        if points:
            curves.errorbar([f for f, _ in points], [s["mean"] for _, s in points],
                            yerr=[s["std"] for _, s in points], marker="o", capsize=3,
                            label=name)
    curves.set_xscale("log")
    curves.set_xticks([*fractions, 1.0], [f"{f:.0%}" for f in (*fractions, 1.0)])
    curves.set_xlabel("fraction of the training labels")
    curves.set_ylabel("mean test accuracy over problems")
    curves.set_title("Scarce labels (the rest unlabeled)")
    curves.legend(fontsize=7)
    save_figure(fig, path)


def main(argv=None):
    parser = study_arguments(
        argparse.ArgumentParser(description=__doc__.split("\n\n")[0]),
        f"smoke test: {', '.join(QUICK_PROBLEMS)}, 1 seed, 10 %% labels, tiny networks")
    parser.add_argument("--fractions", nargs="+", type=float, default=None)
    parser.add_argument("--speed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.problems = args.problems or (QUICK_PROBLEMS if args.quick else DEFAULT_PROBLEMS)
    args.seeds = args.seeds or (1 if args.quick else 3)
    args.fractions = args.fractions or ([0.1] if args.quick else list(FRACTIONS))
    if args.worker:
        report(speed_check(args.quick) if args.speed
               else run_job(args.problem, args.seed, args.quick, args.fractions))
    else:
        return study(args)


if __name__ == "__main__":
    main()
