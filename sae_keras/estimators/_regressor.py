"""``LSTMSAERegressor``: pretrain, stack, fine-tune and forecast."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import keras
import numpy as np
from sklearn.base import RegressorMixin, _fit_context, clone
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils import check_random_state, metadata_routing
from sklearn.utils.validation import FLOAT_DTYPES, check_array, check_is_fitted, validate_data

from ..nn import distribute
from ._base import _BaseLSTMSAE, _as_array, _as_list
from ._docstrings import _fill_doc
from ..forecasting._linear import ridge_skip
from ..forecasting._scaling import column_stats, fit_stats, unscale
from ..data._validation import (
    array_shape, as_3d_windows, named_errors, pad_sequences, reject_non_numeric, valid_steps,
    warn_unusual_windows, window_shape,
)
from ..forecasting._covariates import (
    check_covariates, check_fitted_shapes, covariate_shapes, fit_covariate_stats,
    scale_covariates,
)
from ..forecasting._recursive import recursive_forecast
from ..forecasting._intervals import (
    conformal_half_width, gaussian_half_width, lead_times, local_scale, mc_dropout_std,
    normalized_half_width, split_calibration, warn_if_no_spread,
)
from ..data._split import purge_gap, time_split
from ..nn.builders import build_forecaster, load_encoder_weights
from ._encoder import LSTMSAEEncoder
from ..io._zip import _saved_class


@_saved_class(nested={"pretraining": "LSTMSAEEncoder"})
@_fill_doc
class LSTMSAERegressor(RegressorMixin, _BaseLSTMSAE):
    """Deep LSTM forecaster initialised by greedy autoencoder pretraining (LSTM-SAE).

    ``fit`` pretrains one LSTM autoencoder per entry of ``hidden_units``
    without labels (exactly as :class:`LSTMSAEEncoder` does), stacks their
    encoders with dropout between them under a dense head sized for ``y``,
    and fine-tunes the whole network on ``(X, y)`` (Sagheer & Kotb, 2019).
    ``pretraining=None`` skips pretraining: the same network randomly
    initialised, the deep LSTM (DLSTM) baseline.

    Parameters
    ----------
    {hidden_units}
    pretraining : {"input", "previous"}, None, LSTMSAEEncoder or FrozenEstimator, \
            default="input"
        Pretraining target of each autoencoder: ``"input"`` reconstructs the
        original window (the authors' recipe), ``"previous"`` its own input
        (the repeated codes of the layer below); ``None`` skips pretraining.
        An :class:`LSTMSAEEncoder` supplies the stack: if fitted, its encoders
        (and its input scaling) are used as they are, and ``hidden_units``
        comes from it; if not fitted, a copy of it is fitted on ``X`` first
        (its parameters are validated before any training). ``clone`` (every
        grid search and cross-validation fold) drops what an encoder learned,
        so a fitted encoder passed as is gets pretrained again on each fold:
        wrap it as ``sklearn.frozen.FrozenEstimator(fitted_encoder)`` to keep
        it through ``clone`` and searches, used as fitted and never refitted.
        The encoder passed is never changed. A saved regressor keeps the
        frozen encoder's parameters but not its weights (they live on, fine-tuned,
        in ``model_``): a loaded one predicts as saved, and refitting it needs
        the fitted encoder passed again.
    {pretrain_epochs}
    epochs : int, default=100
        Most epochs of fine-tuning; early stopping usually ends it sooner.
    {decoder_units}
    {pretrain_noise}
    {reverse_target}
    {pretrain_objective}
        The trained LSTMs read sequences of any length: the forecaster reads
        whole windows.
    {prediction_steps}
    {composite_weight}
    {conditional_decoder}
    {encoder}
    dropout : float, default=0.1
        Dropout rate after each stacked LSTM during fine-tuning.
    freeze_encoders : bool, default=False
        Keep the pretrained encoders fixed and train only the head. Needs
        ``pretraining``.
    linear_skip : {"ridge", "trained"} or None, default="ridge"
        A linear map of the flattened window added to the output (LSTNet's
        "highway"). ``"ridge"``: a ridge regression of the target on the
        window, fitted on the windows fine-tuning trains on (never on early
        stopping's validation windows), its penalty chosen on the last
        ``validation_fraction`` of those, kept fixed, with the head starting
        at zero, so that the network starts as that regression and the LSTMs
        learn what it misses
        (with early stopping, never ending worse on the validation windows).
        ``"trained"``: the same layer trained with the rest from random
        weights. ``None``: the paper's network, LSTMs and a dense head only.
        See the README's defaults study for what each does on public data.
    {activation}
    {optimizer}
    {learning_rate}
    {loss}
    {batch_size}
    scaling : {"standard"} or None, default="standard"
        ``"standard"`` standardises each input channel (over all windows and
        steps) and each target column inside ``fit``, and returns forecasts in
        the target's own units; ``None`` trains on the data as given.
    {early_stopping}
    {validation_fraction}
    {n_iter_no_change}
    {tol}
    calibration_fraction : float, default=0.0
        Fraction of the training windows, the most recent ones, held out of
        every phase of training to calibrate conformal prediction intervals
        (:meth:`predict_interval`): the fitted network's absolute errors on
        them are kept as ``conformal_scores_``. 0 holds out nothing (and
        ``predict_interval(method="conformal")`` is unavailable). Early
        stopping's validation part is taken from the windows that remain.
        With a multi-step ``y`` (``horizon`` steps), the ``horizon - 1``
        windows before each held-out part (calibration, validation) are
        left out of both parts, a purge gap: windows are assumed consecutive
        (stride 1) in time order, and those windows' targets overlap the
        held-out ones'. Every fraction rounds the same way: the last
        ``ceil(n · fraction)`` windows.
    warm_start : bool, default=False
        If true and the estimator is fitted, ``fit`` continues fine-tuning the
        fitted network for ``epochs`` more epochs on the new windows (no
        pretraining; the fitted scaling is kept) and appends to
        ``history_["finetune"]``.
    {strategy}
    {random_state}
        It also fixes the Monte-Carlo dropout masks of
        ``predict(return_std=True)`` at ``fit``.
    {verbose}
    {callbacks}
    {checkpoint_dir}
    {memory}

    Attributes
    ----------
    model_ : keras.Model
        The fine-tuned forecaster.
    batch_size_ : int
        ``batch_size`` as ``fit`` used it (inference batches are
        ``max(batch_size_, 1024)`` windows).
    dropout_seed_ : int or None
        Seed of the Monte-Carlo dropout masks, fixed by ``fit`` from
        ``random_state`` (``None``: fresh masks at every call). Whether the
        network has dropout at all is read from ``model_``: ``set_params``
        after ``fit`` changes no predict-time method's result.
    strategy_ : dict
        What the fit ran on: ``{"name": ..., "devices": [...], "replicas": n}``
        (the resolved strategy, the devices, how many model copies each batch
        was split over). Plain values: the estimator pickles and predicts on
        any machine. Under data parallelism ``batch_size`` is the global batch,
        split over the replicas.
    history_ : dict
        Loss curves per phase: ``"pretrain_1"`` ... ``"pretrain_L"`` (when
        pretrained) and ``"finetune"``, each ``{"loss": [...], ...}``.
    hidden_units_ : tuple of int
        The resolved layer sizes.
    input_mean_, input_scale_ : ndarray of shape (n_channels_in_,) or None
        Input standardisation (``None`` with ``scaling=None``).
    target_mean_, target_scale_ : ndarray of shape output_shape_ or None
        Target standardisation (``None`` with ``scaling=None``).
    conformal_scores_ : ndarray of shape (n_calibration,) + output_shape_ or None
        Absolute forecast errors on the ``calibration_fraction`` windows held
        out of training, in the target's units (``None`` when nothing was held
        out).
    conformal_scales_ : ndarray of shape (n_calibration,) or None
        The calibration windows' local scales (their mean absolute
        step-to-step change), for ``predict_interval(method="normalized")``.
    covariate_shapes_ : tuple
        ``(n_static, future_shape)``: static covariates per window (0 for
        none) and ``(steps, n_future)`` of the known-future ones (``None``).
    covariate_stats_ : tuple
        Standardisation ``(mean, scale)`` of the static and of the future
        covariates (``None`` for those not used).
    linear_skip_alpha_ : float or None
        Penalty of the ``linear_skip="ridge"`` regression (relative to the
        mean variance of the scaled inputs).
    output_shape_ : tuple of int
        Shape of one target: ``()``, ``(horizon,)`` or ``(horizon, n_targets)``.
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
    LSTMSAEEncoder : the pretraining alone, as a transformer.

    Notes
    -----
    ``X`` is ``(n_samples, timesteps, channels)``; a 2-D ``(n_samples,
    timesteps)`` array or DataFrame is one channel. ``y`` is ``(n_samples,)``,
    ``(n_samples, horizon)`` or ``(n_samples, horizon, n_targets)``, and
    ``predict`` returns the same shape, in the target's units.

    The defaults (standardisation, the ridge skip, early stopping, learning
    rate, dropout, batch size) were chosen on validation splits of seven
    public series by ``benchmarks/defaults.py``; the README reports the study.

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras import LSTMSAERegressor
    >>> series = np.sin(np.linspace(0, 30, 400))
    >>> X = np.stack([series[i:i + 12] for i in range(380)])[..., None]
    >>> y = series[12:392]
    >>> reg = LSTMSAERegressor(hidden_units=(8, 4), pretrain_epochs=2, epochs=3,
    ...                        random_state=0).fit(X, y)
    >>> reg.predict(X[:5]).shape
    (5,)
    """

    # How to predict, not data about the windows: never routed as metadata.
    __metadata_request__predict = {"return_std": metadata_routing.UNUSED,
                                   "n_passes": metadata_routing.UNUSED}

    _parameter_constraints: dict = {
        **_BaseLSTMSAE._parameter_constraints,
        "pretraining": [
            StrOptions({"input", "previous"}), None, HasMethods(["fit", "transform"])
        ],
        "warm_start": ["boolean"],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "freeze_encoders": ["boolean"],
        "linear_skip": [StrOptions({"ridge", "trained"}), None],
        "calibration_fraction": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        hidden_units=(64, 32),
        *,
        pretraining="input",
        pretrain_epochs=10,
        epochs=100,
        decoder_units=None,
        pretrain_noise=0.0,
        reverse_target=False,
        pretrain_objective="reconstruction",
        prediction_steps=1,
        composite_weight=0.5,
        conditional_decoder=False,
        encoder="lstm",
        dropout=0.1,
        freeze_encoders=False,
        linear_skip="ridge",
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
        calibration_fraction=0.0,
        warm_start=False,
        strategy="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        checkpoint_dir=None,
        memory=None,
    ):
        self.hidden_units = hidden_units
        self.pretraining = pretraining
        self.pretrain_epochs = pretrain_epochs
        self.epochs = epochs
        self.decoder_units = decoder_units
        self.pretrain_noise = pretrain_noise
        self.reverse_target = reverse_target
        self.pretrain_objective = pretrain_objective
        self.prediction_steps = prediction_steps
        self.composite_weight = composite_weight
        self.conditional_decoder = conditional_decoder
        self.encoder = encoder
        self.dropout = dropout
        self.freeze_encoders = freeze_encoders
        self.linear_skip = linear_skip
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
        self.calibration_fraction = calibration_fraction
        self.warm_start = warm_start
        self.strategy = strategy
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.checkpoint_dir = checkpoint_dir
        self.memory = memory

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        # A few epochs of a tiny LSTM on scikit-learn's generic test data do not
        # reach the R² > 0.5 its checks ask of regressors by default.
        tags.regressor_tags.poor_score = True
        return tags

    @_fit_context(prefer_skip_nested_validation=False)  # validates pretraining=encoder
    def fit(self, X, y, sample_weight=None, *, X_unlabeled=None, static_covariates=None,
            future_covariates=None):
        """Pretrain (unless ``pretraining=None``), stack and fine-tune.

        Pretraining needs no labels: windows without targets passed as
        ``X_unlabeled`` join ``X`` for pretraining (and for the input scaling
        statistics); fine-tuning uses the labeled ``X`` only.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])
            Training windows.
        y : array-like of shape (n_samples,), (n_samples, horizon) or \
                (n_samples, horizon, n_targets)
            Targets of each window.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each window in every loss, pretraining and fine-tuning
            (and in the validation loss of early stopping). ``None`` weighs all
            windows equally. The scaling statistics are not weighted.
        X_unlabeled : array-like of shape (n_unlabeled, timesteps[, channels]), \
                default=None
            More windows, shaped like ``X``, without targets: pretrained on
            together with ``X`` (placed before ``X``, as history usually
            precedes the labeled period, so early stopping still holds out the
            most recent labeled windows); each weighs 1 in the pretraining
            losses. Ignored, with a warning, when nothing is pretrained
            (``pretraining=None``, a fitted encoder, ``warm_start``). In a
            ``Pipeline`` or ``GridSearchCV`` pass it through metadata routing:
            ``set_fit_request(X_unlabeled=True)``, and
            ``Pipeline(..., transform_input=["X_unlabeled"])`` so that the
            preceding steps transform it as they transform ``X``. (Cross-validation
            splits a fit parameter with as many rows as ``X`` by the folds; one
            of any other length is passed whole to every fold.)
        static_covariates : array-like of shape (n_samples,) or (n_samples, n_static), \
                default=None
            Values describing each window as a whole (a station, a sensor's
            type): joined to the top layer's codes in front of the head, and to
            the window in the linear skip. Standardised per column with
            ``scaling="standard"``. Not read by pretraining. Once fitted with
            them, ``predict`` needs them too.
        future_covariates : array-like of shape (n_samples, steps) or \
                (n_samples, steps, n_future), default=None
            Values known in advance for each window's forecast steps (calendar
            features, scheduled settings): flattened and joined like
            ``static_covariates``. :func:`~sae_keras.make_windows` cuts them
            from a table (``future_covariates=[columns]``). Standardised per
            channel. Both pass through ``Pipeline`` and ``GridSearchCV`` by
            metadata routing: ``set_fit_request(future_covariates=True)`` and
            the same with ``set_predict_request`` and ``set_score_request``.

        Returns
        -------
        self : LSTMSAERegressor
        """
        distribute.check_backend()
        encoder = self._encoder_param()
        hidden_units = None if encoder is not None else self._hidden_units()
        if isinstance(self.pretraining, str):
            self._pretrain_epochs(len(hidden_units))
        elif self.pretraining is None and self.freeze_encoders:
            raise ValueError(
                "freeze_encoders=True needs pretrained encoders, but pretraining=None; "
                "set pretraining='input' or 'previous', or freeze_encoders=False."
            )
        warm = self.warm_start and hasattr(self, "model_")
        if warm:  # before validation resets n_features_in_
            self._check_warm_start(X, y)
        X, y = self._validate_fit_data(X, y)
        sample_weight = self._check_sample_weight(sample_weight, X)
        X_unlabeled = self._check_unlabeled(X_unlabeled, X, encoder, warm)
        static, future = check_covariates(static_covariates, future_covariates, len(X))
        if warm:
            check_fitted_shapes(self._covariates_seen(), static, future)
        gap = purge_gap(y.shape[1:])  # windows whose targets overlap the next part's
        (X, y, sample_weight, static, future), calibration = split_calibration(
            self.calibration_fraction, gap, X, y, sample_weight, static, future
        )
        self._check_validation_split(X.shape[0], gap)
        # What pretraining reads: the unlabeled windows, then the labeled ones.
        X_pretrain, w_pretrain = _with_unlabeled(X, sample_weight, X_unlabeled)
        steps = self._valid_steps(X_pretrain)
        padded = steps is not None
        if isinstance(self.pretraining, str):
            self._check_objective(X.shape[1], self.pretraining, padded)
        if encoder is not None and hasattr(encoder, "model_"):
            _check_encoder_windows(encoder, X)
        if warm and padded and not self.variable_length_:
            raise ValueError(
                "warm_start=True continues a network fitted on full-length windows, "
                "without masking; X holds NaN-padded (variable-length) windows. Set "
                "warm_start=False to fit a new network."
            )
        settings = self._start_fit(X, y, sample_weight, X_unlabeled, static, future)
        if warm:
            settings.gap = gap
            self._continue_fit(X, y, sample_weight, settings, static, future)
            self._freeze_params(settings)
            self._calibrate(calibration)
            return self
        timesteps, n_channels = X.shape[1:]
        output_shape = y.shape[1:]
        kind = self.encoder if encoder is None else encoder.encoder
        history = {}
        with distribute.strategy_scope(self.strategy) as resolved:
            # Pretrain first, so that the autoencoders draw the same random
            # numbers as LSTMSAEEncoder's with the same random_state.
            if encoder is not None:
                encoder, history = self._fitted_encoder(encoder, X_pretrain, w_pretrain)
                hidden_units = encoder.hidden_units_
                self.input_mean_, self.input_scale_ = encoder.input_mean_, encoder.input_scale_
                padded = padded or encoder.variable_length_
                X_model = self._scale_inputs(X, padded)
                encoder_weights = [
                    encoder.model_.get_layer(f"encoder_{k}").get_weights()
                    for k in range(1, len(hidden_units) + 1)
                ]
            else:
                X_model = self._fit_input_scaling(X, stats_on=X_pretrain, padded=padded)
                encoder_weights = None
                if self.pretraining is not None:
                    stack = self._pretrain(self._scale_inputs(X_pretrain, padded), hidden_units,
                                           self.pretraining, settings, w_pretrain, steps)
                    encoder_weights, history = stack.encoder_weights, dict(stack.history)
            target = self._fit_target_scaling(y)
            self.covariate_shapes_ = covariate_shapes(static, future)
            self.covariate_stats_ = fit_covariate_stats(self.scaling, static, future)
            inputs = self._model_inputs(X_model, static, future)
            model = build_forecaster(
                timesteps,
                n_channels,
                hidden_units,
                output_shape or (1,),
                dropout=self.dropout,
                activation=self.activation,
                linear_skip=self.linear_skip is not None,
                masked=padded,
                encoder=kind,
                n_static=self.covariate_shapes_[0],
                future_shape=self.covariate_shapes_[1],
                seed=settings.derive("build forecaster"),
            )
            if encoder_weights is not None:
                load_encoder_weights(model, encoder_weights)
                for index in range(1, len(hidden_units) + 1):
                    model.get_layer(f"encoder_{index}").trainable = not self.freeze_encoders
            settings.gap = gap  # fine-tuning's validation part starts after the gap
            self.linear_skip_alpha_ = self._init_linear_skip(
                model, inputs, target, sample_weight, settings
            )
            history["finetune"] = self._train(
                model, inputs, target,
                epochs=self.epochs, phase="fine-tuning", settings=settings,
                sample_weight=sample_weight,
            )
        self._end_fit(settings)
        self.strategy_ = distribute.describe(resolved, self.strategy)
        self.hidden_units_ = tuple(hidden_units)
        self.timesteps_, self.n_channels_in_ = timesteps, n_channels
        self.variable_length_ = padded
        self.output_shape_ = output_shape
        self.history_ = history
        self.model_ = model
        self._freeze_params(settings)
        self._init_predict_state()
        self._calibrate(calibration)
        return self

    def _freeze_params(self, settings):
        super()._freeze_params(settings)
        # random_state=None: fresh Monte-Carlo dropout masks at every call, as before.
        self.dropout_seed_ = None if self.random_state is None else int(settings.seed)

    def _calibrate(self, calibration):
        """Keep the absolute errors and local scales of the calibration windows (or ``None``)."""
        if calibration is None:
            self.conformal_scores_ = self.conformal_scales_ = None
            return
        X_calibration, y_calibration, _, static, future = calibration
        self.conformal_scores_ = np.abs(
            self._forecast(X_calibration, static, future)
            - np.asarray(y_calibration, dtype=np.float64)
        )
        self.conformal_scales_ = local_scale(X_calibration, self.input_scale_)

    def _model_inputs(self, X_model, static, future):
        """What the forecaster reads: the scaled windows, or them and the covariates."""
        stats = getattr(self, "covariate_stats_", (None, None))  # older pickles: none
        covariates = [c for c in scale_covariates(stats, static, future) if c is not None]
        return (X_model, *covariates) if covariates else X_model

    def _check_predict_covariates(self, X, static_covariates, future_covariates):
        static, future = check_covariates(static_covariates, future_covariates, len(X))
        check_fitted_shapes(self._covariates_seen(), static, future)
        return static, future

    def _covariates_seen(self):
        return getattr(self, "covariate_shapes_", (0, None))  # older pickles: none

    def _check_unlabeled(self, X_unlabeled, X, encoder, warm):
        """``X_unlabeled`` as float windows like ``X``, or ``None`` (also when unused)."""
        if X_unlabeled is None:
            return None
        X_unlabeled = pad_sequences(X_unlabeled, X.shape[1])
        reject_non_numeric(X_unlabeled, "X_unlabeled")
        windows = as_3d_windows(
            check_array(X_unlabeled, allow_nd=True, dtype=FLOAT_DTYPES,
                        input_name="X_unlabeled", ensure_all_finite="allow-nan")
        )
        valid_steps(windows, "X_unlabeled")  # NaN only as right padding
        if windows.shape[1:] != X.shape[1:]:
            raise ValueError(
                "X_unlabeled must hold windows shaped like X's (timesteps="
                f"{X.shape[1]}, channels={X.shape[2]}); got windows of shape "
                f"(timesteps={windows.shape[1]}, channels={windows.shape[2]})."
            )
        unused = (
            "pretraining=None" if self.pretraining is None
            else "warm_start continues fine-tuning" if warm
            else "pretraining is an already fitted encoder"
            if encoder is not None and hasattr(encoder, "model_") else None
        )
        if unused is not None:
            warnings.warn(f"X_unlabeled is ignored: {unused}, nothing is pretrained.",
                          UserWarning, stacklevel=3)
            return None
        return windows

    def _encoder_param(self):
        """``pretraining`` when it is an estimator, else ``None``; checked before training.

        An ``LSTMSAEEncoder``, unwrapped from a ``FrozenEstimator`` (which must
        hold a fitted one); its parameters are validated as the regressor's are.
        """
        if self.pretraining is None or isinstance(self.pretraining, str):
            return None
        frozen = isinstance(self.pretraining, FrozenEstimator)
        encoder = self.pretraining.estimator if frozen else self.pretraining
        if not isinstance(encoder, LSTMSAEEncoder):
            raise TypeError(
                "pretraining must be 'input', 'previous', None, an LSTMSAEEncoder or a "
                "FrozenEstimator of a fitted LSTMSAEEncoder; got "
                f"{'a FrozenEstimator of ' if frozen else ''}a {type(encoder).__name__}."
            )
        if frozen and not hasattr(encoder, "model_"):
            raise ValueError(
                "pretraining=FrozenEstimator(encoder) needs a fitted LSTMSAEEncoder (a "
                "frozen one is never fitted here); fit the encoder first, or pass the "
                "LSTMSAEEncoder itself to have a copy of it pretrained on X."
            )
        encoder._validate_params()
        if not hasattr(encoder, "model_"):  # to be fitted: its own checks, before training
            encoder._pretrain_epochs(len(encoder._hidden_units()))
        return encoder

    def _fitted_encoder(self, encoder, X, sample_weight):
        """The encoder to stack, fitted on ``X`` (a clone) unless it already was."""
        if hasattr(encoder, "model_"):
            return encoder, {}
        fitted = clone(encoder).fit(X, sample_weight=sample_weight)
        return fitted, dict(fitted.history_)

    def _init_linear_skip(self, model, inputs, target, sample_weight, settings):
        """Set up the ``linear_skip`` layer; return the ridge penalty (or ``None``)."""
        if self.linear_skip != "ridge":
            return None
        # Fitted on the windows fine-tuning trains on (not early stopping's validation
        # windows); its penalty chosen on the most recent validation_fraction of those
        # (when that holds at least 10), with or without early stopping.
        n_fit = len(target)
        if settings.validation_fraction > 0:
            n_fit = time_split(settings.validation_fraction, n_fit, settings.gap)[0]
        X_model, *covariates = inputs if isinstance(inputs, tuple) else (inputs,)
        if hasattr(X_model, "filled_with") and X_model.fill is not None:
            X_model = X_model.filled_with(0.0)  # padding reads as zeros, as in the model
        if covariates:
            X_model = (X_model, *covariates)
        kernel, bias, alpha = ridge_skip(X_model, target, sample_weight, self.validation_fraction,
                                         gap=settings.gap, stop=n_fit)
        skip = model.get_layer("linear_skip")
        skip.set_weights([kernel, bias])
        skip.trainable = False
        # The network starts as the ridge regression; the LSTMs learn what it misses.
        head = model.get_layer("head")
        head.set_weights([np.zeros_like(w) for w in head.get_weights()])
        return alpha

    def _check_warm_start(self, X, y):
        fitted = (self.timesteps_, self.n_channels_in_)
        windows = window_shape(X)
        targets = array_shape(y)[1:] if y is not None else None
        if windows not in (None, fitted) or targets not in (None, self.output_shape_):
            got = "?" if windows is None else f"timesteps={windows[0]}, channels={windows[1]}"
            raise ValueError(
                f"warm_start=True continues the fitted network, which takes windows of shape "
                f"(timesteps={fitted[0]}, channels={fitted[1]}) and targets of shape "
                f"{self.output_shape_}; got windows ({got}) and targets {targets}. Set "
                "warm_start=False to fit a new network."
            )

    def _continue_fit(self, X, y, sample_weight, settings, static, future):
        """``warm_start``: more fine-tuning epochs from the fitted weights, same scaling."""
        inputs = self._model_inputs(self._scale_inputs(X), static, future)
        target = self._scale_targets(y)
        with distribute.strategy_scope(self.strategy) as resolved:
            curves = self._train(
                self.model_, inputs, target, epochs=self.epochs, phase="fine-tuning",
                settings=settings, sample_weight=sample_weight,
            )
        self._end_fit(settings)
        self.strategy_ = distribute.describe(resolved, self.strategy)
        finetune = self.history_["finetune"]
        for key, values in curves.items():
            finetune[key] = list(finetune.get(key, [])) + list(values)
        self._init_predict_state()

    def predict(self, X, *, static_covariates=None, future_covariates=None, return_std=False,
                n_passes=100):
        """Forecast for windows ``X``, optionally with a Monte-Carlo dropout spread.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])
            Windows shaped like the training windows.
        static_covariates, future_covariates : array-like, default=None
            The covariates of each window, as passed to ``fit`` (required
            exactly when ``fit`` had them).
        return_std : bool, default=False
            Also return the standard deviation of ``n_passes`` forecasts made
            with the network's dropout active (Monte-Carlo dropout, Gal &
            Ghahramani 2016), in the target's units. Needs ``dropout > 0``.
            Repeatable for an int ``random_state``. It measures the network's
            own uncertainty, not the noise of the series: for intervals that
            cover what they claim, see :meth:`predict_interval`.
        n_passes : int, default=100
            Forecasts drawn for ``return_std``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) + output_shape_, float64
            The forecast (dropout off), the same with or without ``return_std``.
        y_std : ndarray of shape (n_samples,) + output_shape_, float64
            Only with ``return_std=True``.

        Examples
        --------
        >>> import numpy as np
        >>> from sae_keras import LSTMSAERegressor
        >>> series = np.sin(np.linspace(0, 30, 400))
        >>> X = np.stack([series[i:i + 12] for i in range(380)])[..., None]
        >>> reg = LSTMSAERegressor((8,), pretrain_epochs=1, epochs=2,
        ...                        random_state=0).fit(X, series[12:392])
        >>> y_pred, y_std = reg.predict(X[:3], return_std=True, n_passes=20)
        >>> y_std.shape
        (3,)
        """
        check_is_fitted(self)
        X = self._validate_windows(X, reset=False)
        static, future = self._check_predict_covariates(X, static_covariates, future_covariates)
        y_pred = self._forecast(X, static, future)
        if not return_std:
            return y_pred
        return y_pred, self._mc_dropout_std(X, n_passes, static, future)

    def predict_interval(self, X, coverage=0.9, method="conformal", n_passes=100, *,
                         static_covariates=None, future_covariates=None):
        """Lower and upper ends of a prediction interval for each forecast.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])
            Windows shaped like the training windows.
        coverage : float, default=0.9
            Wanted share of future targets inside their interval, in (0, 1).
        method : {"conformal", "normalized", "mc_dropout"}, default="conformal"
            ``"conformal"``: split conformal, ``predict(X) ± q`` with ``q``
            the ``coverage`` quantile of the absolute errors on the windows
            held out by ``calibration_fraction``, one ``q`` per lead time and
            target, corrected for the dependence of overlapping windows'
            errors (the effective number of calibration windows, see
            :func:`~sae_keras.forecasting._intervals.conformal_half_width`). Covers
            ``coverage`` of targets when the future errs like the most recent
            training windows did: for a stationary series.
            ``"normalized"``: normalised split conformal (Papadopoulos et al.,
            2008; Lei et al., 2018), ``predict(X) ± q·σ(x)``, with ``σ(x)`` the
            window's mean absolute step-to-step change (per channel, in units
            of the input scaling) and ``q`` the same quantile of the errors
            divided by their windows' ``σ``: the width follows the series'
            local level of change. Use it for trending or heteroscedastic
            series (prices, demand that grows), whose errors grow with the
            level or volatility after the calibration period.
            ``"mc_dropout"``: ``predict(X) ± z·std`` with the Monte-Carlo
            dropout spread of :meth:`predict` and ``z`` the normal quantile;
            needs no held-out windows, tends to cover less than it claims.
            Too few calibration windows for ``coverage`` raise a
            ``ValueError``: at lead time ``k`` at least ``k·coverage /
            (1 - coverage)`` (``9k`` for 90 %).
        n_passes : int, default=100
            Forecasts drawn for ``"mc_dropout"``.
        static_covariates, future_covariates : array-like, default=None
            As for :meth:`predict`.

        Returns
        -------
        lower, upper : ndarray of shape (n_samples,) + output_shape_, float64

        Examples
        --------
        >>> import numpy as np
        >>> from sae_keras import LSTMSAERegressor
        >>> series = np.sin(np.linspace(0, 30, 400))
        >>> X = np.stack([series[i:i + 12] for i in range(380)])[..., None]
        >>> reg = LSTMSAERegressor((8,), pretrain_epochs=1, epochs=2, calibration_fraction=0.2,
        ...                        random_state=0).fit(X, series[12:392])
        >>> lower, upper = reg.predict_interval(X[:3], coverage=0.9)
        >>> bool((lower < upper).all())
        True
        """
        check_is_fitted(self)
        if not isinstance(coverage, Real) or not 0 < coverage < 1:
            raise ValueError(f"coverage must be a float in (0, 1); got {coverage!r}.")
        if method not in ("conformal", "normalized", "mc_dropout"):
            raise ValueError(
                f"method must be 'conformal', 'normalized' or 'mc_dropout'; got {method!r}."
            )
        if method != "mc_dropout" and self.conformal_scores_ is None:
            raise ValueError(
                f"method={method!r} needs windows held out of training to calibrate on: "
                "fit with calibration_fraction > 0 (for instance 0.1), or use "
                "method='mc_dropout'."
            )
        X = self._validate_windows(X, reset=False)
        static, future = self._check_predict_covariates(X, static_covariates, future_covariates)
        y_pred = self._forecast(X, static, future)
        leads = lead_times(self.output_shape_)
        if method == "conformal":
            half_width = conformal_half_width(self.conformal_scores_, coverage, leads)
        elif method == "normalized":
            if getattr(self, "conformal_scales_", None) is None:
                raise ValueError(
                    "method='normalized' needs the calibration windows' scales, which this "
                    "model (saved by an older version) lacks; refit it."
                )
            half_width = normalized_half_width(
                self.conformal_scores_, self.conformal_scales_,
                local_scale(X, self.input_scale_), coverage, leads,
            )
        else:
            std = self._mc_dropout_std(X, n_passes, static, future)
            half_width = gaussian_half_width(std, coverage)
        return y_pred - half_width, y_pred + half_width

    def predict_recursive(self, X, steps, target_channel=0, change=False, *,
                          static_covariates=None):
        """Forecast past the trained horizon by feeding forecasts back into the window.

        The regressor forecasts its ``h`` trained steps (``h = 1`` for a
        one-step ``y``), the forecasts are appended to each window as new rows
        of channel ``target_channel`` (the other channels repeat their last
        observed value: they are not forecast), and again, until ``steps``
        are forecast. Errors compound: each round reads the previous rounds'
        forecasts as if observed, and the unforecast channels stand still;
        the direct multi-step head (``y`` of shape ``(n, horizon)``) avoids
        both but forecasts only the horizon it was trained on. The README
        reports both's error by lead time on PM2.5.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])
            Windows shaped like the training windows (full length).
        steps : int
            Steps to forecast.
        target_channel : int, default=0
            The channel of ``X`` that the (single) target is the next value
            of, in ``X``'s units.
        change : bool, default=False
            ``y`` was the change from the window's last value of
            ``target_channel`` (cumulative over a multi-step horizon), as
            ``y - X[:, -1, target_channel]``.
        static_covariates : array-like, default=None
            As for :meth:`predict`; the same for every round. A model fitted
            with ``future_covariates`` cannot forecast recursively.

        Returns
        -------
        forecasts : ndarray of shape (n_samples, steps), float64
            Values of ``target_channel`` (levels, also with ``change=True``).

        Examples
        --------
        >>> import numpy as np
        >>> from sae_keras import LSTMSAERegressor, make_windows
        >>> X, y = make_windows(np.cos(np.arange(500) / 7), timesteps=10, target=0)
        >>> reg = LSTMSAERegressor(4, pretrain_epochs=1, epochs=1).fit(X, y)
        >>> reg.predict_recursive(X[-2:], steps=30).shape
        (2, 30)
        """
        check_is_fitted(self)
        if not isinstance(steps, Integral) or isinstance(steps, bool) or steps < 1:
            raise ValueError(f"steps must be a positive int; got {steps!r}.")
        if len(self.output_shape_) > 1 and self.output_shape_[1] != 1:
            raise ValueError(
                "predict_recursive feeds one forecast channel back; this regressor "
                f"forecasts targets of shape {self.output_shape_} (several targets)."
            )
        if self._covariates_seen()[1] is not None:
            raise ValueError(
                "predict_recursive cannot forecast past the horizon of future_covariates: "
                "the model was fitted with them."
            )
        if self.variable_length_:
            raise ValueError(
                "predict_recursive needs full-length windows; this regressor was fitted "
                "on variable-length (padded) windows."
            )
        X = self._validate_windows(X, reset=False)
        if not -self.n_channels_in_ <= target_channel < self.n_channels_in_:
            raise ValueError(
                f"target_channel must be a channel of X (0 to {self.n_channels_in_ - 1}); "
                f"got {target_channel!r}."
            )
        static, _ = self._check_predict_covariates(X, static_covariates, None)
        return recursive_forecast(
            lambda windows: self._forecast(windows, static), X, steps, target_channel, change
        )

    def _forecast(self, X, static=None, future=None):
        """Forecasts in the target's units for validated windows ``X`` (and covariates)."""
        y_pred = self._predict(self.model_, self._model_inputs(self._scale_inputs(X), static,
                                                              future))
        y_pred = y_pred.reshape((X.shape[0],) + self.output_shape_)
        return unscale(y_pred, self.target_mean_, self.target_scale_)

    def _mc_dropout_std(self, X, n_passes, static=None, future=None):
        if not isinstance(n_passes, Integral) or n_passes < 2:
            raise ValueError(f"n_passes must be an int >= 2; got {n_passes!r}.")
        if not any(isinstance(layer, keras.layers.Dropout) for layer in self.model_.layers):
            raise ValueError(
                "Monte-Carlo dropout needs dropout > 0; this regressor was fitted with "
                "dropout=0. Refit with dropout (for instance 0.1), or use "
                "predict_interval(method='conformal') with calibration_fraction > 0."
            )
        seed = self.dropout_seed_
        if seed is None:  # random_state=None: fresh masks at every call
            seed = check_random_state(None).randint(0, 2**31 - 1)
        inputs = self._model_inputs(self._scale_inputs(X), static, future)
        std = self._predict(
            self.model_, inputs, training=True,
            run=lambda forward: mc_dropout_std(forward, self.model_, inputs, n_passes, seed),
        )
        std = std.reshape((X.shape[0],) + self.output_shape_)
        warn_if_no_spread(std, self.model_)
        return std if self.target_scale_ is None else std * self.target_scale_

    def score(self, X, y, sample_weight=None, *, static_covariates=None,
              future_covariates=None):
        """R² of ``predict(X)`` against ``y``, averaged over all outputs.

        Multi-step and multi-target ``y`` are flattened to one column per
        (lead time, target) pair, each weighted equally.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])
            Windows.
        y : array-like of shape (n_samples,) + output_shape_
            True targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        static_covariates, future_covariates : array-like, default=None
            As for :meth:`predict`.

        Returns
        -------
        score : float
        """
        y_pred = self.predict(X, static_covariates=static_covariates,
                              future_covariates=future_covariates)
        y_true = np.asarray(y, dtype=np.float64)
        n_samples = y_pred.shape[0]
        return r2_score(
            y_true.reshape(n_samples, -1),
            y_pred.reshape(n_samples, -1),
            sample_weight=sample_weight,
        )

    def _fit_target_scaling(self, y):
        """Learn the target statistics (``scaling="standard"``); return y as the model sees it."""
        self.target_mean_, self.target_scale_ = fit_stats(self.scaling, column_stats, y)
        return self._scale_targets(y)

    def _scale_targets(self, y):
        """``y`` as the model is trained on it: scaled, float32, one-step ``y`` as a column."""
        if self.target_mean_ is not None:
            y = (y - self.target_mean_) / self.target_scale_
        y = np.asarray(y, dtype=np.float32)
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _fitted_state(self):
        return {
            **super()._fitted_state(),
            "output_shape_": list(self.output_shape_),
            "target_mean_": _as_list(self.target_mean_),
            "target_scale_": _as_list(self.target_scale_),
            "linear_skip_alpha_": self.linear_skip_alpha_,
            "dropout_seed_": self.dropout_seed_,
            "conformal_scores_": _as_list(self.conformal_scores_),
            "conformal_scales_": _as_list(self.conformal_scales_),
            "covariate_shapes_": [self.covariate_shapes_[0], _as_list(self.covariate_shapes_[1])],
            "covariate_stats_": [
                None if stat is None else [_as_list(stat[0]), _as_list(stat[1])]
                for stat in self.covariate_stats_
            ],
        }

    def __setstate__(self, state):
        super().__setstate__(state)
        if "model_" in state and "dropout_seed_" not in state:  # pickled before it was fixed
            self.dropout_seed_ = _legacy_dropout_seed(self.random_state)

    def _restore_fitted(self, state, models):
        super()._restore_fitted(state, models)
        self.output_shape_ = tuple(state["output_shape_"])
        self.target_mean_ = _as_array(state["target_mean_"])
        self.target_scale_ = _as_array(state["target_scale_"])
        self.linear_skip_alpha_ = state["linear_skip_alpha_"]
        # Files written before it was frozen: the seed the saved random_state gave.
        self.dropout_seed_ = state.get("dropout_seed_", _legacy_dropout_seed(self.random_state))
        self.conformal_scores_ = _as_array(state.get("conformal_scores_"))
        self.conformal_scales_ = _as_array(state.get("conformal_scales_"))
        n_static, future_shape = state.get("covariate_shapes_", [0, None])
        self.covariate_shapes_ = (
            int(n_static), None if future_shape is None else tuple(int(s) for s in future_shape)
        )
        self.covariate_stats_ = tuple(
            None if stat is None else (_as_array(stat[0]), _as_array(stat[1]))
            for stat in state.get("covariate_stats_", [None, None])
        )

    def _validate_fit_data(self, X, y):
        X = pad_sequences(X)
        self._check_not_1d(X)
        if y is None:
            validate_data(self, X, y)  # raises scikit-learn's "requires y" error
        reject_non_numeric(y, "y")
        with named_errors("y"):
            y_shape = array_shape(y)
        if len(y_shape) not in (1, 2, 3):
            raise ValueError(
                "y must be (n_samples,), (n_samples, horizon) or (n_samples, horizon, "
                f"n_targets); got an array of shape {y_shape}."
            )
        if y_shape[0] != array_shape(X)[0]:
            raise ValueError(
                "X and y have inconsistent numbers of samples: "
                f"[{array_shape(X)[0]}, {y_shape[0]}]; y needs one row per window of X."
            )
        # scikit-learn checks targets up to 2-D: check a 3-D y as (n, horizon * n_targets).
        y_2d = np.asarray(y).reshape(y_shape[0], -1) if len(y_shape) == 3 else y
        if y_shape[0]:  # finite numbers (None is no target); without rows X's error comes first
            with named_errors("y"):
                y_2d = check_array(y_2d, ensure_2d=False, dtype=np.float64, input_name="y")
        with named_errors("X"):  # scikit-learn names y's problems (as "y") itself
            X, y_2d = validate_data(
                self, X, y_2d, reset=True, allow_nd=True, dtype=FLOAT_DTYPES,
                multi_output=True, y_numeric=True, ensure_all_finite="allow-nan",
            )
        y = np.reshape(y_2d, y_shape) if len(y_shape) == 3 else y_2d
        X = self._as_3d(X)
        warn_unusual_windows(X)
        return X, np.asarray(y, dtype=np.float32)


def _legacy_dropout_seed(random_state):
    """The Monte-Carlo dropout seed ``predict`` drew from ``random_state`` before ``fit`` fixed it."""
    if random_state is None:
        return None
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


def _with_unlabeled(X, sample_weight, X_unlabeled):
    """Windows and weights for pretraining: ``X_unlabeled`` (weight 1) first, then ``X``."""
    if X_unlabeled is None:
        return X, sample_weight
    weights = None
    if sample_weight is not None:
        weights = np.concatenate([np.ones(len(X_unlabeled)), sample_weight])
    return np.concatenate([X_unlabeled, X]), weights


def _check_encoder_windows(encoder, X):
    fitted = (encoder.timesteps_, encoder.n_channels_in_)
    if X.shape[1:] != fitted:
        raise ValueError(
            f"pretraining is an LSTMSAEEncoder fitted on windows of shape "
            f"(timesteps={fitted[0]}, channels={fitted[1]}), but X has windows of shape "
            f"(timesteps={X.shape[1]}, channels={X.shape[2]})."
        )
