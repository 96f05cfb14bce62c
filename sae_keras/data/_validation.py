"""Input checks shared by the estimators and the data helpers."""

from __future__ import annotations

import contextlib
import numbers
import re
import warnings

import numpy as np
import pandas as pd

#: Windows of at most this many steps with more than ``CHANNELS_FIRST_RATIO``
#: times as many channels look like sktime/aeon's ``(n, channels, timesteps)``:
#: windows for an LSTM are long in time and narrow in channels, and a series in
#: the channels-first layout read as ``(n, timesteps, channels)`` turns its few
#: channels into a handful of "steps" and its length into many "channels"
#: (a univariate series becomes one step). Genuinely wide windows (8 steps of 20
#: sensors) stay under the ratio; the rule only warns.
CHANNELS_FIRST_MAX_STEPS = 16
CHANNELS_FIRST_RATIO = 4


def reject_non_numeric(data, name):
    """Raise ``TypeError`` if ``data`` holds strings or other non-numbers.

    ``np.asarray(data, dtype=float)`` would silently turn ``"1.5"`` into 1.5, so
    string dtypes, and object arrays holding strings, are refused up front.
    Object arrays of numbers pass (scikit-learn accepts them).
    """
    dtypes = getattr(data, "dtypes", None)
    if hasattr(dtypes, "items") and not hasattr(data, "toarray"):  # a DataFrame
        bad = [str(col) for col, dtype in dict(dtypes.items()).items() if _is_text_dtype(dtype)]
        if bad:
            raise TypeError(
                f"{name} must be numeric, but columns {bad} hold strings, objects, timestamps "
                "or other non-numbers; "
                "encode them as numbers first (e.g. sklearn.preprocessing.OrdinalEncoder)."
            )
        return
    dtype = getattr(data, "dtype", None)
    if dtype is None and isinstance(data, (list, tuple)):
        try:  # a list of values: as NumPy would read it
            dtype = np.asarray(data).dtype
        except (TypeError, ValueError):
            return  # ragged: the callers' shape checks explain
        data = np.asarray(data)
    if dtype is None:
        return
    if dtype.kind in "USVMm":  # text, bytes, timestamps, durations
        raise TypeError(
            f"{name} must be numeric, got an array of dtype {dtype}; "
            "convert it to numbers first."
        )
    if dtype.kind == "O" and not hasattr(data, "toarray"):
        flat = np.asarray(data, dtype=object).ravel()
        strings = [v for v in flat if isinstance(v, (str, bytes))]
        if strings:
            raise TypeError(
                f"{name} must be numeric, but it holds strings (e.g. {strings[0]!r}); "
                "convert them to numbers first."
            )


def _is_text_dtype(dtype):
    """Text, objects, categories, timestamps and durations."""
    kind = getattr(dtype, "kind", "O")
    return kind in "OUSVMm" or str(dtype) in ("string", "str", "category")


def window_shape(data):
    """Shape ``(timesteps, channels)`` of 2-D or 3-D window data, else ``None``."""
    try:
        shape = array_shape(data)
    except ValueError:
        return None
    if len(shape) == 2:
        return shape[1], 1
    if len(shape) == 3:
        return shape[1], shape[2]
    return None


def array_shape(data):
    """Shape of an array-like without converting arrays, DataFrames or sparse matrices."""
    shape = getattr(data, "shape", None)
    return tuple(shape) if shape is not None else np.asarray(data).shape


def as_3d_windows(X):
    """View checked 2-D ``(n, T)`` data as one channel; refuse other ranks."""
    if X.ndim == 2:
        X = X[:, :, np.newaxis]
    elif X.ndim != 3:
        raise ValueError(
            "X must be 2-D (n_samples, timesteps) or 3-D (n_samples, timesteps, "
            f"channels); got a {X.ndim}-D array of shape {X.shape}."
        )
    if X.shape[1] < 1:
        raise ValueError(f"X must have at least one time step per window; got shape {X.shape}.")
    if X.shape[2] < 1:
        raise ValueError(f"X must have at least one channel; got shape {X.shape}.")
    return X


