"""``LSTMSAEClassifier``: pretrain without labels, then fine-tune a softmax classifier."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..nn import distribute
from ._base import _BaseLSTMSAE
from ._composition import _ComposesEncoder, _check_encoder_windows, _with_unlabeled
from ._docstrings import _fill_doc
from ._export import _Exportable
from ._labels import class_sample_weight, encode_labels, stratified_held_out_last
from ._linear_start import logistic_start
from ..io._params import _saved_class
from ..nn._serving import serving_model
from ..nn.builders import build_forecaster


@_saved_class(nested={"pretraining": "LSTMSAEEncoder"})
@_fill_doc
class LSTMSAEClassifier(_ComposesEncoder, _Exportable, ClassifierMixin, _BaseLSTMSAE):
    """Sequence classifier initialised by greedy autoencoder pretraining (LSTM-SAE).

    ``fit`` pretrains one LSTM autoencoder per entry of ``hidden_units``
    without labels (on ``X`` and any ``X_unlabeled``), exactly as
    :class:`LSTMSAEEncoder` does, stacks their encoders with dropout between
    them under a softmax layer, and fine-tunes the whole network on the labels
    (cross-entropy). ``pretraining=None`` skips pretraining: the same network
    randomly initialised. Unsupervised pretraining pays most where labels are
    scarce and unlabeled sequences are not: pass those as ``X_unlabeled``.

    Parameters
    ----------
    hidden_units : int or sequence of int, default=(64,)
        Units of each stacked LSTM layer (its code size), bottom first. One
        layer by default: the LSTM that pretraining initialises is then the one
        reading the sequence (chosen on the archive problems' training parts).
    pretraining : "auto", None, LSTMSAEEncoder or FrozenEstimator, default="auto"
        How the stack is pretrained, as in :class:`LSTMSAERegressor`:
        ``"auto"`` pretrains as :class:`LSTMSAEEncoder` does at its defaults,
        with this classifier's network (``hidden_units``, ``cell``,
        ``activation``, ``scaling``) and training settings (``optimizer``,
        ``learning_rate``, ``batch_size``, early stopping; the reconstruction
        loss is the encoder's, mean squared error); ``None`` skips it; an
        unfitted :class:`LSTMSAEEncoder` says how to pretrain (tune it as
        ``pretraining__<parameter>``); a fitted one, or a
        ``sklearn.frozen.FrozenEstimator`` of one, supplies the stack as it is.
    {cell}
    patch_size : "auto" or int, default="auto"
        Consecutive steps the encoders read as one (a "patch" of
        ``patch_size * channels`` values): the LSTMs run over
        ``ceil(timesteps / patch_size)`` steps, in pretraining and
        fine-tuning alike. Long sequences are hard for an LSTM to learn from
        step by step, and a shorter recurrence is also cheaper. ``"auto"``:
        the smallest size that leaves at most 16 steps (1 for sequences of 16
        steps or fewer; 1 too when ``pretraining`` is a fitted encoder, which
        read the sequences step by step); 1: step by step. A sequence whose
        length is not a multiple of ``patch_size`` is completed with padding;
        the padded steps of a patch that holds data read as 0, the mean of
        standardised input. A composed encoder's ``prediction_steps`` counts
        patches.
    epochs : int, default=100
        Most epochs of fine-tuning; early stopping usually ends it sooner.
    dropout : float, default=0.1
        Dropout rate after each stacked LSTM during fine-tuning.
    freeze_encoders : bool, default=False
        Keep the pretrained encoders fixed and train only the softmax layer.
        Needs ``pretraining``.
    linear_skip : {"logistic", "trained"} or None, default=None
        A linear map of the whole sequence (layer ``linear_skip``, its values
        as the encoders read them, padding as 0) added to the class scores in
        front of the softmax: a multinomial logistic regression beside the
        LSTMs (the "highway" of LSTNet, Lai et al. 2018). ``"logistic"``: a
        logistic regression of the labels on the standardised sequences,
        fitted first on the sequences fine-tuning trains on (never on early
        stopping's held-out ones), its penalty chosen by stratified 3-fold
        cross-validation (log-loss) inside them, kept fixed, with the softmax
        layer starting at zero: the network starts as that regression and the
        LSTMs learn what it misses (with early stopping, never ending worse on
        the held-out sequences). ``"trained"``: the same layer trained with
        the rest from random weights. ``None``: the LSTMs alone.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the fine-tuning loss, as in scikit-learn's
        classifiers (``{label: weight}``; ``"balanced"`` weighs each class by
        the inverse of its frequency), multiplied with ``sample_weight``. Not
        read by pretraining, which sees no labels.
    {activation}
    {optimizer}
    {learning_rate}
    {batch_size}
    scaling : {"standard"} or None, default="standard"
        ``"standard"`` standardises each input channel (over all windows,
        labeled and unlabeled, and steps) inside ``fit``; ``None`` trains on
        the data as given.
    {early_stopping}
        The held-out windows are a stratified sample of the labeled ones
        (sequences are not ordered in time), drawn from ``random_state``.
    {validation_fraction}
    {n_iter_no_change}
    {tol}
    {strategy}
    {random_state}
    {verbose}
    {callbacks}
    {checkpoint_dir}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    model_ : keras.Model
        The fine-tuned network, windows to class probabilities.
    batch_size_ : int
        ``batch_size`` as ``fit`` used it (inference batches are
        ``max(batch_size_, 1024)`` windows).
    strategy_ : dict
        What the fit ran on: ``{"name": ..., "devices": [...], "replicas": n}``.
    history_ : dict
        Loss curves per phase: ``"pretrain_1"`` ... ``"pretrain_L"`` (when
        pretrained) and ``"finetune"``, each ``{"loss": [...], ...}``.
    hidden_units_ : tuple of int
        The resolved layer sizes.
    patch_size_ : int
        The steps per patch the network reads (``patch_size`` resolved).
    linear_skip_C_ : float or None
        Inverse penalty of the ``linear_skip="logistic"`` start (``None``
        otherwise, or when some class had no sequence to fit it on: then the
        skip stays at zero).
    input_mean_, input_scale_ : ndarray of shape (n_channels_in_,) or None
        Input standardisation (``None`` with ``scaling=None``).
    timesteps_ : int
        Window length seen in ``fit`` (the longest sequence, for sequences of
        different lengths).
    n_channels_in_ : int
        Channels per time step seen in ``fit`` (1 for 2-D input).
    variable_length_ : bool
        Whether the network masks padded steps (sequences of different lengths).
    n_features_in_ : int
        Number of columns of ``X`` in scikit-learn's sense: the window length.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame.

    See Also
    --------
    LSTMSAEEncoder : the pretraining alone, as a transformer; how to pretrain.
    LSTMSAERegressor : the same network under a forecasting head.

    Notes
    -----
    ``X`` is ``(n_samples, timesteps, channels)``; a 2-D ``(n_samples,
    timesteps)`` array or DataFrame is one channel. Sequences of different
    lengths are a list of 2-D ``(length, channels)`` arrays, or NaN
    right-padding: the network skips the padded steps (a ``Masking`` layer).

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras import LSTMSAEClassifier, LSTMSAEEncoder
    >>> rng = np.random.default_rng(0)
    >>> t = np.linspace(0, 6, 20)
    >>> X = np.stack([np.sin(t * (1 + k % 2)) for k in range(60)])[..., None]
    >>> X = X + 0.1 * rng.normal(size=X.shape)
    >>> y = np.where(np.arange(60) % 2, "fast", "slow")
    >>> clf = LSTMSAEClassifier((8,), epochs=20, random_state=0,
    ...                         pretraining=LSTMSAEEncoder(pretrain_epochs=2)).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """

    _parameter_constraints: dict = {
        **_BaseLSTMSAE._parameter_constraints,
        "pretraining": [StrOptions({"auto"}), None, HasMethods(["fit", "transform"])],
        "patch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "freeze_encoders": ["boolean"],
        "linear_skip": [StrOptions({"logistic", "trained"}), None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_units=(64,),
        *,
        pretraining="auto",
        cell="lstm",
        patch_size="auto",
        epochs=100,
        dropout=0.1,
        freeze_encoders=False,
        linear_skip=None,
        class_weight=None,
        activation="tanh",
        optimizer="adam",
        learning_rate=3e-3,
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
    ):
        self.hidden_units = hidden_units
        self.pretraining = pretraining
        self.cell = cell
        self.patch_size = patch_size
        self.epochs = epochs
        self.dropout = dropout
        self.freeze_encoders = freeze_encoders
        self.linear_skip = linear_skip
        self.class_weight = class_weight
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A few epochs of a tiny LSTM on scikit-learn's generic test data do not
        # reach the accuracy its checks ask of classifiers by default.
        tags.classifier_tags.poor_score = True
        return tags

    @_fit_context(prefer_skip_nested_validation=False)  # validates pretraining=encoder
    def fit(self, X, y, sample_weight=None, *, X_unlabeled=None):
        """Pretrain (unless ``pretraining=None``), stack and fine-tune on the labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels]) or list of arrays
            Training sequences; a list of ``(length, channels)`` arrays for
            sequences of different lengths.
        y : array-like of shape (n_samples,)
            Class labels (any hashable values: strings, ints).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence in every loss (pretraining and
            fine-tuning); ``class_weight`` multiplies it in fine-tuning.
        X_unlabeled : array-like of shape (n_unlabeled, timesteps[, channels]) or \
                list of arrays, default=None
            More sequences, without labels, shaped like ``X``: pretrained on
            together with ``X`` (each weighs 1); fine-tuning reads ``X`` only.
            Ignored, with a warning, when nothing is pretrained. In a
            ``Pipeline`` or a search, route it with
            ``set_fit_request(X_unlabeled=True)``.

        Returns
        -------
        self : LSTMSAEClassifier
        """
        distribute.check_backend()
        self._forget_fit()
        encoder, fitted_encoder, hidden_units = self._composed_network()
        X = self._validate_windows(X, reset=True)
        codes = self._encode_labels(y, X)
        sample_weight = self._check_sample_weight(sample_weight, X)
        weight = self._fine_tuning_weight(codes, sample_weight)
        X_unlabeled = self._check_unlabeled(X_unlabeled, X, encoder)
        self._check_validation_split(len(X))
        if fitted_encoder:
            _check_encoder_windows(encoder, X)
        self.patch_size_ = self._resolve_patch_size(X.shape[1], fitted_encoder)
        settings = self._start_fit(X, codes, sample_weight, X_unlabeled)
        order, n_held = self._held_out_last(codes, settings)
        X, codes = X[order], codes[order]
        sample_weight = None if sample_weight is None else sample_weight[order]
        weight = None if weight is None else weight[order]
        X_pretrain, w_pretrain = _with_unlabeled(X, sample_weight, X_unlabeled)
        steps = self._valid_steps(X_pretrain)
        padded = steps is not None
        if encoder is not None and not fitted_encoder:
            self._check_pretraining_objective(encoder, X.shape[1], padded)
        timesteps, n_channels = X.shape[1:]
        with distribute.strategy_scope(self.strategy) as resolved:
            X_model, encoder_weights, history, padded, network = self._prepare_stack(
                encoder, X, X_pretrain, w_pretrain, steps, settings, padded)
            model = build_forecaster(
                timesteps, n_channels, hidden_units, (len(self.classes_),),
                dropout=self.dropout, activation=network.activation, masked=padded,
                cell=network.cell, output_activation="softmax",
                linear_skip=self.linear_skip is not None,
                patch_size=self.patch_size_, seed=settings.derive("build classifier"),
            )
            self._load_stack(model, encoder_weights)
            self.linear_skip_C_ = self._init_linear_skip(
                model, X_model, codes, weight, len(codes) - n_held, settings)
            history["finetune"] = self._train(
                model, X_model, codes.astype(np.float32), epochs=self.epochs,
                phase="fine-tuning", settings=settings, sample_weight=weight,
            )
        self._end_fit(settings)
        self.strategy_ = distribute.describe(resolved, self.strategy)
        self.hidden_units_ = tuple(hidden_units)
        self.timesteps_, self.n_channels_in_ = timesteps, n_channels
        self.variable_length_ = padded
        self.history_ = history
        self.model_ = model
        self._freeze_params(settings)
        self._init_predict_state()
        return self

    def predict_proba(self, X):
        """Probability of each class for each sequence.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels]) or list of arrays
            Sequences shaped like the training ones (shorter ones NaN-padded or
            as a list, for a classifier fitted on sequences of different
            lengths).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float64
            Columns in the order of ``classes_``; each row sums to 1.
        """
        check_is_fitted(self)
        X = self._validate_windows(X, reset=False)
        proba = self._predict(self.model_, self._scale_inputs(X))
        return proba / proba.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels]) or list of arrays
            Sequences shaped like the training ones.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class of each sequence.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels]) or list of arrays
            Sequences shaped like the training ones.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Values of ``classes_``.
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    # -- fit's steps ---------------------------------------------------------

    def _encode_labels(self, y, X):
        """Check ``y`` against ``X``; set ``classes_``; return the label codes 0 … k-1."""
        self.classes_, codes = encode_labels(y, X, type(self).__name__)
        return codes

    def _fine_tuning_weight(self, codes, sample_weight):
        """``sample_weight`` times ``class_weight`` (``None`` when both are)."""
        return class_sample_weight(self.class_weight, self.classes_, codes, sample_weight)

    def _held_out_last(self, codes, settings):
        """An order of the labeled windows, early stopping's stratified part last; its size."""
        return stratified_held_out_last(codes, settings.validation_fraction,
                                        settings.derive("validation windows"))

    def _init_linear_skip(self, model, X_model, codes, weight, n_fit, settings):
        """``linear_skip="logistic"``: start as a logistic regression; its ``C`` (or ``None``).

        It reads the first ``n_fit`` sequences, those fine-tuning trains on (early
        stopping's held-out part is last).
        """
        if self.linear_skip != "logistic":
            return None
        return logistic_start(model, X_model, codes, len(self.classes_), weight, stop=n_fit,
                              seed=settings.derive("logistic start"))

    def _loss_name(self):
        return "sparse_categorical_crossentropy"

    # -- persistence and export ---------------------------------------------

    def _fitted_state(self):
        return {**super()._fitted_state(), "classes_": self.classes_.tolist(),
                "patch_size_": self.patch_size_, "linear_skip_C_": self.linear_skip_C_}

    def _restore_fitted(self, state, models):
        super()._restore_fitted(state, models)
        self.classes_ = np.asarray(state["classes_"])
        self.patch_size_ = int(state.get("patch_size_", 1))  # saved before patches: 1
        self.linear_skip_C_ = state.get("linear_skip_C_")  # saved before the skip: None

    def __setstate__(self, state):
        # Pickled before patches and the skip: a network reading step by step, no skip.
        state = {"patch_size": 1, "linear_skip": None, **state}
        if "model_" in state:
            state.setdefault("patch_size_", 1)
            state.setdefault("linear_skip_C_", None)
        super().__setstate__(state)

    def _serving_model(self):
        """What ``export`` writes: raw windows to class probabilities."""
        return serving_model(
            self.model_, input_stats=(self.input_mean_, self.input_scale_),
            padded=self.variable_length_, name="classifier_serving",
        )
