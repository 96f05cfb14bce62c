"""The main job behind ``sae-keras``: table → windows → fit → evaluate → files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler

from ..data import _series_table, _table
from ..evaluation import metrics
from ..data._split import time_split
from ..data.datasets import load_beijing_pm25
from ..estimators._forecaster import TableForecaster
from ..estimators._encoder import LSTMSAEEncoder
from ..estimators._regressor import LSTMSAERegressor
from ..data._windows import SequenceScaler, make_windows


MIN_TEST_WINDOWS = 100
MODEL_FILE = "model.zip"
PLOT_STEPS = 24 * 7  # points in the forecast plot (a week of hourly data)


@dataclass
class JobData:
    """A table read by the job's rules, split in time: fit on ``train``, score on ``test``."""

    target: str
    train: pd.DataFrame
    test_inputs: pd.DataFrame  # the rows the test windows are cut from
    y_test: np.ndarray
    persistence: np.ndarray
    test_time: pd.Index
    train_windows: int
    channels: int
    time_column: str | None = None
    categorical: list = field(default_factory=list)
    id_column: str | None = None
    test_series: np.ndarray | None = None  # the series of each test window (with id_column)

    @property
    def test_windows(self):
        return len(self.y_test)


@dataclass
class JobResult:
    """What the job measured and fitted."""

    metrics: dict
    settings: dict
    model: TableForecaster
    predictions: np.ndarray
    data: JobData


def read_data(args):
    """The table the job trains on: the bundled PM2.5 data or the user's CSV, as read."""
    if args.data is None:
        frame = load_beijing_pm25(as_frame=True)
        return frame, args.target or "pollution", args.categorical or ["wnd_dir"]
    frame = _table.read_csv(args.data, args.encoding)
    if frame.shape[1] == 0 or frame.empty:
        raise ValueError(f"{args.data} holds no data rows")
    return frame, args.target, args.categorical or []


def prepare(frame, target, categorical, args):
    """Read ``frame`` by the job's rules and split its windows in time.

    Every check runs here, before any training: the time column and order,
    numbers outside the categorical columns, the target, categories of the
    test part seen in the training part, enough windows on both sides. The
    test part is the last ``ceil(n_windows * test_fraction)`` windows; the
    ``horizon - 1`` windows before it (whose targets overlap the first test
    targets) are left out of training. With ``--id-column``, each series is
    split so (:func:`_prepare_series`).
    """
    if args.id_column is not None:
        return _prepare_series(frame, target, categorical, args)
    table, time_column = _table.read(frame, args.time_column, categorical, sort=args.sort_time)
    if not args.allow_gaps:
        _table.refuse_gaps(table.index, _table.table_step(table.index))
    target = _table.target_column(table, target, categorical)
    split = _split(table, target, categorical, args)
    _table.encode_categories(split.test_inputs, _table.learn_categories(split.train, categorical))
    split.time_column = time_column
    return split


def _split(table, target, categorical, args, series=None, rows=None):
    """One series' table, read and checked, split in time into a ``JobData``.

    ``rows``: the frame the training and test rows are cut from (``table``'s
    rows with more columns), ``table`` itself by default.
    """
    rows = table if rows is None else rows
    timesteps, horizon = args.timesteps, args.horizon
    # Windowing the whole table checks every value (NaN, infinities) up front;
    # the windows are views, and give the test targets and persistence.
    categories = _table.learn_categories(table, categorical)
    X, y = make_windows(_table.encode_categories(table, categories), timesteps, horizon,
                        target=target)
    last_seen = X[:, -1, list(table.columns).index(target)]
    if horizon > 1:
        last_seen = np.repeat(last_seen[:, None], horizon, axis=1)
    n_windows = len(y)
    # The same split rule as every held-out part, with the purge gap: the horizon - 1
    # windows before the test part, whose targets overlap the first test targets, are
    # in neither part.
    try:
        split, n_test = time_split(args.test_fraction, n_windows, horizon - 1,
                                   name="--test-fraction", min_train=2)
    except ValueError as error:
        of = "" if series is None else f" of series {_table.id_words(series)}"
        raise ValueError(
            f"{n_windows} windows{of} cannot be split with --test-fraction "
            f"{args.test_fraction}: {error}"
        ) from None
    train = rows.iloc[: split + timesteps + horizon - 1]
    split = n_windows - n_test  # the first test window
    return JobData(
        target=str(target),
        train=train,
        test_inputs=rows.iloc[split : n_windows + timesteps - 1],
        y_test=y[split:],
        persistence=last_seen[split:],
        # When the (first) forecast of each test window comes true.
        test_time=table.index[split + timesteps : n_windows + timesteps],
        train_windows=n_windows - n_test - (horizon - 1),
        channels=table.shape[1],
        categorical=list(categorical),
    )


