"""Search hyper-parameters with Optuna, pruning weak trials epoch by epoch.

Shows a search beyond grids: an Optuna study (TPE sampler, median pruner) over
the learning rate, width and dropout of ``LSTMSAERegressor``, each trial scored
on ``TimeSeriesSplit`` folds (every validation fold after its training data).
A Keras callback, passed through the estimator's ``callbacks=``, reports each
fine-tuning epoch's validation loss (the early-stopping part) to the trial;
the pruner stops a trial whose loss at a given fold and epoch is worse than
the median of earlier trials there. The last fifth of the windows never enters
the search: the best trial is refitted on the rest and scored there, beside
Ridge. Run ``python examples/search_optuna.py --quick`` for a short version.
"""

import argparse
import time

import keras
import numpy as np
import optuna
from sklearn.linear_model import Ridge
from sklearn.metrics import root_mean_squared_error
from sklearn.model_selection import TimeSeriesSplit

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor, make_windows
from sae_keras.data.datasets import make_synthetic

parser = argparse.ArgumentParser(description="Optuna search with epoch-level pruning")
parser.add_argument("--quick", action="store_true", help="small data, few trials and epochs")
parser.add_argument("--trials", type=int, default=None, help="trials (default 24; 6 quick)")
args = parser.parse_args()

frame = make_synthetic(800 if args.quick else 4000, n_channels=3, random_state=0)
X, y = make_windows(frame, timesteps=12, target="target")
cut = int(0.8 * len(X))  # the test part: never seen by the search
X_search, y_search, X_test, y_test = X[:cut], y[:cut], X[cut:], y[cut:]
EPOCHS = 3 if args.quick else 30
FOLDS = TimeSeriesSplit(n_splits=2 if args.quick else 3)


class PruneTrial(keras.callbacks.Callback):
    """Report each fine-tuning epoch's ``val_loss`` to an Optuna trial; prune if it asks.

    The estimator passes its ``callbacks`` to every training phase; the
    fine-tuning phase trains the model named ``"lstm_sae_forecaster"`` (the
    greedy pretraining phases train ``"autoencoder_<k>"``). Fold ``f``'s epoch
    ``e`` is step ``f * EPOCHS + e`` of the trial, the same in every trial.
    """

    def __init__(self, trial, fold):
        super().__init__()
        self.trial, self.fold = trial, fold

    def on_epoch_end(self, epoch, logs=None):
        if self.model.name != "lstm_sae_forecaster" or "val_loss" not in (logs or {}):
            return
        self.trial.report(float(logs["val_loss"]), self.fold * EPOCHS + epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"fold {self.fold}, epoch {epoch + 1}")


def regressor(params, callbacks=None):
    return LSTMSAERegressor(
        hidden_units=(params["units"], params["units"] // 2),
        pretraining=LSTMSAEEncoder(pretrain_epochs=1 if args.quick else 3),
        learning_rate=params["learning_rate"], dropout=params["dropout"],
        epochs=EPOCHS, n_iter_no_change=3, callbacks=callbacks, random_state=0)


def objective(trial):
    params = {"learning_rate": trial.suggest_float("learning_rate", 1e-4, 3e-2, log=True),
              "units": trial.suggest_categorical("units", [8, 16, 32]),
              "dropout": trial.suggest_float("dropout", 0.0, 0.3)}
    scores = []
    for fold, (train, valid) in enumerate(FOLDS.split(X_search)):
        model = regressor(params, [PruneTrial(trial, fold)])
        model.fit(X_search[train], y_search[train])
        scores.append(root_mean_squared_error(y_search[valid], model.predict(X_search[valid])))
    return float(np.mean(scores))


optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(
    direction="minimize", sampler=optuna.samplers.TPESampler(seed=0),
    pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1))
start = time.perf_counter()
study.optimize(objective, n_trials=args.trials or (6 if args.quick else 24))
seconds = time.perf_counter() - start

states = [t.state for t in study.trials]
done = states.count(optuna.trial.TrialState.COMPLETE)
pruned = states.count(optuna.trial.TrialState.PRUNED)
print(f"{len(states)} trials in {seconds:.0f} s: {done} complete, {pruned} pruned")
print(f"best cross-validated RMSE {study.best_value:.3f} with {study.best_params}")
best = regressor(study.best_params).fit(X_search, y_search)
lstm = root_mean_squared_error(y_test, best.predict(X_test))
ridge = Ridge().fit(X_search.reshape(cut, -1), y_search)
baseline = root_mean_squared_error(y_test, ridge.predict(X_test.reshape(len(X_test), -1)))
print(f"test RMSE: best trial refitted {lstm:.3f}, Ridge {baseline:.3f}")
