"""Model builders: pure functions from explicit parameters to ``keras.Model``.

Every model uses the Keras functional API and names its layers for what they
are, so that weights can be moved between models by name:

- ``encoder_k``: the LSTM of stacked layer ``k`` (1-based), returning its last
  hidden state, the layer's *codes*;
- ``repeat_k``: ``RepeatVector`` turning the codes of layer ``k`` into the
  input sequence of layer ``k + 1`` (the authors' way of stacking);
- ``decoder_repeat_k``, ``decoder_k``, ``reconstruction_k``: the decoder of
  autoencoder ``k`` (``RepeatVector``, LSTM returning sequences,
  ``TimeDistributed(Dense)``);
- ``dropout_k``, ``head``, ``forecast``: the forecaster's regularisation,
  dense output and reshape to ``(horizon, n_targets)``.
"""

from __future__ import annotations

import math

import keras
from keras import layers


def build_lstm_autoencoder(
    timesteps,
    input_dim,
    units,
    *,
    output_dim=None,
    decoder_units=None,
    repeat_input=False,
    activation="tanh",
    noise=0.0,
    index=1,
):
    """Build one LSTM autoencoder and the encoder that shares its layers.

    ``Input → [RepeatVector(T)] → LSTM(units) → RepeatVector(T) →
    LSTM(decoder_units, return_sequences) → TimeDistributed(Dense(output_dim))``

    Parameters
    ----------
    timesteps : int
        Length ``T`` of the windows.
    input_dim : int
        Channels of the input sequence, or width of the input code vector when
        ``repeat_input`` is true.
    units : int
        Size of the codes (the encoder LSTM's units).
    output_dim : int, default=None
        Channels of the reconstructed sequence; defaults to ``input_dim``.
    decoder_units : int, default=None
        Units of the decoder LSTM; defaults to ``units``, a decoder as wide as
        the encoder (the tutorial's and Srivastava et al.'s choice; the
        authors used ``output_dim``).
    repeat_input : bool, default=False
        If true the input is a code vector of the layer below, repeated over
        ``timesteps`` steps inside the model (layer ``k > 1`` of a stack).
    activation : str, default="tanh"
        Activation of both LSTMs. Only ``"tanh"`` keeps the cuDNN fast path on
        GPU.
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to the input while training
        (``GaussianNoise`` layer ``noise_k``; a denoising autoencoder, Vincent
        et al. 2010); no layer when 0. Inactive at inference.
    index : int, default=1
        Position of this autoencoder in the stack; used in the layer names.

    Returns
    -------
    autoencoder : keras.Model
        Maps the input to a ``(T, output_dim)`` reconstruction.
    encoder : keras.Model
        Maps the input to its ``(units,)`` codes; shares its layers with
        ``autoencoder``.

    Examples
    --------
    >>> from sae_keras.builders import build_lstm_autoencoder
    >>> autoencoder, encoder = build_lstm_autoencoder(9, 1, 16)
    >>> autoencoder.output_shape, encoder.output_shape
    ((None, 9, 1), (None, 16))
    """
    output_dim = input_dim if output_dim is None else output_dim
    decoder_units = units if decoder_units is None else decoder_units
    if repeat_input:
        inputs = keras.Input((input_dim,), name=f"codes_{index - 1}")
        sequence = layers.RepeatVector(timesteps, name=f"repeat_{index - 1}")(inputs)
    else:
        inputs = keras.Input((timesteps, input_dim), name="window")
        sequence = inputs
    if noise > 0:
        sequence = layers.GaussianNoise(noise, name=f"noise_{index}")(sequence)
    codes = layers.LSTM(units, activation=activation, name=f"encoder_{index}")(sequence)
    reconstruction = _decode(codes, timesteps, decoder_units, output_dim, activation, index)
    autoencoder = keras.Model(inputs, reconstruction, name=f"autoencoder_{index}")
    encoder = keras.Model(inputs, codes, name=f"encoder_model_{index}")
    return autoencoder, encoder


def extract_decoder(autoencoder, index):
    """Build the decoder of an autoencoder as a model of its own (shared layers).

    Parameters
    ----------
    autoencoder : keras.Model
        A model made by :func:`build_lstm_autoencoder`.
    index : int
        The ``index`` it was built with.

    Returns
    -------
    decoder : keras.Model
        Maps codes ``(units,)`` to the ``(T, output_dim)`` reconstruction.

    Examples
    --------
    >>> from sae_keras.builders import build_lstm_autoencoder, extract_decoder
    >>> autoencoder, _ = build_lstm_autoencoder(9, 1, 16)
    >>> extract_decoder(autoencoder, 1).input_shape
    (None, 16)
    """
    units = autoencoder.get_layer(f"encoder_{index}").units
    codes = keras.Input((units,), name=f"codes_{index}")
    outputs = codes
    for name in (f"decoder_repeat_{index}", f"decoder_{index}", f"reconstruction_{index}"):
        outputs = autoencoder.get_layer(name)(outputs)
    return keras.Model(codes, outputs, name=f"decoder_model_{index}")