def _prepare_series(frame, target, categorical, args):
    """:func:`prepare` of a long table: each series read, checked and split in time alike.

    The training part is every series' training rows, the test part every
    series' last windows (series in sorted order, as ``TableForecaster``
    forecasts them); categories of the test part must be seen in training.
    """
    id_column = args.id_column
    if id_column in categorical:
        raise ValueError(f"--id-column {id_column!r} is also given to --categorical: the "
                         "series column names each row's series, it is not a channel")
    table, time_column = _series_table.read_series(frame, id_column, args.time_column,
                                                   categorical, sort=args.sort_time)
    if not args.allow_gaps:
        _series_table.refuse_series_gaps(table, id_column,
                                         _series_table.series_step(table, id_column))
    values = table.drop(columns=id_column)
    target = _table.target_column(values, target, categorical)
    ids = table[id_column].to_numpy()
    parts = []
    for series, rows in table.groupby(id_column, sort=False).indices.items():
        part = _split(values.iloc[rows], target, categorical, args, series, table.iloc[rows])
        part.test_series = np.repeat(ids[rows[:1]], part.test_windows)
        parts.append(part)
    train = pd.concat([part.train for part in parts])
    test_inputs = pd.concat([part.test_inputs for part in parts])
    _table.encode_categories(test_inputs.drop(columns=id_column),
                             _table.learn_categories(train.drop(columns=id_column), categorical))
    return JobData(
        target=str(target),
        train=train,
        test_inputs=test_inputs,
        y_test=np.concatenate([part.y_test for part in parts]),
        persistence=np.concatenate([part.persistence for part in parts]),
        test_time=parts[0].test_time.append([part.test_time for part in parts[1:]]),
        train_windows=sum(part.train_windows for part in parts),
        channels=values.shape[1],
        time_column=time_column,
        categorical=list(categorical),
        id_column=id_column,
        test_series=np.concatenate([part.test_series for part in parts]),
    )


def _flatten_windows(X):
    return X.reshape(len(X), -1)


def forecaster(data, args, regressor):
    """A ``TableForecaster`` of the job's table around ``regressor``."""
    return TableForecaster(
        data.target, args.timesteps, args.horizon, target_mode=args.target_mode,
        time_column=data.time_column, categorical=data.categorical, regressor=regressor,
        allow_gaps=args.allow_gaps, id_column=data.id_column,
    )


def run(data, args):
    """Fit the LSTM-SAE and the baselines; return metrics on the test windows."""
    regressor = LSTMSAERegressor(
        pretraining=_pretraining(args),
        strategy=args.strategy,
        random_state=args.seed,
        verbose=0 if args.quiet else 1,
        **_chosen_settings(args),
    )
    # The regressor standardises its inputs and targets itself (scaling="standard").
    model = forecaster(data, args, regressor).fit(data.train)
    predictions = _forecasts(model, data)
    ridge = forecaster(data, args, TransformedTargetRegressor(
        regressor=Pipeline(
            [
                ("scale", SequenceScaler()),
                ("flatten", FunctionTransformer(_flatten_windows)),
                ("ridge", Ridge(alpha=1.0)),
            ]
        ),
        transformer=MinMaxScaler((-1, 1)),
    )).fit(data.train)
    rows = {
        "persistence": data.persistence,
        "ridge (flattened windows)": _forecasts(ridge, data),
        "lstm-sae": predictions,
    }
    table = {}
    for name, forecast in rows.items():
        table[name] = {
            "rmse": metrics.rmse(data.y_test, forecast),
            "mae": metrics.mae(data.y_test, forecast),
            "smape": metrics.smape(data.y_test, forecast),
            "skill_vs_persistence": metrics.skill_score(data.y_test, forecast, data.persistence),
        }
    settings = {
        "target": data.target,
        "time_column": data.time_column,
        "id_column": data.id_column,
        "series": None if data.test_series is None else len(np.unique(data.test_series)),
        "timesteps": int(args.timesteps),
        "channels": int(data.channels),
        "horizon": int(args.horizon),
        "target_mode": args.target_mode,
        "train_windows": int(data.train_windows),
        "test_windows": int(data.test_windows),
        "encoded_columns": data.categorical,
        "regressor": {k: _jsonable(v) for k, v in regressor.get_params().items()},
    }
    return JobResult(table, settings, model, predictions, data)


