"""Rolling-origin evaluation: scores at several forecast origins, beside baselines.

One train/test split gives one number; a forecaster's error moves with the
season and the weather it meets. :func:`rolling_origin` moves the forecast
origin through the data (scikit-learn's ``TimeSeriesSplit``: each test block
follows its training windows, with an optional ``gap``), scores the estimator
and the baselines on every block, and returns one row per origin, so that the
spread is seen, not only the mean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import TimeSeriesSplit

from ..data._split import purge_gap
from .metrics import rmse


def rolling_origin(
    estimator,
    X,
    y,
    *,
    n_origins=5,
    test_size=None,
    gap=None,
    max_train_size=None,
    refit=True,
    persistence=None,
    ridge=True,
    metric=rmse,
    covariates=None,
    fit_params=None,
    name="estimator",
):
    """Score an estimator and baselines at successive forecast origins.

    Parameters
    ----------
    estimator : regressor
        Cloned and fitted on the windows before each origin (``refit=True``),
        or once, on those before the first origin (``refit=False``: the
        forecaster is deployed and never retrained, as many are).
    X : array-like of shape (n_samples, timesteps[, channels])
        Windows in time order.
    y : array-like of shape (n_samples,) + target shape
        Their targets.
    n_origins : int, default=5
        Number of origins (test blocks), as ``TimeSeriesSplit``'s ``n_splits``.
    test_size : int, default=None
        Windows per test block; by default ``n_samples // (n_origins + 1)``.
    gap : int, default=None
        Windows left out between each training part and its test block (a
        purge gap). ``None``: ``horizon - 1`` for a ``y`` of shape ``(n,
        horizon[, n_targets])``, 0 for one step, so that no training target
        is a test target (windows consecutive, stride 1, in time order).
    max_train_size : int, default=None
        Train on at most this many most recent windows (a sliding window
        instead of an expanding one).
    refit : bool, default=True
        Refit at every origin, or fit once before the first.
    persistence : int, callable or None, default=None
        The persistence baseline: an int is the channel of ``X`` whose last
        value is the forecast (repeated over every output); a callable maps
        windows to forecasts shaped like ``y`` (``lambda X: np.zeros(len(X))``
        when ``y`` is the change from the last step); ``None`` leaves it out.
    ridge : bool, default=True
        Also score ``RidgeCV`` on the flattened windows, fitted like the
        estimator.
    metric : callable, default=sae_keras.evaluation.metrics.rmse
        ``metric(y_true, y_pred)``; lower or higher is better as it says.
    covariates : dict, default=None
        Arrays with one row per window passed to the estimator's ``fit`` and
        ``predict``, split like ``X`` (``{"future_covariates": future}``).
    fit_params : dict, default=None
        More arguments of ``fit`` only (``sample_weight``); those with one row
        per window are split like ``X``, the others passed whole.
    name : str, default="estimator"
        The estimator's column in the result.

    Returns
    -------
    scores : pandas.DataFrame
        One row per origin: ``origin`` (1-based), ``train_windows``,
        ``test_start`` and ``test_end`` (window positions), then one column
        per model (``persistence``, ``Ridge``, ``name``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from sae_keras.evaluation.rolling import rolling_origin
    >>> series = np.sin(np.arange(300) / 5)
    >>> X = np.stack([series[i:i + 10] for i in range(289)])
    >>> y = series[10:299]
    >>> scores = rolling_origin(LinearRegression(), X, y, n_origins=3, persistence=-1)
    >>> list(scores.columns)
    ['origin', 'train_windows', 'test_start', 'test_end', 'persistence', 'Ridge', 'estimator']
    """
    X_array = np.asarray(X)
    y_array = np.asarray(y)
    n = len(X_array)
    if len(y_array) != n:
        raise ValueError(f"X and y must have as many windows; got {n} and {len(y_array)}.")
    if persistence is not None and not callable(persistence) and not isinstance(
        persistence, (int, np.integer)
    ):
        raise ValueError(
            "persistence must be a channel index (int), a callable or None; got "
            f"{persistence!r}."
        )
    covariates = {k: np.asarray(v) for k, v in (covariates or {}).items()}
    for key, value in covariates.items():
        if len(value) != n:
            raise ValueError(f"covariates[{key!r}] must have one row per window ({n}); "
                             f"got {len(value)}.")
    if gap is None:
        gap = purge_gap(y_array.shape[1:])
    split_params, whole_params = _split_params(fit_params or {}, n)
    splitter = TimeSeriesSplit(n_splits=n_origins, test_size=test_size, gap=gap,
                               max_train_size=max_train_size)
    rows, fitted, fitted_ridge = [], None, None
    for origin, (train, test) in enumerate(splitter.split(X_array), start=1):
        row = {"origin": origin, "train_windows": len(train),
               "test_start": int(test[0]), "test_end": int(test[-1]) + 1}
        y_test = y_array[test]
        if persistence is not None:
            row["persistence"] = metric(y_test, _persistence(persistence, X_array[test], y_test))
        if refit or fitted is None:
            fitted = clone(estimator).fit(
                X_array[train], y_array[train],
                **{k: v[train] for k, v in {**split_params, **covariates}.items()},
                **whole_params,
            )
            if ridge:
                fitted_ridge = RidgeCV(alphas=np.logspace(-4, 6, 21)).fit(
                    _flat(X_array[train]), y_array[train].reshape(len(train), -1)
                )
        if ridge:
            prediction = fitted_ridge.predict(_flat(X_array[test])).reshape(y_test.shape)
            row["Ridge"] = metric(y_test, prediction)
        row[name] = metric(y_test, fitted.predict(
            X_array[test], **{k: v[test] for k, v in covariates.items()}
        ))
        rows.append(row)
    return pd.DataFrame(rows)


def _split_params(params, n):
    """Arrays with one row per window (split by the folds), and the rest (passed whole)."""
    split, whole = {}, {}
    for key, value in params.items():
        if hasattr(value, "__len__") and not isinstance(value, (str, dict)) and len(value) == n:
            split[key] = np.asarray(value)
        else:
            whole[key] = value
    return split, whole


def _flat(X):
    return X.reshape(len(X), -1)


def _persistence(persistence, X, y):
    if callable(persistence):
        return np.asarray(persistence(X), dtype=np.float64).reshape(y.shape)
    windows = X if X.ndim == 3 else X[:, :, np.newaxis]
    last = windows[:, -1, persistence].astype(np.float64)
    return np.broadcast_to(last.reshape((-1,) + (1,) * (y.ndim - 1)), y.shape)
