"""Custom layers of the models (their registered names are stable) and their seeds.

``_MaskedFlatten``, ``_ConvLSTM``, ``_Patches``, ``_Standardize`` and ``_TargetUnits`` are
registered with Keras as ``sae_keras>_MaskedFlatten`` and so on: saved models
name them so, whatever module holds them, and keep loading as long as those
names stay. (``_Standardize`` and ``_TargetUnits`` fold an estimator's scaling
into the models it exports, :mod:`sae_keras.nn._serving`.)
``_FreeRunning`` is built only in memory, never saved. ``_Seeds`` draws the
seeds of one model's random parts (the builders' and these layers').
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from .distribute import cudnn_kernel_setting


#: Width of the ``cnn_lstm`` front-end's causal convolution, in time steps.
CONV_KERNEL_SIZE = 3


class _FreeRunning(layers.Layer):
    """A trained conditional decoder fed its own previous output, step by step.

    Built only in memory by :func:`~sae_keras.nn.builders.extract_decoder` (never
    saved): the trained layers live in the saved autoencoder.
    """

    def __init__(self, lstm, dense, steps, **kwargs):
        super().__init__(**kwargs)
        self.lstm, self.dense, self.steps = lstm, dense, int(steps)
        self.output_dim = dense.layer.units

    def call(self, codes):
        codes = keras.ops.expand_dims(codes, 1)
        previous = keras.ops.zeros_like(codes[..., :1]) * keras.ops.zeros((self.output_dim,))
        state, outputs = None, []
        for _ in range(self.steps):
            step = keras.ops.concatenate([codes, previous], axis=-1)
            sequence, *state = self.lstm(step, initial_state=state)
            previous = self.dense(sequence)
            outputs.append(previous)
        return keras.ops.concatenate(outputs, axis=1)

    def compute_output_shape(self, codes_shape):
        return (codes_shape[0], self.steps, self.output_dim)


@keras.saving.register_keras_serializable(package="sae_keras")
class _MaskedFlatten(layers.Flatten):
    """``Flatten`` of masked windows (padding already zeroed by ``Masking``); drops the mask."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return None


@keras.saving.register_keras_serializable(package="sae_keras")
class _ConvLSTM(layers.Layer):
    """A causal ``Conv1D`` (ReLU) and an LSTM reading its output: one encoder layer.

    One layer, so that its weights move between models by its name as an
    LSTM's do. Causal padding keeps each convolved step a function of that step
    and the ones before, so right padding (masked) never leaks into real steps.
    """

    def __init__(self, units, activation="tanh", kernel_size=CONV_KERNEL_SIZE, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.units, self.activation, self.kernel_size = int(units), activation, int(kernel_size)
        self.seed = seed
        seeds = _Seeds(seed)
        self.conv = layers.Conv1D(units, kernel_size, padding="causal", activation="relu",
                                  name="conv", **seeds.dense())
        self.conv.supports_masking = True  # causal: steps keep their meaning and mask
        self.lstm = layers.LSTM(units, activation=activation, name="lstm", **seeds.lstm())
        self.supports_masking = True

    def build(self, input_shape):
        self.conv.build(input_shape)
        self.lstm.build(tuple(input_shape[:-1]) + (self.units,))

    def call(self, inputs, mask=None):
        return self.lstm(self.conv(inputs), mask=mask)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "kernel_size": self.kernel_size, "seed": self.seed}


@keras.saving.register_keras_serializable(package="sae_keras")
class _Standardize(layers.Layer):
    """``(x - mean) * (1 / scale)`` on the last axis, as the estimators scale inputs.

    The same float32 arithmetic as
    :class:`~sae_keras.forecasting._scaling.ScaledWindows`: ``mean`` and
    ``1 / scale`` (computed in float64) cast to float32. ``mean=None``: no
    scaling. ``fill``: what NaN (the padding of variable-length windows)
    becomes once scaled; ``None`` leaves it alone.
    """

    def __init__(self, mean=None, scale=None, fill=None, **kwargs):
        super().__init__(**kwargs)
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float64).tolist()
        self.scale = None if scale is None else np.asarray(scale, dtype=np.float64).tolist()
        self.fill = None if fill is None else float(fill)

    def call(self, inputs):
        outputs = inputs
        if self.mean is not None:
            mean = np.asarray(self.mean, dtype=np.float32)
            inverse_scale = np.asarray(1.0 / np.asarray(self.scale), dtype=np.float32)
            outputs = (outputs - mean) * inverse_scale
        if self.fill is not None:
            outputs = keras.ops.where(keras.ops.isnan(outputs), self.fill, outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "scale": self.scale,
                "fill": self.fill}


