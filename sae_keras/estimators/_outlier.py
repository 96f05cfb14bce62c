"""``LSTMSAEOutlierDetector``: anomalous windows from the stack's reconstruction error."""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context, clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import FLOAT_DTYPES, check_is_fitted, validate_data

from ..data._validation import as_3d_windows, pad_sequences, reject_non_numeric

#: ``contamination="auto"``: a window is an outlier when its reconstruction
#: error lies this many robust standard deviations (1.4826 × the median absolute
#: deviation) above the median error of the training windows.
AUTO_THRESHOLD_SIGMAS = 3.0

#: ``window_normalization="standardize"``: a window's own standard deviation is
#: floored at this fraction of the median one of the training windows (per
#: channel), so a flat window is not blown up into noise.
WINDOW_SCALE_FLOOR = 0.01


class LSTMSAEOutlierDetector(OutlierMixin, BaseEstimator):
    """Outlier detection on windows with a greedily pretrained LSTM autoencoder stack.

    ``fit`` pretrains an :class:`LSTMSAEEncoder` on (mostly normal) windows and
    sets a threshold on their reconstruction errors; windows the stack
    reconstructs much worse than those are outliers. It follows scikit-learn's
    outlier detectors (``IsolationForest``, ``LocalOutlierFactor``):
    ``predict`` gives +1 for inliers and -1 for outliers, ``score_samples`` is
    higher for more normal windows, ``decision_function`` is
    ``score_samples - offset_`` (negative for outliers).

    Parameters
    ----------
    encoder : LSTMSAEEncoder or FrozenEstimator, default=None
        The autoencoder stack to train (cloned in ``fit``, its parameters
        validated before training); ``None``: ``LSTMSAEEncoder()``. Tune it
        through ``encoder__<param>``. ``sklearn.frozen.FrozenEstimator(
        fitted_encoder)``: a stack fitted before, kept through ``clone`` and
        searches and never refitted; ``fit`` then only sets the threshold on
        ``X`` (``random_state`` and ``sample_weight`` play no part).
    contamination : "auto" or float in (0, 0.5], default="auto"
        Expected fraction of outliers among the training windows: the
        threshold is that quantile of their scores. ``"auto"``: the median
        training error plus ``AUTO_THRESHOLD_SIGMAS`` (3) robust standard
        deviations (1.4826 × the median absolute deviation) of the errors.
    random_state : int, RandomState instance or None, default=None
        Passed to the encoder when not ``None``.
    window_normalization : {None, "standardize", "difference"}, default=None
        What the stack reconstructs, in ``fit`` and in scoring. ``None``: the
        windows as given. ``"standardize"``: each window minus its own mean,
        divided by its own standard deviation, per channel (floored at
        ``WINDOW_SCALE_FLOOR`` times the median one of the training windows).
        ``"difference"``: each window's step-to-step changes (one step
        fewer). Use either on a trending or drifting series, where new highs
        are normal and an outlier is a window of unusual shape: without it, a
        series that leaves the training range is flagged throughout.
        ``"standardize"`` keeps the shape and ignores level and amplitude;
        ``"difference"`` keeps the size of changes and ignores the level. Keep
        ``None`` when the level itself can be the anomaly (a stuck or shifted
        sensor at an unusual value).

    Attributes
    ----------
    encoder_ : LSTMSAEEncoder
        The fitted stack; ``encoder_.reconstruction_error(X, per="step")`` or
        ``per="channel"`` tells when and where a window goes wrong.
    offset_ : float
        Threshold on ``score_samples``: ``decision_function = score_samples - offset_``.
    window_normalization_ : None or str
        ``window_normalization`` as fitted; scoring normalises windows so.
    window_scale_floor_ : ndarray of shape (channels,) or None
        The floor of a window's standard deviation (``"standardize"`` only).
    n_features_in_ : int
        Window length (scikit-learn's second axis).

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras import LSTMSAEEncoder, LSTMSAEOutlierDetector
    >>> t = np.arange(200 + 12)
    >>> X = np.stack([np.sin(t[i:i + 12] / 3) for i in range(200)])
    >>> X[5, 6] += 3.0  # a spike
    >>> detector = LSTMSAEOutlierDetector(
    ...     LSTMSAEEncoder((8,), pretrain_epochs=5), contamination=0.01, random_state=0
    ... ).fit(X)
    >>> detector.predict(X).shape
    (200,)
    """

    _parameter_constraints = {
        "encoder": [HasMethods(["fit", "score_samples"]), None],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "random_state": ["random_state"],
        "window_normalization": [StrOptions({"standardize", "difference"}), None],
    }

    def __init__(self, encoder=None, *, contamination="auto", random_state=None,
                 window_normalization=None):
        self.encoder = encoder
        self.contamination = contamination
        self.random_state = random_state
        self.window_normalization = window_normalization

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, sample_weight=None):
        """Pretrain the stack on ``X`` and set the threshold on its scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])
            Training windows, mostly normal.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each window in the reconstruction losses (not in the
            threshold).

        Returns
        -------
        self : LSTMSAEOutlierDetector
        """
        self.window_normalization_ = self.window_normalization
        self.window_scale_floor_ = None
        X = self._normalized(X, reset=True)
        if isinstance(self.encoder, FrozenEstimator):
            self.encoder_ = self._frozen_encoder(sample_weight)
        else:
            if self.encoder is None:
                from ._encoder import LSTMSAEEncoder

                encoder = LSTMSAEEncoder()
            else:
                encoder = clone(self.encoder)
            if self.random_state is not None:
                encoder.set_params(random_state=self.random_state)
            self.encoder_ = encoder.fit(X, sample_weight=sample_weight)
        if self.window_normalization_ is None:
            self.n_features_in_ = self.encoder_.n_features_in_
            if hasattr(self.encoder_, "feature_names_in_"):
                self.feature_names_in_ = self.encoder_.feature_names_in_
        scores = self.encoder_.score_samples(X)
        if self.contamination == "auto":
            errors = -scores
            median = np.median(errors)
            spread = 1.4826 * np.median(np.abs(errors - median))
            self.offset_ = float(-(median + AUTO_THRESHOLD_SIGMAS * spread))
        else:
            self.offset_ = float(np.percentile(scores, 100.0 * self.contamination))
        return self

    def _frozen_encoder(self, sample_weight):
        """The fitted encoder inside ``encoder=FrozenEstimator(...)``, used as it is."""
        encoder = self.encoder.estimator
        if not hasattr(encoder, "score_samples") or not hasattr(encoder, "model_"):
            raise ValueError(
                "encoder=FrozenEstimator(...) needs a fitted LSTMSAEEncoder (a frozen one "
                f"is never fitted here); got a FrozenEstimator of an unfitted "
                f"{type(encoder).__name__}. Fit it first, or pass the encoder itself."
            )
        if sample_weight is not None:
            warnings.warn("sample_weight is ignored: the frozen encoder is not trained "
                          "again, and the threshold is not weighted.", UserWarning,
                          stacklevel=3)
        return encoder

    def score_samples(self, X):
        """Minus the mean squared reconstruction error of each window (higher: more normal).

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.encoder_.score_samples(self._normalized(X, reset=False))

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])

        Returns
        -------
        decision : ndarray of shape (n_samples,)
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 for inliers, -1 for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])

        Returns
        -------
        labels : ndarray of shape (n_samples,) of int
        """
        decision = self.decision_function(X)
        return np.where(decision < 0, -1, 1)

    def _normalized(self, X, *, reset):
        """``X`` as the stack reads it: unchanged, or windows normalised one by one.

        ``reset``: in ``fit`` (learns the window checks and the scale floor).
        """
        how = getattr(self, "window_normalization_", None)
        if how is None:
            return X
        X = pad_sequences(X, None if reset else self.n_features_in_)
        reject_non_numeric(X, "X")
        X = validate_data(self, X, reset=reset, allow_nd=True, dtype=FLOAT_DTYPES,
                          ensure_all_finite="allow-nan")
        X = as_3d_windows(X)
        padded = np.isnan(X).any()
        if how == "difference":
            if X.shape[1] < 2:
                raise ValueError(
                    "window_normalization='difference' needs windows of at least 2 steps; "
                    f"got windows of shape {X.shape[1:]}."
                )
            return np.diff(X, axis=1)
        mean, std = (np.nanmean, np.nanstd) if padded else (np.mean, np.std)
        centre, spread = mean(X, axis=1, keepdims=True), std(X, axis=1, keepdims=True)
        if reset:
            typical = np.nanmedian(spread[:, 0, :], axis=0)
            self.window_scale_floor_ = np.where(
                typical > 0, WINDOW_SCALE_FLOOR * typical, 1.0
            )
        return (X - centre) / np.maximum(spread, self.window_scale_floor_)
