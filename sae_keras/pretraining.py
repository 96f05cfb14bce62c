"""Greedy layer-wise pretraining of a stack of LSTM autoencoders.

Autoencoder ``k`` reads the codes of layer ``k - 1`` (the window itself for
``k = 1``), repeated over the window's time steps, and is trained without
labels; its encoder is kept and its codes become the next layer's input. What
autoencoder ``k`` reconstructs is the *target*:

- ``"input"``: the original window, for every layer (Sagheer & Kotb, 2019);
- ``"previous"``: its own input sequence, the repeated codes of layer
  ``k - 1`` (classic greedy stacking).

With ``reverse=True`` a window is reconstructed last step first (Srivastava et
al., 2015: the first steps the decoder emits are the last the encoder read, the
shortest path through the codes); :func:`decode_codes` turns the decoded
windows back into time order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .builders import build_lstm_autoencoder, extract_decoder

#: Reconstruction targets understood by :func:`greedy_pretrain`.
PRETRAINING_TARGETS = ("input", "previous")


@dataclass
class PretrainedStack:
    """What greedy pretraining learned.

    Attributes
    ----------
    encoder_weights : list of list of ndarray
        Weights of each trained encoder LSTM, bottom first.
    autoencoders : list of keras.Model
        The trained autoencoders, bottom first.
    encoders : list of keras.Model
        Each autoencoder's encoder, its input to its codes (shared layers).
    decoders : list of keras.Model
        Each autoencoder's decoder, codes to reconstruction (shared layers).
    history : dict
        ``{"pretrain_k": {"loss": [...], ...}}`` per layer.
    """

    encoder_weights: list = field(default_factory=list)
    autoencoders: list = field(default_factory=list)
    encoders: list = field(default_factory=list)
    decoders: list = field(default_factory=list)
    history: dict = field(default_factory=dict)


def greedy_pretrain(
    X,
    hidden_units,
    epochs,
    train,
    *,
    target="input",
    decoder_units=None,
    activation="tanh",
    noise=0.0,
    reverse=False,
    predict_batch_size=1024,
    predict=None,
):
    """Pretrain one LSTM autoencoder per layer, bottom first.

    Parameters
    ----------
    X : ndarray of shape (n_samples, timesteps, n_features)
        Training windows.
    hidden_units : sequence of int
        Code size of each layer.
    epochs : sequence of int
        Training epochs of each layer's autoencoder.
    train : callable
        ``train(model, x, y, epochs=..., phase=...) -> dict`` compiles and fits
        ``model`` on ``(x, y)`` and returns its loss curves; the estimators
        pass their own (optimizer, batch size, early stopping, callbacks).
    target : {"input", "previous"}, default="input"
        What each autoencoder reconstructs (see the module docstring).
    decoder_units : int, default=None
        Units of every decoder LSTM; defaults to the reconstructed channels.
    activation : str, default="tanh"
        Activation of the LSTMs.
    noise : float, default=0.0
        Gaussian noise added to each autoencoder's input while it trains
        (denoising autoencoders); 0 for none.
    reverse : bool, default=False
        Train each autoencoder that reconstructs windows to emit them in
        reverse time order (the repeated codes of ``"previous"`` are the same
        either way).
    predict_batch_size : int, default=1024
        Batch size used to compute the codes passed up the stack.
    predict : callable, default=None
        ``predict(encoder, x) -> ndarray`` computes those codes; ``None`` uses
        ``encoder.predict``.

    Returns
    -------
    stack : PretrainedStack

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras.pretraining import greedy_pretrain
    >>> def train(model, x, y, epochs, phase):
    ...     model.compile("adam", "mse")
    ...     return model.fit(x, y, epochs=epochs, verbose=0).history
    >>> X = np.random.default_rng(0).normal(size=(32, 6, 2)).astype("float32")
    >>> stack = greedy_pretrain(X, (4, 3), (1, 1), train)
    >>> sorted(stack.history)
    ['pretrain_1', 'pretrain_2']
    """
    if target not in PRETRAINING_TARGETS:
        raise ValueError(f"target must be one of {PRETRAINING_TARGETS}; got {target!r}.")
    timesteps = X.shape[1]
    windows = _reversed_in_time(X) if reverse else X
    stack = PretrainedStack()
    inputs = X
    n_layers = len(hidden_units)
    for index, units in enumerate(hidden_units, start=1):
        first = index == 1
        if target == "input" or first:
            reconstruct = windows
        else:
            reconstruct = np.repeat(inputs[:, np.newaxis, :], timesteps, axis=1)
        autoencoder, encoder = build_lstm_autoencoder(
            timesteps,
            inputs.shape[-1],
            units,
            output_dim=reconstruct.shape[-1],
            decoder_units=decoder_units,
            repeat_input=not first,
            activation=activation,
            noise=noise,
            index=index,
        )
        stack.history[f"pretrain_{index}"] = train(
            autoencoder,
            inputs,
            reconstruct,
            epochs=epochs[index - 1],
            phase=f"pretraining layer {index}/{n_layers}",
        )
        stack.encoder_weights.append(autoencoder.get_layer(f"encoder_{index}").get_weights())
        stack.autoencoders.append(autoencoder)
        stack.encoders.append(encoder)
        stack.decoders.append(extract_decoder(autoencoder, index))
        if index < n_layers:
            inputs = (
                predict(encoder, inputs)
                if predict is not None
                else encoder.predict(inputs, batch_size=predict_batch_size, verbose=0)
            )
    return stack


def _reversed_in_time(X):
    """Windows with their steps in reverse order, as a view where ``X`` allows one."""
    return X.reversed_in_time() if hasattr(X, "reversed_in_time") else np.asarray(X)[:, ::-1]


def decode_codes(decoders, codes, target, predict_batch_size=1024, *, predict=None,
                 reverse=False):
    """Map top-layer codes back to windows with the pretrained decoders.

    With ``target="input"`` the top decoder already reconstructs windows. With
    ``"previous"`` each decoder reconstructs the repeated codes of the layer
    below: their mean over time steps is decoded by the next decoder down,
    until the first one returns windows.

    Parameters
    ----------
    decoders : list of keras.Model
        ``PretrainedStack.decoders``.
    codes : ndarray of shape (n_samples, hidden_units[-1])
        Codes of the top layer.
    target : {"input", "previous"}
        The target the stack was pretrained with.
    predict_batch_size : int, default=1024
        Batch size of the decoders' ``predict``.
    predict : callable, default=None
        ``predict(decoder, x) -> ndarray`` runs a decoder; ``None`` uses
        ``decoder.predict``.
    reverse : bool, default=False
        The stack was pretrained with ``reverse=True``: the decoded windows
        are put back into time order.

    Returns
    -------
    windows : ndarray of shape (n_samples, timesteps, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras.pretraining import greedy_pretrain, decode_codes
    >>> def train(model, x, y, epochs, phase):
    ...     model.compile("adam", "mse")
    ...     return model.fit(x, y, epochs=epochs, verbose=0).history
    >>> X = np.random.default_rng(0).normal(size=(16, 5, 2)).astype("float32")
    >>> stack = greedy_pretrain(X, (4,), (1,), train)
    >>> decode_codes(stack.decoders, np.zeros((3, 4), "float32"), "input").shape
    (3, 5, 2)
    """
    if predict is None:
        def predict(decoder, x):
            return decoder.predict(x, batch_size=predict_batch_size, verbose=0)

    if target == "input":
        outputs = predict(decoders[-1], codes)
    else:
        outputs = codes
        for decoder in reversed(decoders):
            outputs = predict(decoder, outputs)
            if decoder is not decoders[0]:
                outputs = outputs.mean(axis=1)
    return outputs[:, ::-1] if reverse else outputs
