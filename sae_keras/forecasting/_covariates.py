"""Covariates beside the windows: static (one row per window) and known-future ones.

Static covariates describe a window as a whole (the station, the sensor's
type); known-future covariates are values known in advance for the steps being
forecast (hour of day, day of week, a holiday flag, a scheduled setting). Both
join the top layer's codes before the forecaster's head (as in seed 002's
model), and the window in the linear skip; the encoders never read them.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_array

from ._scaling import channel_stats, column_stats, fit_stats, scale_windows
from ..data._validation import array_shape, reject_non_numeric


def check_covariates(static, future, n_samples):
    """Validated float copies: static ``(n, k)``, future ``(n, steps, k)``; ``None`` stays.

    A 1-D static array is one covariate; a 2-D future array is one covariate
    over its steps.
    """
    if static is not None:
        reject_non_numeric(static, "static_covariates")
        _check_rank(static, (1, 2), "static_covariates",
                    "(n_samples,) or (n_samples, n_static), one row per window")
        static = check_array(static, ensure_2d=False, dtype=np.float64,
                             input_name="static_covariates")
        if static.ndim == 1:
            static = static[:, np.newaxis]
        if static.ndim != 2:
            raise ValueError(
                "static_covariates must be (n_samples,) or (n_samples, n_static), one row "
                f"per window; got an array of shape {static.shape}."
            )
        _check_rows(static, n_samples, "static_covariates")
    if future is not None:
        reject_non_numeric(future, "future_covariates")
        _check_rank(future, (2, 3), "future_covariates",
                    "(n_samples, steps) or (n_samples, steps, n_future)")
        future = check_array(future, allow_nd=True, dtype=np.float64,
                             input_name="future_covariates")
        if future.ndim == 2:
            future = future[:, :, np.newaxis]
        if future.ndim != 3:
            raise ValueError(
                "future_covariates must be (n_samples, steps) or (n_samples, steps, "
                "n_future): the values known in advance for the forecast steps of each "
                f"window; got an array of shape {future.shape}."
            )
        _check_rows(future, n_samples, "future_covariates")
    return static, future


def _check_rank(values, ranks, name, expected):
    """Refuse, naming ``name``, an array of another rank or with an empty dimension."""
    try:
        shape = array_shape(values)
    except ValueError as error:
        raise ValueError(f"{name} must be a rectangular array {expected}: {error}") from None
    if len(shape) not in ranks or 0 in shape:
        raise ValueError(f"{name} must be {expected}; got an array of shape {shape}.")


def _check_rows(values, n_samples, name):
    if len(values) != n_samples:
        raise ValueError(
            f"{name} must have one row per window of X ({n_samples}); got {len(values)}."
        )


def covariate_shapes(static, future):
    """``(n_static, future_shape)`` as the forecaster's builder takes them."""
    return (
        0 if static is None else int(static.shape[1]),
        None if future is None else tuple(int(s) for s in future.shape[1:]),
    )


def check_fitted_shapes(fitted, static, future):
    """Refuse covariates shaped unlike (or present unlike) those seen in ``fit``."""
    n_static, future_shape = fitted
    got_static, got_future = covariate_shapes(static, future)
    for name, want, got, what in [
        ("static_covariates", n_static or None, got_static or None, "columns"),
        ("future_covariates", future_shape, got_future, "(steps, n_future)"),
    ]:
        if want == got:
            continue
        if want is None:
            raise ValueError(f"{name} was not passed to fit; the fitted model does not use it.")
        if got is None:
            raise ValueError(
                f"{name} is required: the model was fitted with {name} of {what} {want}."
            )
        raise ValueError(f"{name} must have {what} {want}, as in fit; got {got}.")


def fit_covariate_stats(scaling, static, future):
    """Standardisation statistics: per static column, per future channel."""
    return (
        None if static is None else fit_stats(scaling, column_stats, static),
        None if future is None else fit_stats(scaling, channel_stats, future),
    )


def scale_covariates(stats, static, future):
    """The covariates as the model reads them: standardised float32 (or ``None``)."""
    scaled = []
    for values, stat in zip((static, future), stats):
        if values is None:
            scaled.append(None)
            continue
        mean, scale = (None, None) if stat is None else stat
        scaled.append(np.asarray(scale_windows(values, mean, scale), dtype=np.float32))
    return scaled
