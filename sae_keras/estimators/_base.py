"""Private base class: parameters, persistence and the training loop shared by
:class:`~sae_keras.LSTMSAEEncoder` and :class:`~sae_keras.LSTMSAERegressor` (their
input checks: :mod:`sae_keras.estimators._checks`)."""

from __future__ import annotations

import os
import threading
from numbers import Integral, Real

import keras
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ..nn import distribute
from ._checks import _WindowChecks
from ._series import _PerSeries
from ..training._checkpoint import Checkpoint, fingerprint
from ..nn._inference import CompiledForward
from ..forecasting._scaling import channel_stats, fit_stats, scale_windows, series_channel_stats
from ..data._split import time_split
from ..training._loop import PhaseSettings, train_phase
from ..io._params import _saved_params
from ..io._zip import load_estimator, save_estimator
from ..nn.builders import CELLS, PAD_VALUE

_OPTIMIZERS = {
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "nadam": keras.optimizers.Nadam,
    "rmsprop": keras.optimizers.RMSprop,
    "sgd": keras.optimizers.SGD,
}
#: Losses by parameter value (``loss=``), as Keras names them.
LOSSES = {"mse": "mean_squared_error", "mae": "mean_absolute_error", "huber": "huber"}
_ACTIVATIONS = {"tanh", "relu", "sigmoid", "softsign", "elu", "selu", "linear"}


#: ``early_stopping="auto"`` turns early stopping on from this many windows
#: (with the default ``validation_fraction=0.1``, 10 validation windows).
_AUTO_EARLY_STOPPING_MIN_SAMPLES = 100


def _as_list(values):
    return None if values is None else np.asarray(values, dtype=np.float64).tolist()


def _as_array(values):
    return None if values is None else np.asarray(values, dtype=np.float64)


def _plain(value):
    """A parameter's value as plain JSON (NumPy scalars become Python ones)."""
    return value.item() if isinstance(value, np.generic) else value


