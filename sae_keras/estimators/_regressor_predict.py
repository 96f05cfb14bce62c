"""What a fitted :class:`~sae_keras.LSTMSAERegressor` answers: ``predict`` (and its
Monte-Carlo dropout spread), ``score``, ``predict_interval``, ``predict_recursive``,
and the covariates they read."""

from __future__ import annotations

from numbers import Integral, Real

import keras
import numpy as np
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..forecasting._scaling import unscale
from ..forecasting._covariates import check_covariates, check_fitted_shapes, scale_covariates
from ..forecasting._recursive import recursive_forecast
from ..forecasting._intervals import (
    conformal_half_width, gaussian_half_width, lead_times, local_scale, mc_dropout_std,
    normalized_half_width, warn_if_no_spread,
)
from ..nn._serving import serving_model


class _RegressorForecasts:
    """Mixin of :class:`~sae_keras.LSTMSAERegressor`: its predict-time methods."""

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

    def predict(self, X, *, series=None, static_covariates=None, future_covariates=None,
                return_std=False, n_passes=100):
        """Forecast for windows ``X``, optionally with a Monte-Carlo dropout spread.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])
            Windows shaped like the training windows.
        series : array-like of shape (n_samples,), default=None
            The series of each window, required exactly when ``fit`` had
            ``series``; each must have been seen at fit (its statistics
            standardise its windows and its forecasts come back in its units).
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
        >>> reg = LSTMSAERegressor((8,), pretraining=None, epochs=2,
        ...                        random_state=0).fit(X, series[12:392])
        >>> y_pred, y_std = reg.predict(X[:3], return_std=True, n_passes=20)
        >>> y_std.shape
        (3,)
        """
        check_is_fitted(self)
        X = self._validate_windows(X, reset=False)
        codes = self._series_codes(series, len(X))
        static, future = self._check_predict_covariates(X, static_covariates, future_covariates)
        y_pred = self._forecast(X, static, future, codes)
        if not return_std:
            return y_pred
        self._refuse_per_series("predict(return_std=True)")
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
        >>> reg = LSTMSAERegressor((8,), pretraining=None, epochs=2, calibration_fraction=0.2,
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
        self._refuse_per_series("predict_interval")
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

    def predict_recursive(self, X, steps, target_channel=0, change=False, *, series=None,
                          static_covariates=None):
        """Forecast past the trained horizon by feeding forecasts back into the window.

        The regressor forecasts its ``h`` trained steps (``h = 1`` for a
        one-step ``y``), the forecasts are appended to each window as new rows
        of channel ``target_channel`` (the other channels repeat their last
        observed value: they are not forecast), and again, until ``steps``
        are forecast. Errors compound: each round reads the previous rounds'
        forecasts as if observed, and the unforecast channels stand still;
        the direct multi-step head (``y`` of shape ``(n, horizon)``) avoids
        both but forecasts only the horizon it was trained on. The guide
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
        series : array-like of shape (n_samples,), default=None
            As for :meth:`predict`; the same for every round.
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
        >>> reg = LSTMSAERegressor(4, pretraining=None, epochs=1).fit(X, y)
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
        codes = self._series_codes(series, len(X))
        static, _ = self._check_predict_covariates(X, static_covariates, None)
        return recursive_forecast(
            lambda windows: self._forecast(windows, static, None, codes), X, steps,
            target_channel, change,
        )

    def _forecast(self, X, static=None, future=None, codes=None):
        """Forecasts in the target's units for validated windows ``X`` (and covariates).

        ``codes``: the series of each window, when fitted with ``series``.
        """
        inputs = self._model_inputs(self._scale_inputs(X, codes=codes), static, future)
        y_pred = self._predict(self.model_, inputs).reshape((X.shape[0],) + self.output_shape_)
        return unscale(y_pred, *self._target_stats(codes))

    def _refuse_per_series(self, what):
        if getattr(self, "series_", None) is not None:
            raise ValueError(
                f"{what} is not available for a regressor fitted with series= yet (its "
                "statistics are per series); refit without series= to use it."
            )

    def _serving_model(self):
        """What ``export`` writes: raw windows (and covariates) to forecasts in units."""
        self._refuse_per_series("export")
        stats = getattr(self, "covariate_stats_", (None, None))  # older pickles: none
        covariates = [stat for stat, seen in zip(stats, self._covariates_seen()) if seen]
        return serving_model(
            self.model_, input_stats=(self.input_mean_, self.input_scale_),
            padded=self.variable_length_, covariate_stats=covariates,
            output_shape=self.output_shape_,
            output_stats=(self.target_mean_, self.target_scale_), name="forecaster_serving",
        )

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

    def score(self, X, y, sample_weight=None, *, series=None, static_covariates=None,
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
        series : array-like of shape (n_samples,), default=None
            As for :meth:`predict`.
        static_covariates, future_covariates : array-like, default=None
            As for :meth:`predict`.

        Returns
        -------
        score : float
        """
        y_pred = self.predict(X, series=series, static_covariates=static_covariates,
                              future_covariates=future_covariates)
        y_true = np.asarray(y, dtype=np.float64)
        n_samples = y_pred.shape[0]
        return r2_score(
            y_true.reshape(n_samples, -1),
            y_pred.reshape(n_samples, -1),
            sample_weight=sample_weight,
        )
