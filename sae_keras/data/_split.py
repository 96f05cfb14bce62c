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
