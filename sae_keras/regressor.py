"""``LSTMSAERegressor``: pretrain, stack, fine-tune and forecast."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import FLOAT_DTYPES, check_is_fitted, validate_data

from . import distribute
from ._base import _BaseLSTMSAE
from ._validation import array_shape, reject_non_numeric
from .builders import build_forecaster, load_encoder_weights


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
    hidden_units : int or sequence of int, default=(64, 32)
        Units of each stacked LSTM layer, bottom first.
    pretraining : {"input", "previous"} or None, default="input"
        Pretraining target of each autoencoder: ``"input"`` reconstructs the
        original window (the authors' recipe), ``"previous"`` its own input
        (the repeated codes of the layer below); ``None`` skips pretraining.
    pretrain_epochs : int or sequence of int, default=10
        Epochs of each autoencoder; one int for all layers or one per layer.
    epochs : int, default=20
        Epochs of fine-tuning.
    decoder_units : int, default=None
        Units of each pretraining decoder LSTM; ``None`` uses the number of
        reconstructed channels.
    dropout : float, default=0.2
        Dropout rate after each stacked LSTM during fine-tuning.
    freeze_encoders : bool, default=False
        Keep the pretrained encoders fixed and train only the head. Needs
        ``pretraining``.
    activation : {"tanh", "relu", "sigmoid", "softsign", "elu", "selu", "linear"}, \
            default="tanh"
        Activation of every LSTM. Anything but ``"tanh"`` leaves the cuDNN
        fast path on GPU.
    optimizer : {"adam", "adamw", "nadam", "rmsprop", "sgd"}, default="adam"
        Keras optimizer, a fresh one for each phase.
    learning_rate : float, default=1e-3
        Learning rate of the optimizer, in every phase.
    loss : {"mse", "mae", "huber"}, default="mse"
        Loss of every phase.
    batch_size : int, default=128
        Windows per gradient step.
    early_stopping : bool, default=False
        Hold out the last ``validation_fraction`` of the windows (the most
        recent ones, for time-ordered data) and stop each phase when its
        validation loss has not improved by ``tol`` for ``n_iter_no_change``
        epochs, keeping its best weights.
    validation_fraction : float, default=0.1
        Fraction held out when ``early_stopping`` is true.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=0.0
        Minimum improvement of the validation loss that counts.
    strategy : {"auto", "cpu", "gpu", "mirrored"} or callable, default="auto"
        Where to train; see :func:`sae_keras.distribute.resolve_strategy`.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout and shuffling (through
        ``keras.utils.set_random_seed``). An int makes fits repeatable on CPU.
    verbose : int, default=0
        0 silent; 1 names each phase and shows a Keras progress bar; 2 one line
        per epoch.
    callbacks : list of keras.callbacks.Callback, default=None
        Extra callbacks passed to every phase's training; each phase is one ``Model.fit``
        call (resumed fits start at ``initial_epoch``).
    checkpoint_dir : str or path-like, default=None
        If set, the training state is saved there after every epoch, and a
        ``fit`` on the same data with the same parameters that finds it resumes
        from the last finished epoch, ending with the same weights as an
        uninterrupted fit. The files are removed when ``fit`` succeeds. ``None``
        writes nothing anywhere.

    Attributes
    ----------
    model_ : keras.Model
        The fine-tuned forecaster.
    history_ : dict
        Loss curves per phase: ``"pretrain_1"`` ... ``"pretrain_L"`` (when
        pretrained) and ``"finetune"``, each ``{"loss": [...], ...}``.
    hidden_units_ : tuple of int
        The resolved layer sizes.
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
    ``predict`` returns the same shape. The network is not told about scale:
    scale inputs and targets (e.g. to [-1, 1]) for good results.

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

    _parameter_constraints: dict = {
        **_BaseLSTMSAE._parameter_constraints,
        "pretraining": [StrOptions({"input", "previous"}), None],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "freeze_encoders": ["boolean"],
    }

    def __init__(
        self,
        hidden_units=(64, 32),
        *,
        pretraining="input",
        pretrain_epochs=10,
        epochs=20,
        decoder_units=None,
        dropout=0.2,
        freeze_encoders=False,
        activation="tanh",
        optimizer="adam",
        learning_rate=1e-3,
        loss="mse",
        batch_size=128,
        early_stopping=False,
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
        self.pretrain_epochs = pretrain_epochs
        self.epochs = epochs
        self.decoder_units = decoder_units
        self.dropout = dropout
        self.freeze_encoders = freeze_encoders
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.loss = loss
        self.batch_size = batch_size
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
        tags.target_tags.multi_output = True
        # A few epochs of a tiny LSTM on scikit-learn's generic test data do not
        # reach the R² > 0.5 its checks ask of regressors by default.
        tags.regressor_tags.poor_score = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Pretrain (unless ``pretraining=None``), stack and fine-tune.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])
            Training windows.
        y : array-like of shape (n_samples,), (n_samples, horizon) or \
                (n_samples, horizon, n_targets)
            Targets of each window.

        Returns
        -------
        self : LSTMSAERegressor
        """
        distribute.check_backend()
        hidden_units = self._hidden_units()
        if self.pretraining is not None:
            self._pretrain_epochs(len(hidden_units))
        elif self.freeze_encoders:
            raise ValueError(
                "freeze_encoders=True needs pretrained encoders, but pretraining=None; "
                "set pretraining='input' or 'previous', or freeze_encoders=False."
            )
        X, y = self._validate_fit_data(X, y)
        self._check_validation_split(X.shape[0])
        timesteps, n_channels = X.shape[1:]
        output_shape = y.shape[1:]
        settings = self._start_fit(X, y)
        history = {}
        with distribute.strategy_scope(self.strategy):
            # Pretrain first, so that the autoencoders draw the same random
            # numbers as LSTMSAEEncoder's with the same random_state.
            stack = (
                self._pretrain(X, hidden_units, self.pretraining, settings)
                if self.pretraining is not None
                else None
            )
            model = build_forecaster(
                timesteps,
                n_channels,
                hidden_units,
                output_shape or (1,),
                dropout=self.dropout,
                activation=self.activation,
            )
            if stack is not None:
                load_encoder_weights(model, stack.encoder_weights)
                history.update(stack.history)
                for index in range(1, len(hidden_units) + 1):
                    model.get_layer(f"encoder_{index}").trainable = not self.freeze_encoders
            target = y.reshape(-1, 1) if not output_shape else y
            history["finetune"] = self._train(
                model, X, target, epochs=self.epochs, phase="fine-tuning", settings=settings
            )
        self._end_fit(settings)
        self.hidden_units_ = hidden_units
        self.timesteps_, self.n_channels_in_ = timesteps, n_channels
        self.output_shape_ = output_shape
        self.history_ = history
        self.model_ = model
        self._init_predict_state()
        return self

    def predict(self, X):
        """Forecast for windows ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])
            Windows shaped like the training windows.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) + output_shape_, float64
        """
        check_is_fitted(self)
        X = self._validate_windows(X, reset=False)
        y_pred = self._predict(self.model_, X)
        return y_pred.reshape((X.shape[0],) + self.output_shape_)

    def score(self, X, y, sample_weight=None):
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

        Returns
        -------
        score : float
        """
        y_pred = self.predict(X)
        y_true = np.asarray(y, dtype=np.float64)
        n_samples = y_pred.shape[0]
        return r2_score(
            y_true.reshape(n_samples, -1),
            y_pred.reshape(n_samples, -1),
            sample_weight=sample_weight,
        )

    def _fitted_state(self):
        return {**super()._fitted_state(), "output_shape_": list(self.output_shape_)}

    def _restore_fitted(self, state, models):
        super()._restore_fitted(state, models)
        self.output_shape_ = tuple(state["output_shape_"])

    def _validate_fit_data(self, X, y):
        self._check_not_1d(X)
        if y is None:
            validate_data(self, X, y)  # raises scikit-learn's "requires y" error
        reject_non_numeric(y, "y")
        y_shape = array_shape(y)
        if len(y_shape) not in (1, 2, 3):
            raise ValueError(
                "y must be (n_samples,), (n_samples, horizon) or (n_samples, horizon, "
                f"n_targets); got an array of shape {y_shape}."
            )
        # scikit-learn checks targets up to 2-D: check a 3-D y as (n, horizon * n_targets).
        y_2d = np.asarray(y).reshape(y_shape[0], -1) if len(y_shape) == 3 else y
        X, y_2d = validate_data(
            self, X, y_2d, reset=True, allow_nd=True, dtype=FLOAT_DTYPES,
            multi_output=True, y_numeric=True,
        )
        y = np.reshape(y_2d, y_shape) if len(y_shape) == 3 else y_2d
        return self._as_3d(X), np.asarray(y, dtype=np.float32)
