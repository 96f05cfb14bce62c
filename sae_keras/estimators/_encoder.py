"""``LSTMSAEEncoder``: greedy unsupervised pretraining as a scikit-learn transformer."""

from __future__ import annotations

import os
from numbers import Integral, Real

from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..nn import distribute
from ._base import LOSSES, _BaseLSTMSAE
from ._decoding import _Decodes
from ._docstrings import _fill_doc
from ._export import _Exportable
from ._pretraining import _Pretrains
from ..nn._serving import serving_model
from ..nn.builders import (
    OBJECTIVES, build_stacked_encoder, load_encoder_weights, rebuild_layer_models,
)
from ..io._params import _saved_class
from ..training.pretraining import PRETRAINING_TARGETS


@_saved_class()
@_fill_doc
class LSTMSAEEncoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, _Decodes, _Exportable,
                     _Pretrains, _BaseLSTMSAE):
    """Stacked LSTM autoencoder features, learned by greedy pretraining.

    ``fit`` trains one LSTM autoencoder per entry of ``hidden_units``, bottom
    first and without labels (Sagheer & Kotb, 2019); ``transform`` runs the
    stacked encoders and returns the top layer's codes, a fixed-size feature
    vector per window for any downstream estimator.

    Parameters
    ----------
    {hidden_units}
    reconstruct : {"input", "previous"}, default="input"
        What each autoencoder reconstructs: ``"input"``, the original window
        (the authors' recipe); ``"previous"``, its own input, the repeated codes
        of the layer below (classic greedy stacking).
    pretrain_epochs : int or sequence of int, default=10
        Epochs of each autoencoder; one int for all layers or one per layer.
    pretrain_stride : int, default=1
        Pretrain on every ``pretrain_stride``-th window only (the first, then
        every ``pretrain_stride``-th after it). Consecutive windows of one series
        overlap in all but one step, so a stride up to ``timesteps`` still shows
        the autoencoders every step of the data, at a fraction of the cost. The
        input scaling is still learned on every window.
    decoder_units : int, default=None
        Units of each pretraining decoder LSTM; ``None`` makes each decoder as
        wide as its encoder (the tutorial's and Srivastava et al.'s choice; the
        authors used the number of reconstructed channels).
    pretrain_noise : float, default=0.0
        Standard deviation of Gaussian noise added to each autoencoder's
        (scaled) input while it trains: denoising autoencoders. 0 for none.
    reverse_reconstruction : bool, default=False
        Train each autoencoder to reconstruct its window in reverse time order,
        last step first (Srivastava et al., 2015): the decoder starts from the
        steps the encoder read last. The decoders put the windows they emit
        back in time order (``inverse_transform``, ``reconstruction_error``).
    pretrain_objective : {"reconstruction", "prediction", "composite"}, \
            default="reconstruction"
        What each autoencoder learns from its codes (Srivastava et al.,
        2015): to reconstruct the window; to predict the steps that follow
        it; or both, with two decoders on one encoder. Needs
        ``reconstruct="input"``. The future comes from the window itself: its
        last ``prediction_steps`` steps are split off, the encoders read the
        first ``timesteps - prediction_steps`` while they pretrain, and the
        prediction decoder learns the rest. ``transform`` then encodes those
        first steps, as the encoders learned to, and ``inverse_transform``
        decodes codes into whole windows (reconstruction, then prediction), so
        that ``reconstruction_error`` counts how well the window's end was
        foreseen too. (A regressor or classifier stacking these encoders reads
        whole windows: an LSTM reads sequences of any length.)
    prediction_steps : int, default=1
        Steps split off the end of each window for the prediction decoder
        (``"prediction"``, ``"composite"``); fewer than the window's length.
    composite_weight : float, default=0.5
        Weight of the prediction loss in the composite objective; the
        reconstruction loss weighs ``1 - composite_weight``.
    conditional_decoder : bool, default=False
        Conditional decoders: while training, each decoder step also reads the
        true previous step of its target (teacher forcing); at inference it
        reads its own previous output. ``False``: the decoders read only the
        repeated codes (``RepeatVector``), as in the authors' network.
    {cell}
    {activation}
    {optimizer}
    {learning_rate}
    {loss}
    {batch_size}
    scaling : {"standard"} or None, default="standard"
        ``"standard"`` standardises each channel (over all windows and steps)
        inside ``fit``; ``inverse_transform`` returns windows in the data's own
        units. ``None`` trains on the data as given.
    {early_stopping}
    {validation_fraction}
    {n_iter_no_change}
    {tol}
    {strategy}
    {random_state}
    {verbose}
    {callbacks}
    {checkpoint_dir}
    memory : str, path-like or joblib.Memory, default=None
        Cache each greedily pretrained layer here (a folder, or a
        ``joblib.Memory`` as ``Pipeline(memory=)`` takes), keyed by everything
        that shapes it: the layer's architecture and initial weights (so the
        seed and the layers below), the windows and weights it trains on and
        the training settings. Fits that differ only in what comes later
        (a regressor's fine-tuning settings, layers above) load the layers they
        share instead of training them again, with identical results;
        processes and Dask workers can share the folder. ``None``: no cache.
        Machine-local: not kept by :meth:`save` (a loaded estimator has
        ``None``).

    Attributes
    ----------
    reconstruct_, pretrain_objective_, prediction_steps_, reverse_reconstruction_, batch_size_
        The parameters ``transform``, ``inverse_transform``,
        ``reconstruction_error`` and ``score_samples`` depend on, as ``fit``
        used them: ``set_params`` after ``fit`` does not change what the
        fitted encoder returns.
    encoders_ : list of keras.Model
        The pretrained encoder of each layer (input of layer k to its codes).
        Like every model here, the first takes windows as ``fit`` standardised
        them (``(X - input_mean_) / input_scale_`` with ``scaling="standard"``).
    autoencoders_ : list of keras.Model
        The trained autoencoders, bottom first.
    model_ : keras.Model
        The stacked encoder, windows to top-layer codes (``transform``).
    decoders_ : list of keras.Model
        Each autoencoder's decoder, codes to reconstruction.
    strategy_ : dict
        What the fit ran on: ``{"name": ..., "devices": [...], "replicas": n}``
        (the resolved strategy, the devices, how many model copies each batch
        was split over). Plain values: the estimator pickles and predicts on
        any machine. Under data parallelism ``batch_size`` is the global batch,
        split over the replicas.
    history_ : dict
        Loss curves per phase: ``{"pretrain_1": {"loss": [...]}, ...}``.
    hidden_units_ : tuple of int
        The resolved layer sizes.
    input_mean_, input_scale_ : ndarray of shape (n_channels_in_,) or None
        Input standardisation (``None`` with ``scaling=None``); one row per
        series, ``(len(series_), n_channels_in_)``, when fitted with ``series``.
    series_ : ndarray of shape (n_series,) or None
        The series ids seen at fit (``series``, and ``unlabeled_series``),
        sorted; ``None`` when fitted without ``series``.
    timesteps_ : int
        Window length seen in ``fit``.
    n_channels_in_ : int
        Channels per time step seen in ``fit`` (1 for 2-D input).
    n_features_in_ : int
        Number of columns of ``X`` in scikit-learn's sense: the window length.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame.

    See Also
    --------
    LSTMSAERegressor : pretrain, stack, fine-tune and forecast.

    Notes
    -----
    ``X`` is ``(n_samples, timesteps, channels)``; a 2-D ``(n_samples,
    timesteps)`` array or DataFrame is one channel.

    Composed in another estimator (``LSTMSAERegressor(pretraining=encoder)``),
    the encoder's parameters say how to pretrain; that estimator's
    ``hidden_units``, ``cell``, ``activation`` and ``scaling`` (the network it
    fine-tunes) and its ``random_state``, ``strategy``, ``verbose``,
    ``callbacks`` and ``checkpoint_dir`` (how the whole fit runs) are used.

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras import LSTMSAEEncoder
    >>> X = np.sin(np.linspace(0, 20, 64 * 8)).reshape(64, 8, 1)
    >>> enc = LSTMSAEEncoder(hidden_units=(8, 4), pretrain_epochs=2, random_state=0)
    >>> enc.fit_transform(X).shape
    (64, 4)
    >>> enc.inverse_transform(enc.transform(X[:2])).shape
    (2, 8, 1)
    """

    _frozen_params = _BaseLSTMSAE._frozen_params + (
        "reconstruct", "pretrain_objective", "prediction_steps", "reverse_reconstruction",
    )

    _parameter_constraints: dict = {
        **_BaseLSTMSAE._parameter_constraints,
        "reconstruct": [StrOptions(set(PRETRAINING_TARGETS))],
        "pretrain_epochs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "pretrain_stride": [Interval(Integral, 1, None, closed="left")],
        "decoder_units": [Interval(Integral, 1, None, closed="left"), None],
        "pretrain_noise": [Interval(Real, 0, None, closed="left")],
        "reverse_reconstruction": ["boolean"],
        "pretrain_objective": [StrOptions(set(OBJECTIVES))],
        "prediction_steps": [Interval(Integral, 1, None, closed="left")],
        "composite_weight": [Interval(Real, 0, 1, closed="both")],
        "conditional_decoder": ["boolean"],
        "loss": [StrOptions(set(LOSSES))],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
    }

    def __init__(
        self,
        hidden_units=(64, 32),
        *,
        reconstruct="input",
        pretrain_epochs=10,
        pretrain_stride=1,
        decoder_units=None,
        pretrain_noise=0.0,
        reverse_reconstruction=False,
        pretrain_objective="reconstruction",
        prediction_steps=1,
        composite_weight=0.5,
        conditional_decoder=False,
        cell="lstm",
        activation="tanh",
        optimizer="adam",
        learning_rate=3e-3,
        loss="mse",
        batch_size=64,
        scaling="standard",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=0.0,
        strategy="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        checkpoint_dir=None,
        memory=None,
    ):
        self.hidden_units = hidden_units
        self.reconstruct = reconstruct
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_stride = pretrain_stride
        self.decoder_units = decoder_units
        self.pretrain_noise = pretrain_noise
        self.reverse_reconstruction = reverse_reconstruction
        self.pretrain_objective = pretrain_objective
        self.prediction_steps = prediction_steps
        self.composite_weight = composite_weight
        self.conditional_decoder = conditional_decoder
        self.cell = cell
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.loss = loss
        self.batch_size = batch_size
        self.scaling = scaling
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.strategy = strategy
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.checkpoint_dir = checkpoint_dir
        self.memory = memory

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None, *, series=None):
        """Pretrain the stack of autoencoders on windows ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])
            Training windows.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each window in every reconstruction loss. ``None`` weighs
            all windows equally. The scaling statistics are not weighted.
        series : array-like of shape (n_samples,), default=None
            The series of each window, for windows of many series: with
            ``scaling="standard"`` each series is standardised by its own
            statistics, and early stopping holds out the last windows of every
            series (each series' windows in time order). ``transform`` and the
            other methods then need the series of each window too.

        Returns
        -------
        self : LSTMSAEEncoder
        """
        distribute.check_backend()
        self._forget_fit()
        hidden_units = self._hidden_units()
        self._pretrain_epochs(len(hidden_units))
        X = self._validate_windows(X, reset=True)
        steps = self._valid_steps(X)
        padded = steps is not None
        sample_weight = self._check_sample_weight(sample_weight, X)
        series = self._check_series(series, len(X))
        held_out = codes = self.series_ = None
        if series is None:
            self._check_validation_split(self._n_strided(X.shape[0]))
        else:
            codes, _ = self._fit_series(series)
            if self._early_stopping_active(len(X)):  # each series' last windows held out
                (X, sample_weight), codes, held_out = self._series_held_out_last(
                    codes, 0, X, sample_weight)
                steps = self._valid_steps(X)
        timesteps, n_channels = X.shape[1:]
        self._check_objective(timesteps, padded)
        settings = self._start_fit(X, None, sample_weight)
        settings.held_out = held_out
        X_model = self._fit_input_scaling(X, padded=padded, codes=codes)
        with distribute.strategy_scope(self.strategy) as resolved:
            stack = self._pretrain(X_model, hidden_units, settings, sample_weight, steps)
            # The steps the encoders learned to read (the future part split off).
            model = build_stacked_encoder(
                timesteps - _future_steps(self.pretrain_objective, self.prediction_steps),
                n_channels, hidden_units, activation=self.activation, masked=padded,
                cell=self.cell, seed=settings.derive("build stacked encoder"),
            )
            load_encoder_weights(model, stack.encoder_weights)
        self._end_fit(settings)
        self.strategy_ = distribute.describe(resolved, self.strategy)
        self.hidden_units_ = hidden_units
        self.timesteps_, self.n_channels_in_ = timesteps, n_channels
        self.variable_length_ = padded
        self.autoencoders_ = stack.autoencoders
        self.decoders_ = stack.decoders
        self.encoders_ = stack.encoders
        self.history_ = stack.history
        self.model_ = model
        self._freeze_params(settings)
        self._init_predict_state()
        return self

    def transform(self, X, *, series=None):
        """Encode windows into the top layer's codes.

        With ``pretrain_objective="prediction"`` or ``"composite"`` the codes
        are those of each window's first ``timesteps - prediction_steps``
        steps, the part the encoders learned to read.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])
            Windows shaped like the training windows.
        series : array-like of shape (n_samples,), default=None
            The series of each window, required exactly when ``fit`` had
            ``series`` (each window standardised by its series' statistics).

        Returns
        -------
        codes : ndarray of shape (n_samples, n_codes), float64
            ``n_codes`` is ``hidden_units[-1]``, twice that with
            ``cell="bilstm"`` (both directions).
        """
        check_is_fitted(self)
        X = self._validate_windows(X, reset=False)
        return self._encode(self._scale_inputs(X, codes=self._series_codes(series, len(X))))

    def fit_transform(self, X, y=None, **fit_params):
        """``fit(X, y, **fit_params)``, then ``transform(X)`` (with the same ``series``).

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])
            Training windows.
        y : None
            Ignored.
        **fit_params : dict
            ``sample_weight``, ``series``: as for :meth:`fit`.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_codes), float64
        """
        return self.fit(X, y, **fit_params).transform(X, series=fit_params.get("series"))

    def _encode(self, X_model):
        """Codes of windows as the models read them (the steps the encoders learned)."""
        future = _future_steps(self.pretrain_objective_, self.prediction_steps_)
        return self._predict(self.model_, X_model[:, : X_model.shape[1] - future]
                             if future else X_model)

    def _serving_model(self):
        """What ``export`` writes: raw windows to ``transform``'s codes."""
        if self.series_ is not None:
            raise ValueError("export is not available for an encoder fitted with series= "
                             "yet (its statistics are per series); refit without it.")
        return serving_model(self.model_, timesteps=self.timesteps_,
                             input_stats=(self.input_mean_, self.input_scale_),
                             padded=self.variable_length_, name="encoder_serving")

    def _fitted_models(self):
        models = super()._fitted_models()
        for index, autoencoder in enumerate(self.autoencoders_, start=1):
            models[f"autoencoder_{index}"] = autoencoder
        return models

    def _saved_model_names(self, state):
        layers = state["hidden_units_"]
        if not isinstance(layers, list):
            raise TypeError(f"hidden_units_ must be a list, not {type(layers).__name__}")
        return [*super()._saved_model_names(state),
                *(f"autoencoder_{k}" for k in range(1, len(layers) + 1))]

    def _restore_fitted(self, state, models):
        super()._restore_fitted(state, models)
        self.autoencoders_ = [
            models[f"autoencoder_{k}"] for k in range(1, len(self.hidden_units_) + 1)
        ]
        self.encoders_, self.decoders_ = rebuild_layer_models(
            self.autoencoders_, reverse=self.reverse_reconstruction_
        )

    def __getstate__(self):
        state = super().__getstate__()
        # Encoders and decoders share the autoencoders' layers (a free-running
        # decoder wraps them); they are rebuilt from the autoencoders on load.
        state.pop("encoders_", None)
        state.pop("decoders_", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "autoencoders_" in state:
            self.encoders_, self.decoders_ = rebuild_layer_models(
                self.autoencoders_, reverse=self.reverse_reconstruction_
            )

    @property
    def _n_features_out(self):
        return int(self.model_.output_shape[-1])


def _future_steps(objective, prediction_steps):
    """Steps split off the end of each window for prediction decoders (else 0)."""
    return 0 if objective == "reconstruction" else int(prediction_steps)
