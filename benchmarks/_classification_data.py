"""The archive problems of ``classification.py``: loading, array shapes, published figures.

Every problem is read offline from the copy aeon ships inside its wheel (``pip
install -e ".[bench]"``), with the archive's own train/test split. Nothing is
downloaded; a problem aeon does not ship raises ``KeyError``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Problem:
    """One archive problem as the benchmark uses it (figures checked by the tests)."""

    name: str
    loader: str  # the aeon.datasets function that reads the shipped copy
    channels: int
    lengths: str  # series length, or the range of a variable-length problem
    classes: int
    n_train: int
    n_test: int
    domain: str


PROBLEMS = {
    p.name: p
    for p in [
        Problem("ArrowHead", "load_arrow_head", 1, "251", 3, 36, 175,
                "image outlines (arrowhead shapes)"),
        Problem("BasicMotions", "load_basic_motions", 6, "100", 4, 40, 40,
                "accelerometer + gyroscope (UEA multivariate)"),
        Problem("GunPoint", "load_gunpoint", 1, "150", 2, 50, 150, "motion (hand position)"),
        Problem("ItalyPowerDemand", "load_italy_power_demand", 1, "24", 2, 67, 1029,
                "electricity demand, one day"),
        Problem("JapaneseVowels", "load_japanese_vowels", 12, "7-29", 9, 270, 370,
                "speech, 12 LPC cepstrum coefficients (UEA multivariate, variable length)"),
        Problem("PickupGestureWiimoteZ", "load_pickup_gesture_wiimoteZ", 1, "29-361", 10,
                50, 50, "accelerometer gestures (variable length)"),
        # Not in the default set: 200 x 427 steps costs more LSTM time than the six
        # above together, and aeon 1.6 deprecates its shipped copy (removed in 1.7).
        Problem("OSULeaf", "load_osuleaf", 1, "427", 6, 200, 242, "image outlines (leaves)"),
    ]
}
DEFAULT_PROBLEMS = ["ArrowHead", "BasicMotions", "GunPoint", "ItalyPowerDemand",
                    "JapaneseVowels", "PickupGestureWiimoteZ"]
QUICK_PROBLEMS = ["ItalyPowerDemand", "JapaneseVowels"]


@dataclass
class Split:
    """A problem's official split, as sequences and as NaN right-padded arrays.

    ``train`` and ``test`` are lists of ``(steps_i, channels)`` arrays; ``X_train``
    and ``X_test`` are ``(n, length, channels)`` float arrays right-padded with NaN
    to ``length``, the longest sequence of either part (a length, not a value, of
    the test part: every model reads windows of one length).
    """

    name: str
    train: list
    y_train: np.ndarray
    test: list
    y_test: np.ndarray

    @property
    def length(self):
        return max(len(s) for s in self.train + self.test)

    @property
    def variable_length(self):
        return len({len(s) for s in self.train + self.test}) > 1

    @property
    def X_train(self):
        return pad_right(self.train, self.length)

    @property
    def X_test(self):
        return pad_right(self.test, self.length)

    def describe(self):
        lengths = [len(s) for s in self.train + self.test]
        return {"n_train": len(self.train), "n_test": len(self.test),
                "channels": int(self.train[0].shape[1]),
                "classes": int(len(np.unique(self.y_train))),
                "length_min": min(lengths), "length_max": max(lengths),
                "variable_length": self.variable_length}


def load_problem(name):
    """The official train/test split of ``name``, read from aeon's shipped copy."""
    import warnings

    import aeon.datasets

    problem = PROBLEMS[name]
    loader = getattr(aeon.datasets, problem.loader)
    parts = []
    for split in ("train", "test"):
        with warnings.catch_warnings():  # aeon 1.6 deprecates some shipped copies
            warnings.simplefilter("ignore", FutureWarning)
            X, y = loader(split=split)
        parts += [channels_last(X), np.asarray(y).astype(str)]
    return Split(name, *parts)


def channels_last(X):
    """aeon's ``(n, channels, steps)`` array or list of ``(channels, steps_i)`` arrays
    to a list of ``(steps_i, channels)`` float arrays."""
    return [np.asarray(x, dtype=np.float64).T for x in X]


def pad_right(sequences, length):
    """``(n, length, channels)`` array of ``sequences``, NaN after each one's end."""
    channels = sequences[0].shape[1]
    X = np.full((len(sequences), length, channels), np.nan)
    for row, sequence in zip(X, sequences):
        row[: len(sequence)] = sequence
    return X


def aeon_input(sequences):
    """aeon's collection format: a 3-D ``(n, channels, steps)`` array when every
    sequence has the same length, else a list of ``(channels, steps_i)`` arrays."""
    if len({len(s) for s in sequences}) == 1:
        return np.stack([s.T for s in sequences])
    return [np.ascontiguousarray(s.T) for s in sequences]


def zero_filled(X):
    """Channels-first ``X`` with its NaN padding set to 0 (aeon's ``Padder`` default)."""
    return np.ascontiguousarray(np.nan_to_num(X, nan=0.0).transpose(0, 2, 1))


