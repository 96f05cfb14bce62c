"""Reading a user's table the way a careful analyst would.

One time index (a named column, or the first column when it holds dates),
rows in time order, unique in time and one step apart (unless gaps are
allowed), categories only where the user says so,
and every other value a number: anything else is a ``ValueError`` naming the
column, the row and the value, raised before any training starts. Rows are
numbered from 0 in the order of the data, the way pandas counts them.

A long table of several series (one row per series and time) breaks these
rules for one table in telling ways: its times repeat, once per series. The
errors then say so, naming the column that tells the series apart
(:func:`several_series_hint`); ``_series_table`` reads such a table per series.
"""

from __future__ import annotations

import codecs
import warnings

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset


def read_csv(path, encoding="utf-8"):
    """The CSV file at ``path`` as a DataFrame, decoded with ``encoding``.

    ``"utf-8"`` (the default) also skips a UTF-8 byte-order mark, which would
    otherwise end up in the first column's name. A file that is not valid text
    in ``encoding`` is a ``ValueError`` naming the file, the byte and the
    ``--encoding`` option.
    """
    name = codecs.lookup(encoding).name  # LookupError for an unknown encoding
    try:
        return pd.read_csv(path, encoding="utf-8-sig" if name == "utf-8" else encoding)
    except UnicodeError as exc:
        raise ValueError(_encoding_error(path, encoding, exc)) from None


def _encoding_error(path, encoding, exc):
    """What is wrong with the file's text, where, and which encoding to try."""
    with open(path, "rb") as file:
        raw = file.read()
    guess = "utf-16" if raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "latin-1"
    where, reason = "", getattr(exc, "reason", str(exc))
    try:  # pandas decodes in chunks: find the byte in the whole file
        raw.decode(encoding)
    except UnicodeDecodeError as whole:
        line = raw[: whole.start].count(b"\n") + 1
        where, reason = f" at line {line} (byte {whole.start})", whole.reason
    except UnicodeError:
        pass
    return (
        f"{path} is not valid {encoding} text{where}: {reason}; name the file's encoding "
        f"with --encoding (e.g. --encoding {guess})"
    )


