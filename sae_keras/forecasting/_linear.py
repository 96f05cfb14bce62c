"""The ridge regression behind ``linear_skip="ridge"``.

A ridge regression of the (scaled) targets on the flattened (scaled) windows,
computed from normal equations accumulated over chunks of windows, so that
windows that are views of a series are never flattened whole. It is
fitted on the windows fine-tuning trains on (never on early stopping's
validation windows), its penalty chosen on the most recent
``validation_fraction`` of those, then refitted on all of them.
"""

from __future__ import annotations

import numpy as np

from ..data._split import time_split

#: Penalties tried, relative to the mean diagonal of ``XᵀX / n`` (1 for
#: standardised inputs): from least squares to strong shrinkage. Smooth series
#: (hourly temperatures, electricity demand) want almost none: a floor of 1e-4
#: left the ridge start 3.4 % behind scikit-learn's Ridge on the validation split
#: of an hourly temperature series; down to 1e-8 it matches it.
ALPHAS = np.logspace(-8, 3, 23)
_CHUNK = 4096
_MIN_VALIDATION = 10  # fewer validation windows than this: no search, alpha = 1


def ridge_skip(X, y, sample_weight=None, validation_fraction=0.1, gap=0, stop=None):
    """Weights of ``y ≈ flatten(X) @ kernel + bias`` by ridge regression.

    Only the first ``stop`` windows are read (the ones fine-tuning trains on,
    so that early stopping's validation windows score a map that never saw
    them). The penalty is chosen inside them: fitted on their first part,
    scored on their last ``validation_fraction`` (split by
    :func:`~sae_keras.data._split.time_split`, ``gap`` windows left out between),
    then the regression is refitted on all ``stop`` windows.

    Parameters
    ----------
    X : array-like of shape (n_samples, timesteps, channels), or a tuple of them
        Windows (or a ``ScaledWindows``), read in chunks; a tuple's parts
        (windows, then covariates) are flattened and joined, part after part.
    y : ndarray of shape (n_samples, n_outputs)
        Targets.
    sample_weight : ndarray of shape (n_samples,), default=None
        Weights of the squared errors.
    validation_fraction : float, default=0.1
        The last part of the windows read on which the penalty is chosen.
    gap : int, default=0
        Windows left out between the part fitted and the part scored while
        choosing the penalty (the purge gap, ``horizon - 1``).
    stop : int, default=None
        Read windows ``[0, stop)``; ``None`` reads them all.

    Returns
    -------
    kernel : ndarray of shape (timesteps * channels, n_outputs), float32
    bias : ndarray of shape (n_outputs,), float32
    alpha : float
        The chosen penalty (per window, on the scale of ``XᵀX / n``).

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras.forecasting._linear import ridge_skip
    >>> X = np.random.default_rng(0).normal(size=(500, 4, 2))
    >>> y = X[:, -1, :1] * 2 + 1
    >>> kernel, bias, alpha = ridge_skip(X, y)
    >>> np.round(kernel[-2:, 0], 2) + 0.0, np.round(bias, 2)  # + 0.0: no "-0."
    (array([2., 0.], dtype=float32), array([1.], dtype=float32))
    """
    n_all = len(X[0]) if isinstance(X, tuple) else len(X)
    n = n_all if stop is None else int(stop)
    y = np.asarray(y, dtype=np.float64).reshape(n_all, -1)
    weights = np.ones(n_all) if sample_weight is None else np.asarray(sample_weight, np.float64)
    try:
        split, n_held = time_split(validation_fraction, n, gap, name="validation_fraction",
                                   min_held=_MIN_VALIDATION)
    except ValueError:  # too few windows to choose on: the default penalty
        split = n_held = 0
    if n_held:
        gram, moment = _normal_equations(X, y, weights, 0, split)
        eigenvalues, eigenvectors = np.linalg.eigh(gram[0])
        errors = [
            _weighted_error(X, y, weights, n - n_held, n,
                            _solve_eig(eigenvalues, eigenvectors, gram, moment, alpha))
            for alpha in ALPHAS
        ]
        alpha = float(ALPHAS[int(np.argmin(errors))])
    else:
        alpha = 1.0
    gram, moment = _normal_equations(X, y, weights, 0, n)
    eigenvalues, eigenvectors = np.linalg.eigh(gram[0])
    kernel, bias = _solve_eig(eigenvalues, eigenvectors, gram, moment, alpha)
    return kernel.astype(np.float32), bias.astype(np.float32), alpha


def _rows(X, start, stop):
    if isinstance(X, tuple):
        return np.concatenate([_rows(part, start, stop) for part in X], axis=1)
    chunk = np.asarray(X[start:stop], dtype=np.float64)
    return chunk.reshape(len(chunk), -1)


def _normal_equations(X, y, weights, start, stop):
    """Centred ``XᵀWX / Σw`` and ``XᵀW(y - ȳ) / Σw``, with the weighted means."""
    total = weights[start:stop].sum()
    mean_x = 0.0
    for begin in range(start, stop, _CHUNK):
        end = min(stop, begin + _CHUNK)
        mean_x = mean_x + (weights[begin:end, None] * _rows(X, begin, end)).sum(axis=0)
    mean_x = mean_x / total
    mean_y = (weights[start:stop, None] * y[start:stop]).sum(axis=0) / total
    xtx, xty = 0.0, 0.0
    for begin in range(start, stop, _CHUNK):
        end = min(stop, begin + _CHUNK)
        rows = _rows(X, begin, end) - mean_x
        weighted = rows * weights[begin:end, None]
        xtx = xtx + weighted.T @ rows
        xty = xty + weighted.T @ (y[begin:end] - mean_y)
    return (xtx / total, mean_x), (xty / total, mean_y)


def _solve_eig(eigenvalues, eigenvectors, gram, moment, alpha):
    """Ridge solution for penalty ``alpha`` from the eigen-decomposition of the Gram matrix."""
    xtx, mean_x = gram
    xty, mean_y = moment
    scale = max(float(np.mean(np.diag(xtx))), np.finfo(float).tiny)
    inverse = 1.0 / (eigenvalues + alpha * scale)
    kernel = eigenvectors @ (inverse[:, None] * (eigenvectors.T @ xty))
    return kernel, mean_y - mean_x @ kernel


def _weighted_error(X, y, weights, start, stop, solution):
    kernel, bias = solution
    error = 0.0
    for begin in range(start, stop, _CHUNK):
        end = min(stop, begin + _CHUNK)
        residual = _rows(X, begin, end) @ kernel + bias - y[begin:end]
        error += float((weights[begin:end, None] * residual**2).sum())
    return error
