"""``linear_skip``: the ridge regression the network starts from, and the trained variant."""

import numpy as np
import pytest
from conftest import TINY_REGRESSOR
from sklearn.linear_model import Ridge

from sae_keras import LSTMSAERegressor, make_windows
from sae_keras.forecasting._linear import ALPHAS, ridge_skip


def test_ridge_skip_equals_scikit_learns_ridge_with_the_same_penalty():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5000, 6, 3)) * [1.0, 2.0, 0.5] + [0.0, 1.0, -3.0]
    y = X.reshape(len(X), -1) @ rng.normal(size=(18, 2)) + rng.normal(size=(5000, 2))
    weights = rng.uniform(0.2, 3.0, size=5000)
    kernel, bias, alpha = ridge_skip(X, y, weights, validation_fraction=0.1)
    assert alpha in ALPHAS
    flat = X.reshape(len(X), -1)
    # Our penalty is per window, relative to the mean variance of the inputs.
    centred = flat - np.average(flat, axis=0, weights=weights)
    scale = np.mean(np.average(centred**2, axis=0, weights=weights))
    reference = Ridge(alpha=alpha * scale * weights.sum()).fit(flat, y, sample_weight=weights)
    np.testing.assert_allclose(kernel, reference.coef_.T, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bias, reference.intercept_, rtol=1e-4, atol=1e-4)


def test_the_penalty_is_chosen_on_the_most_recent_windows():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 4, 1))
    y = X[:, -1] * 2.0
    y[:360] += 5 * rng.normal(size=(360, 1))  # noisy past, clean recent windows
    _, _, alpha = ridge_skip(X, y, validation_fraction=0.1)
    assert alpha <= 1e-2  # the recent windows ask for little shrinkage
    _, _, default = ridge_skip(X[:50], y[:50], validation_fraction=0.1)
    assert default == 1.0  # 5 validation windows: too few to choose on


def _trending_walk(n=900, seed=0):
    """A random walk with drift: test values lie beyond anything seen in training."""
    steps = np.random.default_rng(seed).normal(loc=0.3, size=n)
    X, y = make_windows(np.cumsum(steps).reshape(-1, 1), 12, target=0)
    return X[:700], y[:700], X[700:], y[700:]


def test_ridge_start_extrapolates_where_the_papers_network_cannot():
    X, y, X_test, y_test = _trending_walk()
    params = dict(TINY_REGRESSOR, epochs=5)
    persistence = np.sqrt(np.mean((X_test[:, -1, 0] - y_test) ** 2))

    def rmse(reg):
        return np.sqrt(np.mean((reg.fit(X, y).predict(X_test) - y_test) ** 2))

    ridge = LSTMSAERegressor(**params)  # linear_skip="ridge", the default
    assert rmse(ridge) < 1.2 * persistence
    assert rmse(LSTMSAERegressor(**params, linear_skip=None)) > 3 * persistence
    skip = ridge.model_.get_layer("linear_skip")
    assert not skip.trainable and ridge.linear_skip_alpha_ in ALPHAS


def test_ridge_skip_is_fixed_and_the_head_starts_at_zero():
    X, y, _, _ = _trending_walk()
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=3).fit(X, y)  # early stopping off
    target = (y - reg.target_mean_) / reg.target_scale_
    scaled = (X - reg.input_mean_) / reg.input_scale_
    kernel, bias, alpha = ridge_skip(scaled, target[:, None], validation_fraction=0.1)
    got_kernel, got_bias = reg.model_.get_layer("linear_skip").get_weights()
    np.testing.assert_allclose(got_kernel, kernel, rtol=1e-4, atol=1e-5)  # never trained
    np.testing.assert_allclose(got_bias, bias, rtol=1e-4, atol=1e-5)
    assert alpha == reg.linear_skip_alpha_
    assert np.abs(reg.model_.get_layer("head").get_weights()[0]).max() > 0  # trained from 0


@pytest.mark.parametrize("linear_skip", ["trained", None])
def test_other_skips_train_everything_or_leave_the_papers_network(linear_skip):
    X, y, _, _ = _trending_walk(n=300)
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=2, linear_skip=linear_skip).fit(X, y)
    names = [layer.name for layer in reg.model_.layers]
    assert ("linear_skip" in names) is (linear_skip == "trained")
    assert reg.linear_skip_alpha_ is None
    if linear_skip == "trained":
        assert reg.model_.get_layer("linear_skip").trainable
