"""Choose the paper benchmark's deep-model settings on a validation split, never on the test set.

Fits each candidate on the first 80 % of the protocol's 35,040 training windows
and scores it on the last 20 % (7,008 windows, the most recent before the test
period), in µg/m³ with the same un-scaling and un-differencing as
``paper_pm25.py``; persistence, Ridge and HistGradientBoosting are scored on the
same validation windows for reference. One seed per candidate: this is a
screen, and the winners get three seeds in ``paper_pm25.py --standard``.

Usage::

    python benchmarks/paper_pm25_selection.py            # every candidate
    python benchmarks/paper_pm25_selection.py --quick    # smoke test

writes ``benchmarks/results/paper_pm25_selection.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import RESULTS, Stopwatch, estimator_record, machine_info, markdown_table
from _common import write_json
from paper_pm25 import (
    BUDGETS, Runner, day_ahead_scores, day_ahead_split, deep_model, load_table,
    one_step_split, scores,
)
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge

STANDARD = BUDGETS["standard"]


def pretrain_epochs(settings, epochs):
    """``settings`` whose pretraining encoder trains ``epochs`` epochs per layer."""
    return {**settings, "pretraining": clone(settings["pretraining"]).set_params(
        pretrain_epochs=epochs)}


PROTOCOL_SCALING = pretrain_epochs({**STANDARD.one_step, "standardize": False}, 4)
SHORT_PRETRAINING = pretrain_epochs(STANDARD.one_step, 4)

# (case, name, variant, settings): what was compared, in the order it was tried.
CANDIDATES = [
    ("one_step", "DLSTM, (-1, 1) scaling only", "dlstm", PROTOCOL_SCALING),
    ("one_step", "LSTM-SAE input, (-1, 1) scaling only", "input", PROTOCOL_SCALING),
    ("one_step", "DLSTM, standardised", "dlstm", STANDARD.one_step),
    ("one_step", "LSTM-SAE input, standardised", "input", SHORT_PRETRAINING),
    ("one_step", "LSTM-SAE previous, standardised", "previous", SHORT_PRETRAINING),
    ("day_ahead", "24-h LSTM-SAE input, (-1, 1) scaling only", "input",
     pretrain_epochs({**STANDARD.day_ahead, "standardize": False}, 4)),
    ("day_ahead", "24-h LSTM-SAE input, standardised", "input",
     pretrain_epochs(STANDARD.day_ahead, 4)),
    ("one_step", "LSTM-SAE input, standardised, 10 pretraining epochs", "input",
     STANDARD.one_step),
    ("one_step", "LSTM-SAE previous, standardised, 10 pretraining epochs", "previous",
     STANDARD.one_step),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny settings and 2,000 training windows (smoke test)")
    parser.add_argument("--output", default=RESULTS, help="folder for the JSON file")
    parser.add_argument("--only", default=None,
                        help="run only the candidates whose name contains this text and "
                        "add them to an existing results file")
    args = parser.parse_args(argv)
    machine = machine_info()
    frame = load_table()
    max_train = 2_000 if args.quick else None
    splits = {"one_step": one_step_split(frame, max_train, validation=True),
              "day_ahead": day_ahead_split(frame, max_train, validation=True)}
    runners = {
        "one_step": Runner(splits["one_step"], [0], splits["one_step"].persistence, scores),
        "day_ahead": Runner(splits["day_ahead"], [0], splits["day_ahead"].persistence,
                            day_ahead_scores(splits["day_ahead"])),
    }
    with Stopwatch() as total:
        for case, runner in runners.items():
            runner.add_fixed("persistence", splits[case].persistence)
            if args.only is None:
                runner.add("Ridge (alpha 10)", lambda seed: Ridge(alpha=10.0), seeded=False,
                           flatten=True)
        if args.only is None:
            runners["one_step"].add(
                "HistGradientBoosting (300)",
                lambda seed: HistGradientBoostingRegressor(max_iter=300, random_state=seed),
                flatten=True)
        for case, name, variant, settings in CANDIDATES:
            if args.only is not None and args.only not in name:
                continue
            if args.quick:  # the quick budget's network and epochs, pretraining's too
                quick = BUDGETS["quick"].one_step
                settings = {**settings, **quick, "standardize": settings["standardize"],
                            "pretraining": clone(settings["pretraining"]).set_params(
                                **estimator_record(quick["pretraining"])["params"])}
            runners[case].add(name, lambda seed, v=variant, s=settings: deep_model(v, s, seed,
                                                                                   None),
                              settings=settings)
    result = {
        "benchmark": "paper_pm25_selection",
        "machine": machine,
        "total_seconds": total.seconds,
        "validation": {"fit_windows": len(splits["one_step"].X_train),
                       "validation_windows": len(splits["one_step"].X_test)},
        "one_step": runners["one_step"].rows,
        "day_ahead": runners["day_ahead"].rows,
    }
    path = Path(args.output) / "paper_pm25_selection.json"
    if args.only is not None and path.exists():
        earlier = json.loads(path.read_text())
        for case in ("one_step", "day_ahead"):
            result[case] = {**earlier[case], **result[case]}
        result["runs"] = earlier.get("runs", [earlier["machine"]]) + [result["machine"]]
    if not args.quick:
        write_json(path, result)
    header = ["case", "candidate", "RMSE", "MAE", "SMAPE (%)", "skill vs persistence"]
    body = [[case, name, f"{row['rmse']['mean']:.3f}", f"{row['mae']['mean']:.3f}",
             f"{row['smape']['mean']:.3f}", f"{100 * row['skill']['mean']:+.1f}%"]
            for case, runner in runners.items() for name, row in runner.rows.items()]
    print(markdown_table(header, body))
    return result


if __name__ == "__main__":
    main()
