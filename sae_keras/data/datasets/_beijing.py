"""Loader of the bundled Beijing PM2.5 data (no network needed)."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

_DESCR = """Beijing PM2.5, hourly, 2010-01-02 to 2014-12-31 (43,800 rows).

Columns: pollution (PM2.5, ug/m3), dew (dew point, C), temp (C), press (hPa),
wnd_dir (NE, NW, SE, cv), wnd_spd (cumulated wind speed, m/s), snow and rain
(cumulated hours).

Source: UCI Machine Learning Repository "Beijing PM2.5 Data" (Liang et al., 2015,
Proc. R. Soc. A 471: 20150257), CC BY 4.0, in the cleaned form used by
Sagheer & Kotb (2019), Scientific Reports 9:19038.
"""


def load_beijing_pm25(as_frame=True):
    """Load the hourly Beijing PM2.5 and weather series shipped with sae_keras.

    43,800 hourly rows from 2010-01-02 to 2014-12-31: PM2.5 concentration
    (``pollution``, µg/m³), dew point, temperature, pressure, wind direction
    and speed, and cumulated hours of snow and rain. The first day of the
    original record (missing PM2.5) is dropped and gaps are filled.

    Source: the UCI Machine Learning Repository "Beijing PM2.5 Data" (Liang et
    al., 2015, "Assessing Beijing's PM2.5 pollution: severity, weather impact,
    APEC and winter heating", Proc. R. Soc. A 471: 20150257), licensed CC BY
    4.0, in the cleaned form used by Sagheer & Kotb (2019), Scientific Reports
    9:19038.

    Parameters
    ----------
    as_frame : bool, default=True
        If true return a DataFrame indexed by the hourly ``date``, with
        ``wnd_dir`` as strings. If false return a Bunch of NumPy arrays with
        ``wnd_dir`` ordinal-encoded (categories sorted: ``NE, NW, SE, cv`` →
        0, 1, 2, 3, as the authors' label encoding).

    Returns
    -------
    data : DataFrame or Bunch
        The Bunch has ``data`` (ndarray of shape (43800, 8), float64),
        ``feature_names``, ``index`` (the dates), ``wind_categories``, ``frame``
        (the DataFrame) and ``DESCR``.

    Examples
    --------
    >>> from sae_keras.data.datasets import load_beijing_pm25
    >>> frame = load_beijing_pm25()
    >>> frame.shape
    (43800, 8)
    >>> list(frame.columns[:3])
    ['pollution', 'dew', 'temp']
    """
    source = resources.files("sae_keras.data.datasets").joinpath("data/pollution.csv.gz")
    with source.open("rb") as handle:
        frame = pd.read_csv(handle, compression="gzip", index_col="date", parse_dates=["date"])
    frame["wnd_dir"] = frame["wnd_dir"].astype(str)
    if as_frame:
        return frame
    categories = sorted(frame["wnd_dir"].unique())
    encoded = frame.assign(wnd_dir=pd.Categorical(frame["wnd_dir"], categories).codes)
    return Bunch(
        data=encoded.to_numpy(dtype=np.float64),
        feature_names=list(frame.columns),
        index=frame.index,
        wind_categories=categories,
        frame=frame,
        DESCR=_DESCR,
    )