def _forecasts(model, data):
    """The model's forecasts of the test windows, shaped like ``y_test``."""
    return model.predict(data.test_inputs).to_numpy().reshape(data.y_test.shape)


def _chosen_settings(args):
    """The network settings given on the command line; the rest stay the estimator's."""
    settings = {"hidden_units": args.hidden_units, "epochs": args.epochs,
                "batch_size": args.batch_size, "patch_size": args.patch_size}
    return {name: value for name, value in settings.items() if value is not None}


def _pretraining(args):
    """``--pretraining``, ``--pretrain-epochs`` and ``--pretrain-stride`` as ``pretraining``."""
    if args.pretraining == "none":
        return None
    if args.pretraining == "input" and not args.pretrain_epochs and not args.pretrain_stride:
        return "auto"  # the encoder's recipe, with the regressor's training settings
    recipe = {"reconstruct": args.pretraining}
    if args.pretrain_epochs:
        epochs = args.pretrain_epochs
        recipe["pretrain_epochs"] = epochs if len(epochs) > 1 else epochs[0]
    if args.pretrain_stride:
        recipe["pretrain_stride"] = args.pretrain_stride
    if args.batch_size is not None:  # pretraining trains with the batch size asked for too
        recipe["batch_size"] = args.batch_size
    return LSTMSAEEncoder(**recipe)


def _jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return repr(value)


def save(result, output, seconds):
    """Write model files, plots and metrics; return the file names written."""
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    # One portable file: reading rules, categories, windowing and the network.
    result.model.save(output / MODEL_FILE)
    files = [MODEL_FILE]
    try:
        from ..evaluation.plotting import plot_forecast, plot_history, span_words
    except ImportError:  # matplotlib is the optional "plot" extra
        plot_forecast = None
    if plot_forecast is not None:
        data = result.data
        lead = (slice(None),) if result.predictions.ndim == 1 else (slice(None), 0)
        steps, name = min(PLOT_STEPS, len(data.test_time)), data.target
        if data.test_series is not None:  # the first series
            first = data.test_series[0]
            steps = min(steps, int(np.sum(data.test_series == first)))
            name = f"{data.target} of {data.id_column} {_table.id_words(first)}"
        figure = plot_forecast(
            data.test_time,
            data.y_test[lead],
            {"LSTM-SAE": result.predictions[lead], "persistence": data.persistence[lead]},
            steps=steps,
            title=f"{name}: first {span_words(data.test_time[:steps])} of the test "
            "part, 1 step ahead",
            ylabel=_units(data.target),
        )
        figure.savefig(output / "forecast.png", dpi=120)
        figure = plot_history(result.model.regressor_.history_, loss_name="MSE (standardised data)")
        figure.savefig(output / "loss.png", dpi=120)
        files += ["forecast.png", "loss.png"]
    report = {"metrics": result.metrics, "settings": result.settings, "seconds": seconds}
    (output / "metrics.json").write_text(json.dumps(report, indent=2))
    return files + ["metrics.json"]


def _units(target):
    return "PM2.5 (µg/m³)" if target == "pollution" else f"{target} (data units)"


def format_table(table):
    """The metrics as a Markdown table."""
    lines = [
        "| model | RMSE | MAE | SMAPE % | skill vs persistence |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in table.items():
        lines.append(
            f"| {name} | {row['rmse']:.3f} | {row['mae']:.3f} | {row['smape']:.3f} | "
            f"{row['skill_vs_persistence']:+.1%} |"
        )
    return "\n".join(lines)