def build_stacked_encoder(timesteps, n_features, hidden_units, *, activation="tanh"):
    """Build the stack of LSTM encoders, window to the last layer's codes.

    Parameters
    ----------
    timesteps : int
        Length ``T`` of the windows.
    n_features : int
        Channels ``F`` of the windows.
    hidden_units : sequence of int
        Units of each stacked LSTM, bottom first.
    activation : str, default="tanh"
        Activation of the LSTMs.

    Returns
    -------
    encoder : keras.Model
        ``(T, F)`` windows to ``(hidden_units[-1],)`` codes, with layers named
        ``encoder_1`` ... ``encoder_L``.

    Examples
    --------
    >>> from sae_keras.builders import build_stacked_encoder
    >>> build_stacked_encoder(24, 8, (32, 16)).output_shape
    (None, 16)
    """
    inputs = keras.Input((timesteps, n_features), name="window")
    codes = _stack_encoders(inputs, timesteps, hidden_units, 0.0, activation)
    return keras.Model(inputs, codes, name="stacked_encoder")


def build_forecaster(
    timesteps,
    n_features,
    hidden_units,
    output_shape,
    *,
    dropout=0.0,
    activation="tanh",
    linear_skip=False,
):
    """Build the deep LSTM forecaster: stacked encoders under a dense head.

    ``window → encoder_1 → dropout_1 → repeat_1 → encoder_2 → ... →
    dropout_L → Dense(prod(output_shape)) [→ Reshape(output_shape)]``

    With ``linear_skip`` a linear map of the flattened window (layer
    ``linear_skip``) is added to the head's output: the network learns a
    linear autoregression and what the LSTMs add to it (the "highway" of
    LSTNet, Lai et al. 2018).

    Parameters
    ----------
    timesteps : int
        Length ``T`` of the windows.
    n_features : int
        Channels ``F`` of the windows.
    hidden_units : sequence of int
        Units of each stacked LSTM, bottom first.
    output_shape : tuple of int
        Shape of one forecast: ``(1,)``, ``(horizon,)`` or
        ``(horizon, n_targets)``.
    dropout : float, default=0.0
        Dropout rate after each LSTM.
    activation : str, default="tanh"
        Activation of the LSTMs.
    linear_skip : bool, default=False
        Add a linear function of the whole window to the output.

    Returns
    -------
    forecaster : keras.Model

    Examples
    --------
    >>> from sae_keras.builders import build_forecaster
    >>> build_forecaster(24, 8, (32, 16), (6, 2), dropout=0.2).output_shape
    (None, 6, 2)
    """
    output_shape = tuple(int(s) for s in output_shape)
    inputs = keras.Input((timesteps, n_features), name="window")
    codes = _stack_encoders(inputs, timesteps, hidden_units, dropout, activation)
    outputs = layers.Dense(math.prod(output_shape), name="head")(codes)
    if linear_skip:
        flat = layers.Flatten(name="flat_window")(inputs)
        skip = layers.Dense(math.prod(output_shape), name="linear_skip")(flat)
        outputs = layers.Add(name="head_plus_skip")([outputs, skip])
    if len(output_shape) > 1:
        outputs = layers.Reshape(output_shape, name="forecast")(outputs)
    return keras.Model(inputs, outputs, name="lstm_sae_forecaster")


def load_encoder_weights(model, encoder_weights):
    """Copy pretrained encoder weights into the ``encoder_k`` layers of a model.

    Parameters
    ----------
    model : keras.Model
        A model with layers ``encoder_1`` ... ``encoder_L``.
    encoder_weights : list of list of ndarray
        ``encoder_weights[k - 1]`` are the weights of ``encoder_k``.

    Returns
    -------
    model : keras.Model
        The same model, for chaining.

    Examples
    --------
    >>> from sae_keras.builders import build_lstm_autoencoder, build_stacked_encoder
    >>> from sae_keras.builders import load_encoder_weights
    >>> _, encoder = build_lstm_autoencoder(5, 2, 4)
    >>> weights = [encoder.get_layer("encoder_1").get_weights()]
    >>> stack = load_encoder_weights(build_stacked_encoder(5, 2, (4,)), weights)
    """
    for index, weights in enumerate(encoder_weights, start=1):
        model.get_layer(f"encoder_{index}").set_weights(weights)
    return model


def _stack_encoders(inputs, timesteps, hidden_units, dropout, activation):
    outputs = inputs
    n_layers = len(hidden_units)
    for index, units in enumerate(hidden_units, start=1):
        outputs = layers.LSTM(units, activation=activation, name=f"encoder_{index}")(outputs)
        if dropout > 0:
            outputs = layers.Dropout(dropout, name=f"dropout_{index}")(outputs)
        if index < n_layers:
            outputs = layers.RepeatVector(timesteps, name=f"repeat_{index}")(outputs)
    return outputs


def _decode(codes, timesteps, decoder_units, output_dim, activation, index):
    sequence = layers.RepeatVector(timesteps, name=f"decoder_repeat_{index}")(codes)
    sequence = layers.LSTM(
        decoder_units, activation=activation, return_sequences=True, name=f"decoder_{index}"
    )(sequence)
    dense = layers.Dense(output_dim, name=f"reconstruction_dense_{index}")
    return layers.TimeDistributed(dense, name=f"reconstruction_{index}")(sequence)
