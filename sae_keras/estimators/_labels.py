"""A classifier's labels: checked and encoded, weighted by class, split stratified.

Plain functions of the labels, with no estimator state: ``LSTMSAEClassifier``
calls them from ``fit``.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, column_or_1d

from ..data._split import time_split
from ..data._validation import named_errors


def encode_labels(y, X, owner):
    """Check ``y`` against ``X``: ``(classes, codes)``, the codes 0 … k-1.

    ``owner`` names the estimator in the error raised when ``y`` is ``None``.

    Examples
    --------
    >>> classes, codes = encode_labels(["b", "a", "b"], [[0], [1], [2]], "Clf")
    >>> classes.tolist(), codes.tolist()
    (['a', 'b'], [1, 0, 1])
    """
    if y is None:
        raise ValueError(f"{owner} requires y to be passed, but the target y is None.")
    with named_errors("y"):
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
    check_classification_targets(y)
    encoder = LabelEncoder().fit(y)
    if len(encoder.classes_) < 2:
        raise ValueError(
            f"y holds one class only ({encoder.classes_[0]!r}); a classifier needs "
            "sequences of at least two classes."
        )
    return encoder.classes_, encoder.transform(y)


def class_sample_weight(class_weight, classes, codes, sample_weight):
    """``sample_weight`` times ``class_weight`` per window (``None`` when both are).

    ``class_weight`` is ``None``, ``"balanced"`` or a dict from labels (of
    ``classes``) to weights, a missing label weighing 1.

    Examples
    --------
    >>> class_sample_weight("balanced", np.array(["a", "b"]), np.array([0, 0, 0, 1]), None)
    array([0.66666667, 0.66666667, 0.66666667, 2.        ])
    """
    if class_weight is None:
        return sample_weight
    if isinstance(class_weight, dict):
        unknown = [label for label in class_weight if label not in classes]
        if unknown:
            raise ValueError(
                f"class_weight names labels that y does not hold: {unknown!r}; the "
                f"classes are {classes.tolist()!r}."
            )
        bad = {label: value for label, value in class_weight.items() if not _is_weight(value)}
        if bad:
            raise ValueError(
                "class_weight must map labels to finite numbers >= 0; got "
                f"{bad!r:.200}."
            )
        weights = {index: class_weight.get(label, 1.0) for index, label in enumerate(classes)}
    else:
        weights = "balanced"
    weight = compute_sample_weight(weights, codes)
    return weight if sample_weight is None else weight * sample_weight


def stratified_held_out_last(codes, validation_fraction, seed):
    """``(order, n_held)``: the windows in an order whose last ``n_held`` are stratified.

    The last ``n_held`` are early stopping's held-out part.

    Training's batches are shuffled anyway; the validation part is the last
    ``ceil(n * validation_fraction)`` windows (as for every estimator here),
    here a stratified sample. Where it cannot be stratified (a class of one
    window, or fewer held-out windows than classes) it is a random sample that
    leaves at least one window of every class to train on, when there are
    enough windows for that. The kept windows stay in their order. ``n_held``
    is 0 without validation.

    Examples
    --------
    >>> codes = np.array([0, 1] * 5)
    >>> order, n_held = stratified_held_out_last(codes, 0.2, seed=0)
    >>> sorted(order.tolist()) == list(range(10)), sorted(codes[order[-n_held:]].tolist())
    (True, [0, 1])
    """
    n = len(codes)
    if validation_fraction <= 0:
        return np.arange(n), 0
    n_held = time_split(validation_fraction, n, 0)[1]
    rows = np.arange(n)
    try:
        kept, held = train_test_split(rows, test_size=n_held, stratify=codes,
                                      random_state=seed)
    except ValueError:  # a class of one window, or fewer held-out windows than classes
        # One window of each class, drawn at random, always trains.
        rng = np.random.RandomState(seed)
        trains = np.array([rng.choice(np.flatnonzero(codes == code)) for code in np.unique(codes)])
        rest = np.setdiff1d(rows, trains)
        if len(rest) < n_held:
            rest, trains = rows, rows[:0]
        kept, held = train_test_split(rest, test_size=n_held, random_state=seed)
        kept = np.concatenate([trains, kept])
    return np.concatenate([np.sort(kept), held]), n_held


def _is_weight(value):
    """A finite real number at least 0 (not a bool)."""
    return (isinstance(value, (Real, np.number)) and not isinstance(value, (bool, np.bool_))
            and np.isfinite(value) and value >= 0)
