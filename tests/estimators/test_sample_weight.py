"""``fit(X, y, sample_weight=...)`` on both estimators."""

import numpy as np
import pytest
from conftest import TINY, TINY_REGRESSOR, tiny_pretraining

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor


def conflicting_windows(n=64, seed=0):
    """Every window appears twice, once with target +1 and once with target -1."""
    X = np.random.default_rng(seed).normal(size=(n, 6, 2))
    X = np.concatenate([X, X])
    y = np.concatenate([np.ones(n), -np.ones(n)])
    return X, y


def test_regressor_follows_the_weighted_windows():
    X, y = conflicting_windows()
    params = dict(TINY_REGRESSOR, epochs=30, learning_rate=1e-2, scaling=None)
    positive = (y > 0).astype(float)
    up = LSTMSAERegressor(**params).fit(X, y, sample_weight=positive).predict(X)
    down = LSTMSAERegressor(**params).fit(X, y, sample_weight=1 - positive).predict(X)
    plain = LSTMSAERegressor(**params).fit(X, y).predict(X)
    assert up.mean() > 0.8 and down.mean() < -0.8
    assert abs(plain.mean()) < 0.3


def test_weights_enter_pretraining_and_validation_losses():
    X, y = conflicting_windows(n=120)
    weights = np.linspace(0.0, 2.0, len(X))
    stopping = {**TINY_REGRESSOR, "early_stopping": True,
                "pretraining": tiny_pretraining(early_stopping=True)}
    weighted = LSTMSAERegressor(**stopping, epochs=2).fit(X, y, sample_weight=weights)
    plain = LSTMSAERegressor(**stopping, epochs=2).fit(X, y)
    for phase in ("pretrain_1", "pretrain_2", "finetune"):
        for key in ("loss", "val_loss"):
            assert weighted.history_[phase][key] != plain.history_[phase][key], (phase, key)
    ones = LSTMSAERegressor(**TINY_REGRESSOR, epochs=2).fit(X, y, sample_weight=np.ones(len(X)))
    np.testing.assert_allclose(ones.predict(X[:5]),
                               LSTMSAERegressor(**TINY_REGRESSOR, epochs=2).fit(X, y).predict(X[:5]),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.both_backends  # weights reach each backend's loss reduction
def test_encoder_weights_its_reconstruction_loss():
    X, _ = conflicting_windows()
    weights = np.r_[np.full(64, 3.0), np.zeros(64)]
    weights_before = weights.copy()
    enc = LSTMSAEEncoder(**TINY).fit(X, sample_weight=weights)
    plain = LSTMSAEEncoder(**TINY).fit(X)
    assert enc.history_["pretrain_1"]["loss"] != plain.history_["pretrain_1"]["loss"]
    np.testing.assert_array_equal(weights, weights_before)  # not modified in place


@pytest.mark.parametrize(
    "weights, message",
    [
        (-np.ones(128), "Negative values in data passed to `sample_weight`"),
        (np.ones(5), r"sample_weight.shape == \(5,\), expected \(128,\)"),
        (np.zeros(128), "Sample weights must contain at least one non-zero number"),
    ],
    ids=["negative", "wrong length", "all zero"],
)
def test_bad_weights_are_refused_before_training(weights, message):
    X, y = conflicting_windows()
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1)
    with pytest.raises(ValueError, match=message):
        reg.fit(X, y, sample_weight=weights)
    assert not hasattr(reg, "model_")
