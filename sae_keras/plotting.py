"""Plots of forecasts and loss curves (needs matplotlib, the ``plot`` extra).

Figures are made with ``matplotlib.figure.Figure`` directly, not pyplot, so
they work without a display and leave pyplot's global state alone.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

_PHASE_TITLES = {"finetune": "fine-tuning"}


def plot_forecast(index, y_true, forecasts, *, steps=168, title=None, ylabel="value"):
    """Plot the truth and one or more forecasts over the first ``steps`` points.

    Parameters
    ----------
    index : array-like of shape (n,)
        Time of each point (e.g. timestamps of the window ends).
    y_true : array-like of shape (n,)
        Observed values.
    forecasts : dict of str to array-like of shape (n,)
        Named forecasts of the same points.
    steps : int, default=168
        How many points to draw (168 hours = one week).
    title : str, default=None
        Figure title.
    ylabel : str, default="value"
        Label of the y axis, with units.

    Returns
    -------
    figure : matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras.plotting import plot_forecast
    >>> fig = plot_forecast(np.arange(10), np.ones(10), {"model": np.zeros(10)})
    """
    figure = Figure(figsize=(11, 4.5), layout="constrained")
    axes = figure.subplots()
    shown = slice(0, steps)
    x = np.asarray(index)[shown]
    axes.plot(x, np.asarray(y_true)[shown], color="black", linewidth=1.6, label="observed")
    for name, values in forecasts.items():
        axes.plot(x, np.asarray(values)[shown], linewidth=1.1, label=name)
    axes.set_xlabel("time" if np.issubdtype(x.dtype, np.datetime64) else "step")
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    axes.legend()
    if title:
        axes.set_title(title)
    if np.issubdtype(x.dtype, np.datetime64):
        figure.autofmt_xdate()
    return figure


def plot_history(history, *, loss_name="loss"):
    """Plot the loss curves of every training phase side by side.

    Parameters
    ----------
    history : dict
        An estimator's ``history_``: ``{phase: {"loss": [...], "val_loss": [...]}}``.
    loss_name : str, default="loss"
        Label of the y axes (e.g. ``"MSE (scaled units)"``).

    Returns
    -------
    figure : matplotlib.figure.Figure

    Examples
    --------
    >>> from sae_keras.plotting import plot_history
    >>> fig = plot_history({"pretrain_1": {"loss": [1.0, 0.5]}, "finetune": {"loss": [0.4, 0.3]}})
    """
    phases = list(history)
    figure = Figure(figsize=(3.6 * max(len(phases), 1), 3.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, max(len(phases), 1)))
    for ax, phase in zip(axes, phases):
        curves = history[phase]
        for key, values in curves.items():
            if key.endswith("loss"):
                epochs = np.arange(1, len(values) + 1)
                ax.plot(epochs, values, marker="o", markersize=3,
                        label="validation" if key.startswith("val_") else "training")
        ax.set_title(_PHASE_TITLES.get(phase, phase.replace("pretrain_", "pretraining layer ")))
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(loss_name)
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
    figure.suptitle("Loss per training phase")
    return figure
