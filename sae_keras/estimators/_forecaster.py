"""``TableForecaster``: a table in, forecasts in its units out, one portable file."""

from __future__ import annotations

import inspect
import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..data import _series_table, _table
from ..io._params import _saved_class
from ..io._zip import save_estimator
from ._regressor import LSTMSAERegressor
from ..data._windows import make_windows


#: The windows' own warning about constant channels (see ``_validation``).
_CONSTANT_CHANNELS = r"X channel\(s\) \[.*\] hold one value"


@_saved_class(nested={"regressor": "LSTMSAERegressor"})
class TableForecaster(BaseEstimator):
    """Forecast one column of a table from the windows before each time step.

    Wraps a regressor of windows (by default :class:`LSTMSAERegressor`) with
    everything needed to go from a table as the user keeps it to forecasts in
    its units: the time column, the reading rules (rows in time order, no
    repeated timestamps, numbers everywhere but in the named categorical
    columns), the category codes, the windowing and the target formulation.
    A fitted forecaster saves to one file (:meth:`save`, the library's safe
    format) that ``sae_keras.load`` or ``sae-keras predict`` reads back.

    Parameters
    ----------
    target : str, default=None
        Column to forecast; ``None``: the first column other than the time.
    timesteps : int, default=24
        Rows in each input window.
    horizon : int, default=1
        Steps ahead forecast from each window (a direct multi-step head).
    target_mode : {"change", "level"}, default="change"
        ``"change"``: the regressor learns the change from the last observed
        target value, which is added back (persistence is then its zero);
        ``"level"``: it learns the value itself.
    time_column : str, default=None
        The column of timestamps. ``None``: a ``DatetimeIndex`` if the frame
        has one, else the first column (other than ``id_column``) when all of
        it parses as dates, else none (rows are taken in the order given).
    id_column : str, default=None
        The column naming the series of each row, for a long table of many
        series (one row per series and time step, in any order of series).
        The reading rules then hold within each series, windows never cross
        two series, and one regressor is fitted over all of them (given each
        window's series as ``series=`` when its ``fit`` and ``predict`` take
        one, as :class:`LSTMSAERegressor`'s do: each series standardised by
        its own statistics). ``None``: the table is one series.
    categorical : sequence of str, default=()
        Columns of categories, encoded as sorted integer codes learned in
        ``fit``. Any other non-numeric value is an error.
    sort_time : bool, default=False
        Sort rows by time; otherwise rows out of time order are an error.
    allow_gaps : bool, default=False
        Accept timestamps that are not one step apart (see ``step_``): a window
        across a gap then forecasts a later time than its labels say.
        ``False``: uneven steps are an error in ``fit`` and ``predict``, naming
        the first gap; resample the table to one step instead.
    regressor : estimator, default=None
        Regressor of windows ``(n, timesteps, channels)`` → targets.
        ``None``: ``LSTMSAERegressor()``. Only sae_keras regressors can be
        saved with :meth:`save`; any regressor pickles.

    Attributes
    ----------
    regressor_ : estimator
        The fitted regressor.
    columns_ : list of str
        The channels, in the order the windows hold them.
    target_ : str
        The column forecast.
    time_column_ : str or None
        The time column used.
    id_column_ : str or None
        The series column (``id_column`` at fit time).
    categories_ : dict of str to list of str
        Known categories of each categorical column.
    step_ : pandas.Timedelta or None
        The most common time step of the fitted table (within its series):
        forecast ``k`` of a window is for its last timestamp + ``k * step_``.
    freq_ : str or None
        The table's calendar frequency as pandas infers it (``"h"``, ``"D"``,
        ``"ME"``, ``"B"``, ...), when every timestamp follows one; else
        ``None``. Without ``allow_gaps``, every pair of rows is ``freq_``
        apart, or ``step_`` apart without one, in ``fit`` and in ``predict``.
    allow_gaps_ : bool
        Whether uneven time steps are read (``allow_gaps`` at fit time).
    timesteps_, horizon_, target_mode_, sort_time_
        The parameters ``predict`` and ``windows`` depend on, as ``fit`` used
        them: ``set_params`` after ``fit`` changes the next fit, never what
        the fitted forecaster returns.

    Examples
    --------
    >>> import pandas as pd
    >>> from sae_keras import LSTMSAEEncoder, LSTMSAERegressor, TableForecaster
    >>> from sae_keras.data.datasets import make_synthetic
    >>> table = make_synthetic(300, 2, random_state=0)
    >>> forecaster = TableForecaster("target", timesteps=8, regressor=LSTMSAERegressor(
    ...     (4,), pretraining=LSTMSAEEncoder(pretrain_epochs=1), epochs=1, random_state=0)
    ... ).fit(table)
    >>> forecaster.predict(table.iloc[-8:]).shape
    (1, 1)

    A long table of two series, one model over both:

    >>> long = pd.concat([table.assign(site="a"), table.assign(site="b")])
    >>> list(forecaster.set_params(id_column="site").fit(long).predict(long).index.names)
    ['site', 'origin']
    """

    _parameter_constraints = {
        "target": [str, None],
        "timesteps": [Interval(Integral, 1, None, closed="left")],
        "horizon": [Interval(Integral, 1, None, closed="left")],
        "target_mode": [StrOptions({"change", "level"})],
        "time_column": [str, None],
        "id_column": [str, None],
        "categorical": ["array-like"],
        "sort_time": ["boolean"],
        "allow_gaps": ["boolean"],
        "regressor": [HasMethods(["fit", "predict"]), None],
    }

    def __init__(
        self,
        target=None,
        timesteps=24,
        horizon=1,
        *,
        target_mode="change",
        time_column=None,
        id_column=None,
        categorical=(),
        sort_time=False,
        allow_gaps=False,
        regressor=None,
    ):
        self.target = target
        self.timesteps = timesteps
        self.horizon = horizon
        self.target_mode = target_mode
        self.time_column = time_column
        self.id_column = id_column
        self.categorical = categorical
        self.sort_time = sort_time
        self.allow_gaps = allow_gaps
        self.regressor = regressor

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, frame, y=None):
        """Learn the reading rules and categories from ``frame``; fit the regressor.

        Parameters
        ----------
        frame : DataFrame
            The table, oldest row first (or in any order with
            ``sort_time=True``), the time column as a column or as the index;
            with ``id_column``, each series' rows oldest first.
        y : None
            Ignored: the target is the ``target`` column.

        Returns
        -------
        self : TableForecaster
        """
        # A refit that fails leaves the forecaster unfitted, never the previous
        # regressor beside this table's columns, categories and step.
        if hasattr(self, "regressor_"):
            del self.regressor_
        categorical = [str(name) for name in self.categorical]
        id_column = self.id_column
        if id_column is not None and id_column in categorical:
            raise ValueError(f"id_column {id_column!r} is also in categorical: the series "
                             "column names each row's series, it is not a channel")
        if id_column is None:
            table, time_column = _table.read(frame, self.time_column, categorical,
                                             sort=self.sort_time)
            values = table
        else:
            table, time_column = _series_table.read_series(
                frame, id_column, self.time_column, categorical, sort=self.sort_time)
            values = table.drop(columns=id_column)
        target = _table.target_column(values, self.target, categorical)
        regressor = self._new_regressor()
        takes_series = id_column is not None and _takes_series(regressor)
        step = _table_step(table, id_column)
        if not self.allow_gaps:
            _refuse_gaps(table, id_column, step)
        self.time_column_, self.id_column_ = time_column, id_column
        self.categories_ = _table.learn_categories(values, categorical)
        self.columns_ = [str(name) for name in values.columns]
        self.target_ = target
        self.step_ = _common_step(table, id_column)
        self.freq_ = (None if step is None or isinstance(step, pd.Timedelta)
                      else _table.offset_alias(step))
        self.allow_gaps_ = bool(self.allow_gaps)
        table = _table.encode_categories(table, self.categories_)
        X, y, series = _windows(table, self.timesteps, self.horizon, target, id_column)
        start = _start(X, y.ndim, self.target_mode, self.columns_.index(target))
        kwargs = {"series": series} if takes_series else {}
        with warnings.catch_warnings():  # the table's constant columns were named above
            warnings.filterwarnings("ignore", message=_CONSTANT_CHANNELS, category=UserWarning)
            regressor = regressor.fit(X, y - start, **kwargs)
        self.regressor_ = regressor
        self.timesteps_, self.horizon_ = int(self.timesteps), int(self.horizon)
        self.target_mode_, self.sort_time_ = self.target_mode, bool(self.sort_time)
        return self

    def windows(self, frame, *, targets=True, return_series=False):
        """The windows (and targets) of ``frame`` as the regressor sees them.

        Parameters
        ----------
        frame : DataFrame
            A table with the fitted columns, read by the fitted rules.
        targets : bool, default=True
            Also return the targets (in the table's units); the last
            ``horizon`` rows (of each series) then start no window.
        return_series : bool, default=False
            Also return the series of each window (fitted with ``id_column``
            only): windows come series after series, in sorted ids.

        Returns
        -------
        X : ndarray of shape (n_windows, timesteps, n_channels)
        y : ndarray, only with ``targets=True``
        series : ndarray of shape (n_windows,), only with ``return_series=True``
        """
        check_is_fitted(self)
        id_column = getattr(self, "id_column_", None)
        if return_series and id_column is None:
            raise ValueError("return_series=True: this forecaster was fitted on one series "
                             "(id_column=None)")
        table = self._read(frame)
        target = self.target_ if targets else None
        X, y, series = _windows(table, self.timesteps_, self.horizon_, target, id_column)
        return (X, *((y,) if targets else ()), *((series,) if return_series else ()))

    def predict(self, frame):
        """Forecast from every complete window of ``frame``, in its units.

        Parameters
        ----------
        frame : DataFrame
            New rows with the fitted columns (at least ``timesteps`` of them),
            read by the same rules as in ``fit``.

        Returns
        -------
        forecasts : DataFrame of shape (n_rows - timesteps + 1, horizon)
            One row per window, indexed by the time (or row label) of its last
            observed step, named ``origin``; column ``"<target>+k"`` is the
            forecast ``k`` steps later. Fitted with ``id_column``: one row per
            window of each series (every series seen in ``fit``), indexed by
            (series, ``origin``).
        """
        check_is_fitted(self)
        table = self._read(frame)
        id_column = getattr(self, "id_column_", None)
        X, _, series, origin = _windows(table, self.timesteps_, 1, None, id_column,
                                        return_index=True)
        kwargs = ({"series": series} if series is not None and _takes_series(self.regressor_)
                  else {})
        forecast = np.asarray(self.regressor_.predict(X, **kwargs), dtype=np.float64)
        start = _start(X, 2, self.target_mode_, self.columns_.index(self.target_))
        forecast = forecast.reshape(len(X), self.horizon_) + start
        columns = [f"{self.target_}+{k}" for k in range(1, self.horizon_ + 1)]
        index = (pd.Index(origin, name="origin") if series is None else
                 pd.MultiIndex.from_arrays([series, origin], names=[id_column, "origin"]))
        return pd.DataFrame(forecast, index=index, columns=columns)

    def save(self, path):
        """Save the fitted forecaster to one file (see :mod:`sae_keras.io._zip`).

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        path : pathlib.Path
        """
        return save_estimator(self, path)

    def _read(self, frame):
        id_column = getattr(self, "id_column_", None)  # older fitted objects: one series
        if id_column is None:
            table, _ = _table.read(frame, self.time_column_, list(self.categories_),
                                   sort=self.sort_time_, columns=self.columns_)
        else:
            table, _ = _series_table.read_series(
                frame, id_column, self.time_column_, list(self.categories_),
                sort=self.sort_time_, columns=self.columns_)
        if not getattr(self, "allow_gaps_", True):  # older fitted objects: as before
            step = self.step_ if self.freq_ is None else _table.calendar_offset(self.freq_)
            _refuse_gaps(table, id_column, step, fitted=True)
        return _table.encode_categories(table, self.categories_)

    def _new_regressor(self):
        if self.regressor is None:
            return LSTMSAERegressor()
        return clone(self.regressor)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "regressor_")

    # -- persistence --------------------------------------------------------

    def _fitted_state(self):
        if not hasattr(self.regressor_, "_fitted_state"):
            raise TypeError(
                f"only sae_keras regressors can be saved in this format, not "
                f"{type(self.regressor_).__name__}; pickle the forecaster instead"
            )
        return {
            "time_column_": self.time_column_,
            "id_column_": self.id_column_,
            "categories_": self.categories_,
            "columns_": self.columns_,
            "target_": self.target_,
            "step_": None if self.step_ is None else self.step_.isoformat(),
            "freq_": self.freq_,
            "allow_gaps_": self.allow_gaps_,
            "timesteps_": self.timesteps_,
            "horizon_": self.horizon_,
            "target_mode_": self.target_mode_,
            "sort_time_": self.sort_time_,
            "regressor_": self.regressor_._fitted_state(),
        }

    def _fitted_models(self):
        return {f"regressor_.{k}": m for k, m in self.regressor_._fitted_models().items()}

    def _saved_model_names(self, state):
        """The names ``_fitted_models`` gives, for fitted state ``state`` (loading checks them)."""
        names = self._new_regressor()._saved_model_names(state["regressor_"])
        return [f"regressor_.{name}" for name in names]

    def _restore_fitted(self, state, models):
        self.time_column_ = state["time_column_"]
        self.id_column_ = state.get("id_column_")  # files from before: one series
        self.categories_ = state["categories_"]
        self.columns_ = state["columns_"]
        self.target_ = state["target_"]
        self.step_ = None if state["step_"] is None else pd.Timedelta(state["step_"])
        # Files written before gaps were checked read new data as they did then.
        self.freq_ = state.get("freq_")
        self.allow_gaps_ = state.get("allow_gaps_", True)
        # Files written before these were frozen: the saved parameters, as read then.
        self.timesteps_ = state.get("timesteps_", self.timesteps)
        self.horizon_ = state.get("horizon_", self.horizon)
        self.target_mode_ = state.get("target_mode_", self.target_mode)
        self.sort_time_ = state.get("sort_time_", self.sort_time)
        regressor = self._new_regressor()
        prefix = "regressor_."
        regressor._restore_fitted(
            state["regressor_"],
            {k[len(prefix):]: m for k, m in models.items() if k.startswith(prefix)},
        )
        self.regressor_ = regressor


