"""Bad input fails early and clearly: before any training, naming the argument."""

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor, make_windows, undifference
from sae_keras.cli._command import main
from conftest import TINY, TINY_REGRESSOR, sine_windows, tiny_pretraining


class TrainingRecorder(keras.callbacks.Callback):
    """Remembers whether any training started."""

    def __init__(self):
        super().__init__()
        self.started = False

    def on_train_begin(self, logs=None):
        self.started = True


X_GOOD, Y_GOOD = sine_windows(n_samples=40)


def with_nan(a):
    a = a.copy()
    a.flat[3] = np.nan
    return a


def with_inf(a, sign=1):
    a = a.copy()
    a.flat[5] = sign * np.inf
    return a


# (id, estimator params, X, y, expected exception, message pattern)
FIT_CASES = [
    ("1-D X", {}, np.arange(10.0), np.arange(10.0), ValueError, r"X must be 2-D .* got a 1-D array of shape \(10,\)"),
    ("4-D X", {}, np.zeros((10, 4, 2, 2)), np.zeros(10), ValueError, r"X must be 2-D .*got a 4-D array of shape \(10, 4, 2, 2\)"),
    ("empty X", {}, np.zeros((0, 4, 2)), np.zeros(0), ValueError, r"0 sample\(s\) \(shape=\(0, 4, 2\)\) while a minimum of 1"),
    ("zero time steps", {}, np.zeros((4, 0, 2)), np.zeros(4), ValueError, r"X must have at least one time step per window; got shape \(4, 0, 2\)"),
    ("NaN in X", {}, with_nan(X_GOOD), Y_GOOD, ValueError, r"X has NaN in some channels of window 0 at step 1.*Right-pad shorter sequences"),
    ("+inf in X", {}, with_inf(X_GOOD), Y_GOOD, ValueError, "Input X contains infinity"),
    ("-inf in X", {}, with_inf(X_GOOD, -1), Y_GOOD, ValueError, "Input X contains infinity"),
    ("NaN in y", {}, X_GOOD, with_nan(Y_GOOD), ValueError, "Input y contains NaN"),
    ("inf in y", {}, X_GOOD, with_inf(Y_GOOD), ValueError, "Input y contains infinity"),
    ("string X", {}, X_GOOD.astype(str), Y_GOOD, TypeError, r"X must be numeric, got an array of dtype <U"),
    ("object X with strings", {}, np.array([["1.5", 2.0]] * 5, dtype=object), np.zeros(5), TypeError, r"X must be numeric, but it holds strings \(e.g. '1.5'\)"),
    ("string y", {}, X_GOOD, Y_GOOD.astype(str), TypeError, "y must be numeric"),
    ("complex X", {}, X_GOOD + 1j, Y_GOOD, ValueError, "Complex data not supported"),
    ("y shorter than X", {}, X_GOOD, Y_GOOD[:-1], ValueError, r"inconsistent numbers of samples: \[40, 39\]"),
    ("4-D y", {}, X_GOOD, np.zeros((40, 2, 2, 2)), ValueError, r"y must be \(n_samples,\), .* got an array of shape \(40, 2, 2, 2\)"),
    ("missing y", {}, X_GOOD, None, ValueError, "requires y to be passed"),
    ("negative units", {"hidden_units": (4, -2)}, X_GOOD, Y_GOOD, ValueError, r"hidden_units must be .* got \(4, -2\)"),
    ("empty hidden_units", {"hidden_units": ()}, X_GOOD, Y_GOOD, ValueError, r"hidden_units must be .* got \(\)"),
    ("pretrain_epochs length", {"pretraining": tiny_pretraining(pretrain_epochs=(1, 2, 3))}, X_GOOD, Y_GOOD, ValueError, r"pretrain_epochs must be .* \(2 for hidden_units=\(6, 4\)\); got \(1, 2, 3\)"),
    ("dropout 1", {"dropout": 1.0}, X_GOOD, Y_GOOD, InvalidParameterError, r"'dropout' parameter .* Got 1.0"),
    ("negative learning rate", {"learning_rate": -0.1}, X_GOOD, Y_GOOD, InvalidParameterError, r"'learning_rate' parameter .* Got -0.1"),
    ("unknown strategy", {"strategy": "tpu-pod"}, X_GOOD, Y_GOOD, InvalidParameterError, r"'strategy' parameter .* Got 'tpu-pod'"),
    ("unknown pretraining", {"pretraining": "composite"}, X_GOOD, Y_GOOD, InvalidParameterError, r"'pretraining' parameter .* Got 'composite'"),
    ("pretraining of another network", {"pretraining": tiny_pretraining(hidden_units=(3,))}, X_GOOD, Y_GOOD, ValueError, r"LSTMSAEEncoder\(hidden_units=\(3,\)\) differs from this estimator's hidden_units=\(6, 4\)"),
    ("batch size 0", {"batch_size": 0}, X_GOOD, Y_GOOD, InvalidParameterError, r"'batch_size' parameter .* Got 0"),
    ("too small for validation", {"early_stopping": True, "validation_fraction": 0.99}, X_GOOD, Y_GOOD, ValueError, r"validation_fraction=0.99 holds out 40 of 40 windows, leaving 0 to train on"),
    ("single sample with validation", {"early_stopping": True}, X_GOOD[:1], Y_GOOD[:1], ValueError, r"validation_fraction=0.1 holds out 1 of 1 windows, leaving 0 to train on"),
]


