"""Inference through a compiled forward pass, without ``Model.predict``'s per-call cost.

``Model.predict`` builds a data adapter, an epoch iterator and callbacks on every
call: 45 ms for one window on TensorFlow, 0.5 ms on JAX (``benchmarks/latency.py``). A
:class:`CompiledForward` compiles ``model(x, training=False)`` once per batch
shape (``jax.jit`` on JAX; on TensorFlow a ``tf.function``, with XLA for batches
of at most :data:`XLA_MAX_BATCH` windows) and feeds it fixed-size batches: a
batch of ``n`` windows is zero-padded to the next power of two (at most
``batch_size``), so a handful of shapes is ever compiled, and predicting a
million windows holds one batch of activations at a time.

Why XLA only for small batches on TensorFlow: on 2 CPU cores it runs one window
~6x faster than a plain ``tf.function`` (0.6 ms against 3.9 ms), the latency a
serving loop pays at every call, but compiling it costs ~0.8 s per shape against
~0.2 s, and on a batch of 1024 windows it gains only ~1.6x: a bulk prediction
(the codes passed up the stack while pretraining, ``predict`` on a test set)
rarely repays that compile.

Compiled functions hold live backend objects: estimators keep them in a cache
that is dropped on pickling and rebuilt on first use.
"""

from __future__ import annotations

import contextlib
import logging

import keras
import numpy as np


#: Largest batch (padded size) that TensorFlow compiles with XLA.
XLA_MAX_BATCH = 32


def _bucket(n, batch_size):
    """Smallest power of two ≥ ``n``, capped at ``batch_size``."""
    return min(batch_size, 1 << max(0, int(n) - 1).bit_length())


class CompiledForward:
    """``model(x, training=False)`` compiled for the current backend, in batches.

    Calling it with windows ``x`` (or a tuple of arrays, one per input of the
    model, with as many rows each) returns the float32 outputs for all of them.

    Parameters
    ----------
    model : keras.Model
        A built functional model with one output.
    batch_size : int
        Largest batch passed to the compiled function.
    training : bool, default=False
        Run the model in training mode: its dropout layers draw a fresh mask for
        every window at every call (Monte-Carlo dropout). The random state
        lives in the model's seed generators and advances with each call.

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras.nn.builders import build_forecaster
    >>> from sae_keras.nn._inference import CompiledForward
    >>> forward = CompiledForward(build_forecaster(6, 2, (4,), (1,)), batch_size=256)
    >>> forward(np.zeros((3, 6, 2), "float32")).shape
    (3, 1)
    """

    def __init__(self, model, batch_size, training=False):
        self.model = model
        self.batch_size = int(batch_size)
        self.training = bool(training)
        self._function = None

    def __call__(self, x):
        with quiet_retracing():
            return self._run(x)

    def _run(self, x):
        if self._function is None:
            self._function = _compile(self.model, self.training)
        inputs = tuple(x) if isinstance(x, (tuple, list)) else (x,)
        n = len(inputs[0])
        outputs = None
        for start in range(0, n, self.batch_size):
            chunks = [part[start : start + self.batch_size] for part in inputs]
            count = len(chunks[0])
            size = _bucket(count, self.batch_size)
            batch = []
            for chunk in chunks:
                padded = np.zeros((size,) + chunk.shape[1:], dtype=np.float32)
                padded[:count] = chunk
                batch.append(padded)
            result = np.asarray(self._function(batch[0] if len(batch) == 1 else batch))
            result = result[:count]
            if outputs is None:
                outputs = np.empty((n,) + result.shape[1:], dtype=np.float32)
            outputs[start : start + count] = result
        if outputs is None:  # no windows: the output shape still comes from the model
            outputs = np.empty((0,) + tuple(self.model.output_shape[1:]), dtype=np.float32)
        return outputs


def _compile(model, training=False):
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _TensorFlowForward(model, training)
    if backend == "jax":
        import jax

        @jax.jit
        def forward(trainable, non_trainable, x):
            return model.stateless_call(trainable, non_trainable, x, training=training)

        def call(x):
            outputs, non_trainable = forward(
                [v.value for v in model.trainable_variables],
                [v.value for v in model.non_trainable_variables],
                x,
            )
            if training:  # the seed generators' states advance, as in eager calls
                for variable, value in zip(model.non_trainable_variables, non_trainable):
                    variable.assign(value)
            return outputs

        return call
    return lambda x: model(x, training=training)


class _RetracingFilter(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warnings."""

    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def quiet_retracing():
    """Silence TensorFlow's retracing warning while this module's functions run.

    Every estimator trains and compiles functions for its own models, on purpose
    (a grid search builds many models), and TensorFlow warns about that as if it
    were a mistake. The filter is attached only for the duration of the call, so
    the same warning about the user's own functions still shows.
    """
    if keras.backend.backend() != "tensorflow":
        yield
        return
    logger = logging.getLogger("tensorflow")
    retracing = _RetracingFilter()
    logger.addFilter(retracing)
    try:
        yield
    finally:
        logger.removeFilter(retracing)


class _TensorFlowForward:
    """``model(x)`` as two ``tf.function``: XLA-compiled for small batches, plain for bulk.

    XLA where the per-call latency dominates (batches of at most
    :data:`XLA_MAX_BATCH` windows), a plain graph for bulk batches, whose
    compile XLA would rarely repay (the module docstring has the figures).
    """

    def __init__(self, model, training):
        import tensorflow as tf

        self.small = tf.function(lambda x: model(x, training=training), jit_compile=True)
        self.bulk = tf.function(lambda x: model(x, training=training), jit_compile=False)

    def __call__(self, x):
        rows = (x[0] if isinstance(x, list) else x).shape[0]
        return (self.small if rows <= XLA_MAX_BATCH else self.bulk)(x)