def _start(X, ndim, target_mode, target_channel):
    """What the regressor's target starts from: the last target value, or 0."""
    if target_mode == "level":
        return 0.0
    last = X[:, -1, target_channel]
    return last.reshape((-1,) + (1,) * (ndim - 1))


def _takes_series(regressor):
    """Whether ``regressor.fit`` (and so its ``predict``) takes each window's ``series``."""
    return "series" in inspect.signature(regressor.fit).parameters


def _windows(table, timesteps, horizon, target, id_column, *, return_index=False):
    """``make_windows`` of a read table: ``X, y, series[, window_end]``, ``series`` None for one."""
    if id_column is None:
        out = make_windows(table, timesteps, horizon, target=target, return_index=return_index)
        return (out[0], out[1], None, *out[2:])
    return make_windows(table, timesteps, horizon, target=target, series=id_column,
                        return_index=return_index)


def _table_step(table, id_column):
    if id_column is None:
        return _table.table_step(table.index)
    return _series_table.series_step(table, id_column)


def _refuse_gaps(table, id_column, step, *, fitted=False):
    if id_column is None:
        _table.refuse_gaps(table.index, step, fitted=fitted)
    else:
        _series_table.refuse_series_gaps(table, id_column, step, fitted=fitted)


def _common_step(table, id_column):
    """The most common difference between consecutive timestamps (of one series)."""
    index = table.index
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return None
    steps = pd.Series(index[1:] - index[:-1])
    if id_column is not None:
        ids = table[id_column].to_numpy()
        steps = steps[ids[1:] == ids[:-1]]
    return steps.mode().iloc[0] if len(steps) else None
