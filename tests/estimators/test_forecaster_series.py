"""TableForecaster(id_column=): one forecaster over a long table of many series."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import sae_keras
from sae_keras import LSTMSAEEncoder, LSTMSAERegressor, TableForecaster, make_windows
from sae_keras.data.datasets import make_synthetic


def _flat(X):
    return X.reshape(len(X), -1)


def _linear():
    return make_pipeline(FunctionTransformer(_flat), LinearRegression())


@pytest.fixture
def long():
    """Two sites of unequal length and scale, interleaved by time (as a CSV by date is)."""
    one = make_synthetic(90, 2, random_state=0).reset_index()
    two = make_synthetic(70, 2, random_state=1).reset_index()
    two["target"] = two["target"] * 100.0 + 50.0
    frame = pd.concat([one.assign(site="north"), two.assign(site="south")])
    return frame.sort_values(["time", "site"], kind="stable").reset_index(drop=True)


def test_windows_never_cross_two_series_and_forecasts_are_indexed_by_series(long):
    forecaster = TableForecaster("target", 6, id_column="site", regressor=_linear()).fit(long)
    assert forecaster.id_column_ == "site" and forecaster.columns_ == ["target", "driver_1"]
    X, y, series = forecaster.windows(long, return_series=True)
    want_X, want_y, want_series = make_windows(long, 6, target="target", series="site",
                                               time="time")
    np.testing.assert_array_equal(X, want_X)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(series, want_series)
    forecasts = forecaster.predict(long)
    assert forecasts.index.names == ["site", "origin"]
    assert forecasts.groupby(level="site").size().to_dict() == {"north": 85, "south": 65}
    # Each series' first window ends at its own sixth time step.
    first = forecasts.loc["south"].index[0]
    assert first == long.loc[long["site"] == "south", "time"].iloc[5]
    # Change mode: each forecast starts from its own series' last value.
    north = long[long["site"] == "north"]
    want = forecaster.regressor_.predict(make_windows(
        north.drop(columns="site").set_index("time"), 6)[0]) + north["target"].iloc[5:].to_numpy()
    np.testing.assert_allclose(forecasts.loc["north"].to_numpy().ravel(), want)


def test_the_lstm_regressor_is_told_each_windows_series(long, tmp_path):
    regressor = LSTMSAERegressor((4,), pretraining=LSTMSAEEncoder(pretrain_epochs=1),
                                 epochs=1, batch_size=32, early_stopping=False, random_state=0)
    forecaster = TableForecaster("target", 6, id_column="site", regressor=regressor,
                                 target_mode="level").fit(long)
    np.testing.assert_array_equal(forecaster.regressor_.series_, ["north", "south"])
    forecasts = forecaster.predict(long)
    # Per-series scaling: each site's forecasts are in its own units.
    means = forecasts.groupby(level="site").mean().iloc[:, 0]
    assert abs(means["south"] - 50.0) < 30.0 and abs(means["north"]) < 3.0
    loaded = sae_keras.load(forecaster.save(tmp_path / "panel.zip"))
    assert loaded.id_column_ == "site"
    pd.testing.assert_frame_equal(loaded.predict(long), forecasts)
    with pytest.raises(ValueError, match="east"):
        forecaster.predict(long.assign(site=long["site"].replace({"south": "east"})))


def test_reading_rules_hold_within_each_series_and_name_it(long):
    gapped = long.drop(index=long.index[(long["site"] == "south")][10])
    with pytest.raises(ValueError, match="south"):
        TableForecaster("target", 6, id_column="site", regressor=_linear()).fit(gapped)
    TableForecaster("target", 6, id_column="site", regressor=_linear(),
                    allow_gaps=True).fit(gapped)
    fitted = TableForecaster("target", 6, id_column="site", regressor=_linear()).fit(long)
    with pytest.raises(ValueError, match="south"):
        fitted.predict(gapped)
    shuffled = long.sample(frac=1.0, random_state=0)
    with pytest.raises(ValueError, match="not in time order"):
        TableForecaster("target", 6, id_column="site", regressor=_linear()).fit(shuffled)
    sorted_fit = TableForecaster("target", 6, id_column="site", regressor=_linear(),
                                 sort_time=True).fit(shuffled)
    pd.testing.assert_frame_equal(sorted_fit.predict(long), fitted.predict(long))


@pytest.mark.parametrize("params, message", [
    ({"id_column": "region"}, "id column 'region' is not a column"),
    ({"id_column": "site", "categorical": ["site"]}, "id_column 'site' is also in categorical"),
    ({"id_column": 3}, "'id_column' parameter"),
])
def test_a_bad_id_column_is_named_before_any_training(long, params, message):
    with pytest.raises((TypeError, ValueError), match=message):
        TableForecaster("target", 6, regressor=_linear(), **params).fit(long)


def test_return_series_needs_a_series_forecaster(long):
    one = long[long["site"] == "north"].drop(columns="site")
    forecaster = TableForecaster("target", 6, regressor=_linear()).fit(one)
    with pytest.raises(ValueError, match="return_series=True"):
        forecaster.windows(one, return_series=True)
    assert forecaster.predict(one).index.name == "origin"
