"""The input checks of the network estimators: windows and sample weights, refused
with messages that name the argument and say how to fix it."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import FLOAT_DTYPES, _check_sample_weight, validate_data

from ..data._validation import (
    array_shape, as_3d_windows, named_errors, pad_sequences, reject_non_numeric, valid_steps,
    warn_unusual_windows, window_shape,
)


class _WindowChecks:
    """Mixin of :class:`~sae_keras.estimators._base._BaseLSTMSAE`: checks of ``X``
    and ``sample_weight`` against the parameters and the fitted shape."""

    def _validate_windows(self, X, *, reset):
        """Check X and return float windows (n, timesteps, channels), a view where possible.

        Sequences of different lengths (a list) come back NaN right-padded; NaN
        is accepted only as such padding, and only by an estimator fitted on
        padded windows (see :meth:`_valid_steps`).
        """
        X = pad_sequences(X, None if reset else getattr(self, "timesteps_", None))
        self._check_not_1d(X)
        named = hasattr(X, "columns") and hasattr(self, "feature_names_in_")
        if not reset and not named:
            # With column names, scikit-learn's own check names the columns instead.
            self._check_window_shape(X)
        with named_errors("X"):
            X = validate_data(self, X, reset=reset, allow_nd=True, dtype=FLOAT_DTYPES,
                              ensure_all_finite="allow-nan")
        X = self._as_3d(X)
        steps = valid_steps(X)
        if reset:
            warn_unusual_windows(X)
        if not reset and steps is not None and not self.variable_length_:
            raise ValueError(
                f"X holds NaN-padded (variable-length) windows, but this "
                f"{type(self).__name__} was fitted on full-length windows, without "
                "masking; fit it on padded windows to read them."
            )
        return X

    @staticmethod
    def _valid_steps(X):
        """The steps of checked windows that hold data, or ``None`` if none is padded."""
        return valid_steps(X)

    @staticmethod
    def _check_not_1d(X):
        """Refuse strings and 1-D input with a message saying how to reshape."""
        reject_non_numeric(X, "X")
        try:
            shape = array_shape(X)
        except ValueError as exc:
            raise ValueError(f"X must be a rectangular array of windows: {exc}") from None
        if len(shape) <= 1:
            raise ValueError(
                "X must be 2-D (n_samples, timesteps) or 3-D (n_samples, timesteps, "
                f"channels); got a {len(shape)}-D array of shape {shape}. Reshape your data: "
                "one window of T steps is X.reshape(1, -1), one channel of windows "
                "X[:, :, None]."
            )

    def _check_window_shape(self, X):
        shape = window_shape(X)
        fitted = (self.timesteps_, self.n_channels_in_)
        if shape is None or shape == fitted:
            return
        prefix = (
            f"X has {shape[0]} features, but {type(self).__name__} is expecting "
            f"{self.timesteps_} features as input. "
            if shape[0] != self.timesteps_
            else ""
        )
        raise ValueError(
            f"{prefix}X has windows of shape (timesteps={shape[0]}, channels={shape[1]}), "
            f"but {type(self).__name__} was fitted on windows of shape "
            f"(timesteps={fitted[0]}, channels={fitted[1]})."
        )

    @staticmethod
    def _as_3d(X):
        # No float32 copy here: windows from make_windows are views of the series,
        # and training and inference convert one batch at a time.
        return as_3d_windows(X)

    @staticmethod
    def _check_sample_weight(sample_weight, X):
        """``None``, or one non-negative float64 weight per window (a copy)."""
        if sample_weight is None:
            return None
        reject_non_numeric(sample_weight, "sample_weight")
        with named_errors("sample_weight"):
            # np.asarray first: np.ndim dispatches on array-likes (__array_function__).
            if np.asarray(sample_weight).ndim == 0:  # one weight for all: checked like the others
                sample_weight = np.full(len(X), sample_weight, dtype=np.float64)
            return _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True, copy=True
            )
