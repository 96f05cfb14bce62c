"""make_windows of many series: a long table, or a dict or list of tables (issue #23)."""

import numpy as np
import pandas as pd
import pytest

from sae_keras import LSTMSAERegressor, make_windows
from sae_keras.data._panel import PanelWindows
from sae_keras.forecasting._scaling import ScaledWindows, channel_stats
from conftest import TINY_REGRESSOR

STARTS = {"MSFT": "2024-01-03", "AAPL": "2024-01-01", "NVDA": "2024-01-10"}
LENGTHS = {"MSFT": 9, "AAPL": 12, "NVDA": 7}


def _series(symbol):
    """Daily rows of one symbol: ``price`` says which series and which day it is."""
    days = pd.date_range(STARTS[symbol], periods=LENGTHS[symbol], freq="D")
    code = 1000 * list(STARTS).index(symbol)
    return pd.DataFrame({"price": code + np.arange(len(days)) ** 1.5,
                         "volume": -code - np.arange(len(days), dtype=float)}, index=days)


def _long(shuffle=True):
    """The three symbols as one long table: ``symbol, date, price, volume``, rows shuffled."""
    frame = pd.concat({s: _series(s) for s in STARTS}, names=["symbol", "date"]).reset_index()
    return frame.sample(frac=1, random_state=0).reset_index(drop=True) if shuffle else frame


def test_windows_of_a_long_table_are_each_series_own_windows_ordered_by_series_then_time():
    X, y, ids = make_windows(_long(), timesteps=3, horizon=2, target="price",
                             series="symbol", time="date")
    assert ids.tolist() == ["AAPL"] * 8 + ["MSFT"] * 5 + ["NVDA"] * 3
    at = 0
    for symbol in sorted(STARTS):
        X_one, y_one = make_windows(_series(symbol), timesteps=3, horizon=2, target="price")
        np.testing.assert_array_equal(X[at : at + len(X_one)], X_one)
        np.testing.assert_array_equal(y[at : at + len(X_one)], y_one)
        at += len(X_one)
    assert at == len(X)


