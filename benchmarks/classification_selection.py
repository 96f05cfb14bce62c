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

``--labels F``: scarce labels. In each fold's training part only a stratified
``max(n_classes, round(F * n))`` sequences keep their label
(``_classification_data.labeled_subset``); the rest are passed as ``X_unlabeled``
to the pretrained candidates. Then the candidates are ways to pretrain, all with
``patch_size="auto"`` (:data:`SCARCE_CANDIDATES`), and the table adds each one's
gain over no pretraining.

``--round head``: the next round, on top of the defaults of the time
(:data:`HEAD_CANDIDATES`): the classifier with and without a linear map of the
sequence beside the LSTMs (``linear_skip="trained"`` or ``"logistic"``). With
``--labels`` it adds each one's no-pretraining twin, the base of its gain. Same rule,
same folds.
``--round depth``: the two layers of the time against one (:data:`DEPTH_CANDIDATES`),
the same way; one layer became the default. Every round's "today" is
:data:`ROUND_BASE`, the defaults when it ran.
``--round ensemble``: one layer alone against the mean probabilities of 3 fits with
different seeds (:data:`ENSEMBLE_CANDIDATES`), the same way.
``--round objective``: one layer pretrained with other objectives
(:data:`OBJECTIVE_CANDIDATES`), the same way.

Usage::

    python benchmarks/classification_selection.py           # results/classification_selection.json
    python benchmarks/classification_selection.py --quick   # smoke test: tiny networks
    python benchmarks/classification_selection.py --labels 0.1   # ..._labels0.1.json
    python benchmarks/classification_selection.py --round head   # ..._head.json
    python benchmarks/classification_selection.py --round head --labels 0.1
    python benchmarks/classification_selection.py --round depth --labels 0.1
    python benchmarks/classification_selection.py --round ensemble [--labels 0.1]
    python benchmarks/classification_selection.py --round objective [--labels 0.1]
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
#: What every candidate of every round has unless it says otherwise: the classifier's
#: defaults when these rounds ran ("today" in their names), two stacked layers. The
#: depth round chose one layer, the default since; pinning the two keeps each recorded
#: round reproducible.
ROUND_BASE = {"hidden_units": (64, 32)}
#: name -> (most steps the encoders read, or None for step by step; other parameters)
CANDIDATES = {
    "today": (None, {"learning_rate": 3e-3, "epochs": 100}),
    "patches<=16": (16, {"learning_rate": 3e-3, "epochs": 100}),
    "patches<=16, lr 1e-3, 300 epochs": (16, {"learning_rate": 1e-3, "epochs": 300}),
    "patches<=32, lr 1e-3, 300 epochs": (32, {"learning_rate": 1e-3, "epochs": 300}),
}
#: With ``--labels``: name -> (most steps, parameters; a dict as ``pretraining`` is an
#: ``LSTMSAEEncoder``'s parameters).
SCARCE_CANDIDATES = {
    "no pretraining": (16, {"pretraining": None}),
    "pretraining (the default)": (16, {}),
    "denoising pretraining (noise 0.2)": (16, {"pretraining": {"pretrain_noise": 0.2}}),
    "pretraining, frozen encoders": (16, {"freeze_encoders": True}),
}
#: ``--round head``: today's defaults with and without the linear skip.
HEAD_CANDIDATES = {
    "today (patches<=16)": (16, {}),
    "linear skip, trained": (16, {"linear_skip": "trained"}),
    "linear skip, logistic start": (16, {"linear_skip": "logistic"}),
}
#: ``--round depth``: today's two layers against one, whose pretrained LSTM is the
#: one that reads the sequence (Dai & Le 2015).
DEPTH_CANDIDATES = {
    "today (patches<=16)": (16, {}),
    "one layer (64,)": (16, {"hidden_units": (64,)}),
}
#: ``--round ensemble``: the default network (one layer, since the depth round) alone
#: against the mean of the class probabilities of 3 fits, seeds ``seed + 1000 * i``
#: (member 0 is the single fit). ``ensemble`` is this script's, not a parameter.
ENSEMBLE_CANDIDATES = {
    "one layer": (16, {"hidden_units": (64,)}),
    "one layer, 3 seeds averaged": (16, {"hidden_units": (64,), "ensemble": 3}),
}
#: ``--round objective``: one layer pretrained as ``"auto"`` does, with another objective
#: for its autoencoder (``on_auto``: the classifier's ``"auto"`` encoder, then these
#: parameters): reconstructing the sequence backwards (Srivastava et al. 2015), or a
#: decoder reading the true previous step (Dai & Le 2015). One twin serves all three.
OBJECTIVE_CANDIDATES = {
    "one layer": (16, {"hidden_units": (64,)}),
    "one layer, reverse reconstruction": (16, {"hidden_units": (64,), "pretraining": {
        "on_auto": True, "reverse_reconstruction": True}}),
    "one layer, conditional decoder": (16, {"hidden_units": (64,), "pretraining": {
        "on_auto": True, "conditional_decoder": True}}),
}
#: The later rounds: name -> (candidates, and with ``--labels`` the no-pretraining
#: twins, the base of each gain: twin name -> the candidate it is the twin of, or a
#: tuple of the candidates it serves, which differ in how they pretrain only).
ROUNDS = {
    "head": (HEAD_CANDIDATES, {"no pretraining": "today (patches<=16)",
                               "linear skip trained, no pretraining": "linear skip, trained",
                               "linear skip logistic, no pretraining":
                                   "linear skip, logistic start"}),
    "depth": (DEPTH_CANDIDATES, {"no pretraining": "today (patches<=16)",
                                 "one layer, no pretraining": "one layer (64,)"}),
    "ensemble": (ENSEMBLE_CANDIDATES, {
        "one layer, no pretraining": "one layer",
        "3 seeds averaged, no pretraining": "one layer, 3 seeds averaged"}),
    "objective": (OBJECTIVE_CANDIDATES,
                  {"one layer, no pretraining": tuple(OBJECTIVE_CANDIDATES)}),
}
NO_PRETRAINING = "no pretraining"
WITHIN_POINTS = 1.0


