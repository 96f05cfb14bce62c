"""Forecast Beijing PM2.5 one hour ahead with an LSTM stacked autoencoder.

Shows the whole path on the bundled data: encode the wind direction, cut windows
with ``make_windows``, learn the *change* from the last hour (one-step PM2.5 is
dominated by persistence) with ``LSTMSAERegressor`` at its defaults (it scales
inputs and targets itself), and compare with persistence on the last year. Run
``python examples/forecast_pm25.py --quick`` for a one-minute version.
"""

import argparse

import numpy as np
import pandas as pd
from sae_keras import LSTMSAEEncoder, LSTMSAERegressor, make_windows
from sae_keras.data.datasets import load_beijing_pm25
from sae_keras.evaluation.metrics import mae, rmse, skill_score, smape

parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
parser.add_argument("--quick", action="store_true", help="small data and few epochs")
args = parser.parse_args()

frame = load_beijing_pm25()
frame["wnd_dir"] = pd.Categorical(frame["wnd_dir"]).codes  # NE, NW, SE, cv -> 0..3
if args.quick:
    frame = frame.iloc[-6000:]
X, y = make_windows(frame, timesteps=24, horizon=1, target="pollution")
split = int(0.8 * len(X))
last_hour = X[:, -1, 0]  # pollution is channel 0

quick = dict(hidden_units=(16,), pretraining=LSTMSAEEncoder(pretrain_epochs=1),
             epochs=3) if args.quick else {}
model = LSTMSAERegressor(random_state=0, **quick)  # the defaults, unless --quick
model.fit(X[:split], y[:split] - last_hour[:split])
forecast = model.predict(X[split:]) + last_hour[split:]

truth, persistence = y[split:], last_hour[split:]
print(f"{'model':<12} {'RMSE':>8} {'MAE':>8} {'SMAPE%':>8} {'skill':>8}")
for name, pred in [("persistence", persistence), ("LSTM-SAE", forecast)]:
    print(
        f"{name:<12} {rmse(truth, pred):8.2f} {mae(truth, pred):8.2f} "
        f"{smape(truth, pred):8.2f} {skill_score(truth, pred, persistence):+8.1%}"
    )
print("first forecasts (µg/m³):", np.round(forecast[:5], 1), "truth:", truth[:5])
