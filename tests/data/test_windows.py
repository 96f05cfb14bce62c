import numpy as np
import pandas as pd
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sae_keras import LSTMSAERegressor, SequenceScaler, make_windows, undifference
from conftest import TINY_REGRESSOR


@pytest.fixture
def table():
    index = pd.date_range("2021-01-01", periods=12, freq="h")
    return pd.DataFrame(
        {"a": np.arange(12.0), "b": 100 + np.arange(12.0), "c": -np.arange(12.0)}, index=index
    )


def test_windows_hold_every_channel_and_the_next_target_value(table):
    X, y = make_windows(table, timesteps=4, target="b")
    assert X.shape == (8, 4, 3) and y.shape == (8,)
    np.testing.assert_array_equal(X[2], table.to_numpy()[2:6])
    assert y[2] == table["b"].iloc[6]


def test_horizon_gives_one_column_per_lead_time(table):
    X, y = make_windows(table, timesteps=4, horizon=3, target="a")
    assert X.shape == (6, 4, 3) and y.shape == (6, 3)
    np.testing.assert_array_equal(y[0], [4.0, 5.0, 6.0])


def test_several_targets_give_horizon_by_target_arrays(table):
    _, y = make_windows(table, timesteps=4, horizon=2, target=["a", "c"])
    assert y.shape == (7, 2, 2)
    np.testing.assert_array_equal(y[0], [[4.0, -4.0], [5.0, -5.0]])


def test_targets_by_position_match_targets_by_name(table):
    _, by_name = make_windows(table, 4, 2, target=["c", "a"])
    _, by_position = make_windows(table.to_numpy(), 4, 2, target=[2, 0])
    np.testing.assert_array_equal(by_name, by_position)


def test_stride_skips_window_starts(table):
    X, y = make_windows(table, timesteps=4, target="a", stride=3)
    assert X.shape[0] == 3
    np.testing.assert_array_equal(X[:, 0, 0], [0.0, 3.0, 6.0])
    np.testing.assert_array_equal(y, [4.0, 7.0, 10.0])


def test_exclude_target_drops_its_history_from_X(table):
    X, _ = make_windows(table, timesteps=4, target="b", exclude_target=True)
    assert X.shape == (8, 4, 2)
    np.testing.assert_array_equal(X[0, :, 1], table["c"].to_numpy()[:4])


def test_difference_windows_hold_changes_and_base_restores_levels():
    rng = np.random.default_rng(0)
    levels = rng.normal(size=(30, 3)).cumsum(axis=0)
    X, y, base = make_windows(levels, timesteps=5, horizon=4, target=1, difference=True)
    changes = np.diff(levels, axis=0)
    assert X.shape == (len(changes) - 5 - 4 + 1, 5, 3)
    np.testing.assert_array_equal(X[3], changes[3:8])
    np.testing.assert_array_equal(y[3], changes[8:12, 1])
    # base is the last level inside the window; undifference gives the true future levels.
    assert base[3] == levels[8, 1]
    np.testing.assert_allclose(undifference(y, base)[3], levels[9:13, 1])
    _, y_levels = make_windows(levels[1:], timesteps=5, horizon=4, target=1)
    np.testing.assert_allclose(undifference(y, base), y_levels)


def test_difference_with_several_targets_and_index(table):
    levels = table.assign(a=table["a"] ** 2)
    X, y, base, ends = make_windows(levels, timesteps=3, horizon=2, target=["a", "c"],
                                    difference=True, return_index=True)
    assert y.shape == (7, 2, 2) and base.shape == (7, 2)
    # The window of changes into steps 1..3 ends at step 3: its base and label are step 3's.
    np.testing.assert_array_equal(base[0], levels[["a", "c"]].iloc[3])
    assert ends[0] == table.index[3]
    np.testing.assert_allclose(undifference(y, base)[0], levels[["a", "c"]].iloc[4:6])


def test_difference_without_target_gives_only_windows(table):
    X, y = make_windows(table, timesteps=4, difference=True)
    assert X.shape == (8, 4, 3) and y is None
    np.testing.assert_array_equal(X, 1.0 * np.sign(X))  # every column moves by ±1 a step


def test_undifference_of_one_step_targets_adds_the_base():
    np.testing.assert_array_equal(undifference([1.0, -2.0], [10.0, 10.0]), [11.0, 8.0])


def test_return_index_gives_the_window_end_timestamps(table):
    _, _, ends = make_windows(table, timesteps=4, target="a", return_index=True)
    assert ends[0] == table.index[3]
    assert len(ends) == 8


def test_windows_are_read_only_views_without_a_copy():
    values = np.arange(60.0).reshape(20, 3)
    X, _ = make_windows(values, timesteps=5, target=0)
    assert np.shares_memory(X, values)
    assert not X.flags.writeable


def test_no_target_gives_no_y():
    X, y = make_windows(np.arange(10.0), timesteps=3)
    assert X.shape == (8, 3, 1) and y is None


