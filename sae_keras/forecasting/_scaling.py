"""Standardisation built into the estimators (``scaling="standard"``).

Inputs are standardised per channel with the mean and standard deviation of
every step of every training window; targets per output column (for many
series, per series too: ``series_channel_stats``, ``series_column_stats``).
Windows are never copied whole: :class:`ScaledWindows` standardises the rows
it is asked for, so windows that are views of a series (``make_windows``) stay
views through training and inference, as in ``_training._EpochBatches``.
"""

from __future__ import annotations

import numpy as np

_CHUNK = 4096  # windows per chunk when computing statistics


def channel_stats(X):
    """Mean and scale of each channel over all windows and steps of ``X``.

    Computed in chunks of windows, in float64, around a first estimate of the
    mean (for accuracy), without materialising ``X``. Constant channels get
    scale 1, as in ``StandardScaler``. NaN (the padding of variable-length
    sequences) is left out.

    Parameters
    ----------
    X : ndarray of shape (n_samples, timesteps, n_channels)

    Returns
    -------
    mean, scale : ndarray of shape (n_channels,), float64
    """
    n_channels = X.shape[-1]
    shift = np.asarray(X[: min(len(X), _CHUNK)], dtype=np.float64).reshape(-1, n_channels)
    shift = np.nanmean(shift, axis=0)
    total = np.zeros(n_channels)
    squares = np.zeros(n_channels)
    count = np.zeros(n_channels)
    for start in range(0, len(X), _CHUNK):
        chunk = np.asarray(X[start : start + _CHUNK], dtype=np.float64).reshape(-1, n_channels)
        chunk = chunk - shift
        if np.isnan(chunk).any():
            count += np.count_nonzero(~np.isnan(chunk), axis=0)
            chunk = np.nan_to_num(chunk, nan=0.0)
        else:
            count += len(chunk)
        total += chunk.sum(axis=0)
        squares += np.square(chunk).sum(axis=0)
    offset = total / count
    variance = np.maximum(squares / count - np.square(offset), 0.0)
    return shift + offset, _safe_scale(np.sqrt(variance))


def column_stats(y):
    """Mean and scale of each output of ``y``, shaped like one target."""
    y = np.asarray(y, dtype=np.float64)
    return y.mean(axis=0), _safe_scale(y.std(axis=0))


def series_codes(series):
    """The distinct series ids, sorted, and the position of each window's id among them.

    Parameters
    ----------
    series : array-like of shape (n_samples,)
        The series of each window (``make_windows``' ``series_ids``).

    Returns
    -------
    ids : ndarray of shape (n_series,)
    codes : ndarray of int of shape (n_samples,)
        ``ids[codes]`` is ``series``.
    """
    ids, codes = np.unique(np.asarray(series), return_inverse=True)
    return ids, codes.reshape(-1)


