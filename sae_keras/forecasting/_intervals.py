"""Forecast uncertainty: Monte-Carlo dropout and split-conformal intervals.

Two ways to put a range around a forecast, both per output (each lead time and
target gets its own width):

- **Monte-Carlo dropout** (Gal & Ghahramani, 2016): the forecaster is run many
  times with its dropout layers active; the spread of those forecasts is a
  standard deviation, and ``mean ± z·std`` a Gaussian interval. Cheap, needs no
  held-out data, and usually too narrow (it sees the model's uncertainty, not
  the noise of the series).
- **Split conformal** (Vovk et al., 2005; Lei et al., 2018): absolute errors of
  the fitted model on windows it never trained on (the most recent part of the
  training windows, held out by ``calibration_fraction``) give the width that
  covers the wanted share of them. Its coverage holds when future errors look
  like the calibration errors.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.stats import norm

from ..training._keras_private import dropout_seed_states

from ..data._split import time_split


def split_calibration(fraction, gap, *arrays):
    """Split the most recent ``fraction`` of the rows off every array.

    Returns ``(fit_part, calibration_part)``, each a list with one entry per
    array (``None`` stays ``None``); the calibration part is ``None`` when
    ``fraction`` is 0. The ``gap`` rows between the two parts (the purge gap,
    ``horizon - 1``: :func:`~sae_keras.data._split.time_split`) are in neither.
    """
    n = len(arrays[0])
    if not fraction:
        return list(arrays), None
    n_fit, n_calibration = time_split(fraction, n, gap, name="calibration_fraction",
                                      min_train=2)
    fit = [None if a is None else a[:n_fit] for a in arrays]
    calibration = [None if a is None else a[n - n_calibration:] for a in arrays]
    return fit, calibration


def lead_times(output_shape):
    """The lead time (1, 2, ...) of each output of a target of ``output_shape``.

    ``()`` is one step ahead; ``(horizon,)`` and ``(horizon, n_targets)``
    count the horizon's steps along the first axis.
    """
    if not len(output_shape):
        return np.ones(())
    leads = np.arange(1, output_shape[0] + 1, dtype=np.float64)
    return np.broadcast_to(leads.reshape((-1,) + (1,) * (len(output_shape) - 1)),
                           tuple(output_shape))


def conformal_half_width(scores, coverage, leads=1):
    """Half-width of the split-conformal interval at ``coverage``, per output.

    Split conformal (Vovk et al., 2005; Lei et al., 2018) takes the scores'
    empirical quantile at the finite-sample corrected level ``coverage * (1 +
    1 / n)``, exact for ``n`` exchangeable scores. Errors of consecutive
    windows are not: at lead time ``k`` they share ``k - 1`` steps of the
    series (``(k - 1)``-dependent when the forecast uses the window well), and
    a quantile of dependent scores varies, and under-covers, as one of fewer
    independent ones. So ``n`` is replaced by the effective number of scores,

        ``n_eff = n / (1 + 2 * sum_{d=1}^{k-1} (1 - d / n) * rho_d)``,

    with ``rho_d`` the lag-``d`` autocorrelation of the indicators "score at
    most its ``coverage`` quantile": the variance of a sample quantile of a
    dependent sequence is set by the long-run variance of those indicators
    (Sen, 1972, the Bahadur representation under mixing; the blocking argument
    of Chernozhukov, Wüthrich & Zhu, 2018, and Oliveira et al., 2024, "Split
    conformal prediction and non-exchangeable data", JMLR 25, counts
    effective samples the same way). ``n_eff`` is kept between ``n / k`` (the
    ``k`` interleaved independent subsequences of a ``(k - 1)``-dependent
    one) and ``n``. The level ``coverage * (1 + 1 / n_eff)`` is read by linear
    interpolation between order statistics, which makes the mean coverage the
    nominal one instead of up to ``1 / (n_eff + 1)`` above it; for ``k = 1``
    it is the usual rank ``coverage * (n + 1)``. The recorded simulation
    ``benchmarks/conformal_coverage.py`` measures the result.

    Parameters
    ----------
    scores : ndarray of shape (n_calibration,) + output_shape
        Absolute (or scaled absolute) errors on the calibration windows,
        consecutive (stride 1) and in time order.
    coverage : float
        Wanted share of targets inside the interval, in (0, 1).
    leads : float or ndarray broadcastable to output_shape, default=1
        Lead time of each output (:func:`lead_times`).

    Returns
    -------
    half_width : ndarray of shape output_shape

    Raises
    ------
    ValueError
        When the calibration windows are too few for ``coverage`` at some
        lead time: at least ``k * coverage / (1 - coverage)`` are needed at
        lead ``k`` (``9 k`` for 90 %), ``n / k`` effective windows.

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras.forecasting._intervals import conformal_half_width
    >>> float(conformal_half_width(np.arange(1.0, 20.0), 0.9))
    18.0
    """
    scores = np.asarray(scores, dtype=np.float64)
    n = len(scores)
    leads = np.broadcast_to(np.asarray(leads, dtype=np.float64), scores.shape[1:])
    largest = float(leads.max()) if leads.size else 1.0
    needed = math.ceil(round(largest * coverage / (1 - coverage), 9))
    if n < needed:
        at = "" if largest == 1 else (
            f" at lead time {largest:g} (n / {largest:g} effective windows: consecutive "
            "windows share target steps)"
        )
        raise ValueError(
            f"coverage={coverage} needs at least {needed} calibration windows{at}; "
            f"the fit held out {n}. Raise calibration_fraction or lower coverage."
        )
    flat = scores.reshape(n, -1)
    n_eff = np.clip(n / _variance_inflation(flat, coverage, leads.reshape(-1)),
                    n / leads.reshape(-1), n)
    rank = np.minimum(np.round(coverage * n * (1 + 1 / n_eff), 9), n)  # fractional, 1-based
    ordered = np.sort(flat, axis=0)
    low = np.maximum(np.floor(rank).astype(np.intp), 1)
    weight = rank - low
    below = np.take_along_axis(ordered, (low - 1)[np.newaxis], axis=0)[0]
    above = np.take_along_axis(ordered, np.minimum(low, n - 1)[np.newaxis], axis=0)[0]
    return (below + weight * (above - below)).reshape(scores.shape[1:])


def _variance_inflation(flat, coverage, leads):
    """``1 + 2 Σ_{d<k} (1 - d/n) ρ_d`` of each column's quantile indicators, ``k`` its lead."""
    n = len(flat)
    inside = (flat <= np.quantile(flat, coverage, axis=0)).astype(np.float64)
    inside -= inside.mean(axis=0)
    variance = (inside**2).mean(axis=0)
    inflation = np.ones(flat.shape[1])
    for lag in range(1, min(int(leads.max()), n)):
        rho = (inside[:-lag] * inside[lag:]).sum(axis=0) / n / np.where(variance > 0, variance, 1)
        inflation += np.where(lag < leads, 2 * (1 - lag / n) * rho, 0.0)
    return np.maximum(inflation, 1.0)


