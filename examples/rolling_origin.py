"""Rolling-origin evaluation on Beijing PM2.5: the spread of scores over five origins.

Shows ``sae_keras.evaluation.rolling.rolling_origin`` on the bundled hourly PM2.5 data
(24-hour windows of all eight channels, target: the next hour's change of
PM2.5). The forecast origin moves through the last half of the data in
``--origins`` test blocks; at each, the LSTM-SAE regressor (its defaults) and
Ridge are refitted on every window before the block (an expanding window) and
scored beside persistence. One row per origin, then the mean and spread of
each model's RMSE and of its skill over persistence.

Run ``python examples/rolling_origin.py --quick`` for a short version.
"""

import argparse
import json
import time

import numpy as np
import pandas as pd

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor, make_windows
from sae_keras.data.datasets import load_beijing_pm25
from sae_keras.evaluation.rolling import rolling_origin

parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
parser.add_argument("--quick", action="store_true", help="less data, a small network, few epochs")
parser.add_argument("--origins", type=int, default=5, help="number of forecast origins")
parser.add_argument("--output", default="rolling_origin.json", help="where to save the results")
args = parser.parse_args()

frame = load_beijing_pm25()
frame["wnd_dir"] = pd.Categorical(frame["wnd_dir"]).codes
frame = frame.iloc[-3000:] if args.quick else frame
X, y = make_windows(frame, timesteps=24, horizon=1, target="pollution")
change = y - X[:, -1, 0]  # pollution is channel 0
settings = dict(hidden_units=(16,), pretraining=LSTMSAEEncoder(pretrain_epochs=1),
                epochs=3) if args.quick else {}

started = time.perf_counter()
scores = rolling_origin(
    LSTMSAERegressor(random_state=0, **settings), X, change,
    n_origins=args.origins, test_size=len(X) // (2 * args.origins),
    persistence=lambda windows: np.zeros(len(windows)),  # no change from the last hour
    name="LSTM-SAE",
)
seconds = time.perf_counter() - started
models = ["persistence", "Ridge", "LSTM-SAE"]
for name in ("Ridge", "LSTM-SAE"):
    scores[f"{name} skill"] = 1 - scores[name] / scores["persistence"]

print(f"{len(X)} windows; {args.origins} origins, {scores['test_end'].iloc[0] - scores['test_start'].iloc[0]}"
      f" test windows each; next-hour PM2.5 RMSE (µg/m³); {seconds:.0f} s")
print(scores.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
summary = {}
for column in models + ["Ridge skill", "LSTM-SAE skill"]:
    summary[column] = {"mean": float(scores[column].mean()), "sd": float(scores[column].std()),
                       "min": float(scores[column].min()), "max": float(scores[column].max())}
print(f"\n{'':<16}{'mean':>8}{'sd':>8}{'min':>8}{'max':>8}")
for column, values in summary.items():
    print(f"{column:<16}" + "".join(f"{values[k]:8.3f}" for k in ("mean", "sd", "min", "max")))
wins = int((scores["LSTM-SAE"] < scores["Ridge"]).sum())
print(f"LSTM-SAE beats Ridge at {wins} of {args.origins} origins")
with open(args.output, "w") as handle:
    json.dump({"quick": args.quick, "seconds": seconds, "per_origin": scores.to_dict("records"),
               "summary": summary}, handle, indent=2)
print(f"saved {args.output}")
