"""No leakage between what fit trains on and the windows it holds out (issue #21, items 5-7).

Windows are consecutive (stride 1): window ``i`` of a ``horizon``-step target
forecasts time steps ``i + 1 ... i + horizon`` (counted from its end).
"""

import argparse
import math

import numpy as np
import pandas as pd
import pytest

from sae_keras import LSTMSAERegressor
from sae_keras.cli import _job
from sae_keras.forecasting._intervals import split_calibration
from sae_keras.data._split import purge_gap, time_split
from sae_keras.training._loop import _hold_out
from sae_keras.evaluation.rolling import rolling_origin
from conftest import sine_windows

FAST = dict(hidden_units=(4,), batch_size=32, random_state=0, pretraining=None, epochs=1)


def _target_steps(windows, horizon):
    """The time steps the targets of ``windows`` (window positions) cover."""
    return {int(w) + k for w in np.atleast_1d(windows) for k in range(horizon)}


def _linear_map(reg):
    return [np.asarray(w) for w in reg.model_.get_layer("linear_skip").get_weights()]


@pytest.mark.parametrize("horizon", [1, 3])
def test_the_ridge_start_never_reads_early_stoppings_validation_targets(horizon):
    # Item 5: the ridge was refitted on every window, validation ones included, and then
    # scored "epoch 0" on them in-sample. Shuffling the targets of the validation windows
    # and of the purge gap before them (column statistics unchanged) must not change it.
    X, y = sine_windows(n_samples=200, horizon=horizon)
    settings = dict(**FAST, early_stopping=True, validation_fraction=0.2)
    reg = LSTMSAERegressor(**settings).fit(X, y)
    held = 40 + horizon - 1  # ceil(0.2 * 200) validation windows and the gap before them
    shuffled = y.copy()
    shuffled[-held:] = y[-held:][np.random.default_rng(0).permutation(held)]
    again = LSTMSAERegressor(**settings).fit(X, shuffled)
    assert again.linear_skip_alpha_ == reg.linear_skip_alpha_
    for before, after in zip(_linear_map(reg), _linear_map(again)):
        np.testing.assert_array_equal(before, after)
    # ... while the training windows' targets do change it.
    changed = y.copy()
    changed[: 200 - held] = y[: 200 - held][::-1]
    other = LSTMSAERegressor(**settings).fit(X, changed)
    assert not np.array_equal(_linear_map(other)[0], _linear_map(reg)[0])


def test_the_ridge_start_scores_its_held_out_windows_out_of_sample():
    # The measurement: y = signal + unit noise, 200 windows; the held-out MSE of
    # the ridge start was 0.70, below the noise floor of 1 (in-sample).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 12, 2))
    y = X[:, -1, 0] + rng.normal(size=200)
    reg = LSTMSAERegressor(**FAST, early_stopping=True, validation_fraction=0.3,
                           scaling=None).fit(X, y)
    kernel, bias = _linear_map(reg)
    held = X[-60:].reshape(60, -1) @ kernel[:, 0] + bias[0]
    assert np.mean((held - y[-60:]) ** 2) > 0.95


def test_no_training_target_is_a_held_out_target_in_any_split():
    # Item 6 (T=48, h=24): 23 of 113 calibration and 23 of 102 early-stopping windows
    # had targets that were trained on, and the main job's test part the same.
    horizon, n = 24, 1138
    gap = purge_gap((horizon,))
    assert gap == 23 and purge_gap(()) == 0 and purge_gap((5, 2)) == 4
    rows = np.arange(n)
    (fit, _, _), validation = _hold_out(rows, rows, None, 0.1, gap=gap)
    assert not _target_steps(fit, horizon) & _target_steps(validation[0], horizon)
    assert len(fit) + gap + len(validation[0]) == n
    (fit,), (calibration,) = split_calibration(0.1, gap, rows)
    assert not _target_steps(fit, horizon) & _target_steps(calibration, horizon)
    assert fit[-1] + gap + 1 == calibration[0]


def _job_args(**overrides):
    args = dict(time_column=None, id_column=None, sort_time=False, allow_gaps=False, timesteps=4,
                horizon=6, test_fraction=0.3)
    return argparse.Namespace(**{**args, **overrides})


def test_the_main_job_leaves_a_purge_gap_before_its_test_windows():
    frame = pd.DataFrame({"a": np.arange(200.0), "b": np.cos(np.arange(200.0))})
    data = _job.prepare(frame, "a", [], _job_args())
    n_windows = 200 - 4 - 6 + 1
    n_test = math.ceil(n_windows * 0.3)
    assert data.test_windows == n_test
    assert data.train_windows == n_windows - n_test - 5
    # The training rows end with the last training target, just before the first test one.
    last_trained = data.train["a"].iloc[-1]
    first_tested = data.y_test[0, 0]
    assert first_tested - last_trained == 1
    assert len(data.train) == data.train_windows + 4 + 6 - 1


