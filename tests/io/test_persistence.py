import os
import pickle

import keras
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor
from conftest import TINY, TINY_REGRESSOR, sine_windows
from _subprocess import TESTS, run_python


def test_pickling_leaves_the_original_working(windows, fitted_regressor):
    X, y = windows
    reg = fitted_regressor
    before = reg.predict(X)
    copy = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(reg.predict(X), before)
    np.testing.assert_array_equal(copy.predict(X), before)


def test_fitting_another_estimator_leaves_a_fitted_one_intact(windows, fitted_regressor):
    X, y = windows
    first = fitted_regressor
    before = first.predict(X)
    other_X, other_y = sine_windows(timesteps=5, n_channels=3, seed=1)
    LSTMSAERegressor(**{**TINY_REGRESSOR, "hidden_units": (7, 5, 3)}, epochs=2).fit(other_X, other_y)
    LSTMSAEEncoder(**TINY).fit(other_X)
    np.testing.assert_array_equal(first.predict(X), before)


def test_two_estimators_fitted_alternately_match_their_solo_fits(windows, fitted_regressor):
    X, y = windows
    solo = fitted_regressor.predict(X)  # LSTMSAERegressor(**TINY_REGRESSOR, epochs=2) fitted alone
    a = LSTMSAERegressor(**TINY_REGRESSOR, epochs=2)
    b = LSTMSAERegressor(**{**TINY_REGRESSOR, "random_state": 1}, epochs=2)
    a.fit(X, y)
    b.fit(X, y)
    a.fit(X, y)
    np.testing.assert_array_equal(a.predict(X), solo)


@pytest.mark.one_backend("jax")  # above Keras: see conftest
def test_grid_search_over_hidden_units_with_time_series_split_in_parallel():
    X, y = sine_windows(n_samples=120)
    search = GridSearchCV(
        LSTMSAERegressor(**TINY_REGRESSOR, epochs=2),
        {"hidden_units": [(4,), (6, 3)]},
        cv=TimeSeriesSplit(3),
        n_jobs=2,
        error_score="raise",
    ).fit(X, y)
    assert search.best_params_["hidden_units"] in [(4,), (6, 3)]
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.predict(X[:4]).shape == (4,)


def test_loaded_encoder_decodes_like_the_saved_one(tmp_path, windows):
    X, _ = windows
    enc = LSTMSAEEncoder(**TINY, reconstruct="previous").fit(X)
    loaded = LSTMSAEEncoder.load(enc.save(tmp_path / "enc.zip"))
    codes = enc.transform(X[:5])
    np.testing.assert_array_equal(loaded.inverse_transform(codes), enc.inverse_transform(codes))
    assert loaded.history_ == enc.history_


def test_loaded_regressor_keeps_feature_names(tmp_path, windows):
    import pandas as pd

    X, y = windows
    frame = pd.DataFrame(X[:, :, 0], columns=[f"lag_{i}" for i in range(8)])
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).fit(frame, y)
    loaded = LSTMSAERegressor.load(reg.save(tmp_path / "reg.zip"))
    assert list(loaded.feature_names_in_) == list(frame.columns)
    np.testing.assert_array_equal(loaded.predict(frame), reg.predict(frame))


def _rewrite_manifest(src, dst, change):
    import json
    import zipfile

    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest)
            new.writestr(item, data)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    X, y = sine_windows(n_samples=40)
    path = tmp_path_factory.mktemp("saved") / "reg.zip"
    return LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).fit(X, y).save(path)


def test_a_newer_format_version_is_refused_clearly(saved, tmp_path):
    newer = tmp_path / "newer.zip"
    _rewrite_manifest(saved, newer, lambda m: m.update(format_version=99))
    with pytest.raises(ValueError, match="file format version 99, .* reads versions up to 2. Upgrade"):
        LSTMSAERegressor.load(newer)


def test_an_unknown_class_is_refused(saved, tmp_path):
    other = tmp_path / "other.zip"
    _rewrite_manifest(saved, other, lambda m: m.update({"class": "os.system"}))
    with pytest.raises(ValueError, match="holds a 'os.system', not one of"):
        LSTMSAERegressor.load(other)


def test_files_name_only_the_registered_estimator_classes(saved, tmp_path):
    # The classes register themselves (persistence imports none of them); a
    # subclass defined elsewhere is not loadable by name.
    class Subclassed(LSTMSAERegressor):
        pass

    other = tmp_path / "subclass.zip"
    _rewrite_manifest(saved, other, lambda m: m.update({"class": "Subclassed"}))
    expected = (r"not one of \['LSTMSAEClassifier', 'LSTMSAEEncoder', 'LSTMSAERegressor', "
                r"'TableForecaster'\]")
    import sae_keras

    with pytest.raises(ValueError, match=expected):
        sae_keras.load(other)  # imports every estimator module: the list does not depend
        # on which tests ran before in this process