def test_no_window_crosses_two_series():
    X, y, ids = make_windows(_long(), timesteps=4, target="price", series="symbol",
                             time="date")
    series_of_steps = X[:, :, 0] // 1000  # the code is in the thousands of price
    assert (series_of_steps == series_of_steps[:, :1]).all()
    assert (y // 1000 == series_of_steps[:, 0]).all()
    assert ([list(STARTS)[int(c)] for c in series_of_steps[:, 0]] == ids.tolist())


def test_the_rows_may_come_in_any_order():
    ordered = make_windows(_long(shuffle=False), 3, target="price", series="symbol",
                           time="date", return_index=True)
    shuffled = make_windows(_long(), 3, target="price", series="symbol", time="date",
                            return_index=True)
    for a, b in zip(ordered, shuffled):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_return_index_gives_each_window_the_date_of_its_last_step():
    _, _, ids, ends = make_windows(_long(), 3, target="price", series="symbol", time="date",
                                   return_index=True)
    assert isinstance(ends, pd.DatetimeIndex)
    assert ends[ids == "NVDA"].tolist() == list(pd.date_range("2024-01-12", periods=4))
    assert ends[0] == pd.Timestamp("2024-01-03")  # AAPL's first window: days 1 to 3


def test_a_dict_or_a_list_of_tables_gives_the_windows_of_the_long_table():
    long = make_windows(_long(), 3, 2, target="price", series="symbol", time="date",
                        return_index=True)
    tables = {s: _series(s) for s in sorted(STARTS)}
    from_dict = make_windows(tables, 3, 2, target="price", return_index=True)
    for a, b in zip(long, from_dict):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    X, y, ids = make_windows(list(tables.values()), 3, 2, target="price")
    np.testing.assert_array_equal(X, long[0])
    assert ids.tolist() == [0] * 8 + [1] * 5 + [2] * 3
    # A dict keeps its own order; arrays work as tables of columns 0, 1, ...
    X, _, ids = make_windows({"b": np.arange(5.0), "a": np.arange(4.0)}, 2, target=0)
    assert ids.tolist() == ["b"] * 3 + ["a"] * 2


def test_the_tables_of_a_dict_may_hold_their_columns_in_any_order():
    tables = {s: _series(s) for s in STARTS}
    tables["AAPL"] = tables["AAPL"][["volume", "price"]]  # the first table's order holds
    X, _, ids = make_windows(tables, 3, target="price")
    np.testing.assert_array_equal(X[ids == "AAPL"], make_windows(_series("AAPL"), 3,
                                                                 target="price")[0])


def test_difference_future_covariates_and_stride_work_within_each_series():
    outputs = make_windows(_long(), 3, 2, target="price", series="symbol", time="date",
                           difference=True, future_covariates="volume", stride=2,
                           return_index=True)
    X, y, ids, future, base, ends = outputs
    for symbol in STARTS:
        one = make_windows(_series(symbol), 3, 2, target="price", difference=True,
                           future_covariates="volume", stride=2, return_index=True)
        mine = ids == symbol
        for panel, alone in zip((X, y, future, base, ends), one):
            np.testing.assert_array_equal(np.asarray(panel)[mine], np.asarray(alone))


def test_exclude_target_and_index_levels():
    indexed = _long().set_index(["symbol", "date"])
    X, y, ids = make_windows(indexed, 3, target="price", series="symbol", time="date",
                             exclude_target=True)
    assert X.shape == (19, 3, 1)
    np.testing.assert_array_equal(X[ids == "AAPL"][:, :, 0],
                                  make_windows(_series("AAPL")["volume"], 3)[0][:-1, :, 0])


def test_series_and_time_may_be_given_one_value_per_row():
    long = _long()
    by_name = make_windows(long, 3, target="price", series="symbol", time="date")
    by_values = make_windows(long[["price", "volume"]].to_numpy(), 3, target=0,
                             series=long["symbol"].to_numpy(), time=long["date"])
    for a, b in zip(by_name, by_values):
        np.testing.assert_array_equal(a, b)


def test_without_time_each_series_keeps_the_order_of_its_rows():
    values = np.arange(10.0)
    X, y, ids = make_windows(values, 2, target=0, series=[1, 0, 1, 0, 1, 0, 1, 0, 1, 0])
    assert ids.tolist() == [0, 0, 0, 1, 1, 1]
    np.testing.assert_array_equal(X[0, :, 0], [1.0, 3.0])
    assert y[0] == 5.0


def test_dates_written_as_text_are_read_as_times():
    long = _long()
    text = long.assign(date=long["date"].dt.strftime("%Y-%m-%d"))
    ends = make_windows(text, 3, target="price", series="symbol", time="date",
                        return_index=True)[-1]
    assert isinstance(ends, pd.DatetimeIndex) and ends[0] == pd.Timestamp("2024-01-03")


def test_a_list_of_numbers_is_still_one_table():
    X, y = make_windows([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], 2, target=1)
    assert X.shape == (1, 2, 2) and y.tolist() == [5.0]


def test_make_windows_leaves_the_long_table_untouched():
    long = _long()
    before = long.copy()
    make_windows(long, 3, target="price", series="symbol", time="date", difference=True)
    pd.testing.assert_frame_equal(long, before)


# -- refused, naming the series -------------------------------------------------


def test_a_time_repeated_within_a_series_is_refused_naming_it_and_both_rows():
    long = _long(shuffle=False)
    long.loc[3, "date"] = long.loc[2, "date"]
    with pytest.raises(ValueError, match=r"series 'MSFT' repeats the time 2024-01-05 "
                                         r"00:00:00 at rows 2 and 3"):
        make_windows(long, 3, target="price", series="symbol", time="date")


def test_a_series_too_short_for_one_window_is_refused_by_name():
    with pytest.raises(ValueError, match=r"'NVDA' \(7 rows\): 1 of 3 series shorter than "
                                         r"one window \(9 rows: timesteps 7 \+ horizon 2\)"):
        make_windows(_long(), 7, 2, target="price", series="symbol", time="date")
    with pytest.raises(ValueError, match=r"\(11 rows: timesteps 9 \+ horizon 1 \+ 1 for "
                                         r"difference=True\)"):
        make_windows(_long(), 9, target="price", series="symbol", time="date",
                     difference=True)


def test_nan_is_refused_naming_the_series_row_and_column():
    long = _long(shuffle=False)
    long.loc[12, "volume"] = np.nan
    with pytest.raises(ValueError, match=r"series 'AAPL' holds 1 NaN .* at row 12 "
                                         r"\(2024-01-04 00:00:00\), column 'volume'"):
        make_windows(long, 3, target="price", series="symbol", time="date")


@pytest.mark.parametrize("kwargs, error, message", [
    ({"series": "ticker"}, ValueError, r"series 'ticker' is not a column or index level"),
    ({"series": "symbol"}, TypeError, r"non-numeric columns \['date'\].*passed as time="),
    ({"series": "symbol", "time": "symbol"}, ValueError, "both name the column 'symbol'"),
    ({"series": [0, 1]}, ValueError, r"one value per row \(28\); got shape \(2,\)"),
    ({"time": "date"}, ValueError, "time= orders the rows of many series"),
    ({"lazy": True}, ValueError, "lazy=True is for many series"),
    ({"series": "symbol", "time": "date", "lazy": 1}, ValueError, "lazy must be True or False"),
])
def test_unusable_series_arguments_are_refused(kwargs, error, message):
    long = _long()
    if "series" not in kwargs:
        long = long[["price", "volume"]]
    with pytest.raises(error, match=message):
        make_windows(long, 3, target="price", **kwargs)


def test_a_long_table_without_series_names_series_in_the_error():
    with pytest.raises(TypeError, match=r"\['symbol', 'date'\].*passed as series="):
        make_windows(_long(), 3, target="price")


def test_rows_without_a_series_or_a_time_are_refused():
    long = _long(shuffle=False)
    long["symbol"] = long["symbol"].astype(object)
    long.loc[4, "symbol"] = None
    with pytest.raises(ValueError, match="series holds no id at row 4"):
        make_windows(long, 3, target="price", series="symbol", time="date")
    text = _long(shuffle=False).astype({"date": str})
    text.loc[5, "date"] = "soon"
    with pytest.raises(ValueError, match=r"time holds 'soon' at row 5 \(series 'MSFT'\)"):
        make_windows(text, 3, target="price", series="symbol", time="date")


def test_tables_of_a_dict_must_share_their_columns():
    tables = {"a": _series("AAPL"), "b": _series("MSFT").rename(columns={"volume": "vol"})}
    with pytest.raises(ValueError, match="series 'b' has the columns .* every series must"):
        make_windows(tables, 3, target="price")
    with pytest.raises(ValueError, match="a dict or list of tables already holds"):
        make_windows(tables, 3, target="price", series="symbol")
    with pytest.raises(ValueError, match="the dict is empty"):
        make_windows({}, 3)


# -- lazy windows ----------------------------------------------------------------


def _lazy_and_eager():
    args = dict(timesteps=4, target="price", series="symbol", time="date")
    return make_windows(_long(), lazy=True, **args)[0], make_windows(_long(), **args)[0]


def test_lazy_windows_read_as_the_array_and_hold_only_the_table():
    lazy, eager = _lazy_and_eager()
    assert isinstance(lazy, PanelWindows) and lazy.shape == eager.shape == (16, 4, 2)
    assert len(lazy) == 16 and lazy.ndim == 3 and lazy.dtype == np.float64
    np.testing.assert_array_equal(np.asarray(lazy), eager)
    np.testing.assert_array_equal(np.asarray(lazy, dtype=np.float32),
                                  eager.astype(np.float32))
    assert lazy.values.shape == (28, 2)  # the table, not 16 windows x 4 steps


@pytest.mark.parametrize("key", [
    np.s_[5:], np.s_[::3], np.s_[2:9, 1:3], np.s_[[7, 0, 7]], np.s_[np.arange(16) % 2 == 0],
    np.s_[4], np.s_[-1], np.s_[:, -1, 0], np.s_[3:8, 0], np.s_[[1, 2], ::2, 1], np.s_[:, ::2],
])
def test_lazy_windows_index_as_the_array(key):
    lazy, eager = _lazy_and_eager()
    np.testing.assert_array_equal(np.asarray(lazy[key]), eager[key])


def test_lazy_slices_stay_lazy_and_arrays_of_rows_are_new_arrays():
    lazy, _ = _lazy_and_eager()
    assert isinstance(lazy[3:], PanelWindows) and isinstance(lazy[:, 1:3], PanelWindows)
    rows = lazy[[0, 1]]
    rows[:] = 0.0
    assert lazy[0].max() > 0  # the table is untouched
    assert not lazy[0].flags.writeable
    with pytest.raises(IndexError, match="step 4 is out of bounds"):
        lazy[:, 4]


def test_lazy_windows_scale_and_read_as_the_array_in_the_estimators_helpers():
    lazy, eager = _lazy_and_eager()
    mean, scale = channel_stats(lazy)
    np.testing.assert_allclose(mean, channel_stats(eager)[0])
    scaled, reference = ScaledWindows(lazy, mean, scale), ScaledWindows(eager, mean, scale)
    np.testing.assert_array_equal(np.asarray(scaled[4:]), np.asarray(reference[4:]))
    np.testing.assert_array_equal(scaled[[3, 1]], reference[[3, 1]])
    np.testing.assert_array_equal(np.asarray(scaled[:, 1:]), np.asarray(reference[:, 1:]))


def test_lazy_windows_feed_the_training_batches_as_the_array():
    from sae_keras.training._loop import _EpochBatches

    lazy, eager = _lazy_and_eager()
    y = np.arange(len(eager), dtype=float)
    a, b = (_EpochBatches(x, y, 8, seed=0) for x in (lazy, eager))
    for batch in range(len(a)):
        for part_a, part_b in zip(a[batch], b[batch]):
            np.testing.assert_array_equal(part_a, part_b)


def test_a_regressor_fits_on_the_windows_of_many_series():
    X, y, ids = make_windows(_long(), 4, target="price", series="symbol", time="date",
                             lazy=True)
    model = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).fit(X, y)
    assert model.predict(np.asarray(X[ids == "NVDA"])).shape == (3,)
