"""Prediction intervals: Monte-Carlo dropout spread and split-conformal intervals."""

import keras
import numpy as np
import pytest

from sae_keras import LSTMSAERegressor
from sae_keras.forecasting._intervals import conformal_half_width
from conftest import TINY_REGRESSOR, sine_windows


def noisy_ar_windows(n_samples, noise, timesteps=8, horizon=1, seed=0):
    """Windows of a sine; targets = next sine values + Gaussian noise of std ``noise``.

    ``noise`` may hold one std per lead time.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples + timesteps + horizon)
    series = np.sin(2 * np.pi * t / 17)
    X = np.stack([series[i : i + timesteps] for i in range(n_samples)])[..., None]
    clean = np.stack([series[i + timesteps : i + timesteps + horizon] for i in range(n_samples)])
    y = clean + rng.normal(size=clean.shape) * np.asarray(noise)
    return X, (y[:, 0] if horizon == 1 else y)


def test_half_width_is_the_corrected_rank_of_the_scores():
    scores = np.arange(1.0, 20.0)  # 19 scores: rank ceil(20 * 0.9) = 18
    assert conformal_half_width(scores, 0.9) == 18.0
    per_output = np.stack([scores, 10 * scores], axis=1)
    np.testing.assert_array_equal(conformal_half_width(per_output, 0.5), [10.0, 100.0])
    with pytest.raises(ValueError, match="coverage=0.99 needs at least 99 calibration windows"):
        conformal_half_width(scores, 0.99)


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_calibration_windows_are_held_out_of_training():
    X, y = sine_windows(n_samples=200)
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=2, calibration_fraction=0.25).fit(X, y)
    alone = LSTMSAERegressor(**TINY_REGRESSOR, epochs=2).fit(X[:150], y[:150])
    np.testing.assert_allclose(reg.predict(X), alone.predict(X), rtol=1e-5, atol=1e-6)
    assert reg.conformal_scores_.shape == (50,)
    np.testing.assert_allclose(reg.conformal_scores_, np.abs(alone.predict(X[150:]) - y[150:]),
                               rtol=1e-5, atol=1e-6)


def test_conformal_interval_covers_what_it_claims_on_new_windows():
    X, y = noisy_ar_windows(2600, noise=0.3)
    reg = LSTMSAERegressor(
        **{**TINY_REGRESSOR, "hidden_units": (8,)}, epochs=15, calibration_fraction=0.4,
    ).fit(X[:600], y[:600])
    lower, upper = reg.predict_interval(X[600:], coverage=0.9)
    inside = (y[600:] >= lower) & (y[600:] <= upper)
    assert 0.86 <= inside.mean() <= 0.94
    # The width is set by the noise: 2 * 1.645 * 0.3 = 0.99 for a perfect forecast.
    assert 0.9 <= np.mean(upper - lower) <= 1.4
    low80, up80 = reg.predict_interval(X[600:], coverage=0.8)
    assert np.all(up80 - low80 < upper - lower)


def test_multi_step_intervals_get_one_width_per_lead_and_target():
    X, y = noisy_ar_windows(400, noise=[0.05, 0.5], horizon=2)
    y = np.stack([y, -y], axis=-1)  # two targets
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=3, calibration_fraction=0.3).fit(X, y)
    lower, upper = reg.predict_interval(X[:7])
    assert lower.shape == upper.shape == (7, 2, 2)
    width = (upper - lower)[0]
    assert width[1, 0] > 3 * width[0, 0] and width[1, 1] > 3 * width[0, 1]
    y_pred, y_std = reg.predict(X[:7], return_std=True, n_passes=10)
    assert y_pred.shape == y_std.shape == (7, 2, 2)


def test_mc_dropout_spread_is_that_of_forecasts_with_dropout_on():
    X, y = sine_windows(n_samples=120)
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=2, dropout=0.5, linear_skip="trained").fit(X, y)
    y_pred, y_std = reg.predict(X[:20], return_std=True, n_passes=200)
    np.testing.assert_array_equal(y_pred, reg.predict(X[:20]))
    again = reg.predict(X[:20], return_std=True, n_passes=200)[1]
    np.testing.assert_array_equal(y_std, again)  # seeded by random_state
    assert np.all(y_std > 0)
    # The same spread, drawn by hand through Keras with dropout on: 200 copies of the
    # windows in one batch, each row with its own dropout masks (200 draws per window).
    x = ((X[:20] - reg.input_mean_) / reg.input_scale_).astype("float32")
    draws = keras.ops.convert_to_numpy(
        reg.model_(np.tile(x, (200, 1, 1)), training=True))[:, 0].reshape(200, 20)
    expected = draws.std(axis=0, ddof=1) * reg.target_scale_
    np.testing.assert_allclose(y_std.mean(), expected.mean(), rtol=0.2)
    lower, upper = reg.predict_interval(X[:20], method="mc_dropout", n_passes=200)
    np.testing.assert_allclose(upper - y_pred, 1.6448536 * y_std, rtol=1e-6)
    np.testing.assert_allclose(y_pred - lower, upper - y_pred, rtol=1e-6)


def test_interval_requests_that_cannot_be_met_are_refused_clearly():
    X, y = sine_windows(n_samples=100)
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1, dropout=0.0).fit(X, y)
    with pytest.raises(ValueError, match="fit with calibration_fraction > 0"):
        reg.predict_interval(X)
    with pytest.raises(ValueError, match="Monte-Carlo dropout needs dropout > 0"):
        reg.predict(X, return_std=True)
    with pytest.raises(ValueError, match=r"coverage must be a float in \(0, 1\)"):
        reg.predict_interval(X, coverage=90)
    with pytest.raises(ValueError, match="method must be 'conformal', 'normalized' or 'mc_dropout'"):
        reg.predict_interval(X, method="quantile")
    with pytest.raises(ValueError, match="calibration_fraction=0.99 holds out 99 of 100"):
        LSTMSAERegressor(**TINY_REGRESSOR, calibration_fraction=0.99).fit(X, y)


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_mapie_wraps_a_fitted_regressor_for_split_conformal_intervals():
    mapie = pytest.importorskip("mapie.regression")  # in the test extra
    X, y = noisy_ar_windows(1500, noise=0.3)
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=5).fit(X[:400], y[:400])
    conformal = mapie.SplitConformalRegressor(reg, confidence_level=0.9, prefit=True)
    conformal.conformalize(X[400:700], y[400:700])
    y_pred, intervals = conformal.predict_interval(X[700:])
    np.testing.assert_allclose(y_pred, reg.predict(X[700:]), rtol=1e-6)
    inside = (y[700:] >= intervals[:, 0, 0]) & (y[700:] <= intervals[:, 1, 0])
    assert 0.85 <= inside.mean() <= 0.95
