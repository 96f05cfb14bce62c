"""The compiled forward pass behind predict, transform and inverse_transform."""

import pickle

import keras
import numpy as np
import pytest

from sae_keras import LSTMSAERegressor
from sae_keras.nn._inference import CompiledForward, _bucket
from sae_keras.nn.builders import build_forecaster
from conftest import TINY_REGRESSOR


@pytest.fixture(scope="module")
def model():
    return build_forecaster(6, 2, (5, 3), (2,), dropout=0.5)


def test_batches_are_padded_to_powers_of_two_up_to_the_batch_size():
    assert [_bucket(n, 64) for n in (1, 2, 3, 5, 33, 64, 65, 1000)] == [
        1, 2, 4, 8, 64, 64, 64, 64]


@pytest.mark.parametrize("n", [1, 3, 16, 37])
def test_outputs_equal_model_predict_in_inference_mode(model, n):
    x = np.random.default_rng(n).normal(size=(n, 6, 2)).astype(np.float32)
    forward = CompiledForward(model, batch_size=16)
    expected = model.predict(x, verbose=0)  # dropout off, as in inference
    np.testing.assert_allclose(forward(x), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(forward(x), forward(x))


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's two graphs")
def test_tensorflow_compiles_small_batches_with_xla_and_bulk_ones_plain(model):
    from sae_keras.nn._inference import XLA_MAX_BATCH

    forward = CompiledForward(model, batch_size=1024)
    x = np.random.default_rng(0).normal(size=(300, 6, 2)).astype(np.float32)
    small, bulk = forward(x[:XLA_MAX_BATCH]), forward(x)
    function = forward._function
    assert function.small.experimental_get_tracing_count() == 1
    assert function.bulk.experimental_get_tracing_count() == 1  # 300 windows: one 512-batch
    np.testing.assert_allclose(small, bulk[:XLA_MAX_BATCH], rtol=1e-5, atol=1e-6)


def test_float64_views_and_empty_input(model):
    forward = CompiledForward(model, batch_size=8)
    series = np.random.default_rng(0).normal(size=(30, 2))
    views = np.lib.stride_tricks.sliding_window_view(series, 6, axis=0).transpose(0, 2, 1)
    np.testing.assert_allclose(forward(views), forward(views.astype(np.float32)), atol=1e-6)
    assert forward(views[:0]).shape == (0, 2)


def test_the_compiled_cache_is_not_pickled_and_is_rebuilt(windows, fitted_regressor):
    X, y = windows
    reg = fitted_regressor
    before = reg.predict(X)
    assert reg._compiled  # filled by the first predict
    clone = pickle.loads(pickle.dumps(reg))
    assert clone._compiled == {}
    np.testing.assert_array_equal(clone.predict(X), before)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's warning")
def test_retracing_warnings_are_silenced_for_the_librarys_functions_only(caplog):
    import tensorflow as tf

    X = np.random.default_rng(0).normal(size=(30, 6, 2))
    with caplog.at_level("WARNING", logger="tensorflow"):
        # One compiled function per estimator, as in a grid search; a one-layer
        # network without pretraining still trains through the library's phase.
        for seed in range(7):
            LSTMSAERegressor(**{**TINY_REGRESSOR, "hidden_units": (3,), "random_state": seed,
                                "pretraining": None}, epochs=1).fit(
                X, X[:, -1, 0]).predict(X[: seed + 1])
    assert not [r for r in caplog.records if "retracing" in r.getMessage()]
    caplog.clear()
    with caplog.at_level("WARNING", logger="tensorflow"):
        for k in range(8):  # the user's own retracing function still warns
            tf.function(lambda x: x + 1)(tf.constant(np.ones(k + 1)))
    assert [r for r in caplog.records if "retracing" in r.getMessage()]
