"""Forecasting metrics that scikit-learn does not have."""

from __future__ import annotations

import numpy as np


def _pair(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape; got {y_true.shape} and {y_pred.shape}."
        )
    if y_true.size == 0:
        raise ValueError("y_true and y_pred are empty.")
    return y_true, y_pred


def rmse(y_true, y_pred):
    """Root mean squared error over all elements.

    Examples
    --------
    >>> from sae_keras.evaluation.metrics import rmse
    >>> rmse([0.0, 0.0], [3.0, 4.0])
    3.5355...
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def mae(y_true, y_pred):
    """Mean absolute error over all elements.

    Examples
    --------
    >>> from sae_keras.evaluation.metrics import mae
    >>> mae([0.0, 0.0], [3.0, -4.0])
    3.5
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))


def smape(y_true, y_pred):
    """Symmetric mean absolute percentage error, in percent (0 to 100).

    ``100 / n · Σ |F − A| / (|A| + |F|)``, the form used by Sagheer & Kotb
    (2019); a term with ``A = F = 0`` counts 0. Multiply by 2 for the other
    common convention (0 to 200).

    Examples
    --------
    >>> from sae_keras.evaluation.metrics import smape
    >>> smape([100.0, 0.0], [50.0, 0.0])
    16.66...
    """
    y_true, y_pred = _pair(y_true, y_pred)
    denominator = np.abs(y_true) + np.abs(y_pred)
    terms = np.divide(
        np.abs(y_pred - y_true), denominator, out=np.zeros_like(denominator), where=denominator > 0
    )
    return float(100.0 * np.mean(terms))


def skill_score(y_true, y_pred, y_reference):
    """Skill against a reference forecast: ``1 − RMSE(pred) / RMSE(reference)``.

    Positive when ``y_pred`` beats the reference (e.g. persistence), 1 for a
    perfect forecast.

    Examples
    --------
    >>> from sae_keras.evaluation.metrics import skill_score
    >>> skill_score([1.0, 2.0], [1.0, 2.5], [2.0, 3.0])
    0.6464...
    """
    return 1.0 - rmse(y_true, y_pred) / rmse(y_true, y_reference)
