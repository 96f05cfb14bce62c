"""The one rule that splits windows in time: training part, purge gap, held-out part.

Every held-out fraction of the package goes through :func:`time_split`: early
stopping's validation windows (``validation_fraction``), the conformal
calibration windows (``calibration_fraction``), the windows the ridge start
chooses its penalty on, and the main job's test windows (``--test-fraction``).

Windows are assumed consecutive, one time step apart (stride 1), in time
order, as :func:`~sae_keras.make_windows` cuts them. A window whose target
spans ``horizon`` steps then shares target time steps with the ``horizon - 1``
windows after it, so the ``gap = horizon - 1`` windows between a training
part and the held-out part that follows it are used by neither (a purge gap,
de Prado 2018, *Advances in Financial Machine Learning*, §7.4): no held-out
target was ever a training target.
"""

from __future__ import annotations

import math

import numpy as np


def purge_gap(output_shape):
    """Windows to leave out between parts for targets of ``output_shape``: ``horizon - 1``.

    ``()`` (one step) gives 0; ``(horizon,)`` and ``(horizon, n_targets)``
    give ``horizon - 1``.
    """
    return max(int(output_shape[0]) - 1, 0) if len(output_shape) else 0


def time_split(fraction, n, gap=0, *, name="fraction", min_train=1, min_held=1):
    """Sizes of the training and held-out parts of ``n`` windows in time order.

    The held-out part is the last ``ceil(n * fraction)`` windows; the ``gap``
    windows before it belong to neither part; the training part is what
    comes before the gap. The product ``n * fraction`` is rounded to 9
    decimals first, so that ``10 * 0.3`` holds out 3, not 4.

    Parameters
    ----------
    fraction : float
        Share of the windows held out, in [0, 1).
    n : int
        Windows to split.
    gap : int, default=0
        Windows left out between the two parts (:func:`purge_gap`).
    name : str, default="fraction"
        The parameter ``fraction`` came from, for the error message.
    min_train, min_held : int, default=1
        Fewest windows each part may have (``min_held`` is not checked when
        ``fraction`` is 0).

    Returns
    -------
    n_train, n_held : int
        The training windows are ``[0, n_train)``, the held-out ones
        ``[n - n_held, n)``.

    Raises
    ------
    ValueError
        When either part would have fewer windows than asked, naming ``name``.

    Examples
    --------
    >>> from sae_keras.data._split import time_split
    >>> time_split(0.3, 10)
    (7, 3)
    >>> time_split(0.3, 10, gap=2)
    (5, 3)
    """
    n_held = math.ceil(round(n * fraction, 9)) if fraction > 0 else 0
    n_train = n - n_held - gap
    if (fraction > 0 and n_held < min_held) or n_train < min_train:
        gap_text = f" and a purge gap of {gap} (horizon - 1) windows" if gap else ""
        raise ValueError(
            f"{name}={fraction} holds out {n_held} of {n} windows{gap_text}, leaving "
            f"{max(n_train, 0)} to train on; at least {min_held} held out and {min_train} "
            f"to train on are needed. Pass more windows or change {name}."
        )
    return n_train, n_held


def series_split(codes, fraction, gap=0, *, name="fraction"):
    """:func:`time_split` within each series: every series' last windows held out.

    Each series (the windows of one code, in the order given: time order) holds
    out its last ``ceil(n_s * fraction)`` windows, and the ``gap`` windows
    before them are in neither part, as :func:`time_split` splits one series. A
    series with too few windows for that (fewer than held-out + gap + 1) trains
    on all of them.

    Parameters
    ----------
    codes : array-like of int of shape (n,)
        The series of each window (positions, as ``series_codes`` gives them).
    fraction : float
        Share of each series' windows held out, in (0, 1).
    gap : int, default=0
        Windows of each series left out before its held-out part.
    name : str, default="fraction"
        The parameter ``fraction`` came from, for the error message.

    Returns
    -------
    train_rows, held_rows : ndarray of int
        The rows of each part, series after series, each series' in the order
        given.

    Raises
    ------
    ValueError
        When no series is long enough to hold out a window, naming ``name``.

    Examples
    --------
    >>> from sae_keras.data._split import series_split
    >>> train, held = series_split([0, 0, 0, 0, 1, 1, 1, 1, 1, 1], 0.25, gap=1)
    >>> train.tolist(), held.tolist()
    ([0, 1, 4, 5, 6], [3, 8, 9])
    """
    codes = np.asarray(codes).reshape(-1)
    order = np.argsort(codes, kind="stable")  # series after series, each in its order
    _, starts, counts = np.unique(codes[order], return_index=True, return_counts=True)
    train, held = [], []
    for start, count in zip(starts, counts):
        rows = order[start : start + count]
        n_held = math.ceil(round(count * fraction, 9)) if fraction > 0 else 0
        if n_held and count - n_held - gap >= 1:
            train.append(rows[: count - n_held - gap])
            held.append(rows[count - n_held :])
        else:
            train.append(rows)
    if fraction > 0 and not held:
        raise ValueError(
            f"{name}={fraction} holds out no window of any series: each series needs "
            f"at least {gap + 2} windows (a held-out one, a purge gap of {gap} and one to "
            f"train on). Pass longer series or change {name}."
        )
    empty = np.zeros(0, dtype=np.intp)
    return (np.concatenate(train) if train else empty,
            np.concatenate(held) if held else empty)