def series_channel_stats(X, codes, n_series):
    """Mean and scale of each channel of each series, over every step of its windows.

    :func:`channel_stats` per series, in one pass over ``X`` in chunks of
    windows (``X`` is never materialised, so a lazy ``PanelWindows`` stays
    lazy), in float64 around a first estimate of each series' mean (its first
    window). Constant channels get scale 1; NaN padding is left out; a series
    with no window gets mean 0 and scale 1.

    Parameters
    ----------
    X : ndarray of shape (n_samples, timesteps, n_channels)
    codes : ndarray of int of shape (n_samples,)
        The series of each window, as positions in ``[0, n_series)``
        (:func:`series_codes`).
    n_series : int

    Returns
    -------
    mean, scale : ndarray of shape (n_series, n_channels), float64

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras.forecasting._scaling import series_channel_stats, series_codes
    >>> X = np.concatenate([np.zeros((2, 3, 1)), np.full((2, 3, 1), 10.0)])
    >>> X[1] += 2.0  # series "a": 0, 0, 0, 2, 2, 2
    >>> ids, codes = series_codes(["a", "a", "b", "b"])
    >>> mean, scale = series_channel_stats(X, codes, len(ids))
    >>> mean.ravel().tolist(), scale.ravel().tolist()
    ([1.0, 10.0], [1.0, 1.0])
    """
    codes = np.asarray(codes)
    n_channels = X.shape[-1]
    present, first = np.unique(codes, return_index=True)
    shift = np.zeros((n_series, n_channels))
    if len(first):
        windows = np.asarray(X[first], dtype=np.float64).reshape(len(first), -1, n_channels)
        valid = ~np.isnan(windows)
        total = np.where(valid, windows, 0.0).sum(axis=1)
        shift[present] = np.divide(total, valid.sum(axis=1), out=np.zeros_like(total),
                                   where=valid.any(axis=1))
    sums = np.zeros((n_series, n_channels))
    squares = np.zeros((n_series, n_channels))
    counts = np.zeros((n_series, n_channels))
    for start in range(0, len(codes), _CHUNK):
        rows = codes[start : start + _CHUNK]
        chunk = np.asarray(X[start : start + _CHUNK], dtype=np.float64)
        chunk = chunk.reshape(len(rows), -1, n_channels) - shift[rows][:, None, :]
        if np.isnan(chunk).any():
            counted = np.count_nonzero(~np.isnan(chunk), axis=1)
            chunk = np.nan_to_num(chunk, nan=0.0)
        else:
            counted = np.full((len(rows), n_channels), chunk.shape[1])
        for totals, per_window in ((sums, chunk.sum(axis=1)),
                                   (squares, np.square(chunk).sum(axis=1)),
                                   (counts, counted)):
            for c in range(n_channels):  # one bincount per channel: no np.add.at
                totals[:, c] += np.bincount(rows, weights=per_window[:, c], minlength=n_series)
    seen = counts > 0
    offset = np.divide(sums, counts, out=np.zeros_like(sums), where=seen)
    variance = np.divide(squares, counts, out=np.zeros_like(squares), where=seen)
    variance = np.maximum(variance - np.square(offset), 0.0)
    mean = np.where(seen, shift + offset, 0.0)
    return mean, _safe_scale(np.sqrt(variance))


def series_column_stats(y, codes, n_series):
    """Mean and scale of each output of ``y`` per series: :func:`column_stats` per series.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, ...)
    codes : ndarray of int of shape (n_samples,)
        The series of each window (:func:`series_codes`).
    n_series : int

    Returns
    -------
    mean, scale : ndarray of shape (n_series,) + y.shape[1:], float64
        A series with no window gets mean 0 and scale 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras.forecasting._scaling import series_column_stats
    >>> mean, scale = series_column_stats([1.0, 3.0, 10.0, 10.0], [0, 0, 1, 1], 2)
    >>> mean.tolist(), scale.tolist()
    ([2.0, 10.0], [1.0, 1.0])
    """
    y = np.asarray(y, dtype=np.float64)
    codes = np.asarray(codes)
    flat = y.reshape(len(y), -1)
    counts = np.bincount(codes, minlength=n_series).astype(np.float64)[:, None]
    seen = counts > 0
    sums = np.stack([np.bincount(codes, flat[:, k], minlength=n_series)
                     for k in range(flat.shape[1])], axis=1)
    mean = np.divide(sums, counts, out=np.zeros_like(sums), where=seen)
    # Around each series' own mean, for accuracy (y is in memory: a second pass is cheap).
    centred = np.square(flat - mean[codes])
    squares = np.stack([np.bincount(codes, centred[:, k], minlength=n_series)
                        for k in range(flat.shape[1])], axis=1)
    variance = np.divide(squares, counts, out=np.zeros_like(squares), where=seen)
    shape = (n_series,) + y.shape[1:]
    return mean.reshape(shape), _safe_scale(np.sqrt(variance)).reshape(shape)


def fit_stats(scaling, stats, data):
    """``stats(data)`` for ``scaling="standard"``; ``(None, None)`` for ``scaling=None``."""
    return (None, None) if scaling is None else stats(data)


def _safe_scale(scale):
    scale = np.asarray(scale, dtype=np.float64)
    tiny = scale < 10 * np.finfo(np.float64).eps
    return np.where(tiny, 1.0, scale)