def labeled_subset(y, fraction, seed):
    """Indices of a stratified ``fraction`` of ``y`` (at least one per class), and the rest.

    The count is ``max(n_classes, round(fraction * len(y)))``, drawn by
    scikit-learn's stratified split with ``random_state=seed``.
    """
    from sklearn.model_selection import train_test_split

    classes = np.unique(y)
    n_labeled = max(len(classes), int(round(fraction * len(y))))
    index = np.arange(len(y))
    labeled, rest = train_test_split(index, train_size=n_labeled, stratify=y,
                                     random_state=seed)
    if len(np.unique(y[labeled])) != len(classes):
        raise ValueError(f"the {fraction:.0%} subset misses a class; use more labels")
    return np.sort(labeled), np.sort(rest)


# -- published figures -------------------------------------------------------------
# Quoted, never measured here. Each value is copied from the file named in its
# source; accuracies of the UCR table are 1 - its published error rate.

UCR_SUMMARY = {
    "source": "UCR Time Series Classification Archive (2018), DataSummary.csv, "
              "https://www.cs.ucr.edu/~eamonn/time_series_data_2018/ (Dau et al. 2019, "
              "'The UCR time series archive', IEEE/CAA J. Autom. Sinica 6(6)); read from "
              "the copy at github.com/ZhenwenHe/data, UCRArchive_2018/DataSummary.csv, "
              "commit 3a786e3b4e2a5d76b00efed1d9641f27f3b64ad0",
    "note": "test error rates of 1-NN with Euclidean distance, DTW with the warping "
            "window learned on the training set (window in % in brackets) and DTW with "
            "a full window (w=100). The archive ships variable-length problems padded "
            "with NaN, and its baselines for them follow its own preprocessing, which "
            "may differ from DTW on the raw sequences measured here",
    # name: (ED (w=0), DTW (learned_w), learned window %, DTW (w=100))
    "error": {
        "ArrowHead": (0.2000, 0.2000, 0, 0.2971),
        "GunPoint": (0.0867, 0.0867, 0, 0.0933),
        "ItalyPowerDemand": (0.0447, 0.0447, 0, 0.0496),
        "OSULeaf": (0.4793, 0.3884, 7, 0.4091),
        "PickupGestureWiimoteZ": (0.4400, 0.3400, 17, 0.3400),
    },
}

TSML_RESULTS = {
    "source": "tsml-eval results folder (github.com/time-series-machine-learning/"
              "tsml-eval, results/classification/, commit "
              "b71665415853fae7a6a109a4245487608dbf88a0; files last changed in 6270c37e, "
              "2024-02-10): fold 0, the archive's default train/test split",
    "rows": {
        "Ruiz et al. 2021, 1-NN DTW_D": {
            "file": "Multivariate/1NN-DTW-D_accuracy.csv",
            "paper": "Ruiz, Flynn, Large, Middlehurst & Bagnall (2021), The great "
                     "multivariate time series classification bake off, DMKD 35(2)",
            "accuracy": {"BasicMotions": 0.975},
        },
        "Ruiz et al. 2021, ROCKET": {
            "file": "Multivariate/ROCKET_accuracy.csv",
            "paper": "Ruiz et al. (2021), as above",
            "accuracy": {"BasicMotions": 1.0},
        },
        "Middlehurst et al. 2024, MiniRocket": {
            "file": "Univariate/MiniROCKET_accuracy.csv",
            "paper": "Middlehurst, Schafer & Bagnall (2024), Bake off redux: a review "
                     "and experimental evaluation of recent time series classification "
                     "algorithms, DMKD 38",
            "accuracy": {"ArrowHead": 0.8628571428571429, "GunPoint": 0.9933333333333333,
                         "ItalyPowerDemand": 0.9630709426627794,
                         "OSULeaf": 0.9586776859504132},
        },
    },
}

NOT_FOUND = {
    "JapaneseVowels": "no published per-problem accuracy found offline: Ruiz et al. 2021 "
                      "and tsml-eval's results cover the 26 equal-length UEA problems only; "
                      "the UEA archive paper (Bagnall et al. 2018, arXiv:1811.00075) "
                      "tabulates 1-NN DTW for it, but its text was not available here",
    "PickupGestureWiimoteZ": "no MiniRocket/ROCKET figure for the variable-length version "
                             "(tsml-eval has the padded '_eq' version only for other "
                             "classifiers)",
}


def published_rows(names):
    """The quoted reference rows for ``names``: ``{row: {"accuracy": {...}, ...}}``."""
    rows = {}
    errors = UCR_SUMMARY["error"]
    for label, column in (("UCR archive, 1-NN DTW (full window)", 3),
                          ("UCR archive, 1-NN DTW (learned window)", 1),
                          ("UCR archive, 1-NN Euclidean", 0)):
        rows[label] = {
            "accuracy": {n: round(1 - errors[n][column], 4) for n in names if n in errors},
            "source": UCR_SUMMARY["source"], "note": UCR_SUMMARY["note"],
        }
    for label, row in TSML_RESULTS["rows"].items():
        rows[label] = {
            "accuracy": {n: a for n, a in row["accuracy"].items() if n in names},
            "source": f"{TSML_RESULTS['source']}; {row['file']}; {row['paper']}",
        }
    return {label: row for label, row in rows.items() if row["accuracy"]}


def study_arguments(parser, quick_help):
    """The options both classification scripts take (and their workers' own, hidden)."""
    import argparse
    from pathlib import Path

    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--problems", nargs="+", choices=list(PROBLEMS), default=None)
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes at once")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per job")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--problem", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    return parser
