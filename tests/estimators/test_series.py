"""Many series, one network: ``series=`` in the regressor and the encoder."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, KFold

import sae_keras
from sae_keras import LSTMSAEEncoder, LSTMSAERegressor, make_windows
from sae_keras.forecasting._scaling import series_channel_stats, series_column_stats
from conftest import TINY, TINY_REGRESSOR, PhaseRecorder

LEVELS = {"small": 10.0, "large": 10_000.0, "negative": -500.0}


@pytest.fixture(scope="module")
def panel():
    """Three series of one shape at very different levels: windows, targets, series."""
    rng = np.random.default_rng(0)
    t = np.arange(120)
    frames = [pd.DataFrame({"id": name, "t": t,
                            "v": level + 0.1 * abs(level) * np.sin(t / 4)
                            + 0.01 * abs(level) * rng.normal(size=len(t))})
              for name, level in LEVELS.items()]
    return make_windows(pd.concat(frames), timesteps=8, target="v", series="id", time="t")


@pytest.fixture(scope="module")
def fitted(panel):
    X, y, ids = panel
    return LSTMSAERegressor(**TINY_REGRESSOR, epochs=2).fit(X, y, series=ids)


def test_each_series_is_standardised_by_its_own_statistics(panel, fitted):
    X, y, ids = panel
    reg = fitted
    assert reg.series_.tolist() == sorted(LEVELS)
    codes = np.searchsorted(reg.series_, ids)
    mean, scale = series_channel_stats(X, codes, 3)
    np.testing.assert_allclose(reg.input_mean_, mean)
    np.testing.assert_allclose(reg.input_scale_, scale)
    np.testing.assert_allclose(reg.target_mean_, series_column_stats(y, codes, 3)[0])
    pred = reg.predict(X, series=ids)
    for name, level in LEVELS.items():  # each forecast in its series' own units
        own = ids == name
        assert np.abs(pred[own] - level).max() < 0.5 * abs(level)
    assert reg.score(X, y, series=ids) == pytest.approx(
        1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2))


def test_early_stopping_holds_out_the_last_windows_of_every_series(panel):
    X, y, ids = panel
    spy = PhaseRecorder()
    reg = LSTMSAERegressor(**{**TINY_REGRESSOR, "pretraining": None, "early_stopping": True},
                           epochs=1, callbacks=[spy]).fit(X, y, series=ids)
    assert "val_loss" in reg.history_["finetune"]
    # 112 windows a series: ceil(11.2) = 12 of each held out (36), 300 trained on.
    assert spy.steps == [int(np.ceil(300 / 32))]
    codes = np.searchsorted(reg.series_, ids)
    (reordered,), codes, n_held = reg._series_held_out_last(codes, 0, X)
    assert n_held == 36 and np.bincount(codes[-36:]).tolist() == [12, 12, 12]
    last = [np.flatnonzero(ids == name)[-12:] for name in reg.series_]
    np.testing.assert_array_equal(reordered[-36:], X[np.concatenate(last)])


def test_series_must_be_seen_given_and_of_the_right_length(panel, fitted):
    X, y, ids = panel
    reg = fitted
    with pytest.raises(ValueError, match=r"series \['elsewhere'\] were not seen in fit"):
        reg.predict(X[:2], series=["elsewhere", "small"])
    with pytest.raises(ValueError, match="was fitted with series=.*pass the series of each"):
        reg.predict(X[:2])
    with pytest.raises(ValueError, match=r"one series id per window: an array of shape \(2,\)"):
        reg.predict(X[:2], series=["small"])
    with pytest.raises(ValueError, match="holds a missing id"):
        LSTMSAERegressor(**TINY_REGRESSOR).fit(X[:3], y[:3], series=["a", None, "b"])
    plain = LSTMSAERegressor(**{**TINY_REGRESSOR, "pretraining": None}, epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="fitted without series"):
        plain.predict(X[:2], series=ids[:2])


@pytest.mark.parametrize("what, call", [
    ("predict_interval", lambda reg, X, ids: reg.predict_interval(X, series=ids)),
    ("return_std", lambda reg, X, ids: reg.predict(X, series=ids, return_std=True)),
    ("export", lambda reg, X, ids: reg.export("model.onnx")),
])
def test_what_takes_no_series_yet_says_so(panel, fitted, what, call, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, _, ids = panel
    with pytest.raises((ValueError, TypeError), match="series"):
        call(fitted, X[:3], ids[:3])


@pytest.mark.parametrize("params, fit_kwargs, message", [
    ({"calibration_fraction": 0.2}, {}, "calibration_fraction > 0 does not take series"),
    ({}, {"unlabeled_series": ["small"] * 5}, "unlabeled_series is read only with series"),
    ({}, {"X_unlabeled": "X"}, "X_unlabeled with series= needs unlabeled_series"),
])
def test_refused_combinations_fail_before_training(panel, params, fit_kwargs, message):
    X, y, ids = panel
    kwargs = {k: X[:5] if v == "X" else v for k, v in fit_kwargs.items()}
    with_series = "unlabeled_series" not in fit_kwargs
    spy = PhaseRecorder()
    with pytest.raises(ValueError, match=message):
        LSTMSAERegressor(**{**TINY_REGRESSOR, **params}, callbacks=[spy]).fit(
            X, y, series=ids if with_series else None, **kwargs)
    assert spy.steps == []


def test_unlabeled_windows_join_their_series_statistics(panel):
    X, y, ids = panel
    labeled = ids != "negative"
    half = np.flatnonzero(ids == "small")[:56]
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).fit(
        X[labeled], y[labeled], series=ids[labeled],
        X_unlabeled=np.concatenate([X[~labeled], X[half] + 100.0]),
        unlabeled_series=np.concatenate([ids[~labeled], ids[half]]))
    assert reg.series_.tolist() == sorted(LEVELS)
    small = reg.series_.tolist().index("small")
    everything = np.concatenate([X[ids == "small"], X[half] + 100.0])
    assert reg.input_mean_[small, 0] == pytest.approx(everything.mean())
    # A series seen without targets has no target statistics to forecast in.
    with pytest.raises(ValueError, match=r"series \['negative'\] had no labeled windows"):
        reg.predict(X[~labeled][:5], series=ids[~labeled][:5])


def test_the_series_survive_pickle_and_save(panel, fitted, tmp_path):
    X, _, ids = panel
    expected = fitted.predict(X[:9], series=ids[:9])
    for copy in (pickle.loads(pickle.dumps(fitted)),
                 sae_keras.load(fitted.save(tmp_path / "reg.zip"))):
        np.testing.assert_allclose(copy.predict(X[:9], series=ids[:9]), expected, rtol=1e-6)
        assert copy.series_.tolist() == fitted.series_.tolist()


def test_the_series_identity_enters_as_one_hot_static_covariates(panel):
    """The recipe of the Many series guide: one network, each series its own input."""
    X, y, ids = panel
    names = np.unique(ids)

    def one_hot(ids):
        return (np.asarray(ids)[:, None] == names).astype(float)

    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=2).fit(
        X, y, series=ids, static_covariates=one_hot(ids))
    assert reg.model_.get_layer("static").output.shape[-1] == len(names)
    rows = [0, 200, 300]
    forecasts = reg.predict(X[rows], series=ids[rows], static_covariates=one_hot(ids[rows]))
    for row, forecast in zip(rows, np.ravel(forecasts)):
        assert abs(forecast - LEVELS[ids[row]]) < 0.5 * abs(LEVELS[ids[row]])
    # The identity is an input: the same window told another series forecasts otherwise.
    other = reg.predict(X[rows], series=ids[rows],
                        static_covariates=one_hot(np.roll(ids[rows], 1)))
    assert not np.allclose(other, forecasts)


def test_recursive_forecasts_stay_in_each_series_units(panel, fitted):
    X, _, ids = panel
    rows = [0, 200, 300]
    forecasts = fitted.predict_recursive(X[rows], steps=4, series=ids[rows])
    for row, forecast in zip(rows, forecasts):
        assert np.abs(forecast - LEVELS[ids[row]]).max() < 0.5 * abs(LEVELS[ids[row]])


def test_the_encoder_standardises_each_series_by_its_own(panel):
    X, _, ids = panel
    encoder = LSTMSAEEncoder(**TINY).fit(X, series=ids)
    codes = encoder.transform(X[:6], series=ids[:6])
    np.testing.assert_allclose(encoder.fit_transform(X, series=ids)[:6], codes, atol=1e-6)
    windows = encoder.inverse_transform(codes, series=ids[:6])
    level = LEVELS[ids[0]]  # the six windows' series, in whose units they come back
    assert np.abs(windows - level).max() < 0.5 * abs(level)
    assert encoder.reconstruction_error(X[:6], series=ids[:6]).shape == (6,)
    with pytest.raises(ValueError, match="fitted with series="):
        encoder.transform(X[:2])


@pytest.mark.one_backend("jax")  # above Keras: see conftest
def test_series_are_routed_through_a_search(panel):
    import sklearn

    X, y, ids = panel
    with sklearn.config_context(enable_metadata_routing=True):
        reg = LSTMSAERegressor(**{**TINY_REGRESSOR, "pretraining": None}, epochs=1)
        reg.set_fit_request(series=True).set_score_request(series=True)
        search = GridSearchCV(reg, {"dropout": [0.0, 0.2]},
                              cv=KFold(2, shuffle=True, random_state=0))
        search.fit(X, y, series=ids)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.series_.tolist() == sorted(LEVELS)