class ScaledWindows:
    """``(X - mean) / scale`` computed on the rows asked for, as float32.

    Supports what training and inference use: ``len``, ``shape``, ``ndim``,
    slicing rows, or rows and steps (lazy, another :class:`ScaledWindows`), indexing with an array of
    rows (a float32 array) and ``np.asarray``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, timesteps, n_channels)
    mean, scale : ndarray of shape (n_channels,) or (n_samples, n_channels)
        The statistics of every window, or of each window (its series').
    fill : float, default=None
        What NaN (the padding of variable-length sequences) becomes once
        scaled; ``None`` leaves it alone.

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras.forecasting._scaling import ScaledWindows, channel_stats
    >>> X = np.arange(24.0).reshape(4, 3, 2)
    >>> scaled = ScaledWindows(X, *channel_stats(X))
    >>> np.asarray(scaled).mean(axis=(0, 1)).round(6)
    array([0., 0.], dtype=float32)
    """

    def __init__(self, X, mean, scale, fill=None):
        self.X = X
        self.mean = np.asarray(mean, dtype=np.float32)
        self.inverse_scale = np.asarray(1.0 / np.asarray(scale), dtype=np.float32)
        self.fill = fill

    @property
    def per_window(self):
        """Whether each window has its own statistics (its series'): rows of ``mean``."""
        return self.mean.ndim == 2

    @property
    def shape(self):
        return self.X.shape

    @property
    def ndim(self):
        return self.X.ndim

    def __len__(self):
        return len(self.X)

    def __getitem__(self, key):
        rows = key[0] if isinstance(key, tuple) else key
        if isinstance(key, slice) or (
            isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, slice) for k in key)
        ):  # rows, or rows and steps: a lazy view
            return self._view(self.X[key], rows=rows)
        return self._scale(self.X[key], *self._stats(rows))

    def _stats(self, rows=slice(None)):
        """Mean and inverse scale broadcasting against windows ``X[rows]``."""
        if not self.per_window:
            return self.mean, self.inverse_scale
        mean, inverse = self.mean[rows], self.inverse_scale[rows]
        if mean.ndim == 2:  # several windows: one row of statistics each
            return mean[:, np.newaxis, :], inverse[:, np.newaxis, :]
        return mean, inverse  # one window

    def _view(self, X, fill=None, rows=slice(None)):
        """Windows ``X`` (a view into ``self.X``, rows ``rows`` of it) scaled as these are."""
        view = ScaledWindows.__new__(ScaledWindows)
        view.X, view.mean, view.inverse_scale = X, self.mean, self.inverse_scale
        if self.per_window:
            view.mean, view.inverse_scale = self.mean[rows], self.inverse_scale[rows]
        view.fill = self.fill if fill is None else fill
        return view

    def filled_with(self, fill):
        """The same windows, their NaN padding replaced by ``fill`` (a view)."""
        return self._view(self.X, fill)

    def __array__(self, dtype=None, copy=None):
        scaled = self._scale(self.X, *self._stats())
        return scaled if dtype is None else scaled.astype(dtype, copy=False)

    def _scale(self, rows, mean, inverse_scale):
        rows = np.array(rows, dtype=np.float32)  # always a fresh array: scaled in place
        rows -= mean
        rows *= inverse_scale
        if self.fill is not None:
            np.nan_to_num(rows, copy=False, nan=self.fill)
        return rows


def scale_windows(X, mean, scale, fill=None):
    """``X`` standardised lazily; ``X`` itself when ``mean`` is ``None`` (no scaling).

    With ``fill`` (padded windows) NaN becomes ``fill``, scaled or not.
    """
    if mean is None:
        if fill is None:
            return X
        mean, scale = np.zeros(X.shape[-1]), np.ones(X.shape[-1])
    return ScaledWindows(X, mean, scale, fill)


def unscale(values, mean, scale):
    """``values * scale + mean`` in place (``values`` is the estimator's own array).

    ``mean`` and ``scale`` are one target's statistics, or one per row of
    ``values`` (each window's series').
    """
    if mean is None:
        return values
    values *= scale
    values += mean
    return values
