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
shortest path through the codes); the decoders put the decoded windows back
into time order.

The *objective* (Srivastava et al., 2015) chooses the decoders of every
autoencoder: ``"reconstruction"`` of what the encoder read; ``"prediction"``
of the steps that follow; ``"composite"``, both from the same codes, their
losses weighted ``1 - composite_weight`` and ``composite_weight``. The future
comes from the window itself: the last ``prediction_steps`` steps of each
window are split off, the encoders read the first ``T - prediction_steps``
(an LSTM reads sequences of any length, so the trained encoders then read
whole windows in the stacked models) and the prediction decoders learn the
rest. Conditional decoders read the true previous step while training
(teacher forcing, :class:`ShiftedRight`) and their own previous output at
inference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..nn.builders import OBJECTIVES, build_lstm_autoencoder, extract_decoder

#: Reconstruction targets understood by :func:`greedy_pretrain`.
PRETRAINING_TARGETS = ("input", "previous")


class ShiftedRight:
    """Teacher-forcing input: target sequences delayed by one step, zeros first.

    Lazy like :class:`~sae_keras.forecasting._scaling.ScaledWindows`: only the rows asked
    for are built (float32), slices stay views of the target.

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras.training.pretraining import ShiftedRight
    >>> np.asarray(ShiftedRight(np.arange(1.0, 4.0).reshape(1, 3, 1)))[0, :, 0]
    array([0., 1., 2.], dtype=float32)
    """

    def __init__(self, target):
        self.target = target

    @property
    def shape(self):
        return self.target.shape

    @property
    def ndim(self):
        return len(self.target.shape)

    def __len__(self):
        return len(self.target)

    def __getitem__(self, rows):
        if isinstance(rows, slice):
            return ShiftedRight(self.target[rows])
        target = np.asarray(self.target[rows], dtype=np.float32)
        shifted = np.zeros_like(target)
        shifted[:, 1:] = target[:, :-1]
        return shifted

    def __array__(self, dtype=None, copy=None):
        shifted = self[np.arange(len(self))]
        return shifted if dtype is None else shifted.astype(dtype, copy=False)


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
    objective="reconstruction",
    prediction_steps=1,
    composite_weight=0.5,
    conditional=False,
    cell="lstm",
    step_weight=None,
    predict_batch_size=1024,
    predict=None,
    seed=None,
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
        ``x`` and ``y`` are tuples for models with several inputs or outputs;
        composite autoencoders are trained with ``loss_weights=[...]`` too.
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
    objective : {"reconstruction", "prediction", "composite"}, \
            default="reconstruction"
        What each autoencoder learns (see the module docstring). Prediction
        and composite objectives need ``target="input"``.
    prediction_steps : int, default=1
        Steps split off the end of each window for the prediction decoders;
        fewer than the window's length.
    composite_weight : float, default=0.5
        Weight of the prediction loss in a composite objective; the
        reconstruction loss weighs ``1 - composite_weight``.
    conditional : bool, default=False
        Conditional decoders (teacher forcing while training).
    cell : {"lstm", "bilstm", "cnn_lstm"}, default="lstm"
        The kind of each layer's encoder (see
        :func:`~sae_keras.nn.builders.build_lstm_autoencoder`).
    step_weight : ndarray of shape (n_samples, timesteps), default=None
        Variable-length windows: the weight of each step in the losses of the
        autoencoders that decode windows, 0 for padding. Padded steps of ``X``
        hold :data:`~sae_keras.nn.builders.PAD_VALUE` (the encoders mask them);
        ``X`` is then a :class:`~sae_keras.forecasting._scaling.ScaledWindows`, whose
        ``filled_with(0)`` gives the targets. Only the reconstruction
        objective reads padded windows.
    predict_batch_size : int, default=1024
        Batch size used to compute the codes passed up the stack.
    predict : callable, default=None
        ``predict(encoder, x) -> ndarray`` computes those codes; ``None`` uses
        ``encoder.predict``.
    seed : callable, default=None
        ``seed(index)`` is the int seed of autoencoder ``index``'s initial
        weights and noise (:func:`~sae_keras.nn.builders.build_lstm_autoencoder`):
        a layer's weights then depend on that seed only, not on what ran
        before or in other threads, and no global random state is read or
        changed. ``None``: Keras' defaults.

    Returns
    -------
    stack : PretrainedStack

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras.training.pretraining import greedy_pretrain
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
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}; got {objective!r}.")
    masked = step_weight is not None
    check_objective(objective, target, prediction_steps, X.shape[1], padded=masked)
    future = 0 if objective == "reconstruction" else int(prediction_steps)
    timesteps = X.shape[1] - future
    seen = X[:, :timesteps] if future else X
    if masked:  # targets read the padding as zeros, weighted 0
        seen_target = seen.filled_with(0.0)
        step_weight = step_weight[:, ::-1] if reverse else step_weight
    else:
        seen_target = seen
    windows = seen_target[:, ::-1] if reverse else seen_target  # a view
    stack = PretrainedStack()
    inputs = seen
    n_layers = len(hidden_units)
    for index, units in enumerate(hidden_units, start=1):
        first = index == 1
        if target == "input" or first:
            reconstruct = windows
        else:
            reconstruct = np.repeat(inputs[:, np.newaxis, :], timesteps, axis=1)
        outputs = {
            "reconstruction": (reconstruct,),
            "prediction": (X[:, timesteps:],),
            "composite": (reconstruct, X[:, timesteps:]),
        }[objective]
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
            objective=objective,
            prediction_steps=future,
            conditional=conditional,
            masked=masked,
            cell=cell,
            seed=None if seed is None else seed(index),
        )
        options = (
            {"loss_weights": [1.0 - composite_weight, composite_weight]}
            if objective == "composite" else {}
        )
        if masked and reconstruct is windows:  # per-step weights: padding weighs 0
            options["sample_weight"] = step_weight
        stack.history[f"pretrain_{index}"] = train(
            autoencoder,
            (inputs, *map(ShiftedRight, outputs)) if conditional else inputs,
            outputs if len(outputs) > 1 else outputs[0],
            epochs=epochs[index - 1],
            phase=f"pretraining layer {index}/{n_layers}",
            **options,
        )
        stack.encoder_weights.append(autoencoder.get_layer(f"encoder_{index}").get_weights())
        stack.autoencoders.append(autoencoder)
        stack.encoders.append(encoder)
        stack.decoders.append(extract_decoder(autoencoder, index, reverse=reverse))
        if index < n_layers:
            inputs = (
                predict(encoder, inputs)
                if predict is not None
                else encoder.predict(inputs, batch_size=predict_batch_size, verbose=0)
            )
    return stack