@pytest.mark.parametrize(
    "params, X, y, error, message", [c[1:] for c in FIT_CASES], ids=[c[0] for c in FIT_CASES]
)
def test_fit_refuses_bad_input_before_training(params, X, y, error, message):
    recorder = TrainingRecorder()
    X_before = None if X is None else np.array(X, copy=True)
    reg = LSTMSAERegressor(**{**TINY_REGRESSOR, "epochs": 1, **params, "callbacks": [recorder]})
    with pytest.raises(error, match=message):
        reg.fit(X, y)
    assert not recorder.started
    np.testing.assert_array_equal(X, X_before)  # nothing modified in place


def test_the_encoder_refuses_bad_input_before_training():
    recorder = TrainingRecorder()
    with pytest.raises(ValueError, match="X has NaN in some channels of window 0 at step 1"):
        LSTMSAEEncoder(**TINY, callbacks=[recorder]).fit(with_nan(X_GOOD))
    assert not recorder.started


@pytest.fixture(scope="module")
def fitted():
    X, y = sine_windows(n_samples=40)
    return LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).fit(X, y)


@pytest.fixture(scope="module")
def fitted_on_frame():
    X, y = sine_windows(n_samples=40)
    frame = pd.DataFrame(X[:, :, 0], columns=[f"lag_{i}" for i in range(8)])
    return LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).fit(frame, y), frame


PREDICT_CASES = [
    ("fewer time steps", np.zeros((3, 6, 2)), r"X has 6 features, but LSTMSAERegressor is expecting 8 .*\(timesteps=6, channels=2\).*\(timesteps=8, channels=2\)"),
    ("more channels", np.zeros((3, 8, 5)), r"\(timesteps=8, channels=5\), but LSTMSAERegressor was fitted on windows of shape \(timesteps=8, channels=2\)"),
    ("1-D window", np.zeros(16), r"got a 1-D array of shape \(16,\). Reshape your data"),
    ("NaN window", with_nan(np.zeros((2, 8, 2))), "X has NaN in some channels of window 0 at step 1"),
    ("padded window", np.where(np.arange(8)[None, :, None] < 5, 0.0, np.nan) + np.zeros((2, 8, 2)),
     "fitted on full-length windows, without masking"),
    ("strings", np.zeros((2, 8, 2)).astype(str), "X must be numeric"),
]


