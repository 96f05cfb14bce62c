"""Tuning with Optuna: the search guide's pruning recipe (docs/guide/search.md).

A callback reports each fine-tuning epoch's validation loss to the trial and raises
``optuna.TrialPruned`` from inside ``fit`` when the pruner asks; the study records the
trial as pruned and the estimator stays unfitted, as after any failed fit.
"""

import keras
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.metrics import root_mean_squared_error

from sae_keras import LSTMSAERegressor
from conftest import TINY_REGRESSOR, sine_windows

optuna = pytest.importorskip("optuna")

EPOCHS = 3


class PruneTrial(keras.callbacks.Callback):
    """The guide's callback: fine-tuning's ``val_loss`` to the trial, step = epoch."""

    def __init__(self, trial):
        super().__init__()
        self.trial = trial

    def on_epoch_end(self, epoch, logs=None):
        if self.model.name != "lstm_sae_forecaster" or "val_loss" not in (logs or {}):
            return
        self.trial.report(float(logs["val_loss"]), epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"epoch {epoch + 1}")


def _study(pruner, n_trials):
    """A study over the learning rate, fitting one model per trial; the models kept."""
    X, y = sine_windows(n_samples=120)
    X_fit, y_fit, X_val, y_val = X[:90], y[:90], X[90:], y[90:]
    models = []

    def objective(trial):
        rate = trial.suggest_float("learning_rate", 1e-3, 3e-2, log=True)
        model = LSTMSAERegressor(**{**TINY_REGRESSOR, "learning_rate": rate, "epochs": EPOCHS,
                                    "early_stopping": True, "n_iter_no_change": EPOCHS,
                                    "callbacks": [PruneTrial(trial)]})
        models.append(model)
        model.fit(X_fit, y_fit)
        return root_mean_squared_error(y_val, model.predict(X_val))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize",
                                sampler=optuna.samplers.TPESampler(seed=0), pruner=pruner)
    study.optimize(objective, n_trials=n_trials)
    return study, models, (X_fit, y_fit, X_val, y_val)


@pytest.mark.one_backend("jax")  # above Keras: see conftest
def test_a_pruned_trial_stops_fit_at_once_and_leaves_the_estimator_unfitted():
    # Every loss is above 0: the first reported epoch is pruned.
    study, models, (_, _, X_val, _) = _study(optuna.pruners.ThresholdPruner(upper=0.0), 2)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.PRUNED] * 2
    for trial, model in zip(study.trials, models):
        assert list(trial.intermediate_values) == [0]  # stopped after its first epoch
        assert trial.intermediate_values[0] > 0
        with pytest.raises(NotFittedError):
            model.predict(X_val)


@pytest.mark.one_backend("jax")  # above Keras: see conftest
def test_a_study_sees_every_fine_tuning_epoch_and_its_best_trial_refits_the_same():
    study, models, (X_fit, y_fit, X_val, y_val) = _study(optuna.pruners.NopPruner(), 2)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 2
    for trial, model in zip(study.trials, models):
        # one report per fine-tuning epoch, none from the pretraining autoencoders
        assert list(trial.intermediate_values) == list(range(EPOCHS))
        assert trial.intermediate_values[EPOCHS - 1] == pytest.approx(
            model.history_["finetune"]["val_loss"][-1], rel=1e-6)
    # The best parameters, refitted without the callback, give the best trial's score.
    best = LSTMSAERegressor(**{**TINY_REGRESSOR, **study.best_params, "epochs": EPOCHS,
                               "early_stopping": True, "n_iter_no_change": EPOCHS})
    score = root_mean_squared_error(y_val, best.fit(X_fit, y_fit).predict(X_val))
    np.testing.assert_allclose(score, study.best_value, rtol=1e-5)
