"""Tune an LSTM-SAE forecaster with GridSearchCV over time-ordered folds.

Shows that the estimators are ordinary scikit-learn citizens: ``SequenceScaler``
and ``LSTMSAERegressor`` in a ``Pipeline``, searched over layer sizes and
pretraining targets with ``TimeSeriesSplit`` (every validation fold lies after
its training data), on a synthetic series whose target follows lagged drivers.
Run ``python examples/pipeline_gridsearch.py --quick`` for a one-minute version.
"""

import argparse

from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor, SequenceScaler, make_windows
from sae_keras.data.datasets import make_synthetic

parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
parser.add_argument("--quick", action="store_true", help="small data and few epochs")
args = parser.parse_args()

frame = make_synthetic(600 if args.quick else 3000, n_channels=3, random_state=0)
X, y = make_windows(frame, timesteps=12, horizon=6, target="target")

# How each candidate pretrains: an LSTMSAEEncoder (what each autoencoder
# reconstructs, for how long), or None for no pretraining at all.
pretrain_epochs = 1 if args.quick else 5
targets = ("input",) if args.quick else ("input", "previous")
pipeline = Pipeline(
    [
        ("scale", SequenceScaler()),
        ("sae", LSTMSAERegressor(pretraining=LSTMSAEEncoder(pretrain_epochs=pretrain_epochs),
                                 epochs=2 if args.quick else 20, random_state=0)),
    ]
)
grid = {
    "sae__hidden_units": [(8,)] if args.quick else [(16,), (32, 16), (32, 16, 8)],
    "sae__pretraining": [LSTMSAEEncoder(reconstruct=target, pretrain_epochs=pretrain_epochs)
                         for target in targets] + [None],
}
folds = TimeSeriesSplit(n_splits=2 if args.quick else 3)
search = GridSearchCV(pipeline, grid, cv=folds, n_jobs=1 if args.quick else 2)
search.fit(X, y)

for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
    print(f"R² {score:6.3f}  {params}")
print("best:", search.best_params_)
print("6-step forecast of the last window:", search.predict(X[-1:]).round(2))
