"""What a fitted :class:`~sae_keras.LSTMSAEEncoder` decodes: windows back from their
codes, and how well each window is reconstructed (mixin of the encoder)."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import FLOAT_DTYPES, check_array, check_is_fitted

from ..data._validation import reject_non_numeric
from ..forecasting._scaling import unscale
from ..training.pretraining import decode_codes


class _Decodes:
    """Mixin of :class:`~sae_keras.LSTMSAEEncoder`: its decoders, at predict time."""

    def inverse_transform(self, X, *, series=None):
        """Decode top-layer codes back into windows.

        With ``reconstruct="input"`` the top autoencoder was trained to
        reconstruct the original window from these codes, so its decoder alone
        gives the windows. With ``"previous"`` each decoder reconstructs the
        (repeated) codes of the layer below; their mean over time is decoded
        by the next decoder down, to the first one, which gives windows. Either
        way the result approximates the window that produced the codes, in the
        data's own units. With ``pretrain_objective="composite"`` a window is
        the reconstruction of its first ``timesteps - prediction_steps`` steps
        followed by the prediction of the rest; ``"prediction"`` learns no
        reconstruction, and decoding raises ``ValueError``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_codes)
            Codes, as returned by ``transform``.
        series : array-like of shape (n_samples,), default=None
            The series of each window the codes came from, required exactly
            when ``fit`` had ``series``: each window comes back in its
            series' units.

        Returns
        -------
        windows : ndarray of shape (n_samples, timesteps, n_channels), float64
        """
        check_is_fitted(self)
        reject_non_numeric(X, "X")
        codes = check_array(X, dtype=FLOAT_DTYPES)
        n_codes = self._n_features_out
        if codes.shape[1] != n_codes:
            raise ValueError(
                f"X has {codes.shape[1]} codes per sample, but {type(self).__name__} "
                f"produces {n_codes}; pass the output of transform."
            )
        rows = self._series_codes(series, len(codes))
        mean, scale = self.input_mean_, self.input_scale_
        if rows is not None and mean is not None:  # each window its series' statistics
            mean, scale = mean[rows][:, np.newaxis, :], scale[rows][:, np.newaxis, :]
        return unscale(self._decode(codes), mean, scale)

    def reconstruction_error(self, X, *, per="window", series=None):
        """Squared error of the stack's reconstruction of each window.

        The window is encoded (``transform``) and decoded back
        (``inverse_transform``); the error is measured in the units the
        networks trained in: standardised channels with ``scaling="standard"``
        (so every channel weighs the same, whatever its units), the data's own
        with ``scaling=None``.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])
            Windows shaped like the training windows.
        per : {"window", "step", "channel", "element"}, default="window"
            Mean squared error per window; per window and time step (mean
            over channels); per window and channel (mean over steps); or each
            squared error. The padded steps of variable-length windows are
            left out of the means, and are NaN per step or element.
        series : array-like of shape (n_samples,), default=None
            The series of each window, required exactly when ``fit`` had
            ``series`` (each window standardised by its series' statistics).

        Returns
        -------
        errors : ndarray of shape (n_samples,), (n_samples, timesteps), \
                (n_samples, n_channels) or (n_samples, timesteps, n_channels)
        """
        axes = {"window": (1, 2), "step": (2,), "channel": (1,), "element": ()}
        if per not in axes:
            raise ValueError(f"per must be one of {sorted(axes)}; got {per!r}.")
        check_is_fitted(self)
        X = self._validate_windows(X, reset=False)
        X_model = self._scale_inputs(X, codes=self._series_codes(series, len(X)))
        windows = self._decode(self._encode(X_model))
        squared = (windows - np.asarray(X_model, dtype=np.float64)) ** 2
        steps = self._valid_steps(X)
        if steps is None:
            return squared.mean(axis=axes[per]) if axes[per] else squared
        squared[~steps] = np.nan  # padding is no error: NaN per step, left out of means
        if per in ("window", "channel"):
            return np.nanmean(squared, axis=axes[per])  # every window has a real step
        return squared.mean(axis=axes[per]) if axes[per] else squared

    def score_samples(self, X, *, series=None):
        """Normality of each window: minus its mean squared reconstruction error.

        Higher is more normal, as scikit-learn's outlier detectors have it
        (``IsolationForest.score_samples``); see :meth:`reconstruction_error`
        for the units and for errors per step or channel, and
        :class:`LSTMSAEOutlierDetector` for thresholds.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])
            Windows shaped like the training windows.
        series : array-like of shape (n_samples,), default=None
            As for :meth:`reconstruction_error`.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return -self.reconstruction_error(X, series=series)

    def _decode(self, codes):
        """Top-layer codes to windows in the units the networks trained in."""
        # _predict casts each batch to float32 and returns float64.
        if self.pretrain_objective_ == "prediction":
            raise ValueError(
                "pretrain_objective='prediction' trains decoders that predict the steps "
                "after what the encoder read, not decoders that reconstruct windows; use "
                "'composite' or 'reconstruction' to decode codes into windows."
            )
        return decode_codes(self.decoders_, codes, self.reconstruct_, predict=self._predict)
