"""Classify sequences of different lengths when few of them are labeled.

Shows ``LSTMSAEClassifier`` on a synthetic problem generated here: sequences of
3 channels and 4 classes (a steady oscillation, a faster one, a chirp whose
frequency rises, and a steady one with a burst), each with its own length,
phase, amplitude and noise, right-padded with NaN to the longest length (the
network masks the padding). Only ``--labeled`` (10%) of the training
sequences keep their label, a stratified sample; the rest are passed to ``fit``
as ``X_unlabeled``. The classifier pretrained on all training sequences is
compared with the same network without pretraining (``pretraining=None``, on
the labeled ones alone) and with ``LogisticRegression`` on the padded,
flattened labeled sequences. It prints the accuracy on held-out sequences
(mean and spread over ``--seeds`` draws of the labeled part and of the models'
seeds) and saves a plot of one sequence per class beside the accuracies
(``classify_sequences.png``). Run ``python examples/classify_sequences.py
--quick`` for a short version.
"""

import argparse
import time

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sae_keras import LSTMSAEClassifier, LSTMSAEEncoder

parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
parser.add_argument("--quick", action="store_true", help="fewer and shorter sequences, small network")
parser.add_argument("--labeled", type=float, default=0.1, help="share of training sequences with a label")
parser.add_argument("--seeds", type=int, default=3, help="draws of the labeled part and model seeds")
parser.add_argument("--plot", default="classify_sequences.png", help="where to save the plot")
args = parser.parse_args()

CLASSES = np.array(["steady", "fast", "chirp", "burst"])


def make_sequences(n, lengths, rng):
    """``n`` sequences of 3 channels, of lengths drawn from ``lengths``, and their labels."""
    labels = rng.permutation(np.arange(n) % len(CLASSES))
    sequences = []
    for label in labels:
        t = np.arange(rng.integers(*lengths, endpoint=True), dtype=float)
        period = 7.0 if label == 1 else 12.0
        angle = 2 * np.pi * t / period + rng.uniform(0, 2 * np.pi)
        if label == 2:  # the period falls from 14 to 6 steps over the sequence
            angle = np.cumsum(2 * np.pi / np.linspace(14, 6, len(t))) + rng.uniform(0, 2 * np.pi)
        amplitude = rng.uniform(0.6, 1.4) * np.ones_like(t)
        if label == 3:  # a burst of 6 steps, at a random place
            start = rng.integers(0, len(t) - 6)
            amplitude[start:start + 6] *= 3
        wave = amplitude * np.sin(angle)
        channels = [wave, 0.5 * amplitude * np.cos(angle), np.gradient(wave)]
        sequence = np.stack(channels, axis=1) + rng.normal(scale=0.3, size=(len(t), 3))
        sequences.append(sequence.astype(np.float32))
    return sequences, CLASSES[labels]


def padded(sequences, length):
    """Sequences right-padded with NaN to ``length`` steps: ``(n, length, 3)``.

    (A list of 2-D arrays works too: ``fit`` pads it to its longest sequence,
    which then is the longest one ``predict`` takes.)
    """
    out = np.full((len(sequences), length, 3), np.nan, dtype=np.float32)
    for row, sequence in enumerate(sequences):
        out[row, :len(sequence)] = sequence
    return out


def flat(X):
    """One row per sequence for LogisticRegression: the NaN padding is imputed."""
    return X.reshape(len(X), -1)


rng = np.random.default_rng(0)
lengths = (20, 40) if args.quick else (30, 80)
X, y = make_sequences(600 if args.quick else 2000, lengths, rng)
X_test, y_test = make_sequences(400 if args.quick else 1000, lengths, rng)
X, X_test = padded(X, lengths[1]), padded(X_test, lengths[1])

# The one place the LSTM-SAE settings are: --quick, one 16-unit layer, 5 pretraining epochs.
if args.quick:
    settings = dict(hidden_units=(16,))
    pretraining = LSTMSAEEncoder(pretrain_epochs=5)
