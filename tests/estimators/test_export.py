"""``export``: the fitted network with its scaling folded in, served by ONNX Runtime and
TensorFlow, equal to ``predict``/``transform`` within 1e-5; what cannot export is refused."""

import pathlib
import pickle

import keras
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from sae_keras import LSTMSAEClassifier, LSTMSAEEncoder, LSTMSAERegressor
from conftest import TINY, TINY_REGRESSOR, sine_windows

BACKEND = keras.backend.backend()
CONVERTER = "jax2onnx" if BACKEND == "jax" else "tf2onnx"


def _needs_onnx():
    pytest.importorskip("onnxruntime")
    pytest.importorskip(CONVERTER)


def _onnx_outputs(path, **inputs):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path))
    assert [i.name for i in session.get_inputs()] == list(inputs)
    assert not isinstance(session.get_inputs()[0].shape[0], int)  # any batch size
    return session.run(None, {name: np.asarray(value, dtype=np.float32)
                              for name, value in inputs.items()})[0]


def _saved_model_outputs(path, *inputs):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))  # kept: its variables live as long as it does
    inputs = [np.asarray(value, dtype=np.float32) for value in inputs]
    return np.asarray(loaded.serve(inputs if len(inputs) > 1 else inputs[0]))


def _assert_forecasts_equal(got, expected):
    """Forecasts in the user's units: within 1e-5 relative, each one."""
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=0)


def _assert_codes_equal(got, expected):
    """Codes cross zero: within 1e-5 of the largest code (float32 rounding, two runtimes)."""
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


@pytest.fixture(scope="module")
def forecast_data():
    """Windows in units far from standard ones, two targets over 3 steps, covariates."""
    X, y = sine_windows(horizon=3)
    rng = np.random.default_rng(1)
    return {
        "X": X * 50 + 200,
        "y": np.stack([y * 50 + 200, y * 3 + 10], axis=-1),
        "static_covariates": rng.normal(size=(len(X), 2)) * 10 + 5,
        "future_covariates": rng.normal(size=(len(X), 3, 1)) + 100,
    }


@pytest.fixture(scope="module")
def forecaster(forecast_data):
    data = dict(forecast_data)
    X, y = data.pop("X"), data.pop("y")
    return LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).fit(X, y, **data)


def _forecaster_inputs(data, n):
    return {"window": data["X"][:n], "static_covariates": data["static_covariates"][:n],
            "future_covariates": data["future_covariates"][:n]}


def test_onnx_forecasts_equal_predict_in_the_users_units(forecaster, forecast_data, tmp_path):
    _needs_onnx()
    path = forecaster.export(tmp_path / "forecaster.onnx")
    assert path == tmp_path / "forecaster.onnx" and isinstance(path, pathlib.Path)
    for n in (1, 37):
        inputs = _forecaster_inputs(forecast_data, n)
        expected = forecaster.predict(inputs["window"],
                                      static_covariates=inputs["static_covariates"],
                                      future_covariates=inputs["future_covariates"])
        assert expected.shape == (n, 3, 2)
        _assert_forecasts_equal(_onnx_outputs(path, **inputs), expected)


def test_saved_model_forecasts_equal_predict(forecaster, forecast_data, tmp_path):
    path = forecaster.export(tmp_path / "forecaster", format="tf_saved_model")
    for n in (1, 37):
        inputs = _forecaster_inputs(forecast_data, n)
        expected = forecaster.predict(inputs["window"],
                                      static_covariates=inputs["static_covariates"],
                                      future_covariates=inputs["future_covariates"])
        _assert_forecasts_equal(_saved_model_outputs(path, *inputs.values()), expected)


def test_variable_length_forecaster_exports_reading_nan_padding(tmp_path):
    _needs_onnx()
    X, y = sine_windows()
    X, y = X * 50 + 200, y * 50 + 200
    X[::3, 5:] = np.nan  # every third window is 5 steps long, NaN right-padded
    regressor = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).fit(X, y)
    assert regressor.variable_length_
    path = regressor.export(tmp_path / "padded.onnx")
    for n in (1, 37):
        _assert_forecasts_equal(_onnx_outputs(path, window=X[:n]), regressor.predict(X[:n]))


