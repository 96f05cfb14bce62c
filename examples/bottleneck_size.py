"""How large should the code be? Reconstruction error against the bottleneck size.

Shows ``LSTMSAEEncoder.reconstruction_error``: one-layer LSTM autoencoders with codes
of 1 to 64 units are pretrained on 24-hour windows of the 8 standardised Beijing
PM2.5 channels and their mean squared reconstruction error is measured on
held-out windows: every fifth 60-day block, so that every season is in both
parts. It prints the table with the held-out gain of each size over the one
before (a doubling), names the size past which each larger one gains less
than ``--gain`` (20%: a rule of thumb for diminishing returns; a larger code
costs fit time and, for anomaly detection, starts to reconstruct anomalies
too), and saves the curve (``bottleneck_size.png``). Run ``python examples/bottleneck_size.py --quick``
for a short version.
"""

import argparse
import time

import numpy as np
import pandas as pd

from sae_keras import LSTMSAEEncoder, make_windows
from sae_keras.data.datasets import load_beijing_pm25

parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
parser.add_argument("--quick", action="store_true", help="fewer windows, sizes and epochs")
parser.add_argument("--gain", type=float, default=0.2, help="a larger code gaining less is not worth it")
parser.add_argument("--plot", default="bottleneck_size.png", help="where to save the plot")
args = parser.parse_args()

frame = load_beijing_pm25()
frame["wnd_dir"] = pd.Categorical(frame["wnd_dir"]).codes
frame = frame.iloc[-6000:] if args.quick else frame
X = make_windows(frame, timesteps=24, stride=4)[0]
held_out = (np.arange(len(X)) * 4 // (60 * 24)) % 5 == 4  # every fifth 60-day block
sizes = (1, 4, 16) if args.quick else (1, 2, 4, 8, 16, 32, 64)

rows = []
for units in sizes:
    started = time.perf_counter()
    encoder = LSTMSAEEncoder(hidden_units=(units,), pretrain_epochs=2 if args.quick else 20,
                             random_state=0).fit(X[~held_out])
    rows.append({
        "code units": units,
        "train MSE": float(encoder.reconstruction_error(X[~held_out]).mean()),
        "held-out MSE": float(encoder.reconstruction_error(X[held_out]).mean()),
        "fit s": round(time.perf_counter() - started, 1),
    })
table = pd.DataFrame(rows).set_index("code units")
held_out_error = table["held-out MSE"].to_numpy()
table["gain vs previous"] = np.r_[np.nan, 1 - held_out_error[1:] / held_out_error[:-1]]
# The smallest size after which no larger size gains args.gain or more.
worth = np.flatnonzero(table["gain vs previous"].to_numpy()[1:] >= args.gain)
enough = int(table.index[worth[-1] + 1 if len(worth) else 0])
print(table.to_string(float_format=lambda v: f"{v:.4f}"))
print(f"past {enough} code units each larger size gains less than {args.gain:.0%} of the "
      f"held-out error (windows of 24 steps x 8 channels = {24 * 8} values; errors in "
      "standardised units)")

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # matplotlib is the optional "plot" extra
    plt = None
if plt is not None:
    figure, axis = plt.subplots(figsize=(6, 3.8))
    axis.plot(table.index, table["train MSE"], "o-", label="training windows")
    axis.plot(table.index, table["held-out MSE"], "s-", label="held-out windows")
    axis.axvline(enough, color="k", ls=":", lw=1,
                 label=f"gains < {args.gain:.0%} past {enough}")
    axis.set_xscale("log", base=2)
    axis.set_xlabel("code units (bottleneck)")
    axis.set_ylabel("reconstruction MSE (standardised)")
    axis.set_title("Beijing PM2.5, 24 h x 8 channels")
    axis.legend()
    figure.tight_layout()
    figure.savefig(args.plot, dpi=120)
    print(f"saved {args.plot}")