def n_patches(timesteps, size):
    """How many patches of ``size`` steps cover ``timesteps`` steps: ``ceil(timesteps / size)``."""
    return -(-int(timesteps) // int(size))


@keras.saving.register_keras_serializable(package="sae_keras")
class _Patches(layers.Layer):
    """Windows ``(T, C)`` as ``ceil(T / size)`` steps of ``size * C`` values: patches.

    Each step of the output joins ``size`` consecutive steps of the input (a
    "patch", as in PatchTST, Nie et al. 2023): the recurrence runs over a
    ``size``-times shorter sequence. A window whose length is not a multiple of
    ``size`` is completed with padding. A patch wholly padding (its first step
    is) stays ``pad_value`` in every value, for the ``Masking`` layer after it;
    the padded steps of a patch that holds data become 0 (the mean, on
    standardised input).
    """

    def __init__(self, size, pad_value, **kwargs):
        super().__init__(**kwargs)
        self.size, self.pad_value = int(size), float(pad_value)

    def call(self, inputs):
        steps, channels = inputs.shape[1], inputs.shape[2]
        count = n_patches(steps, self.size)
        if count * self.size > steps:
            inputs = keras.ops.pad(inputs, [(0, 0), (0, count * self.size - steps), (0, 0)],
                                   constant_values=self.pad_value)
        patches = keras.ops.reshape(inputs, (-1, count, self.size * channels))
        padding = keras.ops.equal(patches, self.pad_value)
        empty = keras.ops.all(padding[..., :channels], axis=-1, keepdims=True)
        return keras.ops.where(keras.ops.logical_and(padding, keras.ops.logical_not(empty)),
                               0.0, patches)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], n_patches(input_shape[1], self.size), self.size * input_shape[2])

    def get_config(self):
        return {**super().get_config(), "size": self.size, "pad_value": self.pad_value}


@keras.saving.register_keras_serializable(package="sae_keras")
class _TargetUnits(layers.Layer):
    """Outputs reshaped to ``shape`` per window, then ``y * scale + mean`` (``mean=None``: as is).

    The estimators' un-scaling of their targets, in float32.
    """

    def __init__(self, shape, mean=None, scale=None, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(s) for s in shape)
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float64).tolist()
        self.scale = None if scale is None else np.asarray(scale, dtype=np.float64).tolist()

    def call(self, inputs):
        outputs = keras.ops.reshape(inputs, (-1,) + self.target_shape)
        if self.mean is None:
            return outputs
        return (outputs * np.asarray(self.scale, dtype=np.float32)
                + np.asarray(self.mean, dtype=np.float32))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.target_shape

    def get_config(self):
        return {**super().get_config(), "shape": list(self.target_shape), "mean": self.mean,
                "scale": self.scale}


class _Seeds:
    """The seeds of one model's random parts, drawn in turn from one seed.

    ``seeds()`` is the next int seed (``None`` when built unseeded, which
    leaves Keras' defaults: seeds drawn from Python's global ``random``);
    :meth:`lstm` and :meth:`dense` are the seeded initializer arguments of
    those layers (empty when unseeded). Drawn from a NumPy ``Generator`` of
    its own: no global random state is read or changed.
    """

    def __init__(self, seed):
        self._rng = None if seed is None else np.random.default_rng(int(seed))

    def __call__(self):
        return None if self._rng is None else int(self._rng.integers(1, 2**31 - 1))

    def lstm(self):
        """The seeded arguments of an LSTM, and the kernel its placement allows."""
        kernel = {"use_cudnn": cudnn_kernel_setting()}
        if self._rng is None:
            return kernel
        return {**kernel,
            "kernel_initializer": keras.initializers.GlorotUniform(seed=self()),
            "recurrent_initializer": keras.initializers.Orthogonal(seed=self()),
            "seed": self(),  # the LSTM's own dropout generator
        }

    def dense(self):
        if self._rng is None:
            return {}
        return {"kernel_initializer": keras.initializers.GlorotUniform(seed=self())}
