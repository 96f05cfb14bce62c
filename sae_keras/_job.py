"""The main job behind ``sae-keras``: table → windows → fit → evaluate → files."""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler

from . import metrics
from .datasets import load_beijing_pm25
from .regressor import LSTMSAERegressor
from .windows import SequenceScaler, make_windows


@dataclass
class JobData:
    """Chronologically split windows of one table."""

    target: str
    target_position: int
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    persistence: np.ndarray
    test_time: pd.Index
    encoded: list = field(default_factory=list)


@dataclass
class JobResult:
    """What the job measured and fitted."""

    metrics: dict
    settings: dict
    model: object  # ChangeForecaster or LSTMSAERegressor
    predictions: np.ndarray
    data: JobData


def load_table(path, target):
    """Read the bundled data or a CSV; return a numeric DataFrame and the target."""
    if path is None:
        frame = load_beijing_pm25(as_frame=True)
        target = target or "pollution"
    else:
        frame = pd.read_csv(path)
        if frame.shape[1] == 0 or frame.empty:
            raise ValueError(f"{path} holds no data rows")
        first = frame.columns[0]
        if not pd.api.types.is_numeric_dtype(frame[first]):
            # A first column of dates becomes the index.
            dates = pd.to_datetime(frame[first], errors="coerce", format="mixed")
            if dates.notna().all():
                frame = frame.set_index(first)
                frame.index = dates
    frame = frame.copy()
    encoded = []
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            # Categories become sorted integer codes, like a label encoder.
            frame[column] = pd.Categorical(frame[column]).codes.astype(np.float64)
            encoded.append(str(column))
    if target is None:
        target = frame.columns[0]
    if target not in frame.columns:
        raise ValueError(f"--target {target!r} is not a column; columns are {list(frame.columns)}")
    if target in encoded:
        raise ValueError(f"--target {target!r} is not numeric; choose a numeric column")
    frame.attrs["encoded"] = encoded
    return frame, target


def prepare_windows(frame, target, timesteps, horizon, test_fraction):
    """Window the table and split it: the last ``test_fraction`` of windows is the test set."""
    X, y = make_windows(frame, timesteps, horizon, target=target)
    n_test = int(round(len(X) * test_fraction))
    if n_test < 1 or len(X) - n_test < 2:
        raise ValueError(
            f"{len(X)} windows cannot be split with --test-fraction {test_fraction}: "
            "both parts need windows"
        )
    split = len(X) - n_test
    position = list(frame.columns).index(target)
    last_seen = X[split:, -1, position]
    persistence = last_seen if horizon == 1 else np.repeat(last_seen[:, None], horizon, axis=1)
    return JobData(
        target=str(target),
        target_position=position,
        X_train=X[:split],
        y_train=y[:split],
        X_test=X[split:],
        y_test=y[split:],
        persistence=persistence,
        # When the (first) forecast of each test window comes true.
        test_time=frame.index[split + timesteps : len(X) + timesteps],
        encoded=list(frame.attrs.get("encoded", [])),
    )


class ChangeForecaster(RegressorMixin, BaseEstimator):
    """Forecast the change from the last observed target value, then add it back.

    One-step PM2.5 is dominated by persistence; learning the change keeps the
    network from having to relearn the identity. ``X`` and ``y`` stay in the
    data's units; ``regressor`` sees the same windows and ``y - last value``.

    Parameters
    ----------
    regressor : estimator
        Fitted on ``(X, y - X[:, -1, position])``.
    position : int
        Channel of the target in the windows.
    """

    def __init__(self, regressor, position=0):
        self.regressor = regressor
        self.position = position

    def _last(self, X, y_ndim):
        last = np.asarray(X)[:, -1, self.position]
        return last.reshape((-1,) + (1,) * (y_ndim - 1))

    def fit(self, X, y):
        y = np.asarray(y, dtype=np.float64)
        self.regressor_ = clone(self.regressor).fit(X, y - self._last(X, y.ndim))
        self.y_ndim_ = y.ndim
        return self

    def predict(self, X):
        return self.regressor_.predict(X) + self._last(X, self.y_ndim_)


def _flatten_windows(X):
    return X.reshape(len(X), -1)


def run(data, args):
    """Fit the LSTM-SAE and the baselines; return metrics on the test windows."""
    regressor = LSTMSAERegressor(
        pretraining=None if args.pretraining == "none" else args.pretraining,
        strategy=args.strategy,
        random_state=args.seed,
        verbose=0 if args.quiet else 1,
        **_chosen_settings(args),
    )
    # The regressor standardises its inputs and targets itself (scaling="standard").
    model = _formulate(regressor, data, args).fit(data.X_train, data.y_train)
    predictions = model.predict(data.X_test)
    ridge = _formulate(TransformedTargetRegressor(
        regressor=Pipeline(
            [
                ("scale", SequenceScaler()),
                ("flatten", FunctionTransformer(_flatten_windows)),
                ("ridge", Ridge(alpha=1.0)),
            ]
        ),
        transformer=MinMaxScaler((-1, 1)),
    ), data, args).fit(data.X_train, data.y_train)
    rows = {
        "persistence": data.persistence,
        "ridge (flattened windows)": ridge.predict(data.X_test),
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
        "timesteps": int(data.X_train.shape[1]),
        "channels": int(data.X_train.shape[2]),
        "horizon": int(args.horizon),
        "target_mode": args.target_mode,
        "train_windows": int(len(data.X_train)),
        "test_windows": int(len(data.X_test)),
        "encoded_columns": data.encoded,
        "regressor": {k: _jsonable(v) for k, v in regressor.get_params().items()},
    }
    return JobResult(table, settings, model, predictions, data)


def _chosen_settings(args):
    """The network settings given on the command line; the rest stay the estimator's."""
    settings = {"hidden_units": args.hidden_units, "epochs": args.epochs,
                "batch_size": args.batch_size}
    if args.pretrain_epochs:
        epochs = args.pretrain_epochs
        settings["pretrain_epochs"] = epochs if len(epochs) > 1 else epochs[0]
    return {name: value for name, value in settings.items() if value is not None}


def _formulate(model, data, args):
    if args.target_mode == "change":
        return ChangeForecaster(model, data.target_position)
    return model


def _jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return repr(value)


def fitted_regressor(model):
    """The ``LSTMSAERegressor`` inside the job's model."""
    if isinstance(model, ChangeForecaster):
        model = model.regressor_
    return model


def save(result, output, seconds):
    """Write model files, plots and metrics; return the file names written."""
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    regressor = fitted_regressor(result.model)
    regressor.model_.save(output / "model.keras")
    with open(output / "model.pkl", "wb") as handle:
        pickle.dump(result.model, handle)
    files = ["model.keras", "model.pkl"]
    try:
        from .plotting import plot_forecast, plot_history
    except ImportError:  # matplotlib is the optional "plot" extra
        plot_forecast = None
    if plot_forecast is not None:
        data = result.data
        lead = (slice(None),) if result.predictions.ndim == 1 else (slice(None), 0)
        figure = plot_forecast(
            data.test_time,
            data.y_test[lead],
            {"LSTM-SAE": result.predictions[lead], "persistence": data.persistence[lead]},
            steps=24 * 7,
            title=f"{data.target}: first test week, 1 step ahead",
            ylabel=_units(data.target),
        )
        figure.savefig(output / "forecast.png", dpi=120)
        figure = plot_history(regressor.history_, loss_name="MSE (standardised data)")
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
