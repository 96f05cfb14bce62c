import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import sae_keras
from sae_keras import LSTMSAEEncoder, LSTMSAERegressor, TableForecaster, make_windows
from sae_keras.data.datasets import make_synthetic
from _subprocess import run_python


def _flat(X):
    return X.reshape(len(X), -1)


def _linear():
    """A fast, exact regressor of windows: what it learns is easy to check."""
    return make_pipeline(FunctionTransformer(_flat), LinearRegression())


def _tiny_lstm():
    return LSTMSAERegressor((4,), pretraining=LSTMSAEEncoder(pretrain_epochs=1, batch_size=32),
                            epochs=1, batch_size=32, random_state=0)


@pytest.fixture
def table():
    frame = make_synthetic(300, 3, random_state=0).reset_index()
    frame["wind"] = np.where(np.arange(300) % 3, "calm", "gusty")
    return frame


def test_change_mode_adds_the_last_value_back(table):
    forecaster = TableForecaster("target", 6, regressor=_linear(), categorical=["wind"]).fit(table)
    level = TableForecaster("target", 6, regressor=_linear(), categorical=["wind"],
                            target_mode="level").fit(table)
    X, y = forecaster.windows(table)
    last = X[:, -1, forecaster.columns_.index("target")]
    # The regressor saw the change from the last value; the forecaster answers the level.
    np.testing.assert_allclose(forecaster.regressor_.predict(X) + last,
                               forecaster.predict(table).to_numpy()[:-1, 0], rtol=1e-10)
    np.testing.assert_allclose(level.regressor_.predict(X),
                               level.predict(table).to_numpy()[:-1, 0], rtol=1e-10)
    # A linear model of the window fits both formulations equally well.
    np.testing.assert_allclose(forecaster.predict(table), level.predict(table), atol=1e-6)


def test_a_failed_refit_leaves_the_forecaster_unfitted(table):
    from sklearn.exceptions import NotFittedError

    forecaster = TableForecaster("target", 6, regressor=_linear(), categorical=["wind"])
    forecaster.fit(table)
    # Other columns, and too few rows for one window: refused after the table was read.
    with pytest.raises(ValueError):
        forecaster.fit(table.drop(columns="wind").iloc[:5])
    with pytest.raises(NotFittedError):
        forecaster.predict(table)


def test_predict_labels_each_window_by_its_last_time_and_learns_the_step(table):
    forecaster = TableForecaster("target", 6, 4, regressor=_linear(),
                                 categorical=["wind"]).fit(table)
    forecast = forecaster.predict(table.iloc[-10:])
    assert forecast.shape == (5, 4)
    assert forecast.index.name == "origin"
    assert list(forecast.index) == list(pd.to_datetime(table["time"].iloc[-5:]))
    assert forecaster.step_ == pd.Timedelta(hours=1)
    assert forecaster.time_column_ == "time"
    assert forecaster.columns_ == ["target", "driver_1", "driver_2", "wind"]
    assert forecaster.categories_ == {"wind": ["calm", "gusty"]}


def test_the_time_index_may_be_a_column_or_the_index_and_input_is_not_modified(table):
    original = table.copy()
    forecaster = TableForecaster("target", 6, regressor=_linear(), categorical=["wind"]).fit(table)
    pd.testing.assert_frame_equal(table, original)
    by_index = forecaster.predict(table.set_index("time"))
    pd.testing.assert_frame_equal(by_index, forecaster.predict(table))
    shuffled = table.sample(frac=1, random_state=0)
    with pytest.raises(ValueError, match="rows are not in time order"):
        forecaster.predict(shuffled)
    sorting = clone(forecaster).set_params(sort_time=True).fit(table)
    pd.testing.assert_frame_equal(sorting.predict(shuffled), forecaster.predict(table))


