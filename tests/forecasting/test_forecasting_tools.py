"""Recursive forecasting past the trained horizon, and rolling-origin evaluation."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LinearRegression

from sae_keras import LSTMSAERegressor
from sae_keras.evaluation.rolling import rolling_origin
from conftest import TINY_REGRESSOR, sine_windows


def test_recursion_feeds_each_forecast_back_as_the_next_row():
    X, y = sine_windows(n_samples=120)  # y: the next value of channel 0
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=2).fit(X, y)
    forecasts = reg.predict_recursive(X[:5], steps=3)
    assert forecasts.shape == (5, 3)
    window = X[:5].copy()
    for step in range(3):
        value = reg.predict(window)
        np.testing.assert_allclose(forecasts[:, step], value, rtol=1e-6)
        row = window[:, -1:].copy()  # the other channel keeps its last value
        row[:, 0, 0] = value
        window = np.concatenate([window[:, 1:], row], axis=1)
    np.testing.assert_array_equal(X[:5], sine_windows(n_samples=120)[0][:5])  # X untouched


def test_recursion_with_a_multi_step_change_target_adds_changes_to_the_last_level():
    X, y = sine_windows(n_samples=120, horizon=3)
    change = y - X[:, -1, :1]
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=2).fit(X, change)
    forecasts = reg.predict_recursive(X[:4], steps=7, change=True)
    assert forecasts.shape == (4, 7)
    np.testing.assert_allclose(forecasts[:, :3], X[:4, -1, :1] + reg.predict(X[:4]), rtol=1e-6)
    window = np.concatenate([X[:4, 3:], np.repeat(X[:4, -1:], 3, axis=1)], axis=1)
    window[:, -3:, 0] = forecasts[:, :3]
    np.testing.assert_allclose(forecasts[:, 3:6], forecasts[:, 2:3] + reg.predict(window),
                               rtol=1e-6)


def test_recursion_refuses_what_it_cannot_feed_back():
    X, y = sine_windows(n_samples=100, horizon=2)
    two_targets = np.stack([y, y], axis=-1)
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).fit(X, two_targets)
    with pytest.raises(ValueError, match="several targets"):
        reg.predict_recursive(X, steps=4)
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).fit(X, y, future_covariates=np.zeros((100, 2)))
    with pytest.raises(ValueError, match="fitted with them"):
        reg.predict_recursive(X, steps=4)
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="steps must be a positive int"):
        reg.predict_recursive(X, steps=0)
    with pytest.raises(ValueError, match=r"target_channel must be a channel of X \(0 to 1\)"):
        reg.predict_recursive(X, steps=4, target_channel=2)


class _CountingRegression(RegressorMixin, BaseEstimator):
    """LinearRegression on flattened windows that counts its fits (class-wide)."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        self.model_ = LinearRegression().fit(X.reshape(len(X), -1), y, sample_weight)
        return self

    def predict(self, X):
        return self.model_.predict(X.reshape(len(X), -1))


def test_rolling_origin_scores_every_origin_beside_the_baselines():
    rng = np.random.default_rng(0)
    series = np.zeros(700)
    for t in range(1, 700):
        series[t] = 0.8 * series[t - 1] + rng.normal()
    X = np.stack([series[i : i + 5] for i in range(690)])[..., None]
    y = series[5:695]
    _CountingRegression.fits = 0
    scores = rolling_origin(_CountingRegression(), X, y, n_origins=4, test_size=100,
                            persistence=0, name="linear")
    assert list(scores["origin"]) == [1, 2, 3, 4]
    assert list(scores["test_start"]) == [290, 390, 490, 590]
    assert list(scores["train_windows"]) == [290, 390, 490, 590]
    assert _CountingRegression.fits == 4
    # An AR(1) with unit noise: the linear model's RMSE is near 1, persistence's above.
    assert np.all(np.abs(scores["linear"] - 1) < 0.2)
    assert np.all(scores["persistence"] > scores["linear"])
    np.testing.assert_allclose(scores["Ridge"], scores["linear"], rtol=0.02)
    manual = np.sqrt(np.mean((y[590:690] - X[590:690, -1, 0]) ** 2))
    assert scores["persistence"].iloc[-1] == pytest.approx(manual)

    _CountingRegression.fits = 0
    kept = rolling_origin(_CountingRegression(), X, y, n_origins=4, test_size=100,
                          refit=False, gap=3, max_train_size=200, ridge=False)
    assert _CountingRegression.fits == 1
    assert list(kept.columns) == ["origin", "train_windows", "test_start", "test_end",
                                  "estimator"]
    with pytest.raises(ValueError, match="persistence must be a channel index"):
        rolling_origin(_CountingRegression(), X, y, persistence="last")


def test_rolling_origin_passes_covariates_to_fit_and_predict():
    X, y = sine_windows(n_samples=200)
    static = np.random.default_rng(0).normal(size=(200, 1))
    scores = rolling_origin(LSTMSAERegressor(**TINY_REGRESSOR, epochs=1), X, y + static[:, 0],
                            n_origins=2, test_size=40,
                            covariates={"static_covariates": static},
                            persistence=lambda windows: windows[:, -1, 0])
    assert scores.shape == (2, 7)
    assert np.isfinite(scores[["persistence", "Ridge", "estimator"]].to_numpy()).all()