def time_indexed(frame, time_column=None, *, sort=False):
    """``frame`` indexed by its time column, in time order; checks what it can.

    Parameters
    ----------
    frame : DataFrame
        The table as read (the time column still a column), or a frame with a
        ``DatetimeIndex`` already.
    time_column : str, default=None
        The column of timestamps. ``None``: a ``DatetimeIndex`` if the frame has
        one, else the first column when every value of it parses as a date,
        else no time index (rows are taken in the order given).
    sort : bool, default=False
        Sort rows by time; otherwise rows out of time order are an error.

    Returns
    -------
    table : DataFrame
        A new frame (``frame`` is not modified).
    time_column : str or None
        The name of the time index used (``None``: row order).
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    if frame.shape[1] == 0 or frame.empty:
        raise ValueError("the table holds no data rows")
    if time_column is not None:
        if time_column not in frame.columns:
            if frame.index.name == time_column and isinstance(frame.index, pd.DatetimeIndex):
                return _in_time_order(frame.copy(), sort), time_column
            raise ValueError(
                f"time column {time_column!r} is not a column; columns are {list(frame.columns)}"
            )
        dates = as_dates(frame[time_column])
        bad = dates.isna().to_numpy()
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(
                f"time column {time_column!r} holds a value that is not a date at row {row}: "
                f"{frame[time_column].iloc[row]!r}"
            )
    elif isinstance(frame.index, pd.DatetimeIndex):
        return _in_time_order(frame.copy(), sort), frame.index.name
    else:
        first = frame.columns[0]
        dates = None if is_numeric(frame[first]) else as_dates(frame[first])
        if dates is None or dates.isna().any():
            return frame.copy(), None
        time_column = first
    table = frame.drop(columns=[time_column])
    table.index = pd.DatetimeIndex(dates, name=str(time_column))
    return _in_time_order(table, sort), str(time_column)


def read(frame, time_column=None, categorical=(), *, sort=False, columns=None):
    """:func:`time_indexed`, then :func:`checked_numbers` (of ``columns`` only, if given).

    ``columns``: the fitted columns, when reading new data for a fitted model
    (its messages then advise no reading options, which the model fixed).
    Without them (fitting), columns holding one value only are warned about.
    Returns the table and the name of its time index (``None``: row order).
    """
    table, time_column = time_indexed(frame, time_column, sort=sort)
    if columns is not None:
        missing = [name for name in columns if name not in table.columns]
        if missing:
            raise ValueError(f"frame lacks the fitted column(s) {missing}")
        table = table[columns]
        return checked_numbers(table, categorical, fitted=True), time_column
    table = checked_numbers(table, categorical)
    warn_constant(table)
    if time_column is None:
        _warn_series_blocks(table, categorical)
    return table, time_column


def warn_constant(table):
    """One ``UserWarning`` naming the columns that hold a single value (or none)."""
    constant = [str(name) for name in table.columns if table[name].nunique(dropna=True) <= 1]
    if constant:
        warnings.warn(
            f"column(s) {constant} hold one value in every row: they carry no "
            "information (the model sees a constant channel); drop them unless "
            "that is what you meant",
            UserWarning,
            stacklevel=3,
        )


def _warn_series_blocks(table, categorical):
    """One ``UserWarning`` per categorical column whose values each fill one block of rows.

    Without timestamps, several series one after another look like that
    (``AAPL`` rows, then ``MSFT`` rows, ...): windows would cross from one
    series into the next.
    """
    for name in categorical:
        words = _blocks_words(table[name], name)
        if words:
            warnings.warn(words, UserWarning, stacklevel=3)


def _blocks_words(column, name):
    """What to say of a column whose values each fill one block of rows ("" otherwise)."""
    distinct = column.nunique(dropna=True)
    blocks = int((column != column.shift()).sum())
    if not (2 <= distinct <= len(column) // 2 and blocks == distinct):
        return ""
    return (
        f"column {str(name)!r} holds {distinct} values, each in one block of consecutive "
        f"rows: if these are {distinct} series one after another, windows that cross from "
        "one into the next mix them" + several_series_cure(name, None, column.iloc[0])
    )


def several_series_cure(id_column, time_column, example):
    """How to fit one model over the series of a long table, in words."""
    time = "" if time_column is None else f", time={str(time_column)!r}"
    time_column = "" if time_column is None else f", time_column={str(time_column)!r}"
    return (
        f"; one model over several series: TableForecaster(id_column={str(id_column)!r}"
        f"{time_column}) (sae-keras --id-column {id_column}) reads such a table, and "
        f"make_windows(frame, timesteps, target=..., "
        f"series={str(id_column)!r}{time}) cuts windows that never cross two series, for "
        f"LSTMSAERegressor; or keep one series per table (the rows where {id_column} == "
        f"{example!r})"
    )


def several_series_hint(table, times, time_column):
    """What to add to an error about repeated ``times``, when a text column explains them.

    The times of a long table (one row per series and time) repeat once per
    series, and no series repeats a time: the repeats line up with the column
    naming the series. Returns ``""`` when times repeat in fewer than one row
    in ten, or when no text column of ``table`` (taking at most half as many
    values as rows) explains nine repeats in ten.

    Parameters
    ----------
    table : DataFrame
        The table's columns, in the order of ``times``.
    times : array-like of shape (len(table),)
        The time of each row.
    time_column : str or None
        The name of the times, for the message.
    """
    times = pd.Index(times)
    repeats = int(times.duplicated().sum())
    if repeats < max(2, len(times) // 10):  # a stray repeated time is not several series
        return ""
    best = None
    for name in table.columns:
        column = table[name]
        if is_numeric(column) or pd.api.types.is_datetime64_any_dtype(column):
            continue
        distinct = column.nunique(dropna=True)
        if not 2 <= distinct <= len(column) // 2:
            continue
        pairs = pd.DataFrame({"id": column.to_numpy(), "time": np.asarray(times)})
        if 10 * int(pairs.duplicated().sum()) <= repeats and (best is None or distinct < best[1]):
            best = (name, distinct, column.dropna().unique()[:2])
    if best is None:
        return ""
    name, distinct, examples = best
    which = "timestamps" if time_column is None else f"timestamps of {str(time_column)!r}"
    return (
        f"; the {which} repeat, and line up with the text column {str(name)!r} ({distinct} "
        f"values, e.g. {', '.join(repr(str(v)) for v in examples)}): this looks like "
        f"{distinct} series in one long table, one row per series and time"
        + several_series_cure(name, time_column, str(examples[0]))
    )


def _dates_hint(table, name):
    """:func:`several_series_hint` for text column ``name`` of a table read without a time."""
    if isinstance(table.index, pd.DatetimeIndex):
        return ""
    for other in table.columns:
        column = table[other]
        if other == name or is_numeric(column):
            continue
        dates = as_dates(column)
        if dates.notna().all():
            hint = several_series_hint(table[[name]], dates, other)
            if hint:
                return hint
    return ""


def checked_numbers(table, categorical=(), *, fitted=False):
    """A copy of ``table`` whose columns are numbers, but for the ``categorical`` ones.

    A column read as text whose every value is a number is converted; any other
    non-numeric value is an error naming the column, the row and the value.

    Parameters
    ----------
    table : DataFrame
        A table from :func:`time_indexed`.
    categorical : sequence of str
        Columns that hold categories (any values).
    fitted : bool, default=False
        The columns are a fitted model's: say it was fitted on numbers there,
        rather than advising reading options.
    """
    missing = [name for name in categorical if name not in table.columns]
    if missing:
        raise ValueError(
            f"categorical column(s) {missing} are not columns; columns are {list(table.columns)}"
        )
    table = table.copy()
    for name in table.columns:
        if name in categorical or is_numeric(table[name]):
            continue
        column = table[name]
        dates = pd.api.types.is_datetime64_any_dtype(column)
        numbers = pd.to_numeric(column, errors="coerce")
        bad = (numbers.isna() & column.notna()).to_numpy()
        if not (dates or bad.any()):
            table[name] = numbers.astype(np.float64)
            continue
        row = int(np.argmax(bad))
        hint = "" if dates else _dates_hint(table, name)
        if hint:
            raise ValueError(f"column {name!r} is not numeric: row {row} holds "
                             f"{column.iloc[row]!r}{hint}")
        if fitted:
            raise ValueError(
                f"column {name!r} is not numeric: row {row} holds {column.iloc[row]!r}, but "
                "the model was fitted on numbers in this column; fix the value"
            )
        if dates or as_dates(column).notna().all():
            raise ValueError(
                f"column {name!r} holds timestamps, not numbers: pass it as the time column "
                f"(--time-column {name}) or drop it"
            )
        blocks = "" if isinstance(table.index, pd.DatetimeIndex) else _blocks_words(column, name)
        cure = (f"{blocks}; if it holds categories instead, name it categorical" if blocks
                else "fix the value, or name the column as categorical")
        raise ValueError(
            f"column {name!r} is not numeric: row {row} holds {column.iloc[row]!r}; {cure} "
            f"(--categorical {name})" + ("" if blocks else " if it holds categories")
        )
    return table


def target_column(table, target, categorical=()):
    """The column to forecast: ``target``, or the first column when it is ``None``."""
    target = str(table.columns[0]) if target is None else target
    if target not in table.columns:
        raise ValueError(f"target {target!r} is not a column; columns are {list(table.columns)}")
    if target in categorical:
        raise ValueError(f"target {target!r} is categorical; choose a numeric column")
    return target


def learn_categories(table, categorical):
    """The sorted categories of each categorical column, as strings."""
    return {
        str(name): sorted(table[name].dropna().astype(str).unique().tolist())
        for name in categorical
    }


def encode_categories(table, categories):
    """A copy of ``table`` with each categorical column as codes into ``categories``.

    A value not seen when the categories were learned is an error naming it.
    """
    table = table.copy()
    for name, known in categories.items():
        if name not in table.columns:
            raise ValueError(f"column {name!r} is missing; the model was fitted with it")
        values = table[name].astype(str).where(table[name].notna())
        codes = pd.Index(known).get_indexer(values)
        unknown = (codes < 0) & values.notna().to_numpy()
        if unknown.any():
            row = int(np.argmax(unknown))
            raise ValueError(
                f"column {name!r} holds the category {values.iloc[row]!r} at row {row}, "
                f"unseen in fitting (known: {known})"
            )
        table[name] = np.where(codes < 0, np.nan, codes).astype(np.float64)
    return table


def table_step(index):
    """The step of a time index: its calendar frequency, or else its most common spacing.

    A calendar frequency (month ends, business days, ...) is the one pandas
    infers when every timestamp follows it; without one, the step is the most
    common difference between consecutive timestamps. ``None`` without a time
    index or with fewer than two rows.

    Returns
    -------
    step : pandas.DateOffset or pandas.Timedelta or None
    """
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return None
    if len(index) >= 3:
        with warnings.catch_warnings():  # pandas 3 warns that the type will change
            warnings.simplefilter("ignore")
            freq = pd.infer_freq(index)
        if freq is not None:
            return calendar_offset(freq)
    step = pd.Series(index[1:] - index[:-1]).mode().iloc[0]
    if step < pd.Timedelta(days=1):
        return step
    # Months, quarters and years differ in length, business days skip weekends:
    # with a gap, pandas infers none of them; the one most rows follow is the step.
    misses = _misses(index, step)
    for name in _CALENDAR:
        offset = calendar_offset(name)
        missed = _misses(index, offset)
        if missed < misses:
            step, misses = offset, missed
    return step


_CALENDAR = ("D", "B", "MS", "ME", "QS", "QE", "YS", "YE")  # "D": a calendar day (DST)


def calendar_offset(alias):
    """The pandas offset of a frequency alias, where ``"D"`` is a calendar day.

    pandas 3 reads ``"D"`` as a calendar day (23 or 25 hours across a daylight
    saving change); pandas 2 as 24 hours, which calls every daily row of a
    time-zone-aware table after such a change a gap.
    """
    offset = to_offset(alias)
    return pd.DateOffset(days=1) if isinstance(offset, pd.offsets.Day) else offset


def offset_alias(step):
    """The alias of an offset from :func:`calendar_offset` (``"D"`` for a calendar day)."""
    return "D" if step == pd.DateOffset(days=1) else to_offset(step).freqstr


def _misses(index, step):
    return int(np.count_nonzero(np.asarray(index[1:] != index[:-1] + step)))


def refuse_gaps(index, step, *, fitted=False, series=None):
    """Raise ``ValueError`` naming the first pair of rows not one ``step`` apart.

    Windows across a gap would label a forecast made for a later time as the
    next step. ``step``: from :func:`table_step` (``None``: nothing to check).
    ``fitted``: ``step`` is a fitted model's (the message then advises no
    reading option, which the model fixed). ``series``: the series of each
    row of a long table, grouped (see ``_series_table``): only rows of one
    series are compared, and the message names the series and the times.
    """
    if step is None or not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return
    off = np.asarray(index[1:] != index[:-1] + step)
    if series is not None:
        series = np.asarray(series)
        off &= series[1:] == series[:-1]
    if not off.any():
        return
    row = int(np.argmax(off)) + 1
    before, after = index[row - 1], index[row]
    where = (f"rows {row - 1} ({before}) and {row} ({after})" if series is None else
             f"in series {id_words(series[row])}, {before} and {after}")
    spacing = _step_words(step)
    alias = offset_alias(step)
    cure = (
        "; resample the rows to the model's step first, or fit a model with "
        "allow_gaps=True to read uneven steps"
        if fitted
        else f"; resample {'the rows' if series is None else 'each series'} to one step "
        f"first (e.g. frame{'' if series is None else '.groupby(...)'}.resample({alias!r})"
        ".mean(), then fill or interpolate the missing rows), or accept uneven steps with "
        "allow_gaps=True (--allow-gaps on the command line)"
    )
    raise ValueError(
        f"the time steps are uneven: {where} are {after - before} apart, but the "
        f"{'model' if fitted else 'table'}'s step is {spacing}: windows across the gap "
        f"would forecast the wrong times{cure}"
    )


def _step_words(step):
    if isinstance(step, pd.Timedelta):
        return f"{step} (the most common spacing)"
    if offset_alias(step) == "D":
        return "one calendar day (pandas frequency 'D')"
    return f"one {type(step).__name__} (pandas frequency {step.freqstr!r})"


def _in_time_order(table, sort):
    index = table.index
    if sort:
        table = table.sort_index(kind="stable")
        index = table.index
    elif not index.is_monotonic_increasing:
        steps = np.asarray(index[1:] < index[:-1])
        row = int(np.argmax(steps)) + 1
        # Sorting a long table of several series would only lead to repeated times.
        hint = several_series_hint(table, index, index.name)
        raise ValueError(
            f"rows are not in time order: row {row} ({index[row]}) is earlier than row "
            f"{row - 1} ({index[row - 1]})"
            + (hint or "; sort the data by time first (sort_time=True; --sort-time on the "
               "command line)")
        )
    repeated = np.asarray(index.duplicated())
    if repeated.any():
        row = int(np.argmax(repeated))
        hint = several_series_hint(table, index, index.name)
        raise ValueError(
            f"duplicate timestamp {index[row]} at rows {row - 1} and {row}"
            + (hint or "; aggregate or drop repeated time steps first")
        )
    return table


def id_words(value):
    """A series id as the user wrote it (``'A'``, ``3``, not ``np.int64(3)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def is_numeric(column):
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def as_dates(column):
    if pd.api.types.is_datetime64_any_dtype(column):
        return column
    if is_numeric(column):
        return pd.Series(pd.NaT, index=column.index)
    return pd.to_datetime(column, errors="coerce", format="mixed")