def candidates(labels, round_="patches"):
    """The candidates of a run: all labels, or scarce ones (``--labels``); or a round's."""
    if round_ in ROUNDS:
        named, twins = ROUNDS[round_]
        if labels is None:
            return named
        first = {twin: of if isinstance(of, str) else of[0] for twin, of in twins.items()}
        return {**named, **{twin: (named[of][0], {**named[of][1], "pretraining": None})
                            for twin, of in first.items()}}
    return CANDIDATES if labels is None else SCARCE_CANDIDATES


def _no_pretraining_twin(name, round_):
    """The candidate whose accuracy ``name``'s gain is measured from."""
    if round_ in ROUNDS:
        return next((twin for twin, of in ROUNDS[round_][1].items()
                     if name == of or not isinstance(of, str) and name in of), name)
    return NO_PRETRAINING


def classifier(name, timesteps, seed, quick, labels=None, round_="patches"):
    """Candidate ``name`` for windows of ``timesteps`` steps (``--quick``: tiny networks)."""
    from sae_keras import LSTMSAEClassifier, LSTMSAEEncoder

    most_steps, params = candidates(labels, round_)[name]
    params = {**ROUND_BASE, **params,
              "patch_size": 1 if most_steps is None else -(-timesteps // most_steps)}
    recipe = params.pop("pretraining", "auto")  # "auto", None or an encoder's parameters
    members = params.pop("ensemble", None)
    if quick:
        params.update(hidden_units=(8, 4)[:len(params["hidden_units"])], epochs=2)
        if recipe is not None:
            recipe = {**({} if recipe == "auto" else recipe), "pretrain_epochs": 1}

    def one(random_state):
        if isinstance(recipe, dict) and recipe.get("on_auto"):  # "auto", then the recipe
            model = LSTMSAEClassifier(random_state=random_state, **params)
            changes = {name: value for name, value in recipe.items() if name != "on_auto"}
            return model.set_params(pretraining=model._pretraining_encoder().set_params(**changes))
        pretraining = LSTMSAEEncoder(**recipe) if isinstance(recipe, dict) else recipe
        return LSTMSAEClassifier(random_state=random_state, pretraining=pretraining, **params)

    if members is None:
        return one(seed)
    return SeedEnsemble([one(seed + 1000 * member) for member in range(members)])


class SeedEnsemble:
    """Fits each classifier on the same data; predicts the mean of their probabilities.

    A measuring device for ``--round ensemble`` (the candidate's ``fit``, ``score``,
    ``pretraining`` and ``patch_size_`` as :func:`run_job` reads them), not a
    scikit-learn estimator.
    """

    def __init__(self, members):
        self.members = members
        self.pretraining = members[0].pretraining

    def fit(self, X, y, **fit_params):
        for member in self.members:
            member.fit(X, y, **fit_params)
        self.classes_ = self.members[0].classes_
        self.patch_size_ = self.members[0].patch_size_
        return self

    def predict_proba(self, X):
        return np.mean([member.predict_proba(X) for member in self.members], axis=0)

    def score(self, X, y):
        return float(np.mean(self.classes_[np.argmax(self.predict_proba(X), axis=1)] == y))


def run_job(problem, seed, name, quick, labels=None, round_="patches"):
    """Candidate ``name`` on every fold of ``problem``'s training part (the test part unread).

    ``labels``: the share of each fold's training part that keeps its labels (the
    rest pretrained on, unlabeled); ``None``: all of them.
    """
    from _classification_data import labeled_subset
    from sklearn.model_selection import StratifiedKFold

    split = load_problem(problem)
    X, y = split.X_train, split.y_train  # the training part only
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(X[:, 0, 0], y)
    result = {"accuracy": [], "fit_seconds": []}
    for train, held in folds:
        model = classifier(name, X.shape[1], seed, quick, labels, round_)
        fit_params = {}
        if labels is not None:
            labeled, rest = labeled_subset(y[train], labels, seed)
            if model.pretraining is not None:
                fit_params["X_unlabeled"] = X[train[rest]]
            train = train[labeled]
            result["n_labeled"] = len(train)
        started = time.perf_counter()
        model.fit(X[train], y[train], **fit_params)
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


def summarise(results, problems, seeds, labels=None, round_="patches"):
    """Per candidate: accuracy per problem, mean over problems (per seed), fit seconds.

    With ``labels``, each row also holds its mean gain over no pretraining (its own
    no-pretraining twin in the later rounds), in points.
    """
    table = {}
    for name in candidates(labels, round_):
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
    if labels is not None:
        for name, row in table.items():
            base = table[_no_pretraining_twin(name, round_)]["accuracy"]["mean"]
            row["gain_over_no_pretraining_points"] = 100 * (row["accuracy"]["mean"] - base)
    return table


def study(args):
    started = time.perf_counter()
    jobs = [(problem, seed, name) for seed in range(args.seeds) for problem in args.problems
            for name in candidates(args.labels, args.round)]
    flags = (["--quick"] if args.quick else []) + (
        [] if args.labels is None else ["--labels", args.labels]) + ["--round", args.round]

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
    table = summarise(results, args.problems, args.seeds, args.labels, args.round)
    chosen = choose(table)
    payload = {
        "machine": machine_info(),
        "protocol": {"problems": args.problems, "seeds": args.seeds, "folds": FOLDS,
                     "quick": args.quick, "concurrent_jobs": args.jobs,
                     "labels": "all" if args.labels is None else args.labels,
                     "round": args.round,
                     "processes": "one per (problem, seed, candidate), JAX's persistent "
                                  "compilation cache off",
                     "candidates": {n: {"most_steps": s, **p} for n, (s, p) in
                                    candidates(args.labels, args.round).items()},
                     "rule": f"highest mean accuracy over problems; within {WITHIN_POINTS} "
                             "point(s) of it, the lowest total fit seconds",
                     "test_part": "never read"},
        "table": table, "chosen": chosen, "runs": results,
        "wall_seconds": time.perf_counter() - started,
    }
    name = "classification_selection" + ("" if args.round == "patches" else f"_{args.round}") + (
        "" if args.labels is None else f"_labels{args.labels:g}") + (
        "_quick" if args.quick else "")
    out = args.out or RESULTS / f"{name}.json"
    write_json(out, payload)
    rows = [[name, *(f"{row['problems'][p]['accuracy']['mean']:.3f}" for p in args.problems),
             f"{row['accuracy']['mean']:.3f}", f"{row['fit_seconds_total']:.0f}",
             f"{row.get('gain_over_no_pretraining_points', float('nan')):+.1f}"]
            for name, row in table.items()]
    print(markdown_table(["candidate", *args.problems, "mean", "fit s", "gain (points)"],
                         rows))
    print(f"chosen: {chosen}   ({out})")
    return payload


def main(argv=None):
    parser = study_arguments(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]),
                             "smoke test: tiny networks")
    parser.add_argument("--labels", type=float, default=None,
                        help="share of each fold's training part that keeps its labels")
    parser.add_argument("--round", choices=["patches", *ROUNDS], default="patches",
                        help="the candidates: the patches round (recorded), the head "
                             "round's (linear skip), the depth round's (one layer), the "
                             "ensemble round's (3 seeds) or the objective round's")
    parser.add_argument("--candidate", choices=[*CANDIDATES, *SCARCE_CANDIDATES,
                                                *(name for round_ in ROUNDS for name in
                                                  candidates(0.1, round_))],
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.problems = args.problems or (QUICK_PROBLEMS if args.quick else DEFAULT_PROBLEMS)
    args.seeds = args.seeds or (1 if args.quick else 2)
    if args.worker:
        report(run_job(args.problem, args.seed, args.candidate, args.quick, args.labels,
                       args.round))
    else:
        return study(args)


if __name__ == "__main__":
    main()
