"""How a network with a linear skip starts as a linear model.

The skip (layer ``linear_skip``) is set to a linear model fitted first and kept
fixed; the head starts at zero, so that the network starts as that model and its
LSTMs learn what it misses. The regressor's linear model is a ridge regression
(:func:`~sae_keras.forecasting._linear.ridge_skip`); the classifier's a
multinomial logistic regression (:func:`logistic_skip`).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold

#: Inverse penalties tried by the classifier's logistic start (the default grid of
#: scikit-learn's ``LogisticRegressionCV``), and the folds it is chosen by.
CS = np.logspace(-4, 4, 10)
FOLDS = 3


def start_as_linear(model, kernel, bias):
    """Fix ``model``'s ``linear_skip`` at ``kernel, bias`` and zero its ``head``.

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras.nn.builders import build_forecaster
    >>> from sae_keras.estimators._linear_start import start_as_linear
    >>> model = build_forecaster(4, 1, (3,), (1,), linear_skip=True)
    >>> start_as_linear(model, np.ones((4, 1), "float32"), np.zeros(1, "float32"))
    >>> float(model.predict(np.ones((1, 4, 1)), verbose=0)[0, 0])
    4.0
    """
    skip = model.get_layer("linear_skip")
    skip.set_weights([kernel, bias])
    skip.trainable = False
    head = model.get_layer("head")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])


def logistic_start(model, X, codes, n_classes, sample_weight=None, *, stop, seed=None):
    """Start ``model`` as a logistic regression of ``codes`` on its first ``stop`` windows.

    ``X``: the windows as the network reads them; the regression
    (:func:`logistic_skip`) reads them flattened as its ``linear_skip`` does.
    Returns the regression's inverse penalty (``None``: no start, the skip
    stays at zero, fixed).
    """
    width = model.get_layer("linear_skip").kernel.shape[0]
    weight = None if sample_weight is None else sample_weight[:stop]
    kernel, bias, C = logistic_skip(flat_windows(X, stop, width), codes[:stop], n_classes,
                                    weight, seed=seed)
    start_as_linear(model, kernel, bias)
    return C


def padding_as_zeros(X):
    """Windows as the linear skip reads them: ``ScaledWindows``' NaN padding as 0.

    The model reads padding as the pad value, which ``patches`` and ``mask`` turn
    into zeros before the skip; an array, or windows without padding, as they are.
    """
    if hasattr(X, "filled_with") and X.fill is not None:
        return X.filled_with(0.0)
    return X


def flat_windows(X, stop, width):
    """The first ``stop`` windows flattened as the skip reads them: padding as 0.

    ``X``: windows as the network reads them (an array, or ``ScaledWindows``
    whose NaN padding the model would read as the pad value); ``width``: the
    skip's input size, at least the window's (``patches`` complete a window with
    zeros to whole patches).
    """
    rows = np.asarray(padding_as_zeros(X)[:stop], dtype=np.float64).reshape(stop, -1)
    if rows.shape[1] < width:
        rows = np.pad(rows, [(0, 0), (0, width - rows.shape[1])])
    return rows


def logistic_skip(X, codes, n_classes, sample_weight=None, seed=None):
    """Weights of ``softmax(X @ kernel + bias)`` by multinomial logistic regression.

    The inverse penalty ``C`` is chosen among :data:`CS` by the log-loss of a
    stratified :data:`FOLDS`-fold cross-validation (fewer folds when a class has
    fewer sequences; ``C=1`` when one has a single sequence), then the model is
    refitted on all of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Flattened sequences (:func:`flat_windows`).
    codes : ndarray of shape (n_samples,)
        Class codes 0 … ``n_classes - 1``.
    n_classes : int
        Number of classes (the softmax's width).
    sample_weight : ndarray of shape (n_samples,), default=None
        Weights of the sequences' log-losses.
    seed : int, default=None
        Seed of the folds' shuffle.

    Returns
    -------
    kernel : ndarray of shape (n_features, n_classes), float32
    bias : ndarray of shape (n_classes,), float32
    C : float or None
        The chosen inverse penalty; ``None`` when some class has no sequence of
        positive weight in ``X`` (then the kernel and bias are zeros: no start).

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras.estimators._linear_start import logistic_skip
    >>> X = np.random.default_rng(0).normal(size=(60, 3))
    >>> codes = (X[:, 0] > 0).astype(int)
    >>> kernel, bias, C = logistic_skip(X, codes, 2)
    >>> kernel.shape, bool(kernel[0, 1] > kernel[0, 0])
    ((3, 2), True)
    """
    weight = np.ones(len(codes)) if sample_weight is None else np.asarray(sample_weight)
    # A class absent, or present with weight 0 only: no model of all the classes' log-odds.
    counts = np.bincount(codes, weights=weight > 0, minlength=n_classes).astype(int)
    if (counts == 0).any():
        return (np.zeros((X.shape[1], n_classes), np.float32),
                np.zeros(n_classes, np.float32), None)
    folds = min(FOLDS, int(counts.min()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        C = 1.0
        if folds >= 2:
            splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, codes))
            losses = [_held_out_log_loss(X, codes, weight, splits, C) for C in CS]
            C = float(CS[int(np.argmin(losses))])
        model = LogisticRegression(C=C, max_iter=1000).fit(X, codes, sample_weight=weight)
    coef, intercept = model.coef_, model.intercept_
    if n_classes == 2:  # one logit, of the second class: softmax over (0, logit)
        coef = np.concatenate([np.zeros_like(coef), coef])
        intercept = np.concatenate([np.zeros_like(intercept), intercept])
    return coef.T.astype(np.float32), intercept.astype(np.float32), C


def _held_out_log_loss(X, codes, weight, splits, C):
    """Weighted log-loss of ``LogisticRegression(C)`` on held-out folds, summed."""
    labels = np.arange(int(codes.max()) + 1)
    total = 0.0
    for train, held in splits:
        model = LogisticRegression(C=C, max_iter=1000)
        model.fit(X[train], codes[train], sample_weight=weight[train])
        total += log_loss(codes[held], model.predict_proba(X[held]), labels=labels,
                          sample_weight=weight[held]) * weight[held].sum()
    return total
