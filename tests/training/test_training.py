"""One ``Model.fit`` per phase, with a batch order that depends only on seed, phase and epoch."""

import contextlib

import keras
import numpy as np
import pytest

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor
from sae_keras.training._keras_private import skip_single_replica_all_reduce as _single_replica_updates
from sae_keras.training._loop import (
    PhaseSettings, _EpochBatches, _hold_out, train_phase,
)
from conftest import TINY_REGRESSOR, tiny_pretraining


def epoch_rows(batches, epoch):
    """The window indices batch by batch for ``epoch``, read back through __getitem__."""
    batches.set_epoch(epoch)
    rows = [batches[b][0][:, 0, 0] for b in range(len(batches))]
    return np.concatenate(rows).astype(int)


def test_every_epoch_visits_every_window_once_in_a_new_order():
    x = np.arange(50, dtype=np.float64).reshape(50, 1, 1)
    batches = _EpochBatches(x, x[:, 0], 16, seed=7)
    assert len(batches) == 4 and batches.batches_per_epoch == 4
    orders = [epoch_rows(batches, e) for e in range(3)]
    for order in orders:
        assert sorted(order) == list(range(50))
    assert not np.array_equal(orders[0], orders[1])


def test_a_resumed_epoch_sees_the_batches_of_the_uninterrupted_one():
    x = np.arange(40, dtype=np.float64).reshape(40, 1, 1)
    whole = _EpochBatches(x, x[:, 0], 8, seed=3)
    resumed = _EpochBatches(x, x[:, 0], 8, seed=3, epoch=3)
    assert len(resumed) == 5
    for epoch in (3, 4):
        np.testing.assert_array_equal(epoch_rows(resumed, epoch), epoch_rows(whole, epoch))
    # The global random state plays no part.
    np.random.seed(0)
    a = epoch_rows(_EpochBatches(x, x[:, 0], 8, seed=3), 0)
    np.random.seed(1)
    b = epoch_rows(_EpochBatches(x, x[:, 0], 8, seed=3), 0)
    np.testing.assert_array_equal(a, b)


def test_batches_are_float32_copies_of_views():
    series = np.arange(30.0).reshape(15, 2)
    windows = np.lib.stride_tricks.sliding_window_view(series, 4, axis=0).transpose(0, 2, 1)
    batches = _EpochBatches(windows, series[4:, 0], 5, seed=0)
    x, y = batches[0]
    assert x.dtype == np.float32 and y.dtype == np.float32 and x.shape == (5, 4, 2)
    assert not np.shares_memory(x, series)


def test_hold_out_keeps_the_last_fraction_for_validation():
    x = np.arange(10.0)
    (x_fit, _, w_fit), (x_val, y_val) = _hold_out(x, x, None, 0.25)
    np.testing.assert_array_equal(x_fit, np.arange(7.0))  # floor(10 * 0.75) = 7, as Keras
    np.testing.assert_array_equal(x_val, [7.0, 8.0, 9.0])
    assert x_val.dtype == np.float32 and y_val.dtype == np.float32 and w_fit is None
    assert _hold_out(x, x, None, 0.0) == ((x, x, None), None)
    (_, _, w_fit), (_, _, w_val) = _hold_out(x, x, 2 * x, 0.25)
    np.testing.assert_array_equal(w_fit, 2 * np.arange(7.0))
    np.testing.assert_array_equal(w_val, [14.0, 16.0, 18.0])


def test_each_phase_is_one_fit_call(windows):
    class CountFits(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.begins, self.epochs = 0, []

        def on_train_begin(self, logs=None):
            self.begins += 1

        def on_epoch_begin(self, epoch, logs=None):
            self.epochs.append(epoch)

    counter = CountFits()
    LSTMSAERegressor(**{**TINY_REGRESSOR, "pretraining": tiny_pretraining(pretrain_epochs=(2, 3))}, epochs=4,
                     callbacks=[counter]).fit(*windows)
    assert counter.begins == 3  # two autoencoders, then fine-tuning
    assert counter.epochs == [0, 1, 0, 1, 2, 0, 1, 2, 3]


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's registry")
def test_a_fit_leaves_no_gradient_function_behind(windows):
    """Each traced train step used to register a gradient function holding its graph, for good."""
    from tensorflow.python.framework import ops

    registered = len(ops._gradient_registry.list())
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=2).fit(*windows)
    assert len(ops._gradient_registry.list()) == registered
    assert "_all_reduce_sum_gradients" not in vars(reg.model_.optimizer)


