"""LSTMSAEForecaster: sktime's forecaster interface over the regressor (the sktime extra)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import Ridge

pytest.importorskip("sktime")

from sktime.forecasting.base import ForecastingHorizon  # noqa: E402
from sktime.utils.estimator_checks import check_estimator  # noqa: E402

from sae_keras import LSTMSAEEncoder, LSTMSAEForecaster, LSTMSAERegressor  # noqa: E402
from sae_keras import make_windows  # noqa: E402


def _net(**params):
    return LSTMSAERegressor(**{**LSTMSAEForecaster.get_test_params()[0]["regressor"]
                               .get_params(deep=False), **params})


def _series(n, level, scale, seed, start="2020-01-01", name="y"):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = level + scale * (np.sin(2 * np.pi * t / 7) + 0.1 * rng.standard_normal(n))
    return pd.Series(values, index=pd.period_range(start, periods=n, freq="D"), name=name)


def _panel(scales=(1.0, 1000.0), n=40):
    parts = {f"s{i}": _series(n, 10 * scale, scale, i).to_frame()
             for i, scale in enumerate(scales)}
    return pd.concat(parts, names=["site", "time"])


@pytest.mark.slow
@pytest.mark.one_backend("jax")
def test_passes_sktime_check_estimator(tmp_path):
    # sktime's whole suite for forecasters (389 checks) on the first test parameter set;
    # the second passes it too, run by hand (docs/guide/sktime.md): as long again, for
    # the same code paths. The suite fits the same few series over and over (229 fits):
    # the pretraining encoder's layer cache (memory=) pretrains each series once and
    # loads the layer in its later fits, which test_pretraining_cache.py shows ends in
    # the same network. Measured alone on JAX: 100 s instead of 169 s; under the
    # suite's coverage tracing, which slows the cache's hashing, 146 s instead of 157 s.
    forecaster = LSTMSAEForecaster(**LSTMSAEForecaster.get_test_params()[0]).set_params(
        regressor__pretraining__memory=str(tmp_path))
    results = check_estimator(forecaster, raise_exceptions=True, verbose=False)
    failed = {name: result for name, result in results.items() if result != "PASSED"}
    assert results and not failed


def test_forecasts_equal_the_regressor_fitted_on_the_standardised_windows():
    y = _series(50, 100.0, 20.0, 0)
    forecaster = LSTMSAEForecaster(window_length=5, regressor=_net()).fit(y, fh=[1, 2, 3])
    values = y.to_numpy()[:, None]
    mean, scale = values.mean(0), values.std(0)
    X, target = make_windows((values - mean) / scale, 5, 3, target=[0])
    manual = _net().fit(X, target)
    expected = manual.predict(((values[-5:] - mean) / scale)[None])[0] * scale + mean
    forecast = forecaster.predict()
    np.testing.assert_allclose(forecast.to_numpy(), expected, rtol=1e-5)
    assert list(forecast.index) == list(pd.period_range(y.index[-1] + 1, periods=3, freq="D"))
    assert forecaster.horizon_ == 3 and forecaster.instances_ == [None]
    # update moves the window to the new data; the network stays as fitted
    new = _series(52, 100.0, 20.0, 0).iloc[50:]
    forecaster.update(new, update_params=False)
    values = np.concatenate([values, new.to_numpy()[:, None]])
    np.testing.assert_allclose(
        forecaster.predict().to_numpy(),
        manual.predict(((values[-5:] - mean) / scale)[None])[0] * scale + mean, rtol=1e-5)
    assert forecaster.predict().index[0] == new.index[-1] + 1


def test_a_panel_trains_one_network_and_forecasts_each_series_in_its_units():
    panel = _panel()
    forecaster = LSTMSAEForecaster(window_length=7, regressor=_net(epochs=20))
    forecast = forecaster.fit(panel, fh=[1, 2]).predict()
    assert forecast.index.names == ["site", "time"]
    assert forecast.index.get_level_values("site").unique().tolist() == ["s0", "s1"]
    assert forecaster.regressor_.series_ is not None  # early stopping per series
    for site, scale in [("s0", 1.0), ("s1", 1000.0)]:
        history = panel.loc[site, "y"]
        predicted = forecast.loc[site, "y"].to_numpy()
        # each series in its own units: within its own range, far from the other's
        assert np.all(np.abs(predicted - history.mean()) < 3 * history.std()), site
    np.testing.assert_allclose(forecaster.scale_[:, 0] / forecaster.scale_[0, 0],
                               [1.0, 1000.0], rtol=0.1)


def test_exogenous_columns_are_input_channels_read_up_to_the_cutoff():
    y = _series(45, 5.0, 1.0, 0)
    X = pd.DataFrame({"driver": np.roll(y.to_numpy(), -1)}, index=y.index)
    forecaster = LSTMSAEForecaster(window_length=4, regressor=_net())
    forecaster.fit(y, X=X, fh=[1, 2])
    assert forecaster.regressor_.n_channels_in_ == 2
    assert forecaster.mean_.shape == (1, 2)
    future = pd.DataFrame({"driver": [0.0, 0.0]},
                          index=pd.period_range(y.index[-1] + 1, periods=2, freq="D"))
    # the future X is not read: the forecast comes from the window up to the cutoff
    np.testing.assert_allclose(forecaster.predict(X=future).to_numpy(),
                               forecaster.predict(X=future * 0 + 99.0).to_numpy())


def test_pretrain_on_a_panel_then_fit_one_series_starts_from_the_pretrained_encoders():
    panel = _panel(scales=(1.0, 3.0, 50.0), n=30)
    forecaster = LSTMSAEForecaster(window_length=5, regressor=_net())
    forecaster.pretrain(panel)
    assert forecaster.state == "pretrained" and forecaster.n_pretrain_instances_ == 3
    encoder = forecaster.pretrained_encoder_
    assert isinstance(encoder, LSTMSAEEncoder) and encoder.timesteps_ == 5
    weights = encoder.model_.get_layer("encoder_1").get_weights()
    y = _series(30, 2.0, 0.5, 9)
    forecaster.fit(y, fh=[1, 2, 3])
    pretraining = forecaster.regressor_.pretraining
    assert isinstance(pretraining, FrozenEstimator) and pretraining.estimator is encoder
    assert not any(phase.startswith("pretrain") for phase in forecaster.regressor_.history_)
    # the encoder itself is unchanged; fine-tuning moved the network's copy of it
    for before, after in zip(weights, encoder.model_.get_layer("encoder_1").get_weights()):
        np.testing.assert_array_equal(before, after)
    fresh = LSTMSAEForecaster(window_length=5, regressor=_net()).fit(y, fh=[1, 2, 3])
    assert not np.allclose(forecaster.predict().to_numpy(), fresh.predict().to_numpy())
    assert forecaster.pretrained_encoder_ is encoder  # fit keeps what pretrain learned


@pytest.mark.parametrize("params, error, match", [
    ({"window_length": 0}, ValueError, "window_length must be a positive int"),
    ({"window_length": 2.5}, ValueError, "window_length must be a positive int"),
    ({"regressor": Ridge()}, TypeError, "regressor must be an LSTMSAERegressor or None"),
    ({"window_length": 60}, ValueError, "y has 50 time steps, fewer than window_length"),
])
def test_bad_parameters_are_refused_by_name_before_training(params, error, match):
    forecaster = LSTMSAEForecaster(**{"regressor": _net(), **params})
    with pytest.raises(error, match=match):
        forecaster.fit(_series(50, 0.0, 1.0, 0), fh=[1])
    assert not hasattr(forecaster, "regressor_")


def test_a_short_series_of_a_panel_is_named():
    panel = pd.concat({"long": _series(40, 0, 1, 0).to_frame(),
                       "short": _series(6, 0, 1, 1).to_frame()}, names=["site", "time"])
    with pytest.raises(ValueError, match="series 'short' has 6 time steps"):
        LSTMSAEForecaster(window_length=5, regressor=_net()).fit(panel, fh=[1, 2])


def test_in_sample_steps_are_refused_and_each_series_is_forecast_from_its_own_end():
    y = _series(40, 0, 1, 0)
    forecaster = LSTMSAEForecaster(window_length=4, regressor=_net())
    with pytest.raises(NotImplementedError, match="can not perform in-sample prediction"):
        forecaster.fit(y, fh=ForecastingHorizon([-1, 0, 1]))
    assert not hasattr(forecaster, "regressor_")
    panel = pd.concat({"a": y.to_frame(), "b": y.iloc[:-3].to_frame()}, names=["s", "t"])
    forecast = forecaster.fit(panel, fh=[1, 2]).predict()
    for site, end in [("a", y.index[-1]), ("b", y.index[-4])]:
        assert list(forecast.loc[site].index) == [end + 1, end + 2], site


def test_pretrain_needs_something_to_pretrain_and_matching_columns():
    panel = _panel(n=20)
    with pytest.raises(ValueError, match="pretraining=None"):
        LSTMSAEForecaster(window_length=4, regressor=_net(pretraining=None)).pretrain(panel)
    # pretrain reads step by step: patches are refused before any training.
    with pytest.raises(ValueError, match=r"reads patches \(patch_size=2\): fit without"):
        LSTMSAEForecaster(window_length=4, regressor=_net(patch_size=2)).pretrain(panel)
    forecaster = LSTMSAEForecaster(window_length=4, regressor=_net()).pretrain(panel)
    y = _series(30, 0, 1, 0)
    X = pd.DataFrame({"driver": np.arange(30.0)}, index=y.index)
    with pytest.raises(ValueError, match="fit's y and X have 2 columns together, but "
                                         "pretrain's had 1"):
        forecaster.fit(y, X=X, fh=[1])