def test_a_corrupted_file_is_refused_clearly(saved, tmp_path):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(saved.read_bytes()[: len(saved.read_bytes()) // 2])
    with pytest.raises(ValueError, match="is not a readable sae_keras model file"):
        LSTMSAERegressor.load(broken)
    text = tmp_path / "notes.zip"
    text.write_text("hello")
    with pytest.raises(ValueError, match="is not a readable sae_keras model file"):
        LSTMSAERegressor.load(text)


def test_loading_as_the_wrong_class_is_refused(saved):
    with pytest.raises(TypeError, match="holds a LSTMSAERegressor, not a LSTMSAEEncoder"):
        LSTMSAEEncoder.load(saved)


def test_save_needs_a_fitted_estimator(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LSTMSAERegressor().save(tmp_path / "x.zip")


#: Parameters added for forecasting (issue 14), with non-default values.
FORECASTING_PARAMS = {"cell": "cnn_lstm", "calibration_fraction": 0.25}


def _outputs(estimator, X, covariates):
    """What a fitted estimator computes from ``X``, as one array: in this process and in
    the fresh one of the test below (which imports this function)."""
    if hasattr(estimator, "predict"):
        parts = [estimator.predict(X, **covariates)]
        if estimator.get_params()["calibration_fraction"]:
            parts += estimator.predict_interval(X, coverage=0.8, **covariates)
        return np.stack(parts)
    codes = estimator.transform(X)
    return np.concatenate([codes, estimator.inverse_transform(codes).reshape(len(X), -1)], axis=1)


def test_fitted_estimators_survive_pickle_and_save_in_a_fresh_process(tmp_path):
    """Each estimator, pickled and saved, computes the same arrays in a fresh interpreter
    (fresh Keras, fresh backend: nothing comes from this process' state) and keeps its
    parameters. One interpreter loads them all: starting one costs more than a tiny fit."""
    from sklearn.base import clone

    X, y = sine_windows(n_samples=120, horizon=3)
    rng = np.random.default_rng(0)
    covariates = {"static_covariates": rng.normal(size=(120, 2)),
                  "future_covariates": rng.normal(size=(120, 3, 3))}
    forecasting = LSTMSAERegressor(**TINY_REGRESSOR, epochs=2, **FORECASTING_PARAMS)
    assert {k: clone(forecasting).get_params()[k] for k in FORECASTING_PARAMS} == FORECASTING_PARAMS
    bilstm = LSTMSAEEncoder(**TINY, cell="bilstm")
    assert clone(bilstm).get_params()["cell"] == "bilstm"
    cases = {
        "regressor": (LSTMSAERegressor(**TINY_REGRESSOR, epochs=2).fit(X, y), {}),
        "encoder": (LSTMSAEEncoder(**TINY).fit(X), {}),
        "forecasting": (forecasting.fit(X, y, **covariates), covariates),
        "bilstm": (bilstm.fit(X), {}),
    }
    np.save(tmp_path / "X.npy", X)
    for name, values in covariates.items():
        np.save(tmp_path / f"{name}.npy", values)
    for name, (estimator, covs) in cases.items():
        (tmp_path / f"{name}.pkl").write_bytes(pickle.dumps(estimator))
        estimator.save(tmp_path / f"{name}.zip")
    code = f"""
        import os, pickle, sys
        import numpy as np
        import sae_keras
        sys.path[:0] = [{TESTS!r}, {os.path.dirname(__file__)!r}]
        from test_persistence import _outputs
        folder = {str(tmp_path)!r}
        X = np.load(os.path.join(folder, "X.npy"))
        covariates = {{name: np.load(os.path.join(folder, name + ".npy"))
                      for name in ("static_covariates", "future_covariates")}}
        for name in {list(cases)!r}:
            for kind in ("pkl", "zip"):
                path = os.path.join(folder, name + "." + kind)
                est = (pickle.loads(open(path, "rb").read()) if kind == "pkl"
                       else sae_keras.load(path))
                covs = covariates if name == "forecasting" else {{}}
                np.save(os.path.join(folder, name + "-" + kind + ".npy"), _outputs(est, X, covs))
                params = est.get_params()
                print(name, kind, type(est).__name__, params["hidden_units"], params["cell"],
                      params.get("calibration_fraction"), est.timesteps_)
    """
    result = run_python(code, env={"KERAS_BACKEND": keras.backend.backend()})
    assert result.returncode == 0, result.stderr[-3000:]
    for name, (estimator, covs) in cases.items():
        expected = _outputs(estimator, X, covs)
        params = estimator.get_params()
        for kind in ("pkl", "zip"):
            # a saved file holds lists where the estimator held tuples
            assert (f"{name} {kind} {type(estimator).__name__} "
                    f"{list(params['hidden_units']) if kind == 'zip' else params['hidden_units']} "
                    f"{params['cell']} {params.get('calibration_fraction')} 8") in result.stdout, (
                name, kind, result.stdout)
            np.testing.assert_array_equal(np.load(tmp_path / f"{name}-{kind}.npy"), expected,
                                          err_msg=f"{name} from its .{kind}")