def local_scale(X, input_scale=None):
    """Local scale of each window: its mean absolute step-to-step change.

    The scale of the normalised nonconformity score ``|y - ŷ| / σ(x)``
    (Papadopoulos et al., 2008, "Normalized nonconformity measures for
    regression conformal prediction"; Lei et al., 2018, §5.2): the mean over
    steps of ``|x[t] - x[t-1]|`` in each channel, divided by the channel's
    ``input_scale`` (so that channels in different units weigh alike), then
    averaged over channels. A fixed function of the window, fitted on
    nothing: conformal calibration learns how errors relate to it. Padding
    (NaN) is skipped.

    Parameters
    ----------
    X : ndarray of shape (n_samples, timesteps, channels)
        Windows in their own units.
    input_scale : ndarray of shape (channels,), default=None
        Per-channel scale (``None``: 1).

    Returns
    -------
    scale : ndarray of shape (n_samples,), float64
    """
    X = np.asarray(X, dtype=np.float64)
    if X.shape[1] < 2:
        return np.ones(len(X))
    steps = np.abs(np.diff(X, axis=1))
    if input_scale is not None:
        steps = steps / np.asarray(input_scale, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN (padded) windows
        scale = np.nanmean(steps.reshape(len(X), -1), axis=1)
    return np.nan_to_num(scale, nan=0.0)


def normalized_half_width(scores, calibration_scales, scales, coverage, leads=1):
    """Half-widths ``q · σ(x)`` of normalised split conformal, one row per window.

    ``q`` is :func:`conformal_half_width` of the calibration scores divided
    by their windows' :func:`local_scale`; ``scales`` are the local scales of
    the windows to forecast. Scales are floored at 1 % of the calibration
    windows' median, so that a flat window gets a narrow interval, not an
    empty one.
    """
    floor = 0.01 * float(np.median(calibration_scales))
    floor = floor if floor > 0 else np.finfo(np.float64).tiny
    shape = (-1,) + (1,) * (np.ndim(scores) - 1)
    ratio = scores / np.maximum(calibration_scales, floor).reshape(shape)
    q = conformal_half_width(ratio, coverage, leads)
    return q * np.maximum(scales, floor).reshape(shape)


def warn_if_no_spread(std, model):
    """Warn when Monte-Carlo dropout gave no spread at all, saying why when the head is zero."""
    if np.any(std > 0):
        return
    head = [np.asarray(w) for w in model.get_layer("head").get_weights()] if any(
        layer.name == "head" for layer in model.layers
    ) else []
    reason = (
        "the network's head is still the ridge start's zeros (early stopping kept the "
        "starting weights), so dropout changes nothing"
        if head and not any(np.any(w) for w in head)
        else "dropout changes none of the forecasts"
    )
    warnings.warn(
        f"Monte-Carlo dropout spread is 0 for every forecast: {reason}. This is no "
        "uncertainty estimate; use predict_interval(method='conformal') with "
        "calibration_fraction > 0.",
        UserWarning, stacklevel=4,
    )


def gaussian_half_width(std, coverage):
    """``z·std`` with ``z`` the standard normal quantile of ``(1 + coverage) / 2``."""
    return norm.ppf(0.5 + coverage / 2.0) * std


def mc_dropout_std(forward, model, x, n_passes, seed):
    """Standard deviation over ``n_passes`` forecasts with dropout active.

    ``forward`` is a :class:`~sae_keras.nn._inference.CompiledForward` of
    ``model`` in training mode. The dropout layers' seed generators are set
    from ``seed`` first, so that the same seed gives the same spread, and put
    back afterwards. Welford's running moments keep one forecast in memory at a
    time.
    """
    states = dropout_seed_states(model)
    saved = [np.asarray(state.value) for state in states]
    rng = np.random.default_rng(seed)
    for state, value in zip(states, saved):
        state.assign(rng.integers(0, 2**31 - 1, size=value.shape).astype(value.dtype))
    try:
        mean = m2 = None
        for k in range(1, n_passes + 1):
            sample = forward(x).astype(np.float64)
            if mean is None:
                mean, m2 = sample, np.zeros_like(sample)
                continue
            delta = sample - mean
            mean += delta / k
            m2 += delta * (sample - mean)
    finally:
        for state, value in zip(states, saved):
            state.assign(value)
    return np.sqrt(m2 / max(n_passes - 1, 1))
