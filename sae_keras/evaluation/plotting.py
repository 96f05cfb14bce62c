"""Plots of forecasts and loss curves (needs matplotlib, the ``plot`` extra).

Figures are made with ``matplotlib.figure.Figure`` directly, not pyplot, so
they work without a display and leave pyplot's global state alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..data._table import table_step

_PHASE_TITLES = {"finetune": "fine-tuning"}
_UNITS = (("week", pd.Timedelta(weeks=1)), ("day", pd.Timedelta(days=1)),
          ("hour", pd.Timedelta(hours=1)), ("minute", pd.Timedelta(minutes=1)),
          ("second", pd.Timedelta(seconds=1)))
_CALENDAR_UNITS = {"MonthEnd": "month", "MonthBegin": "month", "QuarterEnd": "quarter",
                   "QuarterBegin": "quarter", "YearEnd": "year", "YearBegin": "year",
                   "BusinessDay": "business day", "Week": "week"}


def span_words(index):
    """How long the points of ``index`` last, in words from their step: ``"week"``, ``"30 days"``.

    The span is ``len(index)`` steps of the index's step (its calendar
    frequency or most common spacing), in the largest unit that divides it
    exactly; ``"<n> steps"`` without timestamps or without such a unit.

    Parameters
    ----------
    index : array-like of shape (n,)
        The times of the points drawn.

    Returns
    -------
    words : str

    Examples
    --------
    >>> import pandas as pd
    >>> from sae_keras.evaluation.plotting import span_words
    >>> span_words(pd.date_range("2020-01-01", periods=168, freq="h"))
    'week'
    >>> span_words(pd.date_range("2020-01-01", periods=168, freq="D"))
    '24 weeks'
    """
    n = len(index)
    step = table_step(index) if isinstance(index, pd.DatetimeIndex) else None
    unit, count = "step", n
    if isinstance(step, (pd.offsets.Tick, pd.offsets.Day)):  # fixed-length: hours, days, ...
        step = pd.Timedelta(step)
    elif step == pd.DateOffset(days=1):  # a calendar day (table_step's daily step)
        step = pd.Timedelta(days=1)
    if isinstance(step, pd.Timedelta) and step > pd.Timedelta(0):
        total = n * step
        for name, length in _UNITS:
            if total % length == pd.Timedelta(0):
                unit, count = name, total // length
                break
    elif step is not None and getattr(step, "n", 0) >= 1:
        name = _CALENDAR_UNITS.get(type(step).__name__)
        if name is not None:
            unit, count = name, n * step.n
    return unit if count == 1 else f"{count} {unit}s"


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
    >>> from sae_keras.evaluation.plotting import plot_forecast
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
    >>> from sae_keras.evaluation.plotting import plot_history
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
