"""Scaling built into the estimators, and the defaults chosen by benchmarks/defaults.py."""

import pickle

import numpy as np
import pytest
from conftest import TINY, TINY_REGRESSOR, sine_windows, tiny_pretraining

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor
from sae_keras.forecasting._scaling import (
    ScaledWindows, channel_stats, column_stats, series_channel_stats, series_codes,
    series_column_stats,
)


def test_channel_stats_match_numpy_over_windows_and_steps_in_chunks():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=[1e4, -3.0, 7.0], scale=[50.0, 0.1, 0.0], size=(9000, 5, 3))
    mean, scale = channel_stats(X)  # 9000 windows: more than one chunk
    np.testing.assert_allclose(mean, X.mean(axis=(0, 1)), rtol=1e-12)
    np.testing.assert_allclose(scale[:2], X.std(axis=(0, 1))[:2], rtol=1e-9)
    assert scale[2] == 1.0  # a constant channel is left as it is, as StandardScaler does


def test_column_stats_are_per_output():
    y = np.stack([np.arange(10.0), 100 + 5 * np.arange(10.0)], axis=1)
    mean, scale = column_stats(y)
    np.testing.assert_allclose(mean, [4.5, 122.5])
    np.testing.assert_allclose(scale, [np.std(np.arange(10.0)), 5 * np.std(np.arange(10.0))])


def test_scaled_windows_scale_only_the_rows_asked_for_and_slice_lazily():
    X = np.arange(60.0).reshape(10, 3, 2)
    mean, scale = np.array([1.0, 2.0]), np.array([2.0, 4.0])
    scaled = ScaledWindows(X, mean, scale)
    expected = ((X - mean) / scale).astype(np.float32)
    tail = scaled[6:]
    assert isinstance(tail, ScaledWindows) and tail.shape == (4, 3, 2) and len(tail) == 4
    np.testing.assert_allclose(np.asarray(tail), expected[6:])
    rows = scaled[np.array([7, 0])]
    assert rows.dtype == np.float32
    np.testing.assert_allclose(rows, expected[[7, 0]])
    rows[:] = 0  # a fresh array: the user's windows are untouched
    assert X[0, 0, 0] == 0.0 and X[7, 0, 0] == 42.0



def _three_series(n=9000):
    """Windows of three series in very different units, interleaved, in 3 chunks or more."""
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 3, size=n)
    loc = np.array([[1e4, -3.0], [0.0, 5.0], [-7.0, 1e3]])[codes][:, None, :]
    scale = np.array([[50.0, 0.1], [1.0, 0.0], [2.0, 30.0]])[codes][:, None, :]
    return loc + scale * rng.normal(size=(n, 4, 2)), codes


def test_series_channel_stats_are_channel_stats_of_each_series_alone():
    X, codes = _three_series()
    mean, scale = series_channel_stats(X, codes, 3)
    assert mean.shape == scale.shape == (3, 2)
    for k in range(3):
        alone = channel_stats(X[codes == k])
        np.testing.assert_allclose(mean[k], alone[0], rtol=1e-12)
        np.testing.assert_allclose(scale[k], alone[1], rtol=1e-9)
    assert scale[1, 1] == 1.0  # constant within its series: left as it is


def test_series_channel_stats_leave_out_padding_and_give_absent_series_neutral_stats():
    X, codes = _three_series(50)
    padded = X.copy()
    padded[::2, :2] = np.nan  # the first two steps of every other window are padding
    mean, scale = series_channel_stats(padded, codes, 4)
    for k in range(3):
        alone = channel_stats(padded[codes == k])
        np.testing.assert_allclose(mean[k], alone[0], rtol=1e-12)
        np.testing.assert_allclose(scale[k], alone[1], rtol=1e-9)
    assert mean[3].tolist() == [0.0, 0.0] and scale[3].tolist() == [1.0, 1.0]


def test_series_column_stats_are_column_stats_of_each_series_alone():
    X, codes = _three_series(300)
    for y in (X[:, -1, 0], X[:, :, 1], X[:, 1:3, :]):
        mean, scale = series_column_stats(y, codes, 3)
        assert mean.shape == scale.shape == (3,) + y.shape[1:]
        for k in range(3):
            alone = column_stats(y[codes == k])
            np.testing.assert_allclose(mean[k], alone[0], rtol=1e-12)
            np.testing.assert_allclose(scale[k], alone[1], rtol=1e-9)


def test_series_codes_sort_the_ids_and_index_them():
    ids, codes = series_codes(np.array(["MSFT", "AAPL", "MSFT", "NVDA"], dtype=object))
    assert ids.tolist() == ["AAPL", "MSFT", "NVDA"] and codes.tolist() == [1, 0, 1, 2]
    np.testing.assert_array_equal(ids[codes], ["MSFT", "AAPL", "MSFT", "NVDA"])

