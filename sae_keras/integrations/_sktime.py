"""LSTMSAEForecaster: an :class:`~sae_keras.LSTMSAERegressor` in sktime's forecaster
interface (forecasting horizon ``fh``, one series or a panel, exogenous ``X``,
``pretrain`` on a panel); needs the ``sktime`` extra."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator

try:
    from sktime.forecasting.base import BaseForecaster
except ImportError as error:  # the optional extra
    raise ImportError(
        "LSTMSAEForecaster is sktime's interface and needs sktime: "
        "pip install 'sae_keras[sktime]'."
    ) from error

from ..data._windows import make_windows
from ..estimators._encoder import LSTMSAEEncoder
from ..estimators._regressor import LSTMSAERegressor

#: The data layouts ``_fit``, ``_predict`` and ``_pretrain`` read: one series, a
#: panel (instance, time) or a hierarchy (levels..., time).
_MTYPES = ["pd.DataFrame", "pd-multiindex", "pd_multiindex_hier"]


class LSTMSAEForecaster(BaseForecaster):
    """LSTM-SAE forecasts in sktime's forecaster interface.

    A direct multi-step forecaster: ``fit`` cuts each series into windows of
    ``window_length`` steps whose targets are the next ``max(fh)`` steps, and
    fits a copy of ``regressor`` on them; ``predict`` forecasts from each
    series' last window and returns the steps of ``fh``. Every column of ``y``
    is a target and an input channel; the columns of ``X`` (exogenous data) are
    input channels beside them, read up to the cutoff, so ``predict`` needs no
    future ``X``. ``update(y_new)`` moves each series' window to the new data
    without refitting the network, also with ``update_params=True`` (refit
    with ``fit`` to learn from the new data); ``predict`` reads those windows
    alone, so sktime's ``set_config(remember_data=False)`` may drop its copy
    of the data.

    Each series is standardised by the mean and standard deviation of its own
    ``fit`` data, per column (the "local scaler"), and forecasts return in its
    units. ``y`` may be one series (``pd.Series`` or ``pd.DataFrame``) or a
    panel (``pd-multiindex``, hierarchical): a panel trains one network on the
    windows of every series (a global model), with early stopping holding out
    the last windows of each, and ``predict`` forecasts every series of it,
    each from its own last value (series may end at different times).

    ``pretrain(y_panel)`` is the method's greedy pretraining on many series:
    an :class:`~sae_keras.LSTMSAEEncoder` (the regressor's ``pretraining``, or
    the one ``"auto"`` means) is fitted, without targets, on the windows of
    every series of the panel, each standardised by its own statistics. A
    later ``fit`` on one series (or a panel) then starts its network from
    those encoders (``pretraining=FrozenEstimator(encoder)``: they are not
    pretrained again) and fine-tunes it there. ``fit`` keeps the pretrained
    encoder; calling ``pretrain`` again pretrains afresh on the new panel (the
    greedy loop has no incremental mode).

    Parameters
    ----------
    window_length : int, default=24
        Steps of history each forecast reads (the windows' ``timesteps``).
    regressor : LSTMSAERegressor, default=None
        The network and how it trains, copied (``clone``) at each ``fit``;
        ``None`` means ``LSTMSAERegressor()``. Its ``pretraining`` says what
        ``pretrain`` fits (``pretraining=None`` has nothing to pretrain).
        ``pretrain`` fits the encoder step by step: with it, the regressor reads
        step by step too (``patch_size="auto"`` resolves to 1; an integer above
        1 is refused before pretraining).

    Attributes
    ----------
    regressor_ : LSTMSAERegressor
        The fitted copy of ``regressor``.
    horizon_ : int
        Steps ahead the network forecasts: the largest step of ``fh`` at fit.
    instances_ : list
        The series fitted on (``None`` for one series; the instance keys of a
        panel, as ``groupby`` gives them).
    mean_, scale_ : ndarray of shape (n_instances, n_columns)
        Each series' statistics per column (``y``'s, then ``X``'s).
    last_window_ : ndarray of shape (n_instances, window_length, n_columns)
        The window each series is forecast from: its last values up to the
        cutoff, raw (moved by ``update``).
    last_time_ : list
        The time of each series' last value: its forecasts' ``fh`` counts from it.
    target_columns_, index_names_ : list
        ``y``'s column names and index level names, for the forecasts.
    pretrained_encoder_ : LSTMSAEEncoder
        After ``pretrain``: the encoder fitted on the panel.
    n_pretrain_instances_ : int
        After ``pretrain``: the number of series pretrained on.

    See Also
    --------
    sae_keras.LSTMSAERegressor : The estimator this adapts, on windows.
    sae_keras.TableForecaster : A table in, forecasts in its units out.

    Examples
    --------
    >>> from sktime.datasets import load_airline
    >>> from sae_keras import LSTMSAEEncoder, LSTMSAEForecaster, LSTMSAERegressor
    >>> net = LSTMSAERegressor(hidden_units=(8,), epochs=2, random_state=0,
    ...                        pretraining=LSTMSAEEncoder(pretrain_epochs=1))
    >>> forecaster = LSTMSAEForecaster(window_length=12, regressor=net)
    >>> y = load_airline()
    >>> forecaster.fit(y, fh=[1, 2, 3]).predict().shape
    (3,)
    """

    _tags = {
        "authors": ["sae_keras developers"],
        "maintainers": ["sae_keras developers"],
        "python_dependencies": ["keras>=3"],
        "y_inner_mtype": _MTYPES,
        "X_inner_mtype": _MTYPES,
        "capability:multivariate": True,
        "capability:exogenous": True,
        "capability:insample": False,
        "capability:pred_int": False,
        "capability:missing_values": False,
        "capability:update": True,
        "capability:pretrain": True,
        "pretrain:fitted_params": ["pretrained_encoder_", "n_pretrain_instances_"],
        "requires-fh-in-fit": True,
        "X-y-must-have-same-index": True,
        "capability:categorical_in_X": False,
        "capability:unequal_length": True,
    }

    def __init__(self, window_length=24, regressor=None):
        self.window_length = window_length
        self.regressor = regressor
        super().__init__()

    def _fit(self, y, X=None, fh=None):
        regressor = clone(self._checked_regressor())
        steps = self._steps(fh)
        self.horizon_ = int(steps.max())
        series = _series(y, X)
        n_targets = y.shape[1]
        pretrained = getattr(self, "pretrained_encoder_", None)
        if pretrained is not None:
            self._check_pretrained_channels(series[0][1].shape[1])
            regressor.set_params(pretraining=FrozenEstimator(pretrained))
        self.instances_ = [key for key, _, _ in series]
        self.target_columns_ = list(y.columns)
        self.index_names_ = list(y.index.names)
        self.mean_, self.scale_ = _statistics([values for _, values, _ in series])
        windows, targets = [], []
        for code, (key, values, _) in enumerate(series):
            _check_length(key, len(values), self.window_length, self.horizon_, "fit")
            X_s, y_s = make_windows(self._scaled(values, code), self.window_length,
                                    self.horizon_, target=list(range(n_targets)))
            windows.append(X_s)
            targets.append(y_s.reshape(len(y_s), self.horizon_, n_targets))
        codes = None
        if len(series) > 1 and pretrained is None:  # early stopping per series
            codes = np.repeat(np.arange(len(series)), [len(w) for w in windows])
        self._set_last_windows([values[-self.window_length:] for _, values, _ in series],
                               [index[-1] for _, _, index in series])
        target = np.concatenate(targets)
        self.regressor_ = regressor.fit(
            np.concatenate(windows), target[:, :, 0] if n_targets == 1 else target,
            series=codes,
        )
        return self

    def _predict(self, fh, X=None):
        steps = self._steps(fh)
        n_targets = len(self.target_columns_)
        codes = None
        if getattr(self.regressor_, "series_", None) is not None:
            codes = np.arange(len(self.instances_))
        windows = np.stack([self._scaled(window, code)
                            for code, window in enumerate(self.last_window_)])
        forecast = np.asarray(self.regressor_.predict(windows, series=codes))
        forecast = forecast.reshape(len(windows), self.horizon_, n_targets)[:, steps - 1]
        forecast = forecast * self.scale_[:, None, :n_targets] + self.mean_[:, None, :n_targets]
        relative = fh.to_relative(self.cutoff)
        if self.instances_ == [None]:
            return pd.DataFrame(forecast[0], index=fh.to_absolute_index(self.cutoff),
                                columns=self.target_columns_)
        frames = {  # each series from its own end (a panel's series may end apart)
            key: pd.DataFrame(values, columns=self.target_columns_,
                              index=relative.to_absolute_index(self._end(end)))
            for key, values, end in zip(self.instances_, forecast, self.last_time_)
        }
        return pd.concat(frames, names=self.index_names_[:-1]).rename_axis(self.index_names_)

    def _update(self, y, X=None, update_params=True):
        """Move each series' last window to the new data; the network is not refitted."""
        series = _series(y, X)
        unseen = [key for key, _, _ in series if key not in self.instances_]
        if unseen:
            raise ValueError(
                f"update: series {_names(unseen)} were not fitted on; fit again to "
                "forecast them."
            )
        windows, ends = list(self.last_window_), list(self.last_time_)
        for key, values, index in series:
            code = self.instances_.index(key)
            joined = np.concatenate([windows[code], values])
            windows[code], ends[code] = joined[-self.window_length:], index[-1]
        self._set_last_windows(windows, ends)
        return self

    def _pretrain(self, y, X=None, fh=None):
        regressor = self._checked_regressor()
        encoder = regressor._pretraining_encoder()
        if encoder is None:
            raise ValueError(
                "pretrain fits the regressor's pretraining encoder, but the regressor has "
                "pretraining=None: set it to 'auto' or an LSTMSAEEncoder."
            )
        if regressor.patch_size != 1 and regressor.patch_size != "auto":
            raise ValueError(
                f"pretrain fits the encoder on the windows step by step, but the regressor "
                f"reads patches (patch_size={regressor.patch_size}): fit without pretrain "
                "(the regressor then pretrains on patches itself), or set patch_size=1."
            )
        encoder = clone(encoder).set_params(random_state=regressor.random_state)
        series = _series(y, X)
        mean, scale = _statistics([values for _, values, _ in series])
        windows = []
        for code, (key, values, _) in enumerate(series):
            _check_length(key, len(values), self.window_length, 0, "pretrain")
            X_s, _ = make_windows((values - mean[code]) / scale[code], self.window_length)
            windows.append(X_s)
        self.pretrained_encoder_ = encoder.fit(np.concatenate(windows))
        self.n_pretrain_instances_ = len(series)
        return self

    def _pretrain_update(self, y, X=None, fh=None):
        return self._pretrain(y, X=X, fh=fh)

    def _checked_regressor(self):
        """``regressor`` (or the default), after checking both parameters; before training."""
        if (not isinstance(self.window_length, Integral) or isinstance(self.window_length, bool)
                or self.window_length < 1):
            raise ValueError(
                f"window_length must be a positive int; got {self.window_length!r}."
            )
        if self.regressor is None:
            return LSTMSAERegressor()
        if not isinstance(self.regressor, LSTMSAERegressor):
            raise TypeError(
                "regressor must be an LSTMSAERegressor or None; got a "
                f"{type(self.regressor).__name__}."
            )
        return self.regressor

    def _steps(self, fh):
        """The steps ahead of ``fh``: 1 is the step after the cutoff (sktime refuses
        in-sample steps, ``capability:insample``, and another ``fh`` than fit's)."""
        return np.asarray(fh.to_relative(self.cutoff), dtype=int)

    def _set_last_windows(self, windows, ends):
        """Keep the window each series is forecast from, and when it ends."""
        self.last_window_ = np.stack(windows)
        self.last_time_ = list(ends)

    def _end(self, end):
        """A series' last time as a cutoff: a one-element index, with the data's frequency."""
        cutoff = self.cutoff
        if isinstance(cutoff, pd.PeriodIndex):
            return pd.PeriodIndex([end], freq=cutoff.freq)
        if isinstance(cutoff, pd.DatetimeIndex):
            return pd.DatetimeIndex([end], freq=cutoff.freq)
        return pd.Index([end])

    def _scaled(self, values, code):
        return (values - self.mean_[code]) / self.scale_[code]

    def _check_pretrained_channels(self, n_channels):
        pretrained = self.pretrained_encoder_.n_channels_in_
        if n_channels != pretrained:
            raise ValueError(
                f"fit's y and X have {n_channels} columns together, but pretrain's had "
                f"{pretrained}: pass the same columns to both."
            )

    @classmethod
    def get_test_params(cls, parameter_set="default"):
        """Tiny networks for sktime's and this package's tests.

        Parameters
        ----------
        parameter_set : str, default="default"
            Ignored: one set of test parameters.

        Returns
        -------
        params : list of dict
        """
        # Batches of 64: one batch per epoch on most of sktime's test series, so one
        # training program to trace and compile per phase, not two (a last, partial
        # batch has its own shape).
        tiny = {"hidden_units": (4,), "epochs": 2, "batch_size": 64, "random_state": 0,
                "early_stopping": False}
        encoder = LSTMSAEEncoder(pretrain_epochs=1, batch_size=64, early_stopping=False)
        return [
            {"window_length": 3, "regressor": LSTMSAERegressor(pretraining=encoder, **tiny)},
            {"window_length": 2,
             "regressor": LSTMSAERegressor(pretraining=encoder, cell="bilstm",
                                           linear_skip=None, **tiny)},
        ]


def _series(y, X):
    """``[(instance key or None, values (n, y's and X's columns), time index)]``, per series."""
    parts = []
    for key, frame in _instances(y):
        values = frame.to_numpy(dtype=float)
        if X is not None:
            exogenous = X.loc[frame.index] if key is None else X.loc[key].loc[frame.index]
            values = np.concatenate([values, exogenous.to_numpy(dtype=float)], axis=1)
        parts.append((key, values, frame.index))
    return parts


def _instances(frame):
    """``[(key, that series indexed by time)]``: ``[(None, frame)]`` for one series."""
    if not isinstance(frame.index, pd.MultiIndex):
        return [(None, frame)]
    levels = list(range(frame.index.nlevels - 1))
    key_level = levels if len(levels) > 1 else levels[0]
    return [(key, part.droplevel(levels))
            for key, part in frame.groupby(level=key_level, sort=False)]


def _statistics(tables):
    """Mean and scale per series and column; a constant column gets scale 1."""
    mean = np.stack([values.mean(axis=0) for values in tables])
    scale = np.stack([values.std(axis=0) for values in tables])
    scale[~(scale > 0)] = 1.0
    return mean, scale


def _check_length(key, n_steps, window_length, horizon, method):
    need = window_length + horizon
    if n_steps < need:
        which = "y" if key is None else f"series {key!r}"
        wanted = (f"window_length + max(fh) = {window_length} + {horizon}" if horizon
                  else f"window_length = {window_length}")
        raise ValueError(
            f"{method}: {which} has {n_steps} time steps, fewer than {wanted}: no window "
            "fits; pass longer series or a smaller window_length."
        )


def _names(keys):
    shown = [repr(key) for key in keys[:5]]
    return ", ".join(shown) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