def test_skipping_the_one_replica_all_reduce_trains_as_keras_does():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5, 2)).astype("float32")
    y = rng.normal(size=(40, 1)).astype("float32")

    def trained(skip):
        keras.utils.set_random_seed(7)
        inputs = keras.Input((5, 2))
        model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.LSTM(3)(inputs)))
        model.compile(keras.optimizers.Adam(0.01), "mse")
        start = [keras.ops.convert_to_numpy(w) for w in model.weights]
        with _single_replica_updates(model) if skip else contextlib.nullcontext():
            model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
        return start, [keras.ops.convert_to_numpy(w) for w in model.weights]

    (start, skipped), (_, plain) = trained(True), trained(False)
    assert not np.allclose(skipped[0], start[0])  # it did train
    for a, b in zip(skipped, plain):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.function tracing")
def test_a_phase_traces_its_train_step_once():
    """Keras builds the optimizer at the first update; built before, TensorFlow traces once."""
    traces = []

    class Counting(keras.Model):
        def train_step(self, data):
            traces.append(1)
            return super().train_step(data)

    inputs = keras.Input((5, 2))
    model = Counting(inputs, keras.layers.Dense(1)(keras.layers.LSTM(3)(inputs)))
    model.compile(keras.optimizers.Adam(0.01), "mse")
    settings = PhaseSettings(seed=0, batch_size=8, validation_fraction=0.0, n_iter_no_change=5,
                             tol=0.0, callbacks=[], verbose=0, owner="test")
    x = np.random.default_rng(0).normal(size=(20, 5, 2))  # batches of 8, 8 and 4
    history = train_phase(model, x, x[:, -1, :1], epochs=3, phase="p", settings=settings)
    assert len(history["loss"]) == 3
    assert len(traces) == 1


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="the JAX backend's own path")
def test_a_jax_fit_does_not_import_tensorflow(tmp_path):
    from _subprocess import run_python

    result = run_python("""
        import sys
        import numpy as np
        from sae_keras import LSTMSAEEncoder, LSTMSAERegressor
        X = np.random.default_rng(0).normal(size=(40, 5, 2))
        LSTMSAERegressor((4,), pretraining=LSTMSAEEncoder(pretrain_epochs=1), epochs=1, random_state=0).fit(X, X[:, -1, 0])
        print("tensorflow imported:", "tensorflow" in sys.modules)
    """, env={"KERAS_BACKEND": "jax"})
    assert "tensorflow imported: False" in result.stdout, result.stderr[-2000:]


class _Stream:
    def __init__(self, tty):
        self.tty = tty

    def isatty(self):
        return self.tty


def test_progress_bars_only_on_a_terminal():
    from sae_keras.training._loop import progress_verbosity

    assert progress_verbosity(1, _Stream(True)) == 1
    assert progress_verbosity(1, _Stream(False)) == 2  # one line per epoch in files
    assert progress_verbosity(1, object()) == 2
    assert progress_verbosity(0, _Stream(False)) == 0
    assert progress_verbosity(2, _Stream(True)) == 2


def test_verbose_fit_into_a_pipe_writes_lines_without_escapes(capsys):
    X = np.random.default_rng(0).normal(size=(40, 5, 2))
    LSTMSAERegressor((4,), pretraining=LSTMSAEEncoder(pretrain_epochs=2), epochs=2, verbose=1, random_state=0).fit(
        X, X[:, -1, 0])
    out = capsys.readouterr().out
    assert "fine-tuning" in out and "Epoch 2/2" in out
    assert "\r" not in out and "\x1b" not in out and "━" not in out
