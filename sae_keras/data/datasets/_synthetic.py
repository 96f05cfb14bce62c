"""A synthetic multichannel seasonal series, for tests and quick demos."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state


def make_synthetic(
    n_steps=2000, n_channels=3, *, period=24, noise=0.1, lag=3, random_state=None
):
    """Generate a seasonal multichannel series whose target follows its drivers.

    Channels ``driver_1`` ... ``driver_{n_channels - 1}`` are sinusoids with the
    seasonal ``period`` (each with its own phase and a slower modulation) plus
    Gaussian noise; ``target`` is a mix of the drivers delayed by ``lag`` steps
    plus noise, so the drivers' recent history helps to forecast it.

    Parameters
    ----------
    n_steps : int, default=2000
        Number of hourly time steps.
    n_channels : int, default=3
        Number of columns, the target included (at least 1).
    period : float, default=24
        Seasonal period in steps.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise.
    lag : int, default=3
        Delay between the drivers and the target.
    random_state : int, RandomState instance or None, default=None
        Seed of the noise and phases.

    Returns
    -------
    frame : DataFrame of shape (n_steps, n_channels)
        Columns ``target, driver_1, ...``, indexed hourly from 2020-01-01.

    Examples
    --------
    >>> from sae_keras.data.datasets import make_synthetic
    >>> make_synthetic(100, 3, random_state=0).shape
    (100, 3)
    """
    if n_channels < 1 or n_steps < 1:
        raise ValueError(
            f"n_steps and n_channels must be at least 1; got {n_steps} and {n_channels}."
        )
    rng = check_random_state(random_state)
    t = np.arange(n_steps + lag)
    phases = rng.uniform(0, 2 * np.pi, size=max(n_channels - 1, 1))
    drivers = np.stack(
        [
            np.sin(2 * np.pi * t / period + p) * (1 + 0.3 * np.sin(2 * np.pi * t / (7 * period)))
            for p in phases
        ],
        axis=1,
    )
    weights = rng.uniform(0.5, 1.5, size=drivers.shape[1])
    # Row i of the target mixes the drivers of row i - lag.
    target = drivers[:n_steps] @ weights / weights.sum() + noise * rng.normal(size=n_steps)
    columns = {"target": target}
    for k in range(1, n_channels):
        columns[f"driver_{k}"] = drivers[lag:, k - 1] + noise * rng.normal(size=n_steps)
    index = pd.date_range("2020-01-01", periods=n_steps, freq="h", name="time")
    return pd.DataFrame(columns, index=index)
