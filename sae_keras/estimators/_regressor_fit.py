"""The steps of :meth:`LSTMSAERegressor.fit <sae_keras.LSTMSAERegressor.fit>`: checks of
``y`` and ``X_unlabeled``, the ridge start of the linear skip, target
scaling, ``warm_start``; and the fitted state that ``save`` writes and ``load`` restores."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import FLOAT_DTYPES, check_array, validate_data

from ..nn import distribute
from ._base import _as_array, _as_list
from ._linear_start import padding_as_zeros, start_as_linear
from ..forecasting._linear import ridge_skip
from ..forecasting._scaling import column_stats, fit_stats, series_column_stats
from ..data._validation import (
    array_shape, named_errors, pad_sequences, reject_non_numeric, warn_unusual_windows,
    window_shape,
)
from ..data._split import time_split


class _RegressorFitSteps:
    """Mixin of :class:`~sae_keras.LSTMSAERegressor`: what its ``fit`` calls, and its state."""

    def _init_linear_skip(self, model, inputs, target, sample_weight, settings):
        """Set up the ``linear_skip`` layer; return the ridge penalty (or ``None``)."""
        if self.linear_skip != "ridge":
            return None
        # Fitted on the windows fine-tuning trains on (not early stopping's validation
        # windows); its penalty chosen on the most recent validation_fraction of those
        # (when that holds at least 10), with or without early stopping.
        n_fit = len(target)
        if settings.held_out is not None:
            n_fit -= settings.held_out + settings.gap
        elif settings.validation_fraction > 0:
            n_fit = time_split(settings.validation_fraction, n_fit, settings.gap)[0]
        X_model, *covariates = inputs if isinstance(inputs, tuple) else (inputs,)
        X_model = padding_as_zeros(X_model)
        window_width = int(np.prod(X_model.shape[1:]))
        if covariates:
            X_model = (X_model, *covariates)
        kernel, bias, alpha = ridge_skip(X_model, target, sample_weight, self.validation_fraction,
                                         gap=settings.gap, stop=n_fit)
        # Behind ``patches`` the skip reads the window completed with zeros to whole
        # patches: those values get no weight.
        extra = model.get_layer("linear_skip").kernel.shape[0] - kernel.shape[0]
        kernel = np.insert(kernel, [window_width] * extra, 0.0, axis=0)
        # The network starts as the ridge regression; the LSTMs learn what it misses.
        start_as_linear(model, kernel, bias)
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

    def _fit_target_scaling(self, y, codes=None):
        """Learn the target statistics (``scaling="standard"``); return y as the model sees it.

        ``codes``: the series of each window, each learning its own.
        """
        stats = column_stats if codes is None else (
            lambda data: series_column_stats(data, codes, len(self.series_)))
        self.target_mean_, self.target_scale_ = fit_stats(self.scaling, stats, y)
        if codes is not None and self.target_mean_ is not None:
            # Series seen in X_unlabeled only: no target statistics to forecast in.
            unlabeled_only = np.bincount(codes, minlength=len(self.series_)) == 0
            self.target_mean_[unlabeled_only] = np.nan
        return self._scale_targets(y, codes)

    def _target_stats(self, codes=None):
        """The target's mean and scale, of each window's series when learned per series."""
        mean, scale = self.target_mean_, self.target_scale_
        if mean is not None and getattr(self, "series_", None) is not None:
            mean, scale = mean[codes], scale[codes]
            unknown = np.isnan(mean.reshape(len(mean), -1)).any(axis=1)
            if unknown.any():
                names = sorted({str(name) for name in self.series_[codes[unknown]]})
                raise ValueError(
                    f"series {names[:10]} had no labeled windows at fit (only unlabeled "
                    "ones): their targets' statistics are unknown. Refit with labeled "
                    "windows of these series."
                )
        return mean, scale

    def _scale_targets(self, y, codes=None):
        """``y`` as the model is trained on it: scaled, float32, one-step ``y`` as a column."""
        mean, scale = self._target_stats(codes)
        if mean is not None:
            y = (y - mean) / scale
        y = np.asarray(y, dtype=np.float32)
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _fitted_state(self):
        return {
            **super()._fitted_state(),
            "output_shape_": list(self.output_shape_),
            "target_mean_": _as_list(self.target_mean_),
            "target_scale_": _as_list(self.target_scale_),
            "linear_skip_alpha_": self.linear_skip_alpha_,
            "patch_size_": self.patch_size_,
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
        # Pickled before patches: a network reading step by step.
        state = {"patch_size": 1, **state}
        if "model_" in state:
            state.setdefault("patch_size_", 1)
        super().__setstate__(state)
        if "model_" in state and "dropout_seed_" not in state:  # pickled before it was fixed
            self.dropout_seed_ = _legacy_dropout_seed(self.random_state)

    def _restore_fitted(self, state, models):
        super()._restore_fitted(state, models)
        self.output_shape_ = tuple(state["output_shape_"])
        self.target_mean_ = _as_array(state["target_mean_"])
        self.target_scale_ = _as_array(state["target_scale_"])
        self.linear_skip_alpha_ = state["linear_skip_alpha_"]
        self.patch_size_ = int(state.get("patch_size_", 1))  # saved before patches: 1
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
