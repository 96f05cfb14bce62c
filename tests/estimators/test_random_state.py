"""``fit`` has no hidden side effects on random state: explicit seeds, no global reseeding.

Every model is built from seeds derived from ``random_state`` and the batches are
drawn from NumPy generators of their own, so a fit neither reads nor changes
NumPy's, Python's or the backend's global generators, and two fits with the same
``random_state`` give the same model even when they run in two threads at once.
"""

import random
import threading

import keras
import numpy as np
from conftest import TINY, TINY_REGRESSOR, Settings, sine_windows, tiny_pretraining

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor
from sae_keras.nn.builders import build_forecaster, build_lstm_autoencoder

SETTINGS = Settings(**dict(TINY_REGRESSOR, hidden_units=(4,), epochs=2, dropout=0.2,
                           pretraining=tiny_pretraining(pretrain_noise=0.1), random_state=0))


def _weights(model):
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def _backend_draw():
    """What an unseeded ``keras.random`` call draws next (Keras' global seed generator)."""
    return keras.ops.convert_to_numpy(keras.random.uniform((4,)))


def _global_states():
    states = {"numpy": np.random.get_state(), "python": random.getstate()}
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        states["tensorflow"] = tf.compat.v1.get_seed(None)[0]  # the global op seed
    return states


def _assert_same_states(got, want):
    assert got["python"] == want["python"], "fit changed Python's random state"
    np.testing.assert_array_equal(got["numpy"][1], want["numpy"][1])
    assert got["numpy"][2:] == want["numpy"][2:], "fit changed NumPy's global state"
    assert got.get("tensorflow") == want.get("tensorflow"), "fit set TensorFlow's seed"


def test_fit_leaves_the_callers_random_streams_alone():
    X, y = sine_windows(n_samples=48)
    np.random.seed(11)  # the caller's own seeding (global, on purpose)
    random.seed(11)
    states = _global_states()
    expected = (np.random.rand(), random.random())
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])
    reg = LSTMSAERegressor(**SETTINGS).fit(X, y)
    reg.predict(X[:3], return_std=True, n_passes=3)
    LSTMSAEEncoder(**dict(TINY, hidden_units=(3,), cell="bilstm")).fit(X)
    _assert_same_states(_global_states(), states)
    # The streams continue as if no fit had happened.
    assert (np.random.rand(), random.random()) == expected


def test_two_fits_with_the_same_random_state_leave_the_streams_advancing():
    """A bootstrap loop around ``fit`` draws new numbers at every round."""
    X, y = sine_windows(n_samples=40)
    draws = []
    for _ in range(2):
        LSTMSAERegressor(**dict(TINY_REGRESSOR, hidden_units=(3,), epochs=1, random_state=0)).fit(X, y)
        draws.append((np.random.rand(), random.random(), _backend_draw()))
    assert draws[0][0] != draws[1][0]  # the issue: 0.40686 both times
    assert draws[0][1] != draws[1][1]
    assert not np.array_equal(draws[0][2], draws[1][2])  # Keras' global seed generator


def test_seeded_builders_repeat_whatever_the_global_state():
    def built(global_seed, **kwargs):
        keras.utils.set_random_seed(global_seed)
        return _weights(build_lstm_autoencoder(6, 2, 3, noise=0.1, seed=5, **kwargs)[0])

    for kwargs in ({}, {"cell": "bilstm"}, {"cell": "cnn_lstm"},
                   {"objective": "composite", "prediction_steps": 2, "conditional": True}):
        for a, b in zip(built(1, **kwargs), built(2, **kwargs), strict=True):
            np.testing.assert_array_equal(a, b)
    a = _weights(build_forecaster(6, 2, (3, 2), (1,), dropout=0.2, linear_skip=True, seed=7))
    b = _weights(build_forecaster(6, 2, (3, 2), (1,), dropout=0.2, linear_skip=True, seed=7))
    c = _weights(build_forecaster(6, 2, (3, 2), (1,), dropout=0.2, linear_skip=True, seed=8))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])
    # The two directions of a bidirectional encoder start from different weights.
    bilstm = build_lstm_autoencoder(6, 2, 3, cell="bilstm", seed=5)[0].get_layer("encoder_1")
    assert not np.array_equal(_weights(bilstm.forward_layer)[0],
                              _weights(bilstm.backward_layer)[0])


def test_fits_in_two_threads_at_once_give_the_serial_fits_model():
    X, y = sine_windows(n_samples=48)

    def fitted():
        return LSTMSAERegressor(**SETTINGS).fit(X, y)

    serial = fitted()
    barrier = threading.Barrier(2)
    results, errors = [None, None], []

    def run(k):
        try:
            barrier.wait()
            results[k] = fitted()
        except Exception as exc:  # reported below, with its thread
            errors.append((k, exc))

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    for reg in results:
        for got, want in zip(_weights(reg.model_), _weights(serial.model_), strict=True):
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(reg.predict(X[:5]), serial.predict(X[:5]))
        np.testing.assert_array_equal(
            reg.predict(X[:5], return_std=True, n_passes=3)[1],
            serial.predict(X[:5], return_std=True, n_passes=3)[1],
        )


def test_a_fixed_random_state_stays_reproducible_and_seeds_the_model():
    random_state = 7
    X, y = sine_windows(n_samples=40)
    params = dict(TINY_REGRESSOR, hidden_units=(3,), epochs=1, random_state=random_state)
    a = LSTMSAERegressor(**params).fit(X, y)
    np.random.seed(random_state + 100)  # the global state plays no part
    random.seed(random_state + 100)
    b = LSTMSAERegressor(**params).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    other = LSTMSAERegressor(**dict(params, random_state=random_state + 1)).fit(X, y)
    assert not np.array_equal(a.predict(X), other.predict(X))