def test_rolling_origin_leaves_horizon_minus_one_windows_out_by_default():
    X = np.arange(300.0)[:, None] + np.arange(4.0)
    y = X[:, -1:] + np.arange(1, 6)  # five steps ahead
    scores = rolling_origin(_Identity(), X, y, n_origins=3, test_size=50, ridge=False)
    assert list(scores["test_start"] - scores["train_windows"]) == [4, 4, 4]


class _Identity:
    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def fit(self, X, y):
        return self

    def predict(self, X):
        return X[:, -1:] + np.arange(1, 6)


def test_every_held_out_fraction_rounds_the_same_way():
    # Item 7: int(n f), floor(n (1 - f)) and ceil(n f) disagreed for 70 values of n < 5000
    # at f = 0.3; early stopping, calibration and the main job now split alike.
    for n in range(4, 5000):
        rows = np.arange(n)
        n_train, n_held = time_split(0.3, n)
        assert n_held == math.ceil(round(n * 0.3, 9)) and n_train == n - n_held
        assert len(_hold_out(rows, rows, None, 0.3)[1][0]) == n_held
        assert len(split_calibration(0.3, 0, rows)[1][0]) == n_held
    for n_windows in (10, 26, 60, 140):
        frame = pd.DataFrame({"a": np.arange(n_windows + 4.0)})
        data = _job.prepare(frame, "a", [], _job_args(horizon=1, test_fraction=0.3))
        assert data.test_windows == time_split(0.3, n_windows)[1]


def test_too_few_windows_for_a_split_and_its_gap_fail_before_training():
    X, y = sine_windows(n_samples=20, horizon=10)
    # 10 calibration windows and a gap of 9 leave 1 to train on.
    with pytest.raises(ValueError, match=r"calibration_fraction=0.5 holds out 10 of 20 "
                                         r"windows and a purge gap of 9"):
        LSTMSAERegressor(**FAST, calibration_fraction=0.5).fit(X, y)
    with pytest.raises(ValueError, match=r"validation_fraction=0.6 holds out 12 of 20 "
                                         r"windows and a purge gap of 9 .*, leaving 0"):
        LSTMSAERegressor(**FAST, early_stopping=True, validation_fraction=0.6).fit(X, y)
    with pytest.raises(ValueError, match="--test-fraction"):
        _job.prepare(pd.DataFrame({"a": np.arange(30.0)}), "a", [],
                     _job_args(horizon=12, test_fraction=0.4))


def test_calibration_windows_and_their_gap_are_held_out_of_training():
    X, y = sine_windows(n_samples=120, horizon=4)
    reg = LSTMSAERegressor(**FAST, calibration_fraction=0.25).fit(X, y)
    alone = LSTMSAERegressor(**FAST).fit(X[:87], y[:87])  # 120 - 30 - 3
    np.testing.assert_allclose(reg.predict(X), alone.predict(X), rtol=1e-5, atol=1e-6)
    assert reg.conformal_scores_.shape == (30, 4)
    np.testing.assert_allclose(reg.conformal_scores_, np.abs(alone.predict(X[90:]) - y[90:]),
                               rtol=1e-5, atol=1e-6)


def test_each_series_holds_out_its_last_windows_after_its_own_purge_gap():
    from sae_keras.data._split import series_split

    # Three series, their windows interleaved, each in time order.
    codes = np.array([0, 1, 2] * 10 + [1] * 10)
    train, held = series_split(codes, 0.2, gap=2)
    for series, n in ((0, 10), (1, 20), (2, 10)):
        rows = np.flatnonzero(codes == series)
        n_held = int(np.ceil(0.2 * n))
        assert set(held) & set(rows) == set(rows[-n_held:])
        assert set(train) & set(rows) == set(rows[: n - n_held - 2])  # the gap in neither
    # A series too short for a held-out part trains on all of it; none at all is refused.
    train, held = series_split(np.array([0, 0, 1, 1, 1, 1, 1, 1]), 0.2, gap=2)
    assert set(train) >= {0, 1} and not set(held) & {0, 1}
    with pytest.raises(ValueError, match=r"validation_fraction=0.2 holds out no window"):
        series_split(np.array([0, 0, 1, 1]), 0.2, gap=2, name="validation_fraction")