def test_new_data_is_read_by_the_fitted_rules(table):
    forecaster = TableForecaster("target", 6, regressor=_linear(), categorical=["wind"]).fit(table)
    unseen = table.copy()
    unseen.loc[200, "wind"] = "storm"
    with pytest.raises(ValueError, match="column 'wind' holds the category 'storm' at row 200"):
        forecaster.predict(unseen)
    stray = table.astype({"driver_2": object})
    stray.loc[7, "driver_2"] = "n/a"
    with pytest.raises(ValueError, match="column 'driver_2' is not numeric: row 7 holds 'n/a'"):
        forecaster.predict(stray)
    with pytest.raises(ValueError, match=r"frame lacks the fitted column\(s\) \['driver_1'\]"):
        forecaster.predict(table.drop(columns="driver_1"))
    # Extra columns and another column order are fine: channels are taken by name.
    reordered = table[["wind", "driver_2", "time", "driver_1", "target"]].assign(extra=1.0)
    with pytest.raises(ValueError, match="column 'time' holds timestamps"):
        TableForecaster("target", 6, regressor=_linear(), categorical=["wind"]).fit(reordered)
    pd.testing.assert_frame_equal(forecaster.predict(reordered.set_index("time")),
                                  forecaster.predict(table))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"timesteps": 0}, "'timesteps' parameter"),
        ({"target_mode": "diff"}, "'target_mode' parameter"),
        ({"categorical": "wind"}, "'categorical' parameter"),
        ({"target": "nope"}, "target 'nope' is not a column"),
        ({"target": "wind", "categorical": ["wind"]}, "target 'wind' is categorical"),
        ({"time_column": "when"}, "time column 'when' is not a column"),
    ],
)
def test_bad_parameters_are_refused_before_fitting(table, params, message):
    regressor = _linear()
    with pytest.raises(ValueError, match=message):
        TableForecaster(**{"categorical": ["wind"], **params}, regressor=regressor).fit(table)
    assert not hasattr(regressor, "steps_") and not hasattr(regressor[-1], "coef_")


def test_clone_pickle_and_save_keep_every_parameter(table, tmp_path):
    forecaster = TableForecaster(
        "target", 8, 2, target_mode="level", categorical=["wind"], sort_time=True,
        regressor=_tiny_lstm(),
    )
    assert clone(forecaster).get_params(deep=False).keys() == forecaster.get_params(deep=False).keys()
    forecaster.fit(table)
    expected = forecaster.predict(table.iloc[-20:])
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(forecaster)).predict(table.iloc[-20:]), expected)
    path = forecaster.save(tmp_path / "forecaster.zip")
    table.iloc[-20:].to_csv(tmp_path / "new.csv", index=False)
    expected.to_csv(tmp_path / "expected.csv")
    result = run_python(f"""
        import numpy as np, pandas as pd, sae_keras
        model = sae_keras.load({str(path)!r})
        assert type(model).__name__ == "TableForecaster", type(model)
        params = model.get_params(deep=False)
        assert (params["target"], params["timesteps"], params["horizon"]) == ("target", 8, 2)
        assert params["target_mode"] == "level" and params["sort_time"] is True
        assert list(params["categorical"]) == ["wind"]
        assert params["regressor"].get_params()["hidden_units"] in ((4,), [4])
        got = model.predict(pd.read_csv({str(tmp_path / "new.csv")!r}))
        want = pd.read_csv({str(tmp_path / "expected.csv")!r}, index_col="origin", parse_dates=["origin"])
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-6)
        assert (got.index == want.index).all()
        print("ok")
    """)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


def test_only_sae_keras_regressors_save_to_the_portable_format(table, tmp_path):
    forecaster = TableForecaster("target", 6, regressor=_linear(), categorical=["wind"]).fit(table)
    with pytest.raises(TypeError, match="pickle the forecaster instead"):
        forecaster.save(tmp_path / "f.zip")
    assert not (tmp_path / "f.zip").exists()


def test_the_default_regressor_is_an_lstm_sae(table):
    forecaster = TableForecaster("target", 6, categorical=["wind"])
    assert forecaster.regressor is None
    X, _ = make_windows(table[["target", "driver_1"]], 6, target="target")
    fitted = clone(forecaster).set_params(regressor=_tiny_lstm()).fit(table)
    assert isinstance(fitted.regressor_, LSTMSAERegressor)
    assert fitted.regressor_.n_channels_in_ == 4
    assert isinstance(forecaster._new_regressor(), LSTMSAERegressor)
    assert hasattr(sae_keras, "TableForecaster") and X.shape[1] == 6