else:
    settings, pretraining = {}, "auto"  # the defaults


def lstm_sae(seed, pretrained):
    return LSTMSAEClassifier(**settings, pretraining=pretraining if pretrained else None,
                             random_state=seed)


seeds = range(1 if args.quick else args.seeds)
names = ("LogisticRegression (flattened)", "LSTMSAEClassifier(pretraining=None)",
         "LSTMSAEClassifier + X_unlabeled")
accuracy = {name: [] for name in names}
seconds = {name: [] for name in names}
rows = np.arange(len(X))
for seed in seeds:
    labeled, unlabeled = train_test_split(rows, train_size=args.labeled, stratify=y,
                                          random_state=seed)
    X_labeled, y_labeled, X_unlabeled = X[labeled], y[labeled], X[unlabeled]
    contenders = {
        names[0]: lambda: make_pipeline(
            SimpleImputer(add_indicator=True), StandardScaler(),
            LogisticRegression(max_iter=5000),
        ).fit(flat(X_labeled), y_labeled),
        names[1]: lambda: lstm_sae(seed, pretrained=False).fit(X_labeled, y_labeled),
        names[2]: lambda: lstm_sae(seed, pretrained=True).fit(
            X_labeled, y_labeled, X_unlabeled=X_unlabeled),
    }
    for name, fit in contenders.items():
        started = time.perf_counter()
        model = fit()
        seconds[name].append(time.perf_counter() - started)
        test = flat(X_test) if name == names[0] else X_test
        accuracy[name].append(model.score(test, y_test))

print(f"{len(labeled)} labeled training sequences ({args.labeled:.0%}), {len(unlabeled)} "
      f"unlabeled, {len(X_test)} held-out; {lengths[0]}-{lengths[1]} steps x 3 channels, "
      f"{len(CLASSES)} classes; {len(seeds)} seed(s)")
print(f"{'model':<38} {'accuracy':>8} {'± sd':>6} {'fit s':>7}")
for name in names:
    print(f"{name:<38} {np.mean(accuracy[name]):8.3f} {np.std(accuracy[name]):6.3f} "
          f"{np.mean(seconds[name]):7.1f}")
gain = np.mean(accuracy[names[2]]) - np.mean(accuracy[names[1]])
verdict = "better" if gain > 0 else "worse" if gain < 0 else "no change"
if len(seeds) > 1 and abs(gain) <= max(np.std(accuracy[names[1]]), np.std(accuracy[names[2]])):
    verdict += ", within the spread over seeds"
print(f"pretraining on the unlabeled sequences changes held-out accuracy by "
      f"{100 * gain:+.1f} points ({verdict}) against pretraining=None")

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # matplotlib is the optional "plot" extra
    plt = None
if plt is not None:
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8),
                                         gridspec_kw={"width_ratios": [3, 2]})
    for offset, label in enumerate(CLASSES):
        sequence = X[int(np.flatnonzero(y == label)[0])]
        sequence = sequence[~np.isnan(sequence[:, 0])]
        left.plot(sequence[:, 0] + 4 * offset, lw=1)
    left.set_yticks(4 * np.arange(len(CLASSES)), CLASSES)
    left.set_xlabel("time step (channel 0 of one sequence per class)")
    means = [np.mean(accuracy[name]) for name in names]
    spread = [np.std(accuracy[name]) for name in names]
    right.barh(range(len(names)), means, xerr=spread, color=["0.6", "tab:orange", "tab:blue"])
    right.set_yticks(range(len(names)), ["LogisticRegression", "no pretraining",
                                         "pretrained + X_unlabeled"])
    right.axvline(1 / len(CLASSES), color="k", ls=":", lw=1, label="chance")
    right.set_xlim(0, 1)
    right.set_xlabel(f"held-out accuracy, {args.labeled:.0%} labeled")
    right.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(args.plot, dpi=120)
    print(f"saved {args.plot}")
