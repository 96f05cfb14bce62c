"""The stacked encoders every model of :mod:`sae_keras.nn.builders` starts from.

``encoder_k`` layers of a kind (``cell``), the ``mask`` of variable-length
windows, and the stack the forecaster, the classifier and the stacked encoder
share.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from ._layers import _ConvLSTM, _Patches, _Seeds, n_patches  # noqa: F401

#: What padded steps of variable-length windows hold when a model reads them:
#: its ``Masking`` layer (``mask``) hides steps equal to it in every channel.
PAD_VALUE = -1.0e9

#: The kinds of recurrent layer each ``encoder_k`` can be (``cell=``, see
#: :func:`build_lstm_autoencoder`).
CELLS = ("lstm", "bilstm", "cnn_lstm")

def _masking(inputs):
    return layers.Masking(mask_value=PAD_VALUE, name="mask")(inputs)


def _patches(inputs, size):
    """The layer ``patches``: ``size`` steps of the windows as one (``size=1``: as they are)."""
    if size == 1:
        return inputs
    return _Patches(size, PAD_VALUE, name="patches")(inputs)


def patch_windows(X, size, steps=None):
    """Scaled, padded windows as the stacked encoders read them behind ``patches`` (float32).

    What :func:`~sae_keras.nn.builders.build_forecaster`'s layer ``patches``
    makes of ``X`` (the same layer, run on the array), for the autoencoders
    pretrained to start those encoders; ``steps`` (which steps of each window
    hold data, or ``None``) become the patches that do.

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras.nn.builders import patch_windows
    >>> patch_windows(np.zeros((2, 10, 3), "float32"), 4)[0].shape
    (2, 3, 12)
    """
    size = int(size)
    if size == 1:
        return X, steps
    patched = keras.ops.convert_to_numpy(_Patches(size, PAD_VALUE)(np.asarray(X, np.float32)))
    if steps is not None:  # right padding: a patch holds data where its first step does
        steps = steps[:, ::size]
    return patched, steps


def encoder_layer(kind, units, activation, index, *, reads_window, seed=None):
    """The layer ``encoder_k`` of the given kind (see :func:`build_lstm_autoencoder`).

    ``seed`` seeds its initial weights (``None``: Keras' default).

    Examples
    --------
    >>> from sae_keras.nn.builders import encoder_layer
    >>> encoder_layer("bilstm", 8, "tanh", 1, reads_window=True).name
    'encoder_1'
    """
    if kind not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}; got {kind!r}.")
    name = f"encoder_{index}"
    seeds = _Seeds(seed)
    if kind == "bilstm":
        if seed is None:
            return layers.Bidirectional(layers.LSTM(units, activation=activation,
                                                    **seeds.lstm()), name=name)
        # Each direction its own seeds (Keras would copy the forward layer's).
        forward = layers.LSTM(units, activation=activation, **seeds.lstm())
        backward = layers.LSTM(units, activation=activation, go_backwards=True,
                               **seeds.lstm())
        return layers.Bidirectional(forward, backward_layer=backward, name=name)
    if kind == "cnn_lstm" and reads_window:
        return _ConvLSTM(units, activation=activation, name=name, seed=seed)
    return layers.LSTM(units, activation=activation, name=name, **seeds.lstm())


def _stack_encoders(inputs, timesteps, hidden_units, dropout, activation, cell, seeds):
    outputs = inputs
    n_layers = len(hidden_units)
    for index, units in enumerate(hidden_units, start=1):
        layer = encoder_layer(cell, units, activation, index, reads_window=index == 1,
                              seed=seeds())
        outputs = layer(outputs)
        if dropout > 0:
            outputs = layers.Dropout(dropout, name=f"dropout_{index}", seed=seeds())(outputs)
        if index < n_layers:
            outputs = layers.RepeatVector(timesteps, name=f"repeat_{index}")(outputs)
    return outputs