@pytest.mark.parametrize("X, message", [c[1:] for c in PREDICT_CASES], ids=[c[0] for c in PREDICT_CASES])
def test_predict_refuses_bad_windows(fitted, X, message):
    with pytest.raises((ValueError, TypeError), match=message):
        fitted.predict(X)


def test_predict_takes_a_single_window(fitted):
    assert fitted.predict(X_GOOD[:1]).shape == (1,)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f.drop(columns="lag_3"), r"Feature names seen at fit time, yet now missing:\n- lag_3"),
        (lambda f: f.assign(extra=1.0), r"Feature names unseen at fit time:\n- extra"),
        (lambda f: f[f.columns[::-1]], "Feature names must be in the same order as they were in fit"),
    ],
    ids=["missing column", "extra column", "reordered columns"],
)
def test_predict_on_frames_checks_columns_by_name(fitted_on_frame, change, message):
    reg, frame = fitted_on_frame
    with pytest.raises(ValueError, match=message):
        reg.predict(change(frame))


def test_transform_refuses_other_window_shapes():
    enc = LSTMSAEEncoder(**TINY).fit(X_GOOD)
    with pytest.raises(ValueError, match=r"LSTMSAEEncoder was fitted on windows of shape \(timesteps=8, channels=2\)"):
        enc.transform(np.zeros((2, 8, 3)))


@pytest.mark.parametrize(
    "data, kwargs, error, message",
    [
        (np.zeros((5, 2)), dict(timesteps=5, target=0), ValueError, r"5 time steps, fewer than timesteps \+ horizon = 5 \+ 1"),
        (np.zeros((5, 2, 2)), dict(timesteps=2), ValueError, r"data must be a table of shape \(n_steps, n_channels\)"),
        (np.zeros((5, 2)) + 1j, dict(timesteps=2), TypeError, "data must be real numbers"),
        (np.array([["a", "b"]] * 5), dict(timesteps=2), TypeError, "data must be numeric"),
        (np.zeros((5, 2)), dict(timesteps=2, target=7), ValueError, r"target 7 is not a column of data"),
        (np.zeros((5, 2)), dict(timesteps=2, target=[]), ValueError, "target must name at least one column"),
        (np.zeros((5, 2)), dict(timesteps=2, difference="yes"), ValueError, "difference must be True or False; got 'yes'"),
        (np.zeros((5, 2)), dict(timesteps=4, target=0, difference=True), ValueError, r"data has 5 time steps \(4 once differenced\), fewer than timesteps \+ horizon = 4 \+ 1"),
    ],
    ids=["too short", "3-D table", "complex", "strings", "unknown target", "empty target",
         "difference not a bool", "too short once differenced"],
)
def test_make_windows_refuses_bad_tables(data, kwargs, error, message):
    with pytest.raises(error, match=message):
        make_windows(data, **kwargs)


@pytest.mark.parametrize(
    "y, base, message",
    [
        (np.zeros((4, 3)), np.zeros(3), r"base must have shape \(4,\) to match y of shape \(4, 3\)"),
        (np.zeros((4, 3, 2)), np.zeros(4), r"base must have shape \(4, 2\) to match y of shape \(4, 3, 2\)"),
        (np.zeros((4, 3, 2, 1)), np.zeros(4), r"y must be 1-D, 2-D or 3-D"),
        (np.array(["a", "b"]), np.zeros(2), "y must be numeric"),
    ],
    ids=["short base", "base per target missing", "4-D y", "strings"],
)
def test_undifference_refuses_mismatched_shapes(y, base, message):
    with pytest.raises(ValueError if "numeric" not in message else TypeError, match=message):
        undifference(y, base)


def test_cli_refuses_a_non_numeric_csv_target(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("when,level\n2020-01-01,high\n2020-01-02,low\n")
    assert main(["--data", str(path), "--target", "level", "--output", str(tmp_path / "o")]) == 2
    # Not label-encoded silently: a category column must be named with --categorical.
    assert "column 'level' is not numeric: row 0 holds 'high'" in capsys.readouterr().err
