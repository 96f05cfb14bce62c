"""From a table (time × channels) to the 3-D windows the estimators take.

Windowing changes the number of rows and builds ``y``, so it is a function to
call before a ``Pipeline``, not a step of one; :class:`SequenceScaler` is a step.
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import FLOAT_DTYPES, check_array, check_is_fitted

from ._panel import is_panel, panel_windows
from ._validation import (
    as_3d_windows, as_table, check_positive_int, reject_non_numeric, target_positions,
)


def make_windows(
    data,
    timesteps,
    horizon=1,
    target=None,
    *,
    stride=1,
    difference=False,
    exclude_target=False,
    future_covariates=None,
    return_index=False,
    series=None,
    time=None,
    lazy=False,
):
    """Cut a multichannel series, or many series, into input windows and future targets.

    Window ``i`` holds rows ``[s, s + timesteps)`` of every channel, with
    ``s = i * stride``; its target holds rows ``[s + timesteps, s + timesteps +
    horizon)`` of the ``target`` column(s). With many series (``series=``, or
    a dict or list of tables), each is cut on its own, so that no window
    crosses two: see the "Many series" guide.

    Parameters
    ----------
    data : DataFrame, array-like of shape (n_steps, n_channels) or (n_steps,), \
            or dict or list of them
        The series, one row per time step, oldest first. Every column must be
        numeric and free of NaN. With ``series``, a long table: one row per
        series and time step, in any order. A dict (series id: table) or a
        list of DataFrames or arrays (ids 0, 1, ...) holds one table per
        series; their columns must match.
    timesteps : int
        Length of each input window.
    horizon : int, default=1
        Number of future steps in each target.
    target : str, int or list of them, default=None
        Column name(s) (DataFrame) or position(s) of the target channel(s).
        ``None`` builds no target.
    stride : int, default=1
        Steps between the starts of consecutive windows.
    difference : bool, default=False
        Cut the windows from the first differences (lag 1) of every column
        instead of their levels, so that ``X`` and ``y`` hold step-to-step
        changes (the series is one step shorter). With a target, the levels
        needed to undo this come back as ``base``; :func:`undifference` turns
        forecast changes back into levels.
    exclude_target : bool, default=False
        Leave the target channel(s) out of ``X`` (forecast from the other
        channels only).
    future_covariates : str, int or list of them, default=None
        Column(s) whose values are known in advance (calendar features, a
        schedule): for each window, their values at its ``horizon`` forecast
        steps are returned as ``future``, for
        :meth:`LSTMSAERegressor.fit`'s ``future_covariates``. Always levels,
        also with ``difference=True``. Needs a ``target``.
    return_index : bool, default=False
        Also return the index label (timestamp for a DataFrame with a
        ``DatetimeIndex``, position otherwise) of the last step of each window;
        with ``time``, its time.
    series : str or array-like of shape (n_rows,), default=None
        The series of each row of a long table: the name of a column (or index
        level) of ``data``, or one id per row. Its column is not a channel.
        Windows come out ordered by series (sorted ids; a dict's order), then
        time. A series too short for one window is an error naming it.
    time : str or array-like of shape (n_rows,), default=None
        With many series: the time of each row (a column or index level name,
        or one value per row; dates or numbers). Rows are then sorted by it
        within each series, and a time repeated within a series is an error
        naming both; ``None`` takes each series' rows in the order given.
    lazy : bool, default=False
        With many series, ``X`` is one new array holding every window
        (``timesteps`` times the memory of the table); ``True`` returns a
        :class:`~sae_keras.data._panel.PanelWindows` instead, which reads the
        windows asked for from the table (no more memory than the table).

    Returns
    -------
    X : ndarray of shape (n_windows, timesteps, n_channels)
        A read-only view into ``data``'s values where no conversion was needed
        (no copy is made until one is); with many series, a new array (or
        ``PanelWindows`` with ``lazy=True``).
    y : ndarray or None
        ``(n_windows,)`` for one target and ``horizon=1``, ``(n_windows,
        horizon)`` for one target, ``(n_windows, horizon, n_targets)`` for
        several; ``None`` when ``target`` is ``None``.
    series_ids : ndarray of shape (n_windows,)
        Only with many series: the series of each window.
    future : ndarray of shape (n_windows, horizon, n_future)
        Only with ``future_covariates``: their values at each window's forecast
        steps.
    base : ndarray of shape (n_windows,) or (n_windows, n_targets)
        Only with ``difference=True`` and a target: the level of the target
        column(s) at each window's last step, the value the first forecast
        step changes from.
    window_end : ndarray or Index of shape (n_windows,)
        Only with ``return_index=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras import make_windows, undifference
    >>> series = np.arange(20.0).reshape(10, 2)
    >>> X, y = make_windows(series, timesteps=3, target=0)
    >>> X.shape, y.shape, float(y[0])
    ((7, 3, 2), (7,), 6.0)
    >>> X, y, base = make_windows(series ** 2, timesteps=3, target=0, difference=True)
    >>> X.shape, float(y[0]), float(base[0]), float(undifference(y, base)[0])
    ((6, 3, 2), 28.0, 36.0, 64.0)

    A long table of two series, one row per series and day:

    >>> import pandas as pd
    >>> long = pd.DataFrame({"symbol": ["B"] * 5 + ["A"] * 4,
    ...                      "day": [*range(5), *range(4)], "price": range(9)})
    >>> X, y, ids = make_windows(long, timesteps=3, target="price",
    ...                          series="symbol", time="day")
    >>> X.shape, ids.tolist(), y.tolist()
    ((3, 3, 1), ['A', 'B', 'B'], [8.0, 3.0, 4.0])
    """
    check_positive_int(timesteps, "timesteps")
    check_positive_int(horizon, "horizon")
    check_positive_int(stride, "stride")
    if not isinstance(difference, (bool, np.bool_)):
        raise ValueError(f"difference must be True or False; got {difference!r}.")
    if not isinstance(lazy, (bool, np.bool_)):
        raise ValueError(f"lazy must be True or False; got {lazy!r}.")
    if series is not None or is_panel(data):
        return panel_windows(
            data, timesteps, horizon, target, series=series, time=time, stride=stride,
            difference=difference, exclude_target=exclude_target,
            future_covariates=future_covariates, return_index=return_index, lazy=lazy,
        )
    if time is not None:
        raise ValueError(
            "time= orders the rows of many series; with one series, sort its rows by time "
            "first (or pass series= too)."
        )
    if lazy:
        raise ValueError(
            "lazy=True is for many series (series=, or a dict or list of tables): the "
            "windows of one series are already a view of it."
        )
    values, columns, index = as_table(data)
    levels = values
    if difference:
        if values.shape[0] < 2:
            raise ValueError("difference=True needs at least 2 time steps of data.")
        # Row j of the differences is the change into step j + 1: label it so.
        values, index = np.diff(values, axis=0), index[1:]
    n_steps = values.shape[0]
    if n_steps < timesteps + (horizon if target is not None else 0):
        need = f"timesteps + horizon = {timesteps} + {horizon}" if target is not None else (
            f"timesteps = {timesteps}"
        )
        steps = f"{n_steps + 1} time steps ({n_steps} once differenced)" if difference else (
            f"{n_steps} time steps"
        )
        raise ValueError(f"data has {steps}, fewer than {need}: no complete window fits.")
    target_cols = target_positions(target, columns)
    future_cols = target_positions(future_covariates, columns, "future_covariates")
    if future_cols and not target_cols:
        raise ValueError(
            "future_covariates are values at the forecast steps: pass a target too."
        )
    span = timesteps + (horizon if target_cols else 0)
    n_windows = (n_steps - span) // stride + 1
    last = (n_windows - 1) * stride + 1
    # Basic slicing keeps X a view into ``values``: no copy of T × the data.
    X = sliding_window_view(values, timesteps, axis=0)[:last:stride].transpose(0, 2, 1)
    if exclude_target and target_cols:
        keep = [c for c in range(values.shape[1]) if c not in target_cols]
        if not keep:
            raise ValueError(
                "exclude_target=True leaves no channel in X: every column is a target."
            )
        X = X[:, :, keep]
    y = None
    if target_cols:
        future = sliding_window_view(values[timesteps:], horizon, axis=0)[:last:stride]
        y = future[:, target_cols, :].transpose(0, 2, 1)
        if len(target_cols) == 1:
            y = y[:, :, 0] if horizon > 1 else y[:, 0, 0]
    ends = np.arange(n_windows) * stride + timesteps - 1
    outputs = [X, y]
    if future_cols:
        # Levels at the forecast steps; difference row j is level row j + 1.
        offset = timesteps + (1 if difference else 0)
        steps = sliding_window_view(levels[offset:], horizon, axis=0)[:last:stride]
        outputs.append(steps[:, future_cols, :].transpose(0, 2, 1))
    if difference and target_cols:
        # Difference row ``e`` ends at level row ``e + 1``.
        base = levels[ends + 1][:, target_cols]
        outputs.append(base[:, 0] if len(target_cols) == 1 else base)
    if return_index:
        outputs.append(index[ends])
    return tuple(outputs)


def undifference(y, base):
    """Turn forecast changes back into levels: ``base`` plus their running sum.

    The inverse of ``make_windows(..., difference=True)`` for forecasts: step
    ``h`` of the horizon is ``base + y[:, 0] + ... + y[:, h]``.

    Parameters
    ----------
    y : array-like of shape (n_windows,), (n_windows, horizon) or \
            (n_windows, horizon, n_targets)
        Forecast (or true) first differences, as ``make_windows`` shapes ``y``.
    base : array-like of shape (n_windows,) or (n_windows, n_targets)
        The level at each window's last step, as ``make_windows`` returns it.

    Returns
    -------
    levels : ndarray of the shape of ``y``

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras import undifference
    >>> undifference(np.array([[1.0, 2.0, -1.0]]), np.array([10.0]))
    array([[11., 13., 12.]])
    """
    reject_non_numeric(y, "y")
    reject_non_numeric(base, "base")
    y = np.asarray(y, dtype=np.float64)
    base = np.asarray(base, dtype=np.float64)
    if y.ndim not in (1, 2, 3):
        raise ValueError(
            f"y must be 1-D, 2-D or 3-D like make_windows' targets; got shape {y.shape}."
        )
    expected = (len(y),) if y.ndim < 3 else (len(y), y.shape[-1])
    if base.shape != expected:
        raise ValueError(
            f"base must have shape {expected} to match y of shape {y.shape} (one level "
            f"per window, and per target for 3-D y); got shape {base.shape}."
        )
    if y.ndim == 1:
        return base + y
    steps = np.cumsum(y, axis=1)
    return steps + (base[:, None] if y.ndim == 2 else base[:, None, :])


class SequenceScaler(TransformerMixin, BaseEstimator):
    """Scale each channel of 3-D windows with any scikit-learn scaler.

    Windows ``(n_samples, timesteps, channels)`` are viewed as ``n_samples ×
    timesteps`` rows of ``channels`` columns, so each channel gets one scale
    over all time steps. Fit it on training windows only (a ``Pipeline`` does).

    Parameters
    ----------
    scaler : scikit-learn transformer, default=None
        Applied per channel; ``None`` means ``MinMaxScaler((-1, 1))``. It is
        cloned, never fitted in place.

    Attributes
    ----------
    scaler_ : transformer
        The fitted clone of ``scaler``.
    timesteps_ : int
        Window length seen in ``fit``.
    n_channels_in_ : int
        Channels seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras import SequenceScaler
    >>> X = np.arange(24.0).reshape(3, 4, 2)
    >>> scaled = SequenceScaler().fit_transform(X)
    >>> float(scaled.min()), float(scaled.max())
    (-1.0, 1.0)
    """

    _parameter_constraints: dict = {
        "scaler": [HasMethods(["fit", "transform", "inverse_transform"]), None],
    }

    def __init__(self, scaler=None):
        self.scaler = scaler

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    @_fit_context(prefer_skip_nested_validation=False)  # validates scaler=
    def fit(self, X, y=None):
        """Fit the scaler on every time step of every window.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])
            Training windows.
        y : None
            Ignored.

        Returns
        -------
        self : SequenceScaler
        """
        X = self._check(X)
        scaler = MinMaxScaler((-1, 1)) if self.scaler is None else clone(self.scaler)
        scaler.fit(X.reshape(-1, X.shape[2]))
        self.scaler_ = scaler
        self.timesteps_, self.n_channels_in_ = X.shape[1:]
        return self

    def transform(self, X):
        """Scale windows.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])

        Returns
        -------
        X_scaled : ndarray of shape (n_samples, timesteps, channels)
        """
        return self._apply(X, "transform")

    def inverse_transform(self, X):
        """Undo the scaling of windows.

        Parameters
        ----------
        X : array-like of shape (n_samples, timesteps[, channels])

        Returns
        -------
        X_original : ndarray of shape (n_samples, timesteps, channels)
        """
        return self._apply(X, "inverse_transform")

    def transform_channels(self, values, channels):
        """Scale values of some channels only, e.g. targets taken from a channel.

        Parameters
        ----------
        values : array-like of shape (n_samples,) or (n_samples, horizon) or \
                (n_samples, horizon, len(channels))
            Values of channel ``channels`` (one channel) or of each of
            ``channels`` along the last axis, in the original scale.
        channels : int or list of int
            Position(s) of the channel(s) in the windows ``fit`` saw.

        Returns
        -------
        values_scaled : ndarray, same shape as ``values``

        Examples
        --------
        >>> import numpy as np
        >>> from sae_keras import SequenceScaler
        >>> X = np.stack([np.arange(10.0), 10 * np.arange(10.0)], axis=1)[None]
        >>> scaler = SequenceScaler().fit(X)
        >>> scaler.transform_channels(np.array([0.0, 90.0]), channels=1)
        array([-1.,  1.])
        """
        return self._apply_channels(values, channels, "transform")

    def inverse_transform_channels(self, values, channels):
        """Undo the scaling of values of some channels only, e.g. forecasts.

        Parameters
        ----------
        values : array-like of shape (n_samples,) or (n_samples, horizon) or \
                (n_samples, horizon, len(channels))
            Scaled values of channel ``channels`` (one channel) or of each of
            ``channels`` along the last axis.
        channels : int or list of int
            Position(s) of the channel(s) in the windows ``fit`` saw.

        Returns
        -------
        values_original : ndarray, same shape as ``values``

        Examples
        --------
        >>> import numpy as np
        >>> from sae_keras import SequenceScaler
        >>> X = np.stack([np.arange(10.0), 10 * np.arange(10.0)], axis=1)[None]
        >>> scaler = SequenceScaler().fit(X)
        >>> scaler.inverse_transform_channels(np.array([-1.0, 1.0]), channels=1)
        array([ 0., 90.])
        """
        return self._apply_channels(values, channels, "inverse_transform")

    def _apply_channels(self, values, channels, method):
        check_is_fitted(self)
        values = np.asarray(values, dtype=np.float64)
        positions = [channels] if np.isscalar(channels) else list(channels)
        for c in positions:
            if not isinstance(c, numbers.Integral) or not 0 <= c < self.n_channels_in_:
                raise ValueError(
                    f"channels must be positions in [0, {self.n_channels_in_}); got {channels!r}."
                )
        if len(positions) > 1 and values.shape[-1] != len(positions):
            raise ValueError(
                f"values must have len(channels) = {len(positions)} entries on their last "
                f"axis; got shape {values.shape}."
            )
        flat = values.reshape(-1, len(positions))
        # Scalers work on whole rows: put the values in their columns, the rest 0.
        full = np.zeros((flat.shape[0], self.n_channels_in_))
        full[:, positions] = flat
        out = getattr(self.scaler_, method)(full)
        return np.asarray(out, dtype=np.float64)[:, positions].reshape(values.shape)

    def _check(self, X):
        reject_non_numeric(X, "X")
        return as_3d_windows(check_array(X, allow_nd=True, dtype=FLOAT_DTYPES))

    def _apply(self, X, method):
        check_is_fitted(self)
        X = self._check(X)
        if X.shape[2] != self.n_channels_in_:
            raise ValueError(
                f"X has {X.shape[2]} channels, but SequenceScaler was fitted on "
                f"{self.n_channels_in_}."
            )
        flat = getattr(self.scaler_, method)(X.reshape(-1, X.shape[2]))
        return np.asarray(flat, dtype=np.float64).reshape(X.shape)
