"""Model builders: pure functions from explicit parameters to ``keras.Model``.

Every model uses the Keras functional API and names its layers for what they
are, so that weights can be moved between models by name:

- ``encoder_k``: the LSTM of stacked layer ``k`` (1-based), returning its last
  hidden state, the layer's *codes*;
- ``repeat_k``: ``RepeatVector`` turning the codes of layer ``k`` into the
  input sequence of layer ``k + 1`` (the authors' way of stacking);
- ``decoder_repeat_k``, ``decoder_k``, ``reconstruction_k``: the decoder of
  autoencoder ``k`` (``RepeatVector``, LSTM returning sequences,
  ``TimeDistributed(Dense)``); ``predictor_repeat_k``, ``predictor_k``,
  ``prediction_k`` the same for the decoder that predicts the next steps;
  ``*_teacher_k`` inputs and ``*_input_k`` concatenations for conditional
  decoders;
- ``dropout_k``, ``head``, ``forecast``: the forecaster's regularisation,
  dense output and reshape to ``(horizon, n_targets)``;
- ``mask``: with ``masked=True`` (variable-length sequences), a ``Masking``
  layer in front of ``encoder_1``: steps holding :data:`PAD_VALUE` in every
  channel are skipped by the LSTM (its codes are those of the last real step)
  and read as zeros by the linear skip.
"""

from __future__ import annotations

import math

import keras
from keras import layers

# CONV_KERNEL_SIZE: one of this module's documented constants, kept importable from it.
from ._layers import CONV_KERNEL_SIZE, _FreeRunning, _MaskedFlatten, _Seeds  # noqa
# PAD_VALUE, CELLS and encoder_layer: documented here, kept importable from here.
from ._stack import (  # noqa: F401
    CELLS, PAD_VALUE, _masking, _patches, _stack_encoders, encoder_layer, n_patches,
    patch_windows,
)


#: What each pretrained autoencoder learns (see :func:`build_lstm_autoencoder`).
OBJECTIVES = ("reconstruction", "prediction", "composite")

