"""Use LSTM-SAE codes as features for a gradient-boosting regressor.

Shows ``LSTMSAEEncoder``: greedy unsupervised pretraining compresses each
24-hour window of the 8 PM2.5 channels into a few learned features, and
``transform`` feeds them to ``HistGradientBoostingRegressor``, compared with the
same regressor on the raw flattened windows (192 columns). The target is the
next hour's change in PM2.5. Run ``python examples/feature_extraction.py --quick``
for a one-minute version.
"""

import argparse

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import FunctionTransformer, make_pipeline, make_union

from sae_keras import LSTMSAEEncoder, SequenceScaler, make_windows
from sae_keras.data.datasets import load_beijing_pm25
from sae_keras.evaluation.metrics import rmse

parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
parser.add_argument("--quick", action="store_true", help="small data and few epochs")
args = parser.parse_args()

frame = load_beijing_pm25()
frame["wnd_dir"] = pd.Categorical(frame["wnd_dir"]).codes
frame = frame.iloc[-3000:] if args.quick else frame
X, y = make_windows(frame, timesteps=24, target="pollution")
change = y - X[:, -1, 0]
split = int(0.8 * len(X))


def last_step(windows):
    return windows[:, -1, :]


flatten = FunctionTransformer(lambda windows: windows.reshape(len(windows), -1))
encoder = LSTMSAEEncoder(hidden_units=(32, 16), pretrain_epochs=1 if args.quick else 5,
                         batch_size=256, random_state=0)
contenders = {
    "raw flattened windows": make_pipeline(SequenceScaler(), flatten),
    "LSTM-SAE codes + last step": make_pipeline(
        SequenceScaler(), make_union(encoder, FunctionTransformer(last_step))
    ),
}
for name, features in contenders.items():
    model = make_pipeline(features, HistGradientBoostingRegressor(max_iter=100, random_state=0))
    model.fit(X[:split], change[:split])
    n_features = features.fit(X[:100]).transform(X[:1]).shape[1]
    error = rmse(change[split:], model.predict(X[split:]))
    print(f"{name:<28} {n_features:4d} features   test RMSE {error:6.2f} µg/m³")
print(f"{'persistence (no change)':<28}                 test RMSE {rmse(change[split:], np.zeros(len(X) - split)):6.2f} µg/m³")
