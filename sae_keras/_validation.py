"""Input checks shared by the estimators and the data helpers."""

from __future__ import annotations

import numpy as np


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
                f"{name} must be numeric, but columns {bad} hold strings or objects; "
                "encode them as numbers first (e.g. sklearn.preprocessing.OrdinalEncoder)."
            )
        return
    dtype = getattr(data, "dtype", None)
    if dtype is None:
        return
    if dtype.kind in "USV":
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
    kind = getattr(dtype, "kind", "O")
    return kind in "OUSV" or str(dtype) in ("string", "str", "category")


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
    if X.shape[2] < 1:
        raise ValueError(f"X must have at least one channel; got shape {X.shape}.")
    return X