def _shifted(X, y):
    """The same problem in other units: every channel and the target rescaled and offset."""
    channel_scale = np.array([1000.0, 0.01])
    return X * channel_scale + np.array([5.0, -300.0]), 50.0 * y - 3.0


def test_regressor_forecasts_in_the_users_units_whatever_their_scale():
    X, y = sine_windows(n_samples=120)
    params = dict(TINY_REGRESSOR, epochs=3)
    pred = LSTMSAERegressor(**params).fit(X, y).predict(X[:20])
    X_units, y_units = _shifted(X, y)
    X_before, y_before = X_units.copy(), y_units.copy()
    reg = LSTMSAERegressor(**params).fit(X_units, y_units)
    # Standardised inside fit, both problems train the same network on the same numbers.
    np.testing.assert_allclose(reg.predict(X_units[:20]), 50.0 * pred - 3.0, rtol=1e-3, atol=1e-2)
    np.testing.assert_array_equal(X_units, X_before)  # nothing modified in place
    np.testing.assert_array_equal(y_units, y_before)
    np.testing.assert_allclose(reg.target_mean_, y_units.mean())
    np.testing.assert_allclose(reg.input_scale_, X_units.std(axis=(0, 1)), rtol=1e-6)


def test_scaling_none_trains_on_the_data_as_given():
    X, y = sine_windows(n_samples=120)
    X_units, y_units = _shifted(X, y)
    # The paper's network (no ridge start, which on its own copes with any scale).
    params = dict(TINY_REGRESSOR, epochs=15, learning_rate=1e-2, linear_skip=None)
    scaled = LSTMSAERegressor(**params).fit(X_units, y_units)
    raw = LSTMSAERegressor(**params, scaling=None).fit(X_units, y_units)
    assert raw.input_mean_ is None and raw.target_scale_ is None
    # Raw inputs in the thousands saturate the LSTMs: the built-in scaling is what helps.
    assert scaled.score(X_units, y_units) > raw.score(X_units, y_units) + 0.3


def test_multi_step_targets_are_scaled_per_lead_and_target():
    X, y = sine_windows(n_samples=100, horizon=3)
    y = np.stack([y, 1000 * y], axis=2)  # (n, 3 leads, 2 targets) of very different scales
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=2).fit(X, y)
    assert reg.target_mean_.shape == (3, 2)
    pred = reg.predict(X[:5])
    assert pred.shape == (5, 3, 2)
    assert np.abs(pred[..., 1]).mean() > 100 * np.abs(pred[..., 0]).mean()


def test_encoder_reconstructs_in_the_users_units():
    X, _ = sine_windows(n_samples=100)
    X_units = X * 1000.0 + 5000.0
    enc = LSTMSAEEncoder(**TINY).fit(X_units)
    reconstruction = enc.inverse_transform(enc.transform(X_units))
    # Near the data's own level, not near 0 (the scale the networks see).
    assert abs(reconstruction.mean() - X_units.mean()) < 0.2 * X_units.std()
    raw = LSTMSAEEncoder(**TINY, scaling=None).fit(X_units)
    assert raw.input_mean_ is None
    assert np.abs(raw.inverse_transform(raw.transform(X_units))).max() < 100


@pytest.mark.parametrize("scaling", ["standard", None])
def test_scaling_state_survives_pickle_and_save(tmp_path, scaling):
    X, y = sine_windows(n_samples=60)
    X_units, y_units = _shifted(X, y)
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1, scaling=scaling).fit(X_units, y_units)
    expected = reg.predict(X_units[:7])
    np.testing.assert_allclose(pickle.loads(pickle.dumps(reg)).predict(X_units[:7]), expected)
    loaded = LSTMSAERegressor.load(reg.save(tmp_path / "reg.zip"))
    np.testing.assert_allclose(loaded.predict(X_units[:7]), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "n_samples, expected", [(90, False), (120, True)], ids=["small", "large"]
)
def test_early_stopping_auto_turns_on_from_100_windows(n_samples, expected):
    X, y = sine_windows(n_samples=n_samples)
    auto = {**TINY_REGRESSOR, "early_stopping": "auto",
            "pretraining": tiny_pretraining(early_stopping="auto")}
    reg = LSTMSAERegressor(**auto, epochs=2).fit(X, y)
    assert reg.early_stopping == "auto"
    assert ("val_loss" in reg.history_["finetune"]) is expected
    assert ("val_loss" in reg.history_["pretrain_1"]) is expected


def test_decoders_are_as_wide_as_their_encoders_by_default():
    X, _ = sine_windows(n_samples=40)
    enc = LSTMSAEEncoder(**TINY).fit(X)
    assert [ae.get_layer(f"decoder_{k}").units for k, ae in enumerate(enc.autoencoders_, 1)] \
        == list(TINY["hidden_units"])
    narrow = LSTMSAEEncoder(**TINY, decoder_units=2).fit(X)
    assert narrow.autoencoders_[0].get_layer("decoder_1").units == 2
