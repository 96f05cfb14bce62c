"""Reading a long table series by series: order, repeats, gaps, each error naming the
series (issue #23, item 4)."""

import numpy as np
import pandas as pd
import pytest

from sae_keras import make_windows
from sae_keras.data._series_table import read_series, refuse_series_gaps, series_step

SYMBOLS = ("MSFT", "AAPL", "NVDA")


def _long(days=8, by="date"):
    """Business days of three symbols (prices in their own ranges), sorted by date, then symbol."""
    frames = []
    for k, symbol in enumerate(SYMBOLS):
        dates = pd.bdate_range("2024-01-01", periods=days + k)[k:]  # different start dates
        frames.append(pd.DataFrame({
            "date": dates.strftime("%Y-%m-%d"), "symbol": symbol,
            "price": 100.0 * (k + 1) + np.arange(days), "volume": np.arange(days) % 3 + k,
        }))
    return pd.concat(frames, ignore_index=True).sort_values([by, "symbol"],
                                                            ignore_index=True)


def test_interleaved_series_come_back_grouped_sorted_and_indexed_by_time():
    table, time_column = read_series(_long(), "symbol")
    assert time_column == "date" and list(table.columns) == ["symbol", "price", "volume"]
    assert table["symbol"].tolist() == sorted(np.repeat(SYMBOLS, 8))
    assert isinstance(table.index, pd.DatetimeIndex) and table.index.name == "date"
    aapl = table[table["symbol"] == "AAPL"]
    assert aapl.index.is_monotonic_increasing and aapl["price"].tolist() == list(
        200.0 + np.arange(8))
    assert table["price"].dtype == np.float64


def test_the_table_read_gives_each_series_windows():
    table, _ = read_series(_long(), "symbol")
    X, y, ids, ends = make_windows(table, 3, target="price", series="symbol",
                                   return_index=True)
    assert ids.tolist() == ["AAPL"] * 5 + ["MSFT"] * 5 + ["NVDA"] * 5
    assert ends[0] == pd.Timestamp("2024-01-04")  # AAPL starts a day later than MSFT


def test_rows_of_a_series_out_of_time_order_are_refused_naming_it_unless_sorted():
    frame = _long(by="symbol")
    frame.loc[[2, 3]] = frame.loc[[3, 2]].to_numpy()  # two AAPL days swapped
    with pytest.raises(ValueError, match=r"the rows of series 'AAPL' are not in time order: "
                                         r"row 3 \(2024-01-04 00:00:00\) is earlier than row "
                                         r"2 \(2024-01-05 00:00:00\); .* \(sort_time=True"):
        read_series(frame, "symbol")
    table, _ = read_series(frame, "symbol", sort=True)
    pd.testing.assert_frame_equal(table, read_series(_long(), "symbol")[0])


def test_a_time_repeated_within_a_series_is_refused_naming_it_and_the_rows():
    frame = _long(by="symbol")
    frame.loc[3, "date"] = frame.loc[2, "date"]
    with pytest.raises(ValueError, match=r"series 'AAPL' repeats the timestamp 2024-01-04 "
                                         r"00:00:00 at rows 2 and 3"):
        read_series(frame, "symbol", sort=True)


def test_a_bad_date_or_a_missing_id_is_refused_naming_the_row():
    frame = _long(by="symbol")
    frame.loc[17, "date"] = "someday"
    with pytest.raises(ValueError, match=r"time column 'date' holds a value that is not a "
                                         r"date at row 17 \(series 'NVDA'\): 'someday'"):
        read_series(frame, "symbol", "date")
    frame = _long()
    frame.loc[4, "symbol"] = None
    with pytest.raises(ValueError, match="id column 'symbol' names no series at row 4"):
        read_series(frame, "symbol")
    with pytest.raises(ValueError, match=r"id column 'ticker' is not a column; columns are"):
        read_series(frame, "ticker")


def test_numbers_are_checked_outside_the_id_and_categorical_columns():
    frame = _long().astype({"volume": object})
    frame.loc[5, "volume"] = "n/a"
    with pytest.raises(ValueError, match=r"column 'volume' is not numeric: row 5 holds 'n/a'"):
        read_series(frame, "symbol")
    table, _ = read_series(frame, "symbol", categorical=["volume"])
    assert table["volume"].dtype == object


def test_reading_for_a_fitted_model_keeps_the_fitted_columns_only():
    frame = _long().assign(extra=1.0)
    table, _ = read_series(frame, "symbol", columns=["volume", "price"])
    assert list(table.columns) == ["symbol", "volume", "price"]
    with pytest.raises(ValueError, match=r"frame lacks the fitted column\(s\) \['wind'\]"):
        read_series(frame, "symbol", columns=["wind"])


def test_without_dates_each_series_keeps_the_order_of_its_rows():
    frame = _long().drop(columns="date")
    table, time_column = read_series(frame, "symbol")
    assert time_column is None and series_step(table, "symbol") is None
    assert table.loc[table["symbol"] == "NVDA", "price"].tolist() == list(300.0 + np.arange(8))


def test_the_step_is_the_one_most_series_follow_and_gaps_are_refused_naming_the_series():
    table, _ = read_series(_long(), "symbol")
    step = series_step(table, "symbol")
    assert step == pd.offsets.BDay()
    refuse_series_gaps(table, "symbol", step)  # one business day apart in every series
    frame = _long(by="symbol").drop(index=20)  # a day of NVDA
    gapped, _ = read_series(frame, "symbol")
    assert series_step(gapped, "symbol") == step
    with pytest.raises(ValueError, match=r"uneven: in series 'NVDA', 2024-01-08 00:00:00 and "
                                         r"2024-01-10 00:00:00 are 2 days .*groupby"):
        refuse_series_gaps(gapped, "symbol", step)
    with pytest.raises(ValueError, match="in series 'NVDA'.*fit a model with allow_gaps"):
        refuse_series_gaps(gapped, "symbol", step, fitted=True)


def test_the_frame_is_not_modified():
    frame = _long()
    before = frame.copy()
    read_series(frame, "symbol", sort=True)
    pd.testing.assert_frame_equal(frame, before)