def test_onnx_codes_equal_transform(fitted_encoder, windows, tmp_path):
    _needs_onnx()
    X, _ = windows
    path = fitted_encoder.export(tmp_path / "encoder.onnx", format="onnx")
    for n in (1, 37):
        _assert_codes_equal(_onnx_outputs(path, window=X[:n]), fitted_encoder.transform(X[:n]))


def test_saved_model_codes_equal_transform(fitted_encoder, windows, tmp_path):
    X, _ = windows
    path = fitted_encoder.export(tmp_path / "encoder", format="tf_saved_model")
    for n in (1, 37):
        _assert_codes_equal(_saved_model_outputs(path, X[:n]), fitted_encoder.transform(X[:n]))


def test_exported_encoder_reads_whole_windows_and_encodes_the_steps_it_learned(tmp_path):
    _needs_onnx()
    X, _ = sine_windows()
    encoder = LSTMSAEEncoder(**TINY, pretrain_objective="prediction",
                             prediction_steps=2).fit(X * 50 + 200)
    path = encoder.export(tmp_path / "encoder.onnx")
    codes = _onnx_outputs(path, window=X[:37] * 50 + 200)
    _assert_codes_equal(codes, encoder.transform(X[:37] * 50 + 200))


@pytest.mark.skipif(BACKEND != "jax", reason="tf2onnx translates it: tests/nn/test_serving.py")
def test_bidirectional_encoder_is_refused_onnx_on_jax_and_exports_a_saved_model(
        windows, tmp_path):
    X, _ = windows
    encoder = LSTMSAEEncoder(**TINY, cell="bilstm").fit(X)
    with pytest.raises(ValueError, match=r"cell='bilstm' cannot be exported to ONNX"):
        encoder.export(tmp_path / "encoder.onnx")
    assert not (tmp_path / "encoder.onnx").exists()
    path = encoder.export(tmp_path / "encoder", format="tf_saved_model")  # what it advises
    _assert_codes_equal(_saved_model_outputs(path, X[:37]), encoder.transform(X[:37]))


def test_export_leaves_the_estimator_predicting_pickling_and_saving_as_before(
        fitted_regressor, windows, tmp_path):
    X, _ = windows
    before = fitted_regressor.predict(X[:5])
    fitted_regressor.export(tmp_path / "forecaster", format="tf_saved_model")
    np.testing.assert_array_equal(fitted_regressor.predict(X[:5]), before)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted_regressor)).predict(X[:5]),
                                  before)
    fitted_regressor.save(tmp_path / "forecaster.zip")
    np.testing.assert_allclose(LSTMSAERegressor.load(tmp_path / "forecaster.zip").predict(X[:5]),
                               before, rtol=1e-6)


def test_a_classifiers_export_gives_its_probabilities(tmp_path):
    _needs_onnx()
    X, y = sine_windows()
    labels = np.where(y > 0, "up", "down")
    # Patches of 3 steps (8 steps: the last patch completed with padding) in the graph.
    classifier = LSTMSAEClassifier(**TINY_REGRESSOR, epochs=1, patch_size=3).fit(
        X * 50 + 200, labels)
    assert classifier.model_.get_layer("patches").output.shape[1:] == (3, 6)
    path = classifier.export(tmp_path / "classifier.onnx")
    for n in (1, 37):
        got = _onnx_outputs(path, window=X[:n] * 50 + 200)
        np.testing.assert_allclose(got, classifier.predict_proba(X[:n] * 50 + 200),
                                   rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("estimator", [LSTMSAERegressor(), LSTMSAEEncoder(),
                                       LSTMSAEClassifier()],
                         ids=["regressor", "encoder", "classifier"])
def test_an_unfitted_estimator_cannot_export(estimator, tmp_path):
    with pytest.raises(NotFittedError):
        estimator.export(tmp_path / "model.onnx")


def test_an_unknown_format_is_refused_before_anything_is_written(fitted_encoder, tmp_path):
    with pytest.raises(ValueError, match=r"format must be one of \('onnx', 'tf_saved_model'\); "
                                         r"got 'keras'"):
        fitted_encoder.export(tmp_path / "model", format="keras")
    assert not (tmp_path / "model").exists()
