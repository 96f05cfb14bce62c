"""Windows of many series: ``make_windows`` of a long table, or of a dict or list of tables.

A long table has one row per series and time step (neuralforecast's
``unique_id, ds, y``; the tidy layout pandas and SQL keep). Its rows are
grouped by series (sorted ids) and, with a time, sorted within each series;
each series is then cut on its own, so that no window crosses two series.
All series share one table of values: ``X`` is either gathered once into one
array, or (``lazy=True``) a :class:`PanelWindows` that reads the windows asked
for from that table, as training reads one batch at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from ._validation import as_table, target_positions

_CHUNK = 4096  # windows gathered at a time: bounds the temporary arrays
_SHOWN = 3  # series named in an error about several of them


def is_panel(data):
    """Whether ``data`` is a dict of tables, or a list or tuple of DataFrames or arrays.

    A list of numbers (or of lists) stays what it was: one table, row by row.
    """
    if isinstance(data, dict):
        return True
    return (
        isinstance(data, (list, tuple))
        and len(data) > 0
        and all(isinstance(part, (pd.DataFrame, pd.Series, np.ndarray)) for part in data)
    )


@dataclass
class _Panel:
    """The series of a panel, one after another: ``values`` rows of series ``k``
    are ``offsets[k]:offsets[k] + lengths[k]``, labelled by ``labels``."""

    values: np.ndarray  # (n_rows, n_channels), float64
    columns: list
    labels: pd.Index  # the time (or index label) of each row
    ids: np.ndarray  # (n_series,)
    lengths: np.ndarray  # (n_series,)

    @property
    def offsets(self):
        return np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)


class PanelWindows:
    """The windows of many series, read from their table when asked for.

    Behaves as the array of shape ``(n_windows, timesteps, n_channels)`` that
    ``make_windows`` would return, for what training and inference use:
    ``len``, ``shape``, ``ndim``, ``dtype``, slicing windows (lazy: another
    ``PanelWindows``), slicing windows and steps (lazy), indexing with an array
    of windows or a mask (a new array of those windows only), one window (a
    read-only view), one step of every window (``X[:, -1, 0]``) and
    ``np.asarray`` (every window, in one new array). It holds only the table
    and where each window starts.

    Parameters
    ----------
    values : ndarray of shape (n_rows, n_channels)
        The series, one after another.
    timesteps : int
        Length of each window.
    starts : ndarray of int of shape (n_windows,)
        The row of ``values`` each window starts at.

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras import make_windows
    >>> X, y, ids = make_windows({"a": np.arange(6.0), "b": np.arange(5.0)}, 3, target=0,
    ...                          lazy=True)
    >>> X
    PanelWindows(5 windows of 3 steps x 1 channels, from a table of 11 rows)
    >>> X[3:].shape, X[[0, 3]][:, :, 0].tolist()
    ((2, 3, 1), [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])
    """

    def __init__(self, values, timesteps, starts):
        self.values = values
        self.timesteps = int(timesteps)
        self.starts = np.asarray(starts, dtype=np.int64)

    @property
    def shape(self):
        return (len(self.starts), self.timesteps, self.values.shape[1])

    @property
    def ndim(self):
        return 3

    @property
    def dtype(self):
        return self.values.dtype

    def __len__(self):
        return len(self.starts)

    def __repr__(self):
        n, steps, channels = self.shape
        return (f"PanelWindows({n} windows of {steps} steps x {channels} channels, "
                f"from a table of {len(self.values)} rows)")

    def __getitem__(self, key):
        rows, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        if isinstance(rows, Integral) and not isinstance(rows, bool):
            window = sliding_window_view(self.values, self.timesteps, axis=0)[self.starts[rows]]
            return window.T[rest]
        if isinstance(rows, slice) and not rest:
            return PanelWindows(self.values, self.timesteps, self.starts[rows])
        if isinstance(rows, slice) and len(rest) == 1 and isinstance(rest[0], slice):
            first, stop, step = rest[0].indices(self.timesteps)
            if step == 1 and stop > first:  # windows of fewer steps: still a view
                return PanelWindows(self.values, stop - first, self.starts[rows] + first)
        starts = self.starts[rows]
        if rest and isinstance(rest[0], Integral) and not isinstance(rest[0], bool):
            step = int(rest[0])
            if not -self.timesteps <= step < self.timesteps:
                raise IndexError(f"step {step} is out of bounds for windows of "
                                 f"{self.timesteps} steps")
            return self.values[starts + step % self.timesteps][(slice(None),) + rest[1:]]
        windows = _gather(self.values, self.timesteps, starts)
        return windows[(slice(None),) + rest] if rest else windows

    def __array__(self, dtype=None, copy=None):
        windows = _gather(self.values, self.timesteps, self.starts)
        return windows if dtype is None else windows.astype(dtype, copy=False)


def _gather(values, timesteps, starts):
    """The windows starting at ``starts``, as one new C-ordered array, chunk by chunk."""
    out = np.empty((len(starts), timesteps, values.shape[1]), dtype=values.dtype)
    view = sliding_window_view(values, timesteps, axis=0)  # (rows, channels, timesteps)
    for first in range(0, len(starts), _CHUNK):
        out[first : first + _CHUNK] = view[starts[first : first + _CHUNK]].transpose(0, 2, 1)
    return out


def panel_windows(data, timesteps, horizon, target, *, series, time, stride, difference,
                  exclude_target, future_covariates, return_index, lazy):
    """``make_windows`` of many series (its arguments, checked there)."""
    if series is not None and is_panel(data):
        raise ValueError(
            "series= names the series of one long table; a dict or list of tables already "
            "holds one table per series: pass series=None."
        )
    panel = _stacked(data, time) if series is None else _long_table(data, series, time)
    target_cols = target_positions(target, panel.columns)
    future_cols = target_positions(future_covariates, panel.columns, "future_covariates")
    if future_cols and not target_cols:
        raise ValueError("future_covariates are values at the forecast steps: pass a target too.")
    levels, lengths = panel.values, panel.lengths
    level_rows = np.arange(len(levels))
    if difference:
        # Changes within each series only: a series' first row has no change into it.
        into = np.ones(len(levels), dtype=bool)
        into[panel.offsets] = False
        level_rows = np.flatnonzero(into)
        values, lengths = levels[level_rows] - levels[level_rows - 1], lengths - 1
    else:
        values = levels
    span = timesteps + (horizon if target_cols else 0)
    _refuse_short(panel, lengths, span, timesteps, horizon, bool(target_cols), difference)
    counts = (lengths - span) // stride + 1
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    first_window = np.cumsum(counts) - counts
    n_windows = int(counts.sum())
    starts = np.repeat(offsets, counts) + stride * (
        np.arange(n_windows) - np.repeat(first_window, counts)
    )
    inputs = values
    if exclude_target and target_cols:
        keep = [c for c in range(values.shape[1]) if c not in target_cols]
        if not keep:
            raise ValueError(
                "exclude_target=True leaves no channel in X: every column is a target."
            )
        inputs = values[:, keep]
    X = PanelWindows(inputs, timesteps, starts)
    outputs = [X if lazy else np.asarray(X), None]
    if target_cols:
        steps = starts[:, None] + timesteps + np.arange(horizon)  # (n_windows, horizon)
        y = values[:, target_cols][steps]  # (n_windows, horizon, n_targets)
        if len(target_cols) == 1:
            y = y[:, :, 0] if horizon > 1 else y[:, 0, 0]
        outputs[1] = y
    outputs.append(panel.ids[np.repeat(np.arange(len(panel.ids)), counts)])
    ends = starts + timesteps - 1
    if future_cols:  # levels at the forecast steps, also with difference=True
        steps = level_rows[starts[:, None] + timesteps + np.arange(horizon)]
        outputs.append(levels[:, future_cols][steps])
    if difference and target_cols:
        base = levels[level_rows[ends]][:, target_cols]
        outputs.append(base[:, 0] if len(target_cols) == 1 else base)
    if return_index:
        outputs.append(panel.labels[level_rows[ends]])
    return tuple(outputs)


def _refuse_short(panel, lengths, span, timesteps, horizon, targets, difference):
    short = np.flatnonzero(lengths < span)
    if not len(short):
        return
    need = f"timesteps {timesteps} + horizon {horizon}" if targets else f"timesteps {timesteps}"
    rows = span + (1 if difference else 0)
    named = ", ".join(f"{_name(panel.ids[k])} ({panel.lengths[k]} rows)" for k in short[:_SHOWN])
    more = f" and {len(short) - _SHOWN} more" if len(short) > _SHOWN else ""
    raise ValueError(
        f"{named}{more}: {len(short)} of {len(lengths)} series shorter than one window "
        f"({rows} rows: {need}{' + 1 for difference=True' if difference else ''}); "
        f"drop them first (e.g. frame.groupby(series).filter(lambda rows: len(rows) >= "
        f"{rows}))."
    )


def _key(frame, key, name, n_rows):
    """The values of ``key``: a column or index level of ``frame``, or one value per row."""
    if np.ndim(key) == 0:
        if frame is None:
            raise ValueError(
                f"{name}={key!r} names a column, but data is an array: pass one {name} "
                "value per row, or a DataFrame."
            )
        if key in frame.columns:
            return frame[key].to_numpy(), key
        if key in frame.index.names:
            return frame.index.get_level_values(key).to_numpy(), None
        raise ValueError(
            f"{name} {key!r} is not a column or index level of data; columns are "
            f"{list(frame.columns)}."
        )
    values = np.asarray(key)
    if values.ndim != 1 or len(values) != n_rows:
        raise ValueError(
            f"{name} must name a column of data or hold one value per row ({n_rows}); "
            f"got shape {values.shape}."
        )
    return values, None


def _long_table(data, series, time):
    """The panel of a long table, its series in sorted order of their ids."""
    frame = data if isinstance(data, pd.DataFrame) else None
    n_rows = len(data) if frame is not None else np.shape(data)[0] if np.ndim(data) else 0
    ids, id_column = _key(frame, series, "series", n_rows)
    times, time_column = (None, None) if time is None else _key(frame, time, "time", n_rows)
    if frame is not None:
        if id_column is not None and id_column == time_column:
            raise ValueError(f"series and time both name the column {id_column!r}.")
        drop = [c for c in (id_column, time_column) if c is not None]
        values, columns, labels = as_table(frame.drop(columns=drop), check_finite=False,
                                           panel=True)
    else:
        values, columns, labels = as_table(data, check_finite=False)
    missing = pd.isna(ids)
    if missing.any():
        raise ValueError(f"series holds no id at row {int(np.argmax(missing))}: every row "
                         "must name its series.")
    codes, uniques = pd.factorize(ids, sort=True)
    return _assemble(values, columns, pd.Index(labels), np.asarray(uniques), codes,
                     times, np.arange(len(values)))


def _stacked(data, time):
    """The panel of a dict (in its order) or list of per-series tables."""
    items = list(data.items()) if isinstance(data, dict) else list(enumerate(data))
    if not items:
        raise ValueError("data holds no series: the dict is empty.")
    parts, times, columns = [], [], None
    for key, part in items:
        frame = part.to_frame() if isinstance(part, pd.Series) else part
        if not isinstance(frame, pd.DataFrame):
            frame = None
        name = None
        if time is not None:
            if frame is None:
                raise ValueError(
                    f"time= names a column of each table, but series {key!r} is an array."
                )
            values, name = _key(frame, time, "time", len(frame))
            times.append(values)
        try:
            table = as_table(frame.drop(columns=[name] if name is not None else [])
                             if frame is not None else part,
                             check_finite=False, panel=True)
        except (TypeError, ValueError) as error:
            raise type(error)(f"series {key!r}: {error}") from None
        if columns is None:
            columns = table[1]
        elif set(table[1]) != set(columns) or len(table[1]) != len(columns):
            raise ValueError(
                f"series {key!r} has the columns {table[1]}, series {items[0][0]!r} has "
                f"{columns}: every series must have the same columns."
            )
        else:
            table = (table[0][:, [table[1].index(c) for c in columns]],) + table[1:]
        parts.append(table)
    lengths = [len(values) for values, _, _ in parts]
    labels = pd.Index(np.concatenate([np.asarray(index) for _, _, index in parts]))
    if parts and isinstance(parts[0][2], pd.DatetimeIndex):
        labels = parts[0][2].append([index for _, _, index in parts[1:]])
    keys = [key for key, _ in items]
    return _assemble(
        np.concatenate([values for values, _, _ in parts]), columns, labels,
        np.arange(len(keys)) if not isinstance(data, dict) else
        np.array(keys + [None], dtype=object)[:-1],  # tuples stay ids, not rows
        np.repeat(np.arange(len(items)), lengths),
        None if time is None else np.concatenate(times),
        np.concatenate([np.arange(n) for n in lengths]),
    )


def _assemble(values, columns, labels, ids, codes, times, rows):
    """Rows grouped by series (code order), sorted by ``times`` within each; checked.

    ``rows``: the number of each row in the user's data, for the messages.
    """
    if times is None:
        order = np.argsort(codes, kind="stable")
    else:
        stamps, labels = _time_order_keys(times, rows, ids, codes)
        order = np.lexsort((stamps, codes))
        same = (codes[order][1:] == codes[order][:-1]) & (
            stamps[order][1:] == stamps[order][:-1])
        if same.any():
            j = int(np.argmax(same)) + 1
            a, b = sorted((int(rows[order[j - 1]]), int(rows[order[j]])))
            raise ValueError(
                f"series {_name(ids[codes[order[j]]])} repeats the time {labels[order[j]]} "
                f"at rows {a} and {b}: each series has one row per time; aggregate or drop "
                "the repeated rows first."
            )
    if np.any(order[1:] < order[:-1]):  # already grouped and in order: no copy
        values, labels, codes, rows = values[order], labels[order], codes[order], rows[order]
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = map(int, np.argwhere(bad)[0])
        raise ValueError(
            f"series {_name(ids[codes[row]])} holds {int(bad.sum())} NaN or infinite value(s) in "
            f"all, the first at row {int(rows[row])} ({labels[row]}), column "
            f"{columns[col]!r}; fill or drop them first (e.g. DataFrame.interpolate or ffill)."
        )
    lengths = np.bincount(codes, minlength=len(ids))
    return _Panel(values, list(columns), labels, ids, lengths)


def _time_order_keys(times, rows, ids, codes):
    """Numbers that sort as ``times`` do: nanoseconds of dates, or the numbers themselves."""
    index = pd.Index(times)
    if not (pd.api.types.is_numeric_dtype(index.dtype) or isinstance(index, pd.DatetimeIndex)):
        index = pd.DatetimeIndex(pd.to_datetime(index, errors="coerce", format="mixed"))
    missing = np.asarray(pd.isna(index))
    if missing.any():
        k = int(np.argmax(missing))
        raise ValueError(
            f"time holds {times[k]!r} at row {int(rows[k])} (series {_name(ids[codes[k]])}): every "
            "row needs a time, as a date or a number."
        )
    if isinstance(index, pd.DatetimeIndex):
        return index.asi8, index
    return index.to_numpy(), index


def _name(value):
    """A series id as the user wrote it (``'A'``, ``3``, not ``np.int64(3)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)
