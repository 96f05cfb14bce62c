"""A long table of several series read as one series: the errors say what it looks like
(issue #23, item 4)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sae_keras import TableForecaster
from sae_keras.data import _table

SEVERAL = "this looks like 3 series in one long table, one row per series and time"


def _long(days=30):
    """Three symbols' daily prices, one block of rows per symbol: symbol, date, price."""
    dates = pd.date_range("2024-01-01", periods=days).strftime("%Y-%m-%d")
    return pd.concat([
        pd.DataFrame({"symbol": symbol, "date": dates, "price": 10.0 * (k + 1) + np.arange(days)})
        for k, symbol in enumerate(("AAPL", "MSFT", "NVDA"))
    ], ignore_index=True)


def _flat(X):
    return X.reshape(len(X), -1)


def _read(frame, **kwargs):
    return _table.read(frame, **kwargs)


def test_a_text_column_beside_repeated_dates_is_named_as_the_series():
    with pytest.raises(ValueError) as info:
        _read(_long())
    message = str(info.value)
    assert message.startswith("column 'symbol' is not numeric: row 0 holds 'AAPL'; the "
                              "timestamps of 'date' repeat, and line up with the text column "
                              "'symbol' (3 values, e.g. 'AAPL', 'MSFT')")
    assert SEVERAL in message
    assert "make_windows(frame, timesteps, target=..., series='symbol', time='date')" in message
    assert "--categorical" not in message  # categories would mix the series


def test_rows_out_of_time_order_name_the_series_instead_of_advising_to_sort():
    with pytest.raises(ValueError) as info:
        _read(_long(), time_column="date")
    message = str(info.value)
    assert message.startswith("rows are not in time order: row 30 (2024-01-01 00:00:00) is "
                              "earlier than row 29 (2024-01-30 00:00:00); the timestamps of "
                              "'date' repeat")
    assert SEVERAL in message and "sort_time" not in message


def test_repeated_timestamps_name_the_series_instead_of_advising_to_aggregate():
    for frame, kwargs in ((_long(), {"time_column": "date", "sort": True}),
                          (_long().sort_values(["date", "symbol"]), {})):
        with pytest.raises(ValueError) as info:
            _read(frame[["date", "symbol", "price"]], **kwargs)
        message = str(info.value)
        assert message.startswith("duplicate timestamp 2024-01-01 00:00:00 at rows 0 and 1")
        assert SEVERAL in message and "aggregate" not in message


def test_a_stray_repeated_time_or_an_unrelated_text_column_gets_the_plain_message():
    frame = _long()
    frame = frame[frame["symbol"] == "AAPL"][["date", "price"]].assign(
        site=np.where(np.arange(30) % 2, "north", "south"))
    frame.loc[5, "date"] = frame.loc[4, "date"]  # one repeat: a slip, not several series
    with pytest.raises(ValueError, match="at rows 4 and 5; aggregate or drop repeated time "
                                         "steps first$"):
        _read(frame)
    # Every time twice, but no text column tells the copies apart.
    times = np.repeat(np.arange(10), 2)
    for column in (["north"] * 20, ["x", "x", "y", "y"] * 5):
        assert _table.several_series_hint(pd.DataFrame({"c": column}), times, None) == ""
    assert _table.several_series_hint(pd.DataFrame({"c": ["x", "y"] * 10}), times, None)


def test_series_one_after_another_without_dates_warn_when_named_categorical():
    frame = _long().drop(columns="date")
    with pytest.warns(UserWarning, match=r"column 'symbol' holds 3 values, each in one block "
                                         r"of consecutive rows: if these are 3 series one "
                                         r"after another.*series='symbol'\)"):
        _read(frame, categorical=["symbol"])
    with pytest.raises(ValueError, match=r"is not numeric: row 0 holds 'AAPL'; column 'symbol' "
                                         r"holds 3 values.*if it holds categories instead, "
                                         r"name it categorical \(--categorical symbol\)$"):
        _read(frame)


def test_categories_that_alternate_or_come_with_times_do_not_warn():
    frame = _long().drop(columns="date")
    frame["symbol"] = np.resize(["AAPL", "MSFT", "NVDA"], len(frame))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _read(frame, categorical=["symbol"])
        dated = _long(90).iloc[:90].drop(columns="symbol")
        _read(dated.assign(regime=["calm"] * 45 + ["storm"] * 45), categorical=["regime"])


def test_the_table_forecaster_says_the_same():
    forecaster = TableForecaster("price", timesteps=3, regressor=make_pipeline(
        FunctionTransformer(_flat), LinearRegression()))
    with pytest.raises(ValueError, match=SEVERAL):
        forecaster.fit(_long()[["date", "symbol", "price"]])