def warn_unusual_windows(X, name="X"):
    """Warn about training windows that are probably not what the user meant.

    One ``UserWarning`` when the windows look channels-first (at most
    ``CHANNELS_FIRST_MAX_STEPS`` steps and more than ``CHANNELS_FIRST_RATIO``
    times as many channels), naming the transpose; one naming the channels
    that hold a single value in every window and step (NaN padding aside).

    Parameters
    ----------
    X : ndarray of shape (n_samples, timesteps, channels)
        Checked float windows.
    name : str, default="X"
        The argument's name, for messages.
    """
    _, steps, channels = X.shape
    if steps <= CHANNELS_FIRST_MAX_STEPS and channels > CHANNELS_FIRST_RATIO * steps:
        warnings.warn(
            f"{name} has windows of {steps} step(s) x {channels} channels: far more channels "
            "than steps, as when sktime/aeon data in the channels-first layout "
            "(n_samples, channels, timesteps) is read as (n_samples, timesteps, channels). "
            f"If so, pass {name}.transpose(0, 2, 1).",
            UserWarning,
            stacklevel=4,
        )
    if not X.size:  # no windows, steps or channels: the shape checks explain
        return
    low, high = X.min(axis=(0, 1)), X.max(axis=(0, 1))
    if np.isnan(low).any():  # NaN padding: the values only
        low, high = np.nanmin(X, axis=(0, 1)), np.nanmax(X, axis=(0, 1))
    constant = np.flatnonzero(low == high).tolist()
    if constant:
        warnings.warn(
            f"{name} channel(s) {constant} hold one value in every window and step: they "
            "carry no information; drop them unless that is what you meant.",
            UserWarning,
            stacklevel=4,
        )


def pad_sequences(X, timesteps=None):
    """A list of sequences of different lengths as one NaN right-padded 3-D array.

    Each sequence is ``(length,)`` (one channel) or ``(length, channels)``.
    Anything that is not such a list, and a list of sequences that already
    share the length asked for, comes back unchanged. ``timesteps`` pads to
    that length (a fitted estimator's); ``None`` to the longest sequence.
    """
    if not isinstance(X, (list, tuple)) or not X:
        return X
    try:
        sequences = [np.asarray(sequence) for sequence in X]
    except (TypeError, ValueError):
        return X  # not a list of sequences: the usual checks explain
    for index, sequence in enumerate(sequences):
        reject_non_numeric(sequence, f"X sequence {index}")
    try:
        sequences = [sequence.astype(np.float64) for sequence in sequences]
    except (TypeError, ValueError):
        return X
    lengths = [len(sequence) if sequence.ndim else 0 for sequence in sequences]
    if len({s.shape for s in sequences}) == 1 and timesteps in (None, lengths[0]):
        return X
    ranks = {sequence.ndim for sequence in sequences}
    if not ranks <= {1, 2} or len(ranks) > 1:
        raise ValueError(
            "X as a list of sequences must hold 1-D (length,) or 2-D (length, channels) "
            f"arrays, all of the same rank; got ranks {sorted(ranks)}."
        )
    if ranks == {1}:
        sequences = [sequence[:, np.newaxis] for sequence in sequences]
    channels = sequences[0].shape[1]
    for index, sequence in enumerate(sequences):
        if sequence.shape[1] != channels:
            raise ValueError(
                f"X sequence {index} has {sequence.shape[1]} channels, but sequence 0 has "
                f"{channels}; every sequence needs the same channels."
            )
        if timesteps is not None and len(sequence) > timesteps:
            raise ValueError(
                f"X sequence {index} has {len(sequence)} steps, more than the "
                f"{timesteps} the estimator was fitted on (the longest training sequence)."
            )
    padded = np.full(
        (len(sequences), timesteps or max(lengths), channels), np.nan, dtype=np.float64
    )
    for row, sequence in zip(padded, sequences):
        row[: len(sequence)] = sequence
    return padded


