"""``LSTMSAERegressor``: pretrain, stack, fine-tune and forecast.

Its parameters and ``fit`` live here; the steps ``fit`` calls and the fitted state
in :mod:`._regressor_fit`, its predict-time methods in :mod:`._regressor_predict`.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils import metadata_routing

from ..nn import distribute
from ._base import LOSSES, _BaseLSTMSAE
from ._docstrings import _fill_doc
from ._composition import _ComposesEncoder, _check_encoder_windows, _with_unlabeled
from ._export import _Exportable
from ._regressor_fit import _RegressorFitSteps
from ._regressor_predict import _RegressorForecasts
from ..forecasting._covariates import (
    check_covariates, check_fitted_shapes, covariate_shapes, fit_covariate_stats,
)
from ..forecasting._intervals import split_calibration
from ..data._split import purge_gap
from ..nn.builders import build_forecaster
from ..io._params import _saved_class


@_saved_class(nested={"pretraining": "LSTMSAEEncoder"})
@_fill_doc
class LSTMSAERegressor(_RegressorForecasts, _RegressorFitSteps, _ComposesEncoder, _Exportable,
                       RegressorMixin,
                       _BaseLSTMSAE):
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
    pretraining : "auto", None, LSTMSAEEncoder or FrozenEstimator, default="auto"
        How the stack is pretrained. ``"auto"``: as :class:`LSTMSAEEncoder`
        does at its defaults (the authors' recipe: every autoencoder
        reconstructs the window, 10 epochs each), with this regressor's
        network (``hidden_units``, ``cell``, ``activation``, ``scaling``) and
        training settings (``optimizer``, ``learning_rate``, ``loss``,
        ``batch_size``, early stopping). ``None`` skips pretraining: the same
        network randomly initialised, the deep LSTM (DLSTM) baseline. An
        unfitted :class:`LSTMSAEEncoder` says how to pretrain (its
        ``reconstruct``, ``pretrain_epochs``, ``pretrain_objective``, noise,
        decoders, optimizer, learning rate, batch size, early stopping and
        ``memory`` cache); the network's shape and scaling stay this
        regressor's (set to anything else, the encoder's are refused), and so
        do the seed, strategy, callbacks, verbosity and checkpoints of the
        whole fit; tune it as ``pretraining__<parameter>``. A fitted encoder
        supplies the stack as it is: its encoders, ``hidden_units``, ``cell``,
        ``activation`` and input scaling. ``clone`` (every grid search and
        cross-validation fold) drops what an encoder learned, so a fitted
        encoder passed as is gets pretrained again on each fold: wrap it as
        ``sklearn.frozen.FrozenEstimator(fitted_encoder)`` to keep it through
        ``clone`` and searches, used as fitted and never refitted. The encoder
        passed is never changed. A saved regressor keeps the frozen encoder's
        parameters but not its weights (they live on, fine-tuned, in
        ``model_``): a loaded one predicts as saved, and refitting it needs the
        fitted encoder passed again.
    {cell}
    patch_size : int or "auto", default=1
        Consecutive steps of a window the encoders read as one, in pretraining
        and fine-tuning alike (layer ``patches``, as in
        :class:`LSTMSAEClassifier`): the LSTMs run over
        ``ceil(timesteps / patch_size)`` steps of ``patch_size * channels``
        values, a shorter and cheaper recurrence. 1: step by step, the
        authors' network. ``"auto"``: the smallest size that leaves at most
        16 steps (1 when ``pretraining`` is a fitted encoder, which read the
        windows step by step; an integer above 1 with one is refused). The
        steps that complete the last patch, and the padded steps of a
        variable-length window inside a patch that holds data, read as 0
        (with ``scaling="standard"``, the mean); the linear skip gives the
        completing steps no weight. A composed encoder's ``prediction_steps``
        counts patches. ``warm_start`` continues with the patches fitted.
    epochs : int, default=100
        Most epochs of fine-tuning; early stopping usually ends it sooner.
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
        See the user guide's defaults study for what each does on public data.
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
        Input standardisation (``None`` with ``scaling=None``); one row per
        series, ``(len(series_), n_channels_in_)``, when fitted with ``series``.
    target_mean_, target_scale_ : ndarray of shape output_shape_ or None
        Target standardisation (``None`` with ``scaling=None``); one per series,
        ``(len(series_),) + output_shape_``, when fitted with ``series`` (NaN
        for a series seen only in ``X_unlabeled``).
    series_ : ndarray of shape (n_series,) or None
        The series ids seen at fit (``series``, and ``unlabeled_series``),
        sorted; ``None`` when fitted without ``series``.
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
    patch_size_ : int
        The steps per patch the network reads (``patch_size`` resolved).
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
    LSTMSAEEncoder : the pretraining alone, as a transformer; how to pretrain.

    Notes
    -----
    ``X`` is ``(n_samples, timesteps, channels)``; a 2-D ``(n_samples,
    timesteps)`` array or DataFrame is one channel. ``y`` is ``(n_samples,)``,
    ``(n_samples, horizon)`` or ``(n_samples, horizon, n_targets)``, and
    ``predict`` returns the same shape, in the target's units.

    The defaults (standardisation, the ridge skip, early stopping, learning
    rate, dropout, batch size) were chosen on validation splits of seven
    public series by ``benchmarks/defaults.py``; the user guide reports the study.

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras import LSTMSAERegressor
    >>> series = np.sin(np.linspace(0, 30, 400))
    >>> X = np.stack([series[i:i + 12] for i in range(380)])[..., None]
    >>> y = series[12:392]
    >>> from sae_keras import LSTMSAEEncoder
    >>> reg = LSTMSAERegressor(hidden_units=(8, 4), epochs=3, random_state=0,
    ...                        pretraining=LSTMSAEEncoder(pretrain_epochs=2)).fit(X, y)
    >>> reg.predict(X[:5]).shape
    (5,)
    """

    # How to predict, not data about the windows: never routed as metadata.
    __metadata_request__predict = {"return_std": metadata_routing.UNUSED,
                                   "n_passes": metadata_routing.UNUSED}

    _parameter_constraints: dict = {
        **_BaseLSTMSAE._parameter_constraints,
        "pretraining": [StrOptions({"auto"}), None, HasMethods(["fit", "transform"])],
        "loss": [StrOptions(set(LOSSES))],
        "warm_start": ["boolean"],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "freeze_encoders": ["boolean"],
        "patch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "linear_skip": [StrOptions({"ridge", "trained"}), None],
        "calibration_fraction": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        hidden_units=(64, 32),
        *,
        pretraining="auto",
        cell="lstm",
        patch_size=1,
        epochs=100,
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
    ):
        self.hidden_units = hidden_units
        self.pretraining = pretraining
        self.cell = cell
        self.patch_size = patch_size
        self.epochs = epochs
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        # A few epochs of a tiny LSTM on scikit-learn's generic test data do not
        # reach the R² > 0.5 its checks ask of regressors by default.
        tags.regressor_tags.poor_score = True
        return tags

    @_fit_context(prefer_skip_nested_validation=False)  # validates pretraining=encoder
    def fit(self, X, y, sample_weight=None, *, series=None, X_unlabeled=None,
            unlabeled_series=None, static_covariates=None, future_covariates=None):
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
        series : array-like of shape (n_samples,), default=None
            The series of each window (an id: a store, a sensor), for many
            related series and one network: ``make_windows(frame, ...,
            series="id")`` gives it. With ``scaling="standard"`` each series'
            inputs and targets are standardised by the statistics of its own
            training windows (neuralforecast's "local scaler"), so series of
            10s and of 10,000s train alike and ``predict`` returns each in its
            own units; early stopping holds out the last ``validation_fraction``
            of every series' windows (with a purge gap of ``horizon - 1``
            windows before each, each series' windows in time order), not the
            last series. ``predict`` and ``score`` then need the series of each
            window too, seen at fit. Route it like ``sample_weight``:
            ``set_fit_request(series=True)`` (and ``set_predict_request``,
            ``set_score_request``).
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
        unlabeled_series : array-like of shape (n_unlabeled,), default=None
            The series of each window of ``X_unlabeled``; needed exactly when
            ``series`` is given. Its windows join their series' statistics.
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
        encoder, fitted_encoder, hidden_units = self._composed_network()
        warm = self.warm_start and hasattr(self, "model_")
        if warm:  # before validation resets n_features_in_
            self._check_warm_start(X, y)
        else:
            self._forget_fit()
        X, y = self._validate_fit_data(X, y)
        sample_weight = self._check_sample_weight(sample_weight, X)
        series = self._check_series(series, len(X))
        X_unlabeled = self._check_unlabeled(X_unlabeled, X, encoder, warm)
        unlabeled_series = self._check_unlabeled_series(series, unlabeled_series, X_unlabeled,
                                                        warm)
        static, future = check_covariates(static_covariates, future_covariates, len(X))
        if warm:
            check_fitted_shapes(self._covariates_seen(), static, future)
        gap = purge_gap(y.shape[1:])  # windows whose targets overlap the next part's
        (X, y, sample_weight, static, future), calibration = split_calibration(
            self.calibration_fraction, gap, X, y, sample_weight, static, future
        )
        held_out = None
        if series is None:
            self._check_validation_split(X.shape[0], gap)
            self.series_ = codes = unlabeled_codes = None
        else:
            codes, unlabeled_codes = self._fit_series(series, unlabeled_series)
            if self._early_stopping_active(len(X)):  # each series' last windows held out
                (X, y, sample_weight, static, future), codes, held_out = (
                    self._series_held_out_last(codes, gap, X, y, sample_weight, static, future))
        # What pretraining reads: the unlabeled windows, then the labeled ones.
        X_pretrain, w_pretrain = _with_unlabeled(X, sample_weight, X_unlabeled)
        pretrain_codes = None if codes is None else (
            codes if unlabeled_codes is None else np.concatenate([unlabeled_codes, codes]))
        steps = self._valid_steps(X_pretrain)
        padded = steps is not None
        if fitted_encoder:
            _check_encoder_windows(encoder, X)
        if not warm:  # a warm start continues the network as fitted, its patches too
            self.patch_size_ = self._resolve_patch_size(X.shape[1], fitted_encoder)
            if encoder is not None and not fitted_encoder:
                self._check_pretraining_objective(encoder, X.shape[1], padded)
        if warm and padded and not self.variable_length_:
            raise ValueError(
                "warm_start=True continues a network fitted on full-length windows, "
                "without masking; X holds NaN-padded (variable-length) windows. Set "
                "warm_start=False to fit a new network."
            )
        settings = self._start_fit(X, y, sample_weight, X_unlabeled, static, future)
        settings.held_out = held_out
        if warm:
            settings.gap = gap
            self._continue_fit(X, y, sample_weight, settings, static, future)
            self._freeze_params(settings)
            self._calibrate(calibration)
            return self
        timesteps, n_channels = X.shape[1:]
        output_shape = y.shape[1:]
        with distribute.strategy_scope(self.strategy) as resolved:
            X_model, encoder_weights, history, padded, network = self._prepare_stack(
                encoder, X, X_pretrain, w_pretrain, steps, settings, padded, codes,
                pretrain_codes)
            target = self._fit_target_scaling(y, codes)
            self.covariate_shapes_ = covariate_shapes(static, future)
            self.covariate_stats_ = fit_covariate_stats(self.scaling, static, future)
            inputs = self._model_inputs(X_model, static, future)
            model = build_forecaster(
                timesteps,
                n_channels,
                hidden_units,
                output_shape or (1,),
                dropout=self.dropout,
                activation=network.activation,
                linear_skip=self.linear_skip is not None,
                masked=padded,
                cell=network.cell,
                n_static=self.covariate_shapes_[0],
                future_shape=self.covariate_shapes_[1],
                patch_size=self.patch_size_,
                seed=settings.derive("build forecaster"),
            )
            self._load_stack(model, encoder_weights)
            # Fine-tuning's validation part starts after the gap (per series: dropped).
            settings.gap = gap if held_out is None else 0
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
