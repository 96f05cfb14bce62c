"""Reading a long table of several series (one row per series and time), series by series.

The rules of ``_table`` hold within each series: its rows in time order (or
sorted, on request), no time repeated, steps one apart unless gaps are
allowed, numbers everywhere but in the categorical columns. Series may
interleave (a table sorted by date, then symbol) and differ in length and
start. Every error names the series; rows are numbered from 0 in the order
of the data, as in ``_table``.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from . import _table


def read_series(frame, id_column, time_column=None, categorical=(), *, sort=False,
                columns=None):
    """``frame`` grouped by series (sorted ids), each series in time order, checked.

    Parameters
    ----------
    frame : DataFrame
        The long table as read: the id column and the time column as columns
        (or the time as a ``DatetimeIndex``).
    id_column : str
        The column naming the series of each row.
    time_column : str, default=None
        The column of timestamps. ``None``: a ``DatetimeIndex`` if the frame has
        one, else the first column other than ``id_column`` when all of it
        parses as dates, else none (each series' rows in the order given).
    categorical : sequence of str, default=()
        Columns of categories (any values).
    sort : bool, default=False
        Sort each series' rows by time; otherwise rows of one series out of
        time order are an error.
    columns : list of str, default=None
        The fitted columns, when reading new data for a fitted model (as in
        :func:`_table.read`).

    Returns
    -------
    table : DataFrame
        A new frame: ``id_column`` first, then the value columns, indexed by
        time (a ``DatetimeIndex`` named after the time column) where there is
        one; series after series, each oldest first.
    time_column : str or None

    Examples
    --------
    >>> import pandas as pd
    >>> from sae_keras.data._series_table import read_series
    >>> long = pd.DataFrame({"date": ["2024-01-02", "2024-01-01", "2024-01-01"],
    ...                      "symbol": ["B", "B", "A"], "price": [2.0, 1.0, 5.0]})
    >>> table, time = read_series(long, "symbol", sort=True)
    >>> time, table["symbol"].tolist(), table["price"].tolist()
    ('date', ['A', 'B', 'B'], [5.0, 1.0, 2.0])
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    if frame.shape[1] == 0 or frame.empty:
        raise ValueError("the table holds no data rows")
    if id_column not in frame.columns:
        raise ValueError(
            f"id column {id_column!r} is not a column; columns are {list(frame.columns)}"
        )
    ids = frame[id_column]
    missing = ids.isna().to_numpy()
    if missing.any():
        raise ValueError(f"id column {id_column!r} names no series at row "
                         f"{int(np.argmax(missing))}: every row belongs to one series")
    codes, uniques = pd.factorize(ids, sort=True)
    time_column, dates = _times(frame, id_column, time_column, codes, uniques)
    dates = None if dates is None else pd.DatetimeIndex(dates)  # read by position
    if dates is None:
        order = np.argsort(codes, kind="stable")
    else:
        order = _time_order(dates, codes, uniques, sort)
    # Numbers are checked in the rows' own order, so that errors name the user's rows.
    values = frame.drop(columns=[c for c in (id_column, time_column) if c in frame.columns])
    if columns is not None:
        absent = [name for name in columns if name not in values.columns]
        if absent:
            raise ValueError(f"frame lacks the fitted column(s) {absent}")
        values = _table.checked_numbers(values[columns], categorical, fitted=True)
    else:
        values = _table.checked_numbers(values, categorical)
        _table.warn_constant(values)
    table = values.iloc[order]
    if dates is not None:
        table.index = dates[order].rename(str(time_column))
    table.insert(0, id_column, ids.to_numpy()[order])
    return table, None if time_column is None else str(time_column)


def series_step(table, id_column):
    """The step most series of a table from :func:`read_series` follow, or ``None``.

    Each series' step is :func:`_table.table_step` of its times (``None``
    without a time index or with under two rows).
    """
    if not isinstance(table.index, pd.DatetimeIndex):
        return None
    steps = Counter()
    for _, rows in table.groupby(id_column, sort=False).indices.items():
        step = _table.table_step(table.index[rows])
        if step is not None:
            steps[step] += 1
    return steps.most_common(1)[0][0] if steps else None


def refuse_series_gaps(table, id_column, step, *, fitted=False):
    """:func:`_table.refuse_gaps` within each series, naming the series of the first gap."""
    _table.refuse_gaps(table.index, step, fitted=fitted, series=table[id_column].to_numpy())


def _times(frame, id_column, time_column, codes, uniques):
    """The time column's name and its dates (``None``: no time), refusing non-dates."""
    if time_column is None:
        if isinstance(frame.index, pd.DatetimeIndex):
            return frame.index.name, frame.index
        for name in frame.columns:
            if name == id_column:
                continue
            column = frame[name]
            if _table.is_numeric(column):
                return None, None
            dates = _table.as_dates(column)
            return (name, dates) if dates.notna().all() else (None, None)
        return None, None
    if time_column not in frame.columns:
        if frame.index.name == time_column and isinstance(frame.index, pd.DatetimeIndex):
            return time_column, frame.index
        raise ValueError(
            f"time column {time_column!r} is not a column; columns are {list(frame.columns)}"
        )
    if time_column == id_column:
        raise ValueError(f"the id column and the time column are both {id_column!r}")
    dates = _table.as_dates(frame[time_column])
    bad = dates.isna().to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(
            f"time column {time_column!r} holds a value that is not a date at row {row} "
            f"(series {_table.id_words(uniques[codes[row]])}): "
            f"{frame[time_column].iloc[row]!r}"
        )
    return time_column, dates


def _time_order(dates, codes, uniques, sort):
    """The order of rows: series by series (sorted ids), each in time order; checked."""
    stamps = dates.asi8
    order = np.lexsort((stamps, codes)) if sort else np.argsort(codes, kind="stable")
    same = codes[order][1:] == codes[order][:-1]
    earlier = same & (stamps[order][1:] < stamps[order][:-1])
    if earlier.any():
        j = int(np.argmax(earlier)) + 1
        row, before = int(order[j]), int(order[j - 1])
        raise ValueError(
            f"the rows of series {_table.id_words(uniques[codes[row]])} are not in time "
            f"order: row {row} ({dates[row]}) is earlier than row {before} ({dates[before]}); "
            "sort the data by time first (sort_time=True; --sort-time on the command line)"
        )
    repeated = same & (stamps[order][1:] == stamps[order][:-1])
    if repeated.any():
        j = int(np.argmax(repeated)) + 1
        first, second = sorted((int(order[j - 1]), int(order[j])))
        raise ValueError(
            f"series {_table.id_words(uniques[codes[first]])} repeats the timestamp "
            f"{dates[first]} at rows {first} and {second}; aggregate or drop repeated time "
            "steps first"
        )
    return order
