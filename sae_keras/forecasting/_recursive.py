"""Recursive forecasting: feed forecasts back into the window, past the trained horizon."""

from __future__ import annotations

import numpy as np


def recursive_forecast(predict, X, steps, channel, change=False):
    """Forecast ``steps`` steps of one channel by feeding forecasts back as inputs.

    Each round forecasts the next ``h`` steps with ``predict`` (``h`` = the
    trained horizon), appends them to the window as new rows (the forecast
    channel takes the forecasts, every other channel keeps its last observed
    value: they are not forecast) and drops as many rows from its start.

    Parameters
    ----------
    predict : callable
        Windows ``(n, T, F)`` to forecasts ``(n,)`` or ``(n, h)``.
    X : ndarray of shape (n_samples, timesteps, channels)
    steps : int
        Steps to forecast.
    channel : int
        The channel of ``X`` the forecasts are of.
    change : bool, default=False
        The forecasts are changes from the window's last value of ``channel``
        (cumulative over the horizon: ``y[:, k]`` is the change after ``k + 1``
        steps) rather than values.

    Returns
    -------
    forecasts : ndarray of shape (n_samples, steps)
        Values (not changes) of ``channel``.

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras.forecasting._recursive import recursive_forecast
    >>> X = np.array([[[1.0], [2.0]]])
    >>> recursive_forecast(lambda w: w[:, -1, 0] * 2, X, 3, channel=0)
    array([[ 4.,  8., 16.]])
    """
    windows = np.array(X, dtype=np.float64)  # a copy: X is never modified
    n, timesteps, _ = windows.shape
    forecasts = np.empty((n, 0))
    while forecasts.shape[1] < steps:
        predicted = np.asarray(predict(windows), dtype=np.float64).reshape(n, -1)
        last = windows[:, -1, channel]
        values = last[:, np.newaxis] + predicted if change else predicted
        forecasts = np.concatenate([forecasts, values], axis=1)
        k = min(values.shape[1], timesteps)
        new_rows = np.repeat(windows[:, -1:, :], k, axis=1)
        new_rows[:, :, channel] = values[:, -k:]
        windows = np.concatenate([windows[:, k:], new_rows], axis=1)
    return forecasts[:, :steps]