def test_a_series_shorter_than_a_window_and_horizon_is_refused(table):
    with pytest.raises(ValueError, match=r"12 time steps, fewer than timesteps \+ horizon = 10 \+ 3"):
        make_windows(table, timesteps=10, horizon=3, target="a")


def test_an_unknown_target_column_is_refused(table):
    with pytest.raises(ValueError, match=r"target 'pm25' is not a column of data; columns are \['a', 'b', 'c'\]"):
        make_windows(table, timesteps=3, target="pm25")


def test_nan_is_reported_with_its_row_and_column(table):
    table.iloc[5, 1] = np.nan
    with pytest.raises(ValueError, match=r"first at row Timestamp\('2021-01-01 05:00:00'\), column 'b'"):
        make_windows(table, timesteps=3, target="a")


def test_non_numeric_columns_are_named_with_a_hint(table):
    table["wind"] = ["NE", "SE"] * 6
    with pytest.raises(TypeError, match=r"non-numeric columns \['wind'\]; encode them"):
        make_windows(table, timesteps=3, target="a")


@pytest.mark.parametrize("name, value", [("timesteps", 0), ("horizon", -1), ("stride", 1.5)])
def test_window_sizes_must_be_positive_ints(table, name, value):
    kwargs = {"timesteps": 3, name: value}
    with pytest.raises(ValueError, match=f"{name} must be a positive int"):
        make_windows(table, target="a", **kwargs)


def test_make_windows_leaves_the_table_untouched(table):
    before = table.copy()
    make_windows(table, timesteps=3, horizon=2, target=["a", "b"], exclude_target=True)
    pd.testing.assert_frame_equal(table, before)


def three_d(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(30, 5, 3)) * [1.0, 10.0, 100.0] + [0.0, 5.0, -50.0]


def test_sequence_scaler_scales_each_channel_to_minus_one_one():
    X = three_d()
    scaled = SequenceScaler().fit_transform(X)
    np.testing.assert_allclose(scaled.min(axis=(0, 1)), -1.0)
    np.testing.assert_allclose(scaled.max(axis=(0, 1)), 1.0)


def test_sequence_scaler_round_trips_and_accepts_any_scaler():
    X = three_d()
    scaler = SequenceScaler(StandardScaler()).fit(X)
    np.testing.assert_allclose(scaler.transform(X).reshape(-1, 3).std(axis=0), 1.0)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X)), X)


def test_sequence_scaler_is_fitted_on_training_windows_only():
    train, test = three_d(0), three_d(1) * 3
    scaler = SequenceScaler().fit(train)
    assert scaler.transform(test).max() > 1.0
    assert scaler.scaler is None  # the parameter is not fitted in place


def test_channel_helpers_scale_and_unscale_targets_of_one_channel():
    X = three_d()
    scaler = SequenceScaler().fit(X)
    y = X[:, -1, 2]
    scaled = scaler.transform_channels(y, channels=2)
    np.testing.assert_allclose(scaled, scaler.transform(X)[:, -1, 2])
    np.testing.assert_allclose(scaler.inverse_transform_channels(scaled, channels=2), y)
    multi = np.stack([X[:, -2:, 0], X[:, -2:, 2]], axis=2)
    back = scaler.inverse_transform_channels(scaler.transform_channels(multi, [0, 2]), [0, 2])
    np.testing.assert_allclose(back, multi)


def test_channel_helpers_check_the_channels():
    scaler = SequenceScaler().fit(three_d())
    with pytest.raises(ValueError, match=r"channels must be positions in \[0, 3\); got 3"):
        scaler.inverse_transform_channels(np.zeros(4), channels=3)


def test_sequence_scaler_checks_the_channel_count():
    scaler = SequenceScaler().fit(three_d())
    with pytest.raises(ValueError, match="X has 2 channels, but SequenceScaler was fitted on 3"):
        scaler.transform(np.zeros((4, 5, 2)))


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_unscaling_recipe_with_transformed_target_regressor():
    """Scale inputs with SequenceScaler and targets with TransformedTargetRegressor:
    predictions come back in the target's own units."""
    rng = np.random.default_rng(0)
    series = 50 + 40 * np.sin(np.arange(400) / 6) + rng.normal(size=400)
    X, y = make_windows(series, timesteps=8, target=0)
    model = TransformedTargetRegressor(
        regressor=make_pipeline(SequenceScaler(), LSTMSAERegressor(**TINY_REGRESSOR, epochs=2)),
        transformer=MinMaxScaler((-1, 1)),
    ).fit(X, y)
    inner = model.regressor_[-1]
    scaled_pred = inner.predict(model.regressor_[0].transform(X))
    assert np.abs(scaled_pred).max() < 3  # the network works in scaled units
    np.testing.assert_allclose(
        model.predict(X), model.transformer_.inverse_transform(scaled_pred[:, None])[:, 0]
    )
    assert 0 < model.predict(X).mean() < 120  # ... and answers in the data's units