def check_objective(objective, target, prediction_steps, timesteps, padded=False,
                    unit="steps"):
    """Refuse an objective that cannot be trained on windows of ``timesteps`` steps.

    Parameters
    ----------
    objective : {"reconstruction", "prediction", "composite"}
    target : {"input", "previous"}
    prediction_steps : int
    timesteps : int
        Length of the windows.
    padded : bool, default=False
        The windows are right-padded (variable-length sequences).
    unit : str, default="steps"
        What ``timesteps`` counts, for the message: ``"patches"`` where the
        encoders read patches of steps.

    Raises
    ------
    ValueError
        Naming the estimator parameters to change.

    Examples
    --------
    >>> from sae_keras.training.pretraining import check_objective
    >>> check_objective("composite", "input", prediction_steps=4, timesteps=24)
    """
    if objective == "reconstruction":
        return
    if padded:
        raise ValueError(
            f"pretrain_objective={objective!r} splits the future off the end of each "
            "window, which is padding for a shorter sequence; variable-length (padded) "
            "windows train with pretrain_objective='reconstruction'."
        )
    if target != "input":
        raise ValueError(
            f"pretrain_objective={objective!r} needs reconstruct='input' (every layer "
            f"decodes windows); got reconstruct={target!r}."
        )
    if not 1 <= prediction_steps < timesteps:
        raise ValueError(
            f"prediction_steps={prediction_steps} must be at least 1 and shorter than the "
            f"windows ({timesteps} {unit}): the encoders read the first "
            f"timesteps - prediction_steps {unit} and the prediction decoders learn the rest."
        )


def decode_codes(decoders, codes, target, predict_batch_size=1024, *, predict=None):
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

    Returns
    -------
    windows : ndarray of shape (n_samples, timesteps, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras.training.pretraining import greedy_pretrain, decode_codes
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
    return outputs
