"""Nested estimators: validated before any training, and kept fitted by ``FrozenEstimator``.

``pretraining=LSTMSAEEncoder(...)``, ``TableForecaster(regressor=...)``,
``SequenceScaler(scaler=...)`` and ``LSTMSAEOutlierDetector(encoder=...)`` check the
nested estimator's parameters as strictly as their own, before anything trains.
``sklearn.frozen.FrozenEstimator(fitted_encoder)`` keeps a fitted encoder through
``clone`` and searches: it is used as fitted, never fitted again.
"""

import numpy as np
import pytest
from conftest import TINY, sine_windows
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils._param_validation import InvalidParameterError

import sae_keras.estimators._base
from sae_keras import (
    LSTMSAEEncoder, LSTMSAEOutlierDetector, LSTMSAERegressor, SequenceScaler,
    TableForecaster, load,
)
from sae_keras.data.datasets import make_synthetic

ENCODER = dict(TINY, hidden_units=(4,))


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if any phase starts training."""
    def train_phase(*args, **kwargs):
        raise AssertionError("training started before the nested estimator was validated")

    monkeypatch.setattr(sae_keras.estimators._base, "train_phase", train_phase)


@pytest.fixture
def count_encoder_fits(monkeypatch):
    """The encoders that pretrain, in the encoder's own fit or in a regressor's."""
    calls = []
    pretrain = LSTMSAEEncoder._pretrain

    def counted(self, *args, **kwargs):
        calls.append(self)
        return pretrain(self, *args, **kwargs)

    monkeypatch.setattr(LSTMSAEEncoder, "_pretrain", counted)
    return calls


@pytest.mark.parametrize("make, fit", [
    (lambda bad: LSTMSAERegressor(pretraining=LSTMSAEEncoder(**bad)),
     lambda est, X, y, table: est.fit(X, y)),
    (lambda bad: TableForecaster("target", timesteps=4, regressor=LSTMSAERegressor(
        pretraining=LSTMSAEEncoder(**bad))),
     lambda est, X, y, table: est.fit(table)),
    (lambda bad: TableForecaster("target", timesteps=4, regressor=LSTMSAERegressor(**bad)),
     lambda est, X, y, table: est.fit(table)),
    (lambda bad: LSTMSAEOutlierDetector(LSTMSAEEncoder(**bad)),
     lambda est, X, y, table: est.fit(X)),
], ids=["regressor-pretraining", "forecaster-regressor-pretraining", "forecaster-regressor",
        "outlier-encoder"])
def test_nested_parameters_are_validated_before_training(make, fit, no_training):
    X, y = sine_windows(n_samples=30)
    table = make_synthetic(40, 2, random_state=0)
    with pytest.raises(InvalidParameterError, match="'optimizer' parameter"):
        fit(make({"optimizer": "bogus"}), X, y, table)  # was KeyError: 'bogus'
    with pytest.raises(InvalidParameterError, match="'batch_size' parameter"):
        fit(make({"batch_size": 0}), X, y, table)


def test_a_nested_encoders_own_checks_run_before_training(no_training):
    X, y = sine_windows(n_samples=30)
    with pytest.raises(ValueError, match="hidden_units"):
        LSTMSAERegressor(pretraining=LSTMSAEEncoder(hidden_units=(4, 0))).fit(X, y)
    with pytest.raises(ValueError, match="pretrain_epochs"):
        LSTMSAERegressor((4, 3), pretraining=LSTMSAEEncoder(pretrain_epochs=[1])).fit(X, y)


def test_a_sequence_scalers_scaler_is_validated():
    X, _ = sine_windows(n_samples=10)
    with pytest.raises(InvalidParameterError, match="'feature_range' parameter of MinMaxScaler"):
        SequenceScaler(MinMaxScaler(feature_range="bogus")).fit(X)


def test_a_frozen_encoder_survives_clone_and_a_grid_search(count_encoder_fits):
    X, y = sine_windows(n_samples=64)
    encoder = LSTMSAEEncoder(**ENCODER).fit(X)
    count_encoder_fits.clear()
    weights = [w.copy() for w in encoder.model_.get_layer("encoder_1").get_weights()]
    reg = LSTMSAERegressor(pretraining=FrozenEstimator(encoder), freeze_encoders=True,
                           epochs=1, batch_size=32, random_state=0)
    assert clone(reg).pretraining.estimator is encoder  # kept fitted through clone
    search = GridSearchCV(reg, {"epochs": [1, 2]}, cv=KFold(2)).fit(X, y)
    assert count_encoder_fits == []  # no fold pretrained it again
    assert search.best_estimator_.pretraining.estimator is encoder
    assert "pretrain_1" not in search.best_estimator_.history_
    for got, want in zip(search.best_estimator_.model_.get_layer("encoder_1").get_weights(),
                         weights):
        np.testing.assert_array_equal(got, want)  # used as fitted (frozen in fine-tuning)
    for got, want in zip(encoder.model_.get_layer("encoder_1").get_weights(), weights):
        np.testing.assert_array_equal(got, want)  # and never changed
    np.testing.assert_array_equal(search.best_estimator_.input_mean_, encoder.input_mean_)


def test_an_unfrozen_fitted_encoder_is_pretrained_again_after_clone(count_encoder_fits):
    """Why FrozenEstimator: ``clone`` drops what a plain encoder learned."""
    X, y = sine_windows(n_samples=40)
    encoder = LSTMSAEEncoder(**ENCODER).fit(X)
    count_encoder_fits.clear()
    reg = clone(LSTMSAERegressor((4,), pretraining=encoder, epochs=1, batch_size=32)).fit(X, y)
    assert len(count_encoder_fits) == 1 and "pretrain_1" in reg.history_


def test_a_frozen_encoder_must_be_fitted(no_training):
    X, y = sine_windows(n_samples=30)
    with pytest.raises(ValueError, match="needs a fitted LSTMSAEEncoder"):
        LSTMSAERegressor(pretraining=FrozenEstimator(LSTMSAEEncoder(**ENCODER))).fit(X, y)
    with pytest.raises(TypeError, match="FrozenEstimator of a MinMaxScaler"):
        LSTMSAERegressor(pretraining=FrozenEstimator(MinMaxScaler())).fit(X, y)
    with pytest.raises(ValueError, match="needs a fitted LSTMSAEEncoder"):
        LSTMSAEOutlierDetector(FrozenEstimator(LSTMSAEEncoder(**ENCODER))).fit(X)


def test_a_regressor_with_a_frozen_encoder_saves_and_loads(tmp_path):
    X, y = sine_windows(n_samples=40)
    encoder = LSTMSAEEncoder(**ENCODER).fit(X)
    reg = LSTMSAERegressor(pretraining=FrozenEstimator(encoder), epochs=1, batch_size=32,
                           random_state=0).fit(X, y)
    loaded = load(reg.save(tmp_path / "reg.zip"))
    np.testing.assert_array_equal(loaded.predict(X[:5]), reg.predict(X[:5]))
    assert isinstance(loaded.pretraining, FrozenEstimator)
    def params(estimator):  # JSON keeps tuples as lists
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in estimator.get_params().items()}

    assert params(loaded.pretraining.estimator) == params(encoder)
    # The frozen encoder's weights are not in the file: refitting needs it passed again.
    with pytest.raises(ValueError, match="needs a fitted LSTMSAEEncoder"):
        loaded.fit(X, y)


def test_an_outlier_detector_uses_a_frozen_encoder_as_fitted(count_encoder_fits):
    X, _ = sine_windows(n_samples=48)
    encoder = LSTMSAEEncoder(**ENCODER).fit(X)
    count_encoder_fits.clear()
    detector = LSTMSAEOutlierDetector(FrozenEstimator(encoder), contamination=0.1)
    fitted = clone(detector).fit(X[:40])
    assert count_encoder_fits == [] and fitted.encoder_ is encoder
    np.testing.assert_array_equal(fitted.score_samples(X[40:]), encoder.score_samples(X[40:]))
    assert fitted.offset_ == pytest.approx(np.percentile(encoder.score_samples(X[:40]), 10))
    with pytest.warns(UserWarning, match="sample_weight is ignored"):
        clone(detector).fit(X[:40], sample_weight=np.ones(40))
