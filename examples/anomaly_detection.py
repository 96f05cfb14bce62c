"""Find injected anomalies in a multichannel series from reconstruction error.

Shows ``LSTMSAEOutlierDetector``: an LSTM autoencoder stack pretrained on the
first, clean 60% of a synthetic hourly series (a target following two seasonal
drivers, ``sae_keras.data.datasets.make_synthetic``) scores every 24-hour window of
the rest, into which three kinds of faults are injected: spikes (one hour far
off), level shifts (12 hours offset) and frozen sensors (one channel stuck at
its last value for 24 hours). It prints the precision and recall of the
flagged windows and the share of injected events found, beside an
``IsolationForest`` on the flattened standardised windows, and saves a plot of
the score over time with the threshold (``anomaly_detection.png``). Run
``python examples/anomaly_detection.py --quick`` for a short version.
"""

import argparse

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.pipeline import FunctionTransformer, make_pipeline

from sae_keras import LSTMSAEEncoder, LSTMSAEOutlierDetector, SequenceScaler, make_windows
from sae_keras.data.datasets import make_synthetic

parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
parser.add_argument("--quick", action="store_true", help="a shorter series and fewer epochs")
parser.add_argument("--plot", default="anomaly_detection.png", help="where to save the plot")
args = parser.parse_args()

TIMESTEPS = 24
n_steps = 3000 if args.quick else 8000
series = make_synthetic(n_steps, 3, noise=0.05, random_state=0)
values = series.to_numpy().copy()
start = int(0.6 * n_steps)  # the detector trains on rows before this one

# Inject faults into the second part, at random places far enough apart.
rng = np.random.default_rng(1)
faulty = np.zeros(n_steps, dtype=bool)
events = []
places = rng.choice(np.arange(start + TIMESTEPS, n_steps - 2 * TIMESTEPS, 3 * TIMESTEPS),
                    size=15, replace=False)
for index, place in enumerate(sorted(places)):
    channel = rng.integers(values.shape[1])
    scale = values[:start, channel].std()
    kind = ("spike", "level shift", "frozen sensor")[index % 3]
    if kind == "spike":
        span = slice(place, place + 1)
        values[span, channel] += 5 * scale * rng.choice([-1, 1])
    elif kind == "level shift":
        span = slice(place, place + 12)
        values[span, channel] += 2 * scale * rng.choice([-1, 1])
    else:
        span = slice(place, place + TIMESTEPS)
        values[span, channel] = values[place - 1, channel]
    faulty[span] = True
    events.append((kind, span))

X = make_windows(values, TIMESTEPS)[0]
ends = np.arange(len(X)) + TIMESTEPS - 1  # the last row of each window
train, test = ends < start, ends >= start + TIMESTEPS
# A window is anomalous when any of its rows is faulty.
truth = np.array([faulty[end - TIMESTEPS + 1 : end + 1].any() for end in ends])

detector = LSTMSAEOutlierDetector(
    LSTMSAEEncoder((32,), pretrain_epochs=5 if args.quick else 40, batch_size=64),
    random_state=0,
).fit(X[train])
flatten = FunctionTransformer(lambda w: w.reshape(len(w), -1))
forest = make_pipeline(SequenceScaler(), flatten, IsolationForest(random_state=0)).fit(X[train])


def covers(end, span):
    """Whether the window ending at row ``end`` holds a row of ``span``."""
    return span.start <= end and end - TIMESTEPS + 1 < span.stop


def report(name, flagged):
    hits = flagged & truth[test]
    precision = hits.sum() / max(flagged.sum(), 1)
    recall = hits.sum() / truth[test].sum()
    window_ends = ends[test][flagged]
    found = sum(any(covers(end, span) for end in window_ends) for _, span in events)
    print(f"{name:<28} precision {precision:5.2f}   recall {recall:5.2f}   "
          f"events found {found}/{len(events)}")


report("LSTM-SAE reconstruction", detector.predict(X[test]) == -1)
report("IsolationForest (flattened)", forest.predict(X[test]) == -1)
scores = detector.score_samples(X[test])
for kind in ("spike", "level shift", "frozen sensor"):
    spans = [span for k, span in events if k == kind]
    inside = np.array([any(covers(end, span) for span in spans) for end in ends[test]])
    print(f"  {kind:<14} median score {np.median(scores[inside]):8.3f} "
          f"(normal windows {np.median(scores[~truth[test]]):.3f}, threshold {detector.offset_:.3f})")

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # matplotlib is the optional "plot" extra
    plt = None
if plt is not None:
    figure, axis = plt.subplots(figsize=(11, 3.5))
    axis.plot(ends[test], -scores, lw=0.8, label="reconstruction error")
    axis.axhline(-detector.offset_, color="k", ls="--", lw=1, label="threshold ('auto')")
    for kind, span in events:
        axis.axvspan(span.start, span.stop, color="tab:red", alpha=0.25, lw=0)
    axis.set_yscale("log")
    axis.set_xlabel("time step (window end); red: injected faults")
    axis.set_ylabel("MSE (standardised)")
    axis.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(args.plot, dpi=120)
    print(f"saved {args.plot}")