# Each decoder: (name of its output layer, prefix of its other layers).
_RECONSTRUCTION = ("reconstruction", "decoder")
_PREDICTION = ("prediction", "predictor")
_HEADS = {
    "reconstruction": (_RECONSTRUCTION,),
    "prediction": (_PREDICTION,),
    "composite": (_RECONSTRUCTION, _PREDICTION),
}


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
    objective="reconstruction",
    prediction_steps=1,
    conditional=False,
    masked=False,
    cell="lstm",
    seed=None,
):
    """Build one LSTM autoencoder and the encoder that shares its layers.

    ``Input → [RepeatVector(T)] → LSTM(units) → RepeatVector(T) →
    LSTM(decoder_units, return_sequences) → TimeDistributed(Dense(output_dim))``

    The ``objective`` chooses the decoders on top of the one encoder
    (Srivastava et al., 2015): ``"reconstruction"`` (output
    ``reconstruction_k``, ``T`` steps), ``"prediction"`` (output
    ``prediction_k``, the next ``prediction_steps`` steps, layers
    ``predictor_*_k``) or ``"composite"`` (both outputs, in that order).

    A *conditional* decoder (``conditional=True``) also reads, at each step,
    the previous step of its target: the model gets one more input per
    decoder, ``reconstruction_teacher_k`` / ``prediction_teacher_k``, the
    target delayed by one step with zeros first (teacher forcing; the
    ``Concatenate`` layer ``decoder_input_k`` / ``predictor_input_k`` joins it
    to the repeated codes). At inference the decoder feeds back its own
    previous output instead (:func:`extract_decoder`). An unconditional
    decoder reads the repeated codes only.

    Parameters
    ----------
    timesteps : int
        Steps ``T`` the encoder reads (and the reconstruction's length).
    input_dim : int
        Channels of the input sequence, or width of the input code vector when
        ``repeat_input`` is true.
    units : int
        Size of the codes (the encoder LSTM's units).
    output_dim : int, default=None
        Channels of the reconstructed and predicted sequences; defaults to
        ``input_dim``.
    decoder_units : int, default=None
        Units of the decoder LSTMs; defaults to ``units``, a decoder as wide as
        the encoder (the tutorial's and Srivastava et al.'s choice; the
        authors used ``output_dim``).
    repeat_input : bool, default=False
        If true the input is a code vector of the layer below, repeated over
        ``timesteps`` steps inside the model (layer ``k > 1`` of a stack).
    activation : str, default="tanh"
        Activation of the LSTMs. Only ``"tanh"`` keeps the cuDNN fast path on
        GPU.
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to the input while training
        (``GaussianNoise`` layer ``noise_k``; a denoising autoencoder, Vincent
        et al. 2010); no layer when 0. Inactive at inference.
    index : int, default=1
        Position of this autoencoder in the stack; used in the layer names.
    objective : {"reconstruction", "prediction", "composite"}, \
            default="reconstruction"
        Which decoders to build (see above).
    prediction_steps : int, default=1
        Length of the predicted sequence (``"prediction"``, ``"composite"``).
    conditional : bool, default=False
        Conditional decoders (teacher forcing), see above.
    masked : bool, default=False
        Windows are right-padded with :data:`PAD_VALUE`; a ``Masking`` layer
        keeps padded steps out of the codes. Ignored with ``repeat_input``.
    cell : {"lstm", "bilstm", "cnn_lstm"}, default="lstm"
        The kind of the layer ``encoder_k``: an LSTM whose last hidden state is the code;
        a bidirectional LSTM (``units`` per direction, codes of ``2 * units``:
        the forward pass's last state and the backward pass's state at the
        first step); or, for a layer reading the window (not
        ``repeat_input``), a causal ``Conv1D`` (``units`` filters,
        :data:`CONV_KERNEL_SIZE` steps, ReLU) in front of the LSTM, learning
        local patterns the LSTM then reads (an LSTM elsewhere).
    seed : int, default=None
        Seed of the initial weights and of the noise: the same seed builds the
        same model, whatever ran before, and no global random state is read
        or changed. ``None``: Keras' default (drawn from Python's ``random``).

    Returns
    -------
    autoencoder : keras.Model
        Maps the input (and, if conditional, the teacher sequences) to the
        decoders' outputs.
    encoder : keras.Model
        Maps the input to its ``(units,)`` codes; shares its layers with
        ``autoencoder``.

    Examples
    --------
    >>> from sae_keras.nn.builders import build_lstm_autoencoder
    >>> autoencoder, encoder = build_lstm_autoencoder(9, 1, 16)
    >>> autoencoder.output_shape, encoder.output_shape
    ((None, 9, 1), (None, 16))
    >>> composite, _ = build_lstm_autoencoder(9, 1, 16, objective="composite",
    ...                                       prediction_steps=3)
    >>> composite.output_shape
    [(None, 9, 1), (None, 3, 1)]
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}; got {objective!r}.")
    output_dim = input_dim if output_dim is None else output_dim
    decoder_units = units if decoder_units is None else decoder_units
    seeds = _Seeds(seed)
    if repeat_input:
        inputs = keras.Input((input_dim,), name=f"codes_{index - 1}")
        sequence = layers.RepeatVector(timesteps, name=f"repeat_{index - 1}")(inputs)
    else:
        inputs = keras.Input((timesteps, input_dim), name="window")
        sequence = _masking(inputs) if masked else inputs
    if noise > 0:
        sequence = layers.GaussianNoise(noise, name=f"noise_{index}", seed=seeds())(sequence)
    codes = encoder_layer(cell, units, activation, index, reads_window=not repeat_input,
                          seed=seeds())(sequence)
    teachers, outputs = [], []
    for output, prefix in _HEADS[objective]:
        steps = timesteps if output == "reconstruction" else prediction_steps
        teacher = (
            keras.Input((steps, output_dim), name=f"{output}_teacher_{index}")
            if conditional else None
        )
        decoded = _decode(codes, steps, decoder_units, output_dim, activation, index,
                          output=output, prefix=prefix, teacher=teacher, seeds=seeds)
        outputs.append(decoded)
        teachers += [teacher] if conditional else []
    autoencoder = keras.Model(
        [inputs, *teachers] if conditional else inputs,
        outputs if len(outputs) > 1 else outputs[0],
        name=f"autoencoder_{index}",
    )
    encoder = keras.Model(inputs, codes, name=f"encoder_model_{index}")
    return autoencoder, encoder


def extract_decoder(autoencoder, index, *, reverse=False):
    """Build the decoder of an autoencoder as a model of its own (shared layers).

    The decoder maps codes to the sequence the autoencoder was trained to
    emit. A conditional decoder runs free: at each step it reads its own
    previous output where training gave it the true previous step. With
    ``reverse`` the reconstruction (trained last step first) is put back in
    time order. A composite autoencoder's decoder returns the reconstruction
    followed by the prediction, one sequence in time order.

    Parameters
    ----------
    autoencoder : keras.Model
        A model made by :func:`build_lstm_autoencoder`.
    index : int
        The ``index`` it was built with.
    reverse : bool, default=False
        The reconstruction was trained in reverse time order.

    Returns
    -------
    decoder : keras.Model
        Maps codes ``(units,)`` to a ``(steps, output_dim)`` sequence.

    Examples
    --------
    >>> from sae_keras.nn.builders import build_lstm_autoencoder, extract_decoder
    >>> autoencoder, _ = build_lstm_autoencoder(9, 1, 16, conditional=True)
    >>> decoder = extract_decoder(autoencoder, 1)
    >>> decoder.input_shape, decoder.output_shape
    ((None, 16), (None, 9, 1))
    """
    width = autoencoder.get_layer(f"encoder_{index}").output.shape[-1]
    codes = keras.Input((width,), name=f"codes_{index}")
    names = {layer.name for layer in autoencoder.layers}
    parts = []
    for output, prefix in _HEADS["composite"]:
        if f"{output}_{index}" not in names:
            continue
        repeat = autoencoder.get_layer(f"{prefix}_repeat_{index}")
        lstm = autoencoder.get_layer(f"{prefix}_{index}")
        dense = autoencoder.get_layer(f"{output}_{index}")
        if lstm.return_state:  # conditional: feed back its own outputs
            part = _FreeRunning(lstm, dense, repeat.n, name=f"{prefix}_free_running_{index}")(
                codes
            )
        else:
            part = dense(lstm(repeat(codes)))
        if reverse and output == "reconstruction":
            part = keras.ops.flip(part, axis=1)
        parts.append(part)
    outputs = parts[0] if len(parts) == 1 else layers.Concatenate(axis=1)(parts)
    return keras.Model(codes, outputs, name=f"decoder_model_{index}")


def rebuild_layer_models(autoencoders, *, reverse=False):
    """Encoder and decoder models sharing the layers of loaded autoencoders."""
    encoders, decoders = [], []
    for index, autoencoder in enumerate(autoencoders, start=1):
        codes = autoencoder.get_layer(f"encoder_{index}").output
        # The first input is the window or codes; teacher inputs, if any, follow.
        encoders.append(keras.Model(autoencoder.inputs[0], codes, name=f"encoder_model_{index}"))
        decoders.append(extract_decoder(autoencoder, index, reverse=reverse))
    return encoders, decoders

def build_stacked_encoder(timesteps, n_features, hidden_units, *, activation="tanh",
                          masked=False, cell="lstm", seed=None):
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
    masked : bool, default=False
        Windows are right-padded with :data:`PAD_VALUE` (layer ``mask``).
    cell : {"lstm", "bilstm", "cnn_lstm"}, default="lstm"
        The kind of each ``encoder_k`` layer (see :func:`build_lstm_autoencoder`).
    seed : int, default=None
        Seed of the initial weights (see :func:`build_lstm_autoencoder`).

    Returns
    -------
    encoder : keras.Model
        ``(T, F)`` windows to codes (``hidden_units[-1]`` of them, twice that
        for ``"bilstm"``), with layers named ``encoder_1`` ... ``encoder_L``.

    Examples
    --------
    >>> from sae_keras.nn.builders import build_stacked_encoder
    >>> build_stacked_encoder(24, 8, (32, 16)).output_shape
    (None, 16)
    """
    inputs = keras.Input((timesteps, n_features), name="window")
    sequence = _masking(inputs) if masked else inputs
    codes = _stack_encoders(sequence, timesteps, hidden_units, 0.0, activation, cell,
                            _Seeds(seed))
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
    masked=False,
    cell="lstm",
    n_static=0,
    future_shape=None,
    output_activation=None,
    patch_size=1,
    seed=None,
):
    """Build the deep LSTM forecaster (or classifier): stacked encoders under a dense head.

    ``window [→ patches] → encoder_1 → dropout_1 → repeat_1 → encoder_2 → ... →
    dropout_L → Dense(prod(output_shape)) [→ Reshape(output_shape)]``

    With ``linear_skip`` a linear map of the flattened window (layer
    ``linear_skip``) is added to the head's output: the network learns a
    linear autoregression and what the LSTMs add to it (the "highway" of
    LSTNet, Lai et al. 2018); with ``output_activation="softmax"``, a linear
    model of the classes' log-odds beside the LSTMs'. It reads the window's
    values as the encoders do (behind ``patches`` and ``mask``: padding as 0).

    Covariates are more inputs, after the window: ``static`` (``n_static``
    values per window) and ``future`` (``future_shape`` = ``(steps,
    n_future)``, values known in advance for the forecast steps, flattened by
    ``flat_future``). The layer ``codes_and_covariates`` joins them to the
    codes in front of the head; the linear skip reads them beside the window
    (``skip_input``).

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
    masked : bool, default=False
        Windows are right-padded with :data:`PAD_VALUE` (layer ``mask``); the
        linear skip reads padded steps as zeros.
    cell : {"lstm", "bilstm", "cnn_lstm"}, default="lstm"
        The kind of each ``encoder_k`` layer (see :func:`build_lstm_autoencoder`).
    n_static : int, default=0
        Static covariates per window; 0 for no ``static`` input.
    future_shape : tuple of int, default=None
        ``(steps, n_future)`` of the known-future covariates; ``None`` for no
        ``future`` input.
    output_activation : {"softmax"} or None, default=None
        ``"softmax"``: the head's outputs become class probabilities (layer
        ``probabilities``), the classifier's network; ``None``: linear
        forecasts.
    patch_size : int, default=1
        Steps of the window the encoders read as one (layer ``patches``, before
        ``mask``): they run over ``ceil(timesteps / patch_size)`` steps of
        ``patch_size * n_features`` values (see :func:`patch_windows`, which
        gives the pretraining windows of those encoders). 1: step by step.
    seed : int, default=None
        Seed of the initial weights and of dropout (see
        :func:`build_lstm_autoencoder`).

    Returns
    -------
    forecaster : keras.Model
        Its inputs are ``window``, then ``static`` and ``future`` when used.

    Examples
    --------
    >>> from sae_keras.nn.builders import build_forecaster
    >>> build_forecaster(24, 8, (32, 16), (6, 2), dropout=0.2).output_shape
    (None, 6, 2)
    >>> build_forecaster(24, 8, (32,), (3,), output_activation="softmax").output_shape
    (None, 3)
    """
    output_shape = tuple(int(s) for s in output_shape)
    inputs = keras.Input((timesteps, n_features), name="window")
    sequence = _patches(inputs, patch_size)
    sequence = _masking(sequence) if masked else sequence
    seeds = _Seeds(seed)
    codes = _stack_encoders(sequence, sequence.shape[1], hidden_units, dropout, activation,
                            cell, seeds)
    covariates = []
    if n_static:
        covariates.append(keras.Input((int(n_static),), name="static"))
    if future_shape is not None:
        covariates.append(keras.Input(tuple(int(s) for s in future_shape), name="future"))
    flat_covariates = [
        layers.Flatten(name="flat_future")(c) if c.name == "future" else c for c in covariates
    ]
    if covariates:
        codes = layers.Concatenate(name="codes_and_covariates")([codes, *flat_covariates])
    outputs = layers.Dense(math.prod(output_shape), name="head", **seeds.dense())(codes)
    if linear_skip:
        flatten = _MaskedFlatten if masked else layers.Flatten
        flat = flatten(name="flat_window")(sequence)
        if covariates:
            flat = layers.Concatenate(name="skip_input")([flat, *flat_covariates])
        skip = layers.Dense(math.prod(output_shape), name="linear_skip", **seeds.dense())(flat)
        outputs = layers.Add(name="head_plus_skip")([outputs, skip])
    if output_activation is not None:
        outputs = layers.Activation(output_activation, name="probabilities")(outputs)
    if len(output_shape) > 1:
        outputs = layers.Reshape(output_shape, name="forecast")(outputs)
    return keras.Model([inputs, *covariates] if covariates else inputs, outputs,
                       name="lstm_sae_forecaster")


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
    >>> from sae_keras.nn.builders import build_lstm_autoencoder, build_stacked_encoder
    >>> from sae_keras.nn.builders import load_encoder_weights
    >>> _, encoder = build_lstm_autoencoder(5, 2, 4)
    >>> weights = [encoder.get_layer("encoder_1").get_weights()]
    >>> stack = load_encoder_weights(build_stacked_encoder(5, 2, (4,)), weights)
    """
    for index, weights in enumerate(encoder_weights, start=1):
        model.get_layer(f"encoder_{index}").set_weights(weights)
    return model


def _decode(codes, steps, decoder_units, output_dim, activation, index, *, output, prefix,
            seeds, teacher=None):
    sequence = layers.RepeatVector(steps, name=f"{prefix}_repeat_{index}")(codes)
    if teacher is not None:
        sequence = layers.Concatenate(name=f"{prefix}_input_{index}")([sequence, teacher])
    lstm = layers.LSTM(
        decoder_units, activation=activation, return_sequences=True,
        return_state=teacher is not None, name=f"{prefix}_{index}", **seeds.lstm(),
    )
    sequence = lstm(sequence)
    if teacher is not None:
        sequence = sequence[0]  # the states matter only when running free
    dense = layers.Dense(output_dim, name=f"{output}_dense_{index}", **seeds.dense())
    return layers.TimeDistributed(dense, name=f"{output}_{index}")(sequence)
