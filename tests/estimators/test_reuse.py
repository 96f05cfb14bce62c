"""Reusing what was learned: ``warm_start`` and a regressor stacked on a fitted encoder."""

import pickle

import numpy as np
import pytest
from conftest import TINY, TINY_REGRESSOR, sine_windows
from sklearn.base import clone

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor


def test_warm_start_continues_fine_tuning_from_the_fitted_weights():
    X, y = sine_windows(n_samples=120)
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=3, warm_start=True).fit(X[:80], y[:80])
    encoder_before = reg.model_.get_layer("encoder_1").get_weights()[0].copy()
    first_losses = list(reg.history_["finetune"]["loss"])
    means = (reg.input_mean_.copy(), reg.target_mean_.copy())
    reg.fit(X[40:], y[40:])  # new windows: no pretraining, three more epochs
    assert list(reg.history_) == ["pretrain_1", "pretrain_2", "finetune"]
    assert reg.history_["finetune"]["loss"][:3] == first_losses
    assert len(reg.history_["finetune"]["loss"]) == 6
    # It started from where the first fit ended: its first loss is near that fit's last.
    cold = LSTMSAERegressor(**{**TINY_REGRESSOR, "pretraining": None}, epochs=3).fit(
        X[40:], y[40:])
    assert reg.history_["finetune"]["loss"][3] < cold.history_["finetune"]["loss"][0]
    assert not np.array_equal(reg.model_.get_layer("encoder_1").get_weights()[0],
                              encoder_before)
    np.testing.assert_array_equal(reg.input_mean_, means[0])  # the scaling is kept
    np.testing.assert_array_equal(reg.target_mean_, means[1])


def test_warm_start_false_refits_from_scratch():
    X, y = sine_windows(n_samples=80)
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=2)
    first = reg.fit(X, y).predict(X[:5])
    np.testing.assert_allclose(reg.fit(X, y).predict(X[:5]), first, rtol=1e-6)
    assert len(reg.history_["finetune"]["loss"]) == 2


def test_warm_start_refuses_windows_of_another_shape():
    X, y = sine_windows(n_samples=60)
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1, warm_start=True).fit(X, y)
    X_other, y_other = sine_windows(n_samples=60, timesteps=5)
    with pytest.raises(ValueError, match=r"warm_start=True.*timesteps=8.*timesteps=5"):
        reg.fit(X_other, y_other)
    assert reg.n_features_in_ == 8  # the fitted estimator is left as it was


def test_regressor_stacks_the_encoders_of_a_fitted_encoder():
    X, y = sine_windows(n_samples=100)
    encoder = LSTMSAEEncoder(**TINY).fit(X)
    weights = [w.copy() for w in encoder.model_.get_layer("encoder_2").get_weights()]
    reg = LSTMSAERegressor(hidden_units=(9,), pretraining=encoder, freeze_encoders=True,
                           epochs=2, random_state=0).fit(X, y)
    assert reg.hidden_units_ == encoder.hidden_units_  # the encoder's layers, not (9,)
    assert "pretrain_1" not in reg.history_  # nothing pretrained again
    for got, want in zip(reg.model_.get_layer("encoder_2").get_weights(), weights):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(reg.input_mean_, encoder.input_mean_)
    # The user's encoder is used, not changed.
    for got, want in zip(encoder.model_.get_layer("encoder_2").get_weights(), weights):
        np.testing.assert_array_equal(got, want)


def test_an_unfitted_encoder_is_fitted_on_the_training_windows_first():
    X, y = sine_windows(n_samples=100)
    template = LSTMSAEEncoder(**TINY)
    reg = LSTMSAERegressor(TINY["hidden_units"], pretraining=template, epochs=2,
                           random_state=0).fit(X, y)
    assert not hasattr(template, "model_")  # a clone was fitted
    assert reg.hidden_units_ == TINY["hidden_units"]
    assert "pretrain_1" in reg.history_
    # clone() (as GridSearchCV does) gives an unfitted encoder: refitted per fold.
    cloned = clone(LSTMSAERegressor(pretraining=LSTMSAEEncoder(**TINY).fit(X), epochs=1))
    assert not hasattr(cloned.pretraining, "model_")
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_allclose(restored.predict(X[:4]), reg.predict(X[:4]))


def test_an_encoder_of_other_windows_is_refused():
    X, y = sine_windows(n_samples=60)
    encoder = LSTMSAEEncoder(**TINY).fit(X[:, :5])
    with pytest.raises(ValueError, match=r"pretraining.*fitted on windows of shape "
                                         r"\(timesteps=5, channels=2\)"):
        LSTMSAERegressor(pretraining=encoder, epochs=1).fit(X, y)


def test_save_and_load_keep_an_encoder_parameter_by_its_parameters(tmp_path):
    X, y = sine_windows(n_samples=60)
    encoder = LSTMSAEEncoder(**TINY, pretrain_noise=0.05).fit(X)
    reg = LSTMSAERegressor(pretraining=encoder, epochs=1, random_state=0).fit(X, y)
    loaded = LSTMSAERegressor.load(reg.save(tmp_path / "reg.zip"))
    assert isinstance(loaded.pretraining, LSTMSAEEncoder)
    params = {k: tuple(v) if isinstance(v, list) else v
              for k, v in loaded.pretraining.get_params().items()}
    assert params == {**encoder.get_params(), "callbacks": None}
    np.testing.assert_allclose(loaded.predict(X[:5]), reg.predict(X[:5]), rtol=1e-6)
