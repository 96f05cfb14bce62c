"""Static and known-future covariates beside the windows."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sae_keras import LSTMSAERegressor, SequenceScaler, make_windows
from conftest import TINY_REGRESSOR


def covariate_data(n_samples=600, seed=0):
    """Windows of a noisy sine; the target adds a static offset and a future effect."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples + 9)
    series = np.sin(2 * np.pi * t / 13) + 0.05 * rng.normal(size=t.size)
    X = np.stack([series[i : i + 8] for i in range(n_samples)])[..., None]
    static = rng.choice([-1.0, 0.0, 1.0], size=(n_samples, 1))  # e.g. a site's offset
    future = rng.normal(size=(n_samples, 1, 2))  # e.g. a scheduled setting
    y = series[8 : 8 + n_samples] + static[:, 0] + 0.8 * future[:, 0, 0]
    return X, y, static, future


def rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def test_covariates_that_carry_the_signal_lower_the_error():
    X, y, static, future = covariate_data()
    train, test = slice(0, 450), slice(450, None)
    params = dict(**TINY_REGRESSOR, epochs=30)
    without = LSTMSAERegressor(**params).fit(X[train], y[train])
    with_them = LSTMSAERegressor(**params).fit(
        X[train], y[train], static_covariates=static[train], future_covariates=future[train]
    )
    error_without = rmse(without.predict(X[test]), y[test])
    error_with = rmse(with_them.predict(X[test], static_covariates=static[test], future_covariates=future[test]), y[test])
    assert error_with < 0.8 * error_without, (error_with, error_without)
    names = [layer.name for layer in with_them.model_.layers]
    assert {"static", "future", "flat_future", "codes_and_covariates", "skip_input"} <= set(names)
    assert with_them.covariate_shapes_ == (1, (1, 2))


def test_a_fitted_model_asks_for_the_covariates_it_was_fitted_with():
    X, y, static, future = covariate_data(n_samples=120)
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).fit(X, y, static_covariates=static)
    with pytest.raises(ValueError, match="static_covariates is required"):
        reg.predict(X)
    with pytest.raises(ValueError, match="future_covariates was not passed to fit"):
        reg.predict(X, static_covariates=static, future_covariates=future)
    with pytest.raises(ValueError, match=r"static_covariates must have columns 1, as in fit; got 2"):
        reg.predict(X, static_covariates=np.hstack([static, static]))
    with pytest.raises(ValueError, match=r"one row per window of X \(120\); got 119"):
        reg.predict(X, static_covariates=static[:-1])
    with pytest.raises(ValueError, match=r"future_covariates must be \(n_samples, steps\)"):
        LSTMSAERegressor(**TINY_REGRESSOR).fit(X, y, future_covariates=np.zeros((120, 1, 1, 1)))
    with pytest.raises(TypeError, match="static_covariates must be numeric"):
        LSTMSAERegressor(**TINY_REGRESSOR).fit(X, y, static_covariates=np.array(["a"] * 120))
    before = static.copy()
    reg.predict(X, static_covariates=static)
    np.testing.assert_array_equal(static, before)  # nothing passed is modified


def test_make_windows_cuts_future_covariates_at_the_forecast_steps():
    table = pd.DataFrame({"load": np.arange(10.0) ** 2, "hour": np.arange(10.0) % 24})
    X, y, future = make_windows(table, timesteps=3, horizon=2, target="load",
                                future_covariates="hour")
    assert future.shape == (6, 2, 1)
    np.testing.assert_array_equal(future[0, :, 0], [3.0, 4.0])  # the steps y[0] forecasts
    np.testing.assert_array_equal(y[0], [9.0, 16.0])
    X, y, future, base = make_windows(table, timesteps=3, horizon=2, target="load",
                                      future_covariates=["hour"], difference=True)
    # Differenced y[0] is the change into rows 4 and 5: the hours are those rows' levels.
    np.testing.assert_array_equal(future[0, :, 0], [4.0, 5.0])
    np.testing.assert_array_equal(y[0], [16.0 - 9.0, 25.0 - 16.0])
    with pytest.raises(ValueError, match="future_covariates 'day' is not a column"):
        make_windows(table, 3, 2, target="load", future_covariates="day")
    with pytest.raises(ValueError, match="pass a target too"):
        make_windows(table, 3, 2, future_covariates="hour")


@pytest.mark.one_backend("jax")  # above Keras: see conftest
def test_covariates_are_routed_through_pipeline_and_grid_search():
    X, y, static, future = covariate_data(n_samples=240)
    with sklearn.config_context(enable_metadata_routing=True):
        reg = (
            LSTMSAERegressor(**TINY_REGRESSOR, epochs=2)
            .set_fit_request(static_covariates=True, future_covariates=True)
            .set_predict_request(static_covariates=True, future_covariates=True)
            .set_score_request(static_covariates=True, future_covariates=True)
        )
        pipe = Pipeline([("scale", SequenceScaler(StandardScaler())), ("reg", reg)])
        search = GridSearchCV(pipe, {"reg__dropout": [0.0, 0.2]}, cv=TimeSeriesSplit(2))
        search.fit(X, y, static_covariates=static, future_covariates=future)
        # GridSearchCV.predict takes X only: predict through the refitted pipeline.
        y_pred = search.best_estimator_.predict(X[:5], static_covariates=static[:5],
                                                future_covariates=future[:5])
        assert y_pred.shape == (5,)
        fitted = search.best_estimator_.named_steps["reg"]
        assert fitted.covariate_shapes_ == (1, (1, 2))
        direct = fitted.predict(search.best_estimator_[:-1].transform(X[:5]),
                                static_covariates=static[:5], future_covariates=future[:5])
        np.testing.assert_allclose(y_pred, direct)


def test_covariates_are_keyword_only_and_predict_options_are_not_metadata():
    import inspect

    from sae_keras import LSTMSAERegressor

    data_params = {"static_covariates", "future_covariates", "X_unlabeled"}
    for method in ("fit", "predict", "predict_interval", "predict_recursive", "score"):
        params = inspect.signature(getattr(LSTMSAERegressor, method)).parameters
        named = data_params & set(params)
        assert named, method
        assert all(params[name].kind is inspect.Parameter.KEYWORD_ONLY for name in named), method
    # How to predict is not data about the windows: not requestable through routing;
    # the covariates and each window's series are.
    request = inspect.signature(LSTMSAERegressor().set_predict_request).parameters
    assert set(request) - {"self"} == {"static_covariates", "future_covariates", "series"}
