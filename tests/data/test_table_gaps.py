"""Gaps in time: refused, naming the first one, unless the user opts in (issue #21, item 13)."""

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import sae_keras
from sae_keras import LSTMSAEEncoder, LSTMSAERegressor, TableForecaster
from sae_keras.cli._command import main
from sae_keras.data.datasets import make_synthetic

FAST = ["--hidden-units", "4", "--pretrain-epochs", "1", "--epochs", "1", "--quiet"]


def _flat(X):
    return X.reshape(len(X), -1)


def _linear():
    return make_pipeline(FunctionTransformer(_flat), LinearRegression())


def _hourly(n=400, gap_at=200, missing=48):
    """An hourly table with ``missing`` hours left out after row ``gap_at - 1``."""
    frame = make_synthetic(n + missing, 2, random_state=0).reset_index()
    return frame.drop(index=range(gap_at, gap_at + missing)).reset_index(drop=True)


def test_fit_refuses_48_missing_hours_naming_the_gap_and_the_step():
    frame = _hourly()
    before, after = frame["time"].iloc[199], frame["time"].iloc[200]
    assert after - before == pd.Timedelta(hours=49)
    with pytest.raises(ValueError) as info:
        TableForecaster("target", timesteps=6, regressor=_linear()).fit(frame)
    message = str(info.value)
    assert f"rows 199 ({before}) and 200 ({after}) are 2 days 01:00:00 apart" in message
    assert "the table's step is 0 days 01:00:00" in message
    assert "allow_gaps=True" in message and "resample" in message


def test_allow_gaps_reads_the_table_as_before():
    frame = _hourly()
    forecaster = TableForecaster("target", timesteps=6, allow_gaps=True,
                                 regressor=_linear()).fit(frame)
    assert forecaster.allow_gaps_ is True
    assert forecaster.step_ == pd.Timedelta(hours=1)
    # Windows across the gap are forecast, as the user asked.
    assert len(forecaster.predict(frame)) == len(frame) - 6 + 1
    # Without timestamps (rows in the order given) there is no step to check.
    rows = pd.DataFrame({"y": np.arange(50.0) ** 1.5, "x": np.sin(np.arange(50.0))},
                        index=np.arange(50) * 3)
    assert len(TableForecaster("y", timesteps=4, regressor=_linear()).fit(rows).predict(rows)) == 47


def test_predict_refuses_a_gap_by_the_fitted_step():
    frame = make_synthetic(300, 2, random_state=0).reset_index()
    forecaster = TableForecaster("target", timesteps=6, regressor=_linear()).fit(frame)
    assert forecaster.freq_ == "h" and forecaster.allow_gaps_ is False
    new = frame.iloc[-40:].drop(index=frame.index[-20]).reset_index(drop=True)
    with pytest.raises(ValueError, match=r"rows 19 \(.*\) and 20 \(.*\) are 0 days 02:00:00 "
                       r"apart, but the model's step is one Hour"):
        forecaster.predict(new)
    # Rows the fitted step apart, but more widely spaced than the model's, too.
    with pytest.raises(ValueError, match="the model's step"):
        forecaster.predict(frame.iloc[::2])
    assert len(forecaster.predict(frame.iloc[-40:])) == 35


@pytest.mark.parametrize(
    "index",
    [
        pd.date_range("2000-01-31", periods=60, freq="ME"),  # 28 to 31 days apart
        pd.bdate_range("2020-01-01", periods=60),  # weekends skipped
        pd.date_range("2020-03-20", periods=60, freq="D", tz="Europe/Berlin"),  # DST
    ],
    ids=["month ends", "business days", "daily across a DST change"],
)
def test_calendar_frequencies_are_one_step(index):
    frame = pd.DataFrame({"y": np.sin(np.arange(60.0)), "x": np.cos(np.arange(60.0))}, index=index)
    forecaster = TableForecaster("y", timesteps=4, regressor=_linear()).fit(frame)
    assert len(forecaster.predict(frame)) == 57
    # A missing month (or business day) is named as the gap.
    gapped = frame.drop(index=frame.index[30])
    named = f"rows 29 ({frame.index[29]}) and 30 ({frame.index[31]})"
    with pytest.raises(ValueError, match=re.escape(named)):
        TableForecaster("y", timesteps=4, regressor=_linear()).fit(gapped)


def test_the_command_refuses_a_gap_unless_allowed(tmp_path, capsys):
    path = tmp_path / "gappy.csv"
    _hourly(700, gap_at=300).to_csv(path, index=False)
    argv = ["--data", str(path), "--timesteps", "6", "--output", str(tmp_path / "out"), *FAST]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "the time steps are uneven: rows 299 (" in err and "--allow-gaps" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    assert main([*argv, "--allow-gaps"]) == 0
    capsys.readouterr()
    # The saved model keeps the choice: its predictions read gaps too.
    model = sae_keras.load(tmp_path / "out" / "model.zip")
    assert model.allow_gaps_ is True
    assert len(model.predict(pd.read_csv(path).iloc[280:330])) == 45


def test_a_saved_model_refuses_gaps_in_new_rows(tmp_path, capsys):
    frame = make_synthetic(200, 2, random_state=0).reset_index()
    forecaster = TableForecaster(
        "target", timesteps=6,
        regressor=LSTMSAERegressor((4,), pretraining=LSTMSAEEncoder(pretrain_epochs=1), epochs=1, random_state=0),
    ).fit(frame)
    forecaster.save(tmp_path / "model.zip")
    loaded = sae_keras.load(tmp_path / "model.zip")
    assert (loaded.freq_, loaded.allow_gaps_) == ("h", False)
    new = frame.iloc[-30:].drop(index=frame.index[-10])
    new.to_csv(tmp_path / "new.csv", index=False)
    assert main(["predict", "--model", str(tmp_path / "model.zip"),
                 "--data", str(tmp_path / "new.csv")]) == 2
    err = capsys.readouterr().err
    assert "rows 19 (" in err and "the model's step is one Hour" in err
    assert "--" not in err.split("error:", 1)[1]  # no option to advise: the model decides