def valid_steps(X, name="X"):
    """Which steps of NaN right-padded windows hold data; ``None`` without NaN.

    Padding is NaN in every channel of a window's last steps (the tslearn
    convention). NaN anywhere else is refused with a message saying how to
    pad; so is a window with no data at all.

    Parameters
    ----------
    X : ndarray of shape (n_samples, timesteps, channels)
    name : str, default="X"
        The argument's name, for messages.

    Returns
    -------
    steps : ndarray of shape (n_samples, timesteps), bool, or None
    """
    if np.isfinite(X.sum()):  # no copy, and no NaN (the usual case)
        return None
    missing = np.isnan(X)
    if not missing.any():
        return None
    padded = missing.all(axis=2)
    how = (
        " Right-pad shorter sequences with NaN in every channel (X[i, length:] = np.nan) "
        "or pass a list of 2-D (length, channels) arrays; fill or interpolate missing "
        "values inside a sequence first."
    )
    partial = np.argwhere(missing.any(axis=2) & ~padded)
    if len(partial):
        window, step = partial[0]
        raise ValueError(
            f"{name} has NaN in some channels of window {window} at step {step}: NaN is read "
            f"only as padding, in every channel of a window's last steps.{how}"
        )
    inside = np.argwhere(padded[:, :-1] & ~padded[:, 1:])
    if len(inside):
        window, step = inside[0]
        raise ValueError(
            f"{name} window {window} has data at step {step + 1} after an all-NaN step {step}: "
            f"padding must come after a sequence's last step.{how}"
        )
    empty = np.flatnonzero(padded[:, 0])
    if len(empty):
        raise ValueError(f"{name} window {empty[0]} holds no data: every step is NaN.")
    return ~padded


@contextlib.contextmanager
def named_errors(name):
    """Re-raise a ``ValueError`` or ``TypeError`` whose message does not name ``name`` with it.

    scikit-learn's and NumPy's checks say what is wrong but not always of which
    argument ("Found array with 0 sample(s)", "Sample weights must contain at
    least one non-zero number").
    """
    try:
        yield
    except (ValueError, TypeError) as error:
        if re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", str(error)):
            raise
        kind = TypeError if isinstance(error, TypeError) else ValueError
        raise kind(f"{name}: {error}") from error


def check_positive_int(value, name):
    """Raise ``ValueError`` unless ``value`` is an int of at least 1 (not a bool)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}.")


def as_table(data, *, check_finite=True, panel=False):
    """Numeric 2-D values, column labels and index of ``data``; clear errors otherwise.

    ``check_finite=False`` leaves NaN and infinities to the caller (who names
    the series they are in); ``panel``: ``data`` holds the channels of a long
    table, whose series are already named (the non-numeric message then does
    not suggest ``series=``).
    """
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if isinstance(data, pd.DataFrame):
        non_numeric = [
            str(c) for c, dtype in data.dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_bool_dtype(dtype)
        ]
        if non_numeric:
            raise TypeError(
                f"data has non-numeric columns {non_numeric}; encode them as numbers first "
                "(e.g. sklearn.preprocessing.OrdinalEncoder, or pandas.factorize) or drop them"
                + ("; a column of timestamps is passed as time=" if panel else
                   "; a column naming the series of a long table (one row per series and "
                   "time) is passed as series=") + "."
            )
        values, columns, index = data.to_numpy(dtype=np.float64), list(data.columns), data.index
    else:
        reject_non_numeric(data, "data")
        values = np.asarray(data)
        if np.iscomplexobj(values):
            raise TypeError("data must be real numbers; got complex values.")
        values = values.astype(np.float64, copy=False)
        if values.ndim == 1:
            values = values[:, np.newaxis]
        if values.ndim != 2:
            raise ValueError(
                "data must be a table of shape (n_steps, n_channels) or a 1-D series; "
                f"got an array of shape {values.shape}."
            )
        columns, index = list(range(values.shape[1])), np.arange(values.shape[0])
    if check_finite:
        bad = ~np.isfinite(values)
        if bad.any():
            row, col = map(int, np.argwhere(bad)[0])
            raise ValueError(
                f"data holds {int(bad.sum())} NaN or infinite value(s), the first at row "
                f"{index[row]!r}, column {columns[col]!r}; fill or drop them first "
                "(e.g. DataFrame.interpolate or ffill)."
            )
    return values, columns, index


def target_positions(target, columns, name="target"):
    """Positions in ``columns`` of the column(s) ``target`` names (by label or position)."""
    if target is None:
        return []
    targets = list(target) if isinstance(target, (list, tuple, np.ndarray, pd.Index)) else [target]
    if not targets:
        raise ValueError(f"{name} must name at least one column; got an empty list.")
    positions = []
    for t in targets:
        if t in columns:
            positions.append(columns.index(t))
        elif (isinstance(t, numbers.Integral) and not isinstance(t, bool)
              and -len(columns) <= t < len(columns)):
            positions.append(int(t) % len(columns))
        else:
            raise ValueError(
                f"{name} {t!r} is not a column of data; columns are {columns}."
            )
    return positions