class _BaseLSTMSAE(_PerSeries, _WindowChecks, BaseEstimator):
    """Shared machinery; not part of the public API."""

    _parameter_constraints: dict = {
        "hidden_units": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "cell": [StrOptions(set(CELLS))],
        "activation": [StrOptions(_ACTIVATIONS)],
        "optimizer": [StrOptions(set(_OPTIMIZERS))],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "scaling": [StrOptions({"standard"}), None],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "strategy": [StrOptions(set(distribute.STRATEGY_NAMES)), callable],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
        "checkpoint_dir": [str, os.PathLike, None],
    }

    #: Parameters that predict-time methods depend on, frozen by ``fit`` as the
    #: fitted attributes ``<name>_`` (saved with the model): ``set_params``
    #: after ``fit`` changes the next fit, never what the fitted one returns.
    _frozen_params = ("batch_size",)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    def _freeze_params(self, settings):
        """Copy the parameters predict-time methods read to their fitted attributes.

        ``settings``: the fit's :class:`~sae_keras.training._loop.PhaseSettings`.
        """
        for name in self._frozen_params:
            setattr(self, f"{name}_", _plain(getattr(self, name)))

    def __sklearn_is_fitted__(self):
        # Fitted only once training has succeeded (``model_`` is set last);
        # ``n_features_in_`` alone (set while validating) does not count.
        return hasattr(self, "model_")

    def _forget_fit(self):
        """Drop a previous fit's network as a new fit starts.

        A refit that fails (bad input, a diverging loss, an interrupt) then
        leaves the estimator unfitted, never a previous network beside this
        fit's classes, scaling or patches.
        """
        if hasattr(self, "model_"):
            del self.model_

    # -- persistence --------------------------------------------------------

    def save(self, path):
        """Save the fitted estimator to one zip file of ``.keras`` models and JSON.

        See :mod:`sae_keras.io._zip` for the format; ``callbacks`` and the
        machine-local ``memory`` and ``checkpoint_dir`` are not saved. The file
        is written under a temporary name and renamed into place, so a failed
        save leaves a previous file intact. Pickle works too, and keeps everything.

        Parameters
        ----------
        path : str or path-like
            File to write.

        Returns
        -------
        path : pathlib.Path
        """
        return save_estimator(self, path)

    @classmethod
    def load(cls, path):
        """Load an estimator saved with :meth:`save`.

        Loading runs no code from the file (Keras ``safe_mode``, a fixed list of
        classes) and turns no string from it into a path. ``memory`` and
        ``checkpoint_dir`` load as ``None``; ``callbacks`` as ``None``.

        Parameters
        ----------
        path : str or path-like
            File written by :meth:`save`.

        Returns
        -------
        estimator : fitted instance of this class

        Raises
        ------
        ValueError
            If the file is malformed, hostile or from a newer format version
            (see :func:`sae_keras.io._zip.load_estimator`).
        TypeError
            If it holds another class.
        """
        estimator = load_estimator(path)
        if not isinstance(estimator, cls):
            raise TypeError(f"{path} holds a {type(estimator).__name__}, not a {cls.__name__}.")
        return estimator

    def _fitted_state(self):
        """Fitted attributes other than Keras models, as plain JSON values."""
        state = {
            "hidden_units_": list(self.hidden_units_),
            "timesteps_": int(self.timesteps_),
            "n_channels_in_": int(self.n_channels_in_),
            "n_features_in_": int(self.n_features_in_),
            "history_": self.history_,
            "input_mean_": _as_list(self.input_mean_),
            "input_scale_": _as_list(self.input_scale_),
            "variable_length_": bool(self.variable_length_),
            "strategy_": self.strategy_,
            "series_": None if getattr(self, "series_", None) is None else self.series_.tolist(),
            **{f"{name}_": getattr(self, f"{name}_") for name in self._frozen_params},
        }
        if hasattr(self, "feature_names_in_"):
            state["feature_names_in_"] = [str(name) for name in self.feature_names_in_]
        return state

    def _fitted_models(self):
        return {"model_": self.model_}

    def _saved_model_names(self, state):
        """The names ``_fitted_models`` gives, for fitted state ``state`` (loading checks them)."""
        return ["model_"]

    def _restore_fitted(self, state, models):
        self.hidden_units_ = tuple(state["hidden_units_"])
        self.timesteps_ = state["timesteps_"]
        self.n_channels_in_ = state["n_channels_in_"]
        self.n_features_in_ = state["n_features_in_"]
        self.history_ = state["history_"]
        self.input_mean_ = _as_array(state["input_mean_"])
        self.input_scale_ = _as_array(state["input_scale_"])
        self.variable_length_ = state.get("variable_length_", False)  # format v1 before it
        self.strategy_ = state.get("strategy_")
        series = state.get("series_")  # files written before series: none
        self.series_ = None if series is None else np.asarray(series)
        for name in self._frozen_params:
            # Files written before they were frozen: the saved parameters, as read then.
            setattr(self, f"{name}_", state.get(f"{name}_", _plain(getattr(self, name))))
        if "feature_names_in_" in state:
            self.feature_names_in_ = np.asarray(state["feature_names_in_"], dtype=object)
        self.model_ = models["model_"]
        self._init_predict_state()

    # -- parameters ---------------------------------------------------------

    def _hidden_units(self):
        units = (
            (self.hidden_units,)
            if isinstance(self.hidden_units, Integral)
            else tuple(np.ravel(np.asarray(self.hidden_units, dtype=object)))
        )
        if not units or not all(
            isinstance(u, Integral) and not isinstance(u, bool) and u >= 1 for u in units
        ):
            raise ValueError(
                "hidden_units must be a positive int or a non-empty sequence of positive "
                f"ints (one per stacked layer); got {self.hidden_units!r}."
            )
        return tuple(int(u) for u in units)

    def _early_stopping_active(self, n_samples):
        """Whether early stopping is on for a fit on ``n_samples`` windows."""
        if self.early_stopping == "auto":
            return n_samples >= _AUTO_EARLY_STOPPING_MIN_SAMPLES
        return bool(self.early_stopping)

    def _check_validation_split(self, n_samples, gap=0):
        """Refuse, before training, too few windows for early stopping's split (and its gap)."""
        if not self._early_stopping_active(n_samples):
            return
        time_split(self.validation_fraction, n_samples, gap, name="validation_fraction")

    # -- scaling ------------------------------------------------------------

    def _fit_input_scaling(self, X, stats_on=None, padded=False, codes=None, stats_codes=None):
        """Learn the input statistics (``scaling="standard"``); return X as the models see it.

        ``stats_on``: the windows to learn them on, when not ``X`` (``X`` and
        unlabeled windows). ``padded``: ``X`` holds NaN-padded windows.
        ``codes`` (and ``stats_codes``, of ``stats_on``): the series of each
        window, whose own statistics standardise it (``series_`` set).
        """
        data = X if stats_on is None else stats_on
        if codes is None:
            self.input_mean_, self.input_scale_ = fit_stats(self.scaling, channel_stats, data)
        else:
            data_codes = codes if stats_on is None else stats_codes
            self.input_mean_, self.input_scale_ = fit_stats(
                self.scaling, lambda d: series_channel_stats(d, data_codes, len(self.series_)),
                data)
        return self._scale_inputs(X, padded, codes)

    def _scale_inputs(self, X, padded=None, codes=None):
        """``X`` as the models read it; padding (NaN) becomes ``PAD_VALUE`` for their mask.

        ``padded=None``: as the fitted estimator (``variable_length_``).
        ``codes``: the series of each window, for statistics learned per series.
        """
        if padded is None:
            padded = self.variable_length_
        mean, scale = self.input_mean_, self.input_scale_
        if mean is not None and np.ndim(mean) == 2:  # one row per series
            mean, scale = mean[codes], scale[codes]
        return scale_windows(X, mean, scale, fill=PAD_VALUE if padded else None)

    # -- training -----------------------------------------------------------

    def _start_fit(self, X, y=None, sample_weight=None, *more):
        """Seed the fit and open its checkpoint: the settings every phase trains with.

        ``more``: other arrays the fit reads (unlabeled windows, covariates), for
        the checkpoint's identity.
        """
        # Every random part of the fit is seeded from this one seed (PhaseSettings.derive).
        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        checkpoint = None
        if self.checkpoint_dir is not None:
            params = _saved_params(self)
            for name in ("verbose", "checkpoint_dir", "memory"):
                params.pop(name, None)
            checkpoint = Checkpoint(
                self.checkpoint_dir, fingerprint(params, X, y, sample_weight, *more)
            )
            if checkpoint.seed is None:
                checkpoint.set_seed(seed)
            seed = checkpoint.seed  # an interrupted fit resumes with its own seed
        settings = PhaseSettings(
            seed=seed,
            batch_size=self.batch_size,
            validation_fraction=(
                self.validation_fraction if self._early_stopping_active(len(X)) else 0.0
            ),
            n_iter_no_change=self.n_iter_no_change,
            tol=self.tol,
            callbacks=self.callbacks or [],
            verbose=int(self.verbose),
            owner=type(self).__name__,
            checkpoint=checkpoint,
        )
        return settings

    @staticmethod
    def _end_fit(settings):
        if settings.checkpoint is not None:
            settings.checkpoint.clear()

    def _train(self, model, x, y, *, epochs, phase, settings, sample_weight=None,
               loss_weights=None):
        """Compile and train one model; return its loss curves as plain lists.

        ``loss_weights`` weighs the losses of a model with several outputs.
        """
        settings.shard = distribute.process_shard()
        if settings.shard is not None and self.batch_size % settings.shard[1]:
            raise ValueError(
                f"batch_size={self.batch_size} is the global batch of "
                f"{settings.shard[1]} workers (strategy='multi_worker'), each feeding an "
                "equal share: make it a multiple of the number of workers."
            )
        loss = self._loss_name()
        model.compile(
            optimizer=_OPTIMIZERS[self.optimizer](learning_rate=self.learning_rate),
            loss=loss if loss_weights is None else [loss] * len(loss_weights),
            loss_weights=loss_weights,
        )
        return train_phase(
            model, x, y, epochs=epochs, phase=phase, settings=settings,
            sample_weight=sample_weight,
        )

    def _loss_name(self):
        """The Keras loss every phase of this estimator trains with."""
        return LOSSES[self.loss]

    def _predict(self, model, x, run=None, training=False):
        """``model`` on windows ``x`` in float64, through its cached compiled forward pass.

        ``run(forward)``, when given, is called with the compiled forward pass
        (in training mode if ``training``) instead of applying it to ``x`` once,
        under the same lock; its result is returned as is.
        """
        # One call at a time per estimator: the cache is filled lazily, and calls
        # from several threads must give what serial calls give.
        with self._predict_lock:
            key = (model.name, training)
            forward = self._compiled.get(key)
            if forward is None:
                forward = CompiledForward(model, max(self.batch_size_, 1024), training=training)
                self._compiled[key] = forward
            if run is not None:
                return run(forward)
            return forward(x).astype(np.float64)

    def _init_predict_state(self):
        self._predict_lock = threading.Lock()
        # Filled on first use: compiled functions hold live backend objects.
        self._compiled = {}

    def __getstate__(self):
        # A copy: for classes outside sklearn, BaseEstimator returns __dict__ itself.
        state = dict(super().__getstate__())
        # Locks and compiled functions do not pickle; both are rebuilt on load.
        state.pop("_predict_lock", None)
        state.pop("_compiled", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "model_" in state:
            for name in self._frozen_params:  # pickled before they were frozen
                if f"{name}_" not in state:
                    setattr(self, f"{name}_", _plain(getattr(self, name)))
            self._init_predict_state()
