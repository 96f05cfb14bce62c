import numpy as np
import pandas as pd
import pytest

from sae_keras import make_windows
from sae_keras.data.datasets import load_beijing_pm25, make_synthetic


def test_bundled_pm25_is_the_documented_table():
    frame = load_beijing_pm25()
    assert frame.shape == (43800, 8)
    assert list(frame.columns) == ["pollution", "dew", "temp", "press", "wnd_dir", "wnd_spd", "snow", "rain"]
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert frame.index[0] == pd.Timestamp("2010-01-02 00:00:00")
    assert frame.index[-1] == pd.Timestamp("2014-12-31 23:00:00")
    assert sorted(frame["wnd_dir"].unique()) == ["NE", "NW", "SE", "cv"]
    assert frame.drop(columns="wnd_dir").notna().all().all()


def test_bundled_pm25_as_arrays_label_encodes_wind():
    bunch = load_beijing_pm25(as_frame=False)
    assert bunch.data.shape == (43800, 8) and bunch.data.dtype == np.float64
    assert bunch.wind_categories == ["NE", "NW", "SE", "cv"]
    column = bunch.feature_names.index("wnd_dir")
    assert set(np.unique(bunch.data[:, column])) == {0.0, 1.0, 2.0, 3.0}
    assert "CC BY 4.0" in bunch.DESCR


def test_bundled_pm25_matches_the_shared_copy():
    import pathlib

    shared = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data" / "pollution.csv"
    if not shared.exists():
        pytest.skip("../shared/data is not beside this checkout")
    original = pd.read_csv(shared, index_col="date", parse_dates=["date"])
    pd.testing.assert_frame_equal(load_beijing_pm25(), original, check_dtype=False)


def test_synthetic_series_is_seeded_and_windowable():
    first = make_synthetic(300, 4, random_state=1)
    again = make_synthetic(300, 4, random_state=1)
    pd.testing.assert_frame_equal(first, again)
    assert list(first.columns) == ["target", "driver_1", "driver_2", "driver_3"]
    X, y = make_windows(first, timesteps=24, horizon=6, target="target")
    assert X.shape == (271, 24, 4) and y.shape == (271, 6)


def test_synthetic_target_follows_its_lagged_drivers():
    frame = make_synthetic(2000, 2, noise=0.0, lag=3, random_state=0)
    lagged = np.corrcoef(frame["target"].to_numpy()[3:], frame["driver_1"].to_numpy()[:-3])[0, 1]
    assert lagged > 0.99
