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

import numpy as np
from scipy.stats import norm

from ._keras_private import dropout_seed_states


def split_calibration(fraction, *arrays):
    """Split the most recent ``fraction`` of the rows off every array.

    Returns ``(fit_part, calibration_part)``, each a list with one entry per
    array (``None`` stays ``None``); the calibration part is ``None`` when
    ``fraction`` is 0.
    """
    n = len(arrays[0])
    if not fraction:
        return list(arrays), None
    n_calibration = int(math.ceil(n * fraction))
    if n - n_calibration < 2:
        raise ValueError(
            f"calibration_fraction={fraction} holds out {n_calibration} of {n} windows, "
            "leaving fewer than 2 to train on; pass more windows or a smaller "
            "calibration_fraction."
        )
    split = n - n_calibration
    fit = [None if a is None else a[:split] for a in arrays]
    calibration = [None if a is None else a[split:] for a in arrays]
    return fit, calibration


def conformal_half_width(scores, coverage):
    """Half-width of the split-conformal interval at ``coverage``, per output.

    Parameters
    ----------
    scores : ndarray of shape (n_calibration,) + output_shape
        Absolute errors on the calibration windows.
    coverage : float
        Wanted share of targets inside the interval, in (0, 1).

    Returns
    -------
    half_width : ndarray of shape output_shape

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras._intervals import conformal_half_width
    >>> float(conformal_half_width(np.arange(1.0, 20.0), 0.9))
    18.0
    """
    n = len(scores)
    rank = math.ceil((n + 1) * coverage)  # the finite-sample corrected rank
    if rank > n:
        raise ValueError(
            f"coverage={coverage} needs at least {math.ceil(coverage / (1 - coverage))} "
            f"calibration windows; the fit held out {n}. Raise calibration_fraction "
            "or lower coverage."
        )
    return np.sort(scores, axis=0)[rank - 1]


def gaussian_half_width(std, coverage):
    """``z·std`` with ``z`` the standard normal quantile of ``(1 + coverage) / 2``."""
    return norm.ppf(0.5 + coverage / 2.0) * std


def mc_dropout_std(forward, model, x, n_passes, seed):
    """Standard deviation over ``n_passes`` forecasts with dropout active.

    ``forward`` is a :class:`~sae_keras._inference.CompiledForward` of
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
