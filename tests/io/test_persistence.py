import pickle

import keras
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor
from conftest import TINY, TINY_REGRESSOR, sine_windows
from _subprocess import run_python


@pytest.mark.parametrize("cls", [LSTMSAERegressor, LSTMSAEEncoder])
def test_pickle_round_trip_in_a_fresh_process_predicts_identically(tmp_path, windows, cls):
    X, y = windows
    settings = dict(TINY_REGRESSOR, epochs=2) if cls is LSTMSAERegressor else TINY
    est = cls(**settings).fit(X, y)
    output = est.predict(X) if cls is LSTMSAERegressor else est.transform(X)
    (tmp_path / "est.pkl").write_bytes(pickle.dumps(est))
    np.save(tmp_path / "X.npy", X)
    code = f"""
        import pickle, numpy as np
        est = pickle.loads(open({str(tmp_path / 'est.pkl')!r}, 'rb').read())
        X = np.load({str(tmp_path / 'X.npy')!r})
        out = est.predict(X) if hasattr(est, 'predict') else est.transform(X)
        np.save({str(tmp_path / 'out.npy')!r}, out)
    """
    result = run_python(code, env={"KERAS_BACKEND": keras.backend.backend()})
    assert result.returncode == 0, result.stderr[-3000:]
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), output)


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


@pytest.mark.parametrize("cls", [LSTMSAERegressor, LSTMSAEEncoder])
def test_save_load_round_trip_in_a_fresh_process_predicts_identically(tmp_path, cls):
    X, y = sine_windows(horizon=3)
    settings = dict(TINY_REGRESSOR, epochs=2) if cls is LSTMSAERegressor else TINY
    est = cls(**settings).fit(X, y)
    output = est.predict(X) if cls is LSTMSAERegressor else est.transform(X)
    est.save(tmp_path / "model.zip")
    np.save(tmp_path / "X.npy", X)
    code = f"""
        import numpy as np
        import sae_keras
        est = sae_keras.load({str(tmp_path / 'model.zip')!r})
        X = np.load({str(tmp_path / 'X.npy')!r})
        out = est.predict(X) if hasattr(est, 'predict') else est.transform(X)
        np.save({str(tmp_path / 'out.npy')!r}, out)
        print(type(est).__name__, est.get_params()["hidden_units"], est.timesteps_)
    """
    result = run_python(code, env={"KERAS_BACKEND": keras.backend.backend()})
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{cls.__name__} [6, 4] 8" in result.stdout
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), output)


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


def test_forecasting_parameters_survive_clone_pickle_and_save_in_a_fresh_process(tmp_path):
    from sklearn.base import clone

    X, y = sine_windows(n_samples=120)
    rng = np.random.default_rng(0)
    covariates = {"static_covariates": rng.normal(size=(120, 2)),
                  "future_covariates": rng.normal(size=(120, 1, 3))}
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=2, **FORECASTING_PARAMS)
    assert {k: clone(reg).get_params()[k] for k in FORECASTING_PARAMS} == FORECASTING_PARAMS
    reg.fit(X, y, **covariates)
    expected = np.stack([reg.predict(X, **covariates),
                         *reg.predict_interval(X, coverage=0.8, **covariates)])
    (tmp_path / "reg.pkl").write_bytes(pickle.dumps(reg))
    reg.save(tmp_path / "reg.zip")
    np.save(tmp_path / "X.npy", X)
    for name, values in covariates.items():
        np.save(tmp_path / f"{name}.npy", values)
    code = f"""
        import pickle, numpy as np
        import sae_keras
        X = np.load({str(tmp_path / 'X.npy')!r})
        cov = {{name: np.load({str(tmp_path)!r} + f"/{{name}}.npy")
               for name in ("static_covariates", "future_covariates")}}
        for name, est in [
            ("pkl", pickle.loads(open({str(tmp_path / 'reg.pkl')!r}, 'rb').read())),
            ("zip", sae_keras.load({str(tmp_path / 'reg.zip')!r})),
        ]:
            out = np.stack([est.predict(X, **cov), *est.predict_interval(X, coverage=0.8, **cov)])
            np.save({str(tmp_path)!r} + f"/{{name}}.npy", out)
            print(name, {{k: est.get_params()[k] for k in {list(FORECASTING_PARAMS)!r}}})
    """
    result = run_python(code, env={"KERAS_BACKEND": keras.backend.backend()})
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("pkl", "zip"):
        assert f"{name} {FORECASTING_PARAMS}" in result.stdout
        np.testing.assert_array_equal(np.load(tmp_path / f"{name}.npy"), expected)


def test_an_encoder_with_a_bidirectional_stack_survives_pickle_and_save_in_a_fresh_process(
    tmp_path, windows
):
    from sklearn.base import clone

    X, _ = windows
    encoder = LSTMSAEEncoder(**TINY, cell="bilstm")
    assert clone(encoder).get_params()["cell"] == "bilstm"
    encoder.fit(X)
    expected = np.concatenate([encoder.transform(X),
                               encoder.inverse_transform(encoder.transform(X)).reshape(len(X), -1)],
                              axis=1)
    (tmp_path / "enc.pkl").write_bytes(pickle.dumps(encoder))
    encoder.save(tmp_path / "enc.zip")
    np.save(tmp_path / "X.npy", X)
    code = f"""
        import pickle, numpy as np
        import sae_keras
        X = np.load({str(tmp_path / 'X.npy')!r})
        for name, est in [
            ("pkl", pickle.loads(open({str(tmp_path / 'enc.pkl')!r}, 'rb').read())),
            ("zip", sae_keras.load({str(tmp_path / 'enc.zip')!r})),
        ]:
            codes = est.transform(X)
            out = np.concatenate([codes, est.inverse_transform(codes).reshape(len(X), -1)], axis=1)
            np.save({str(tmp_path)!r} + f"/{{name}}.npy", out)
            print(name, est.get_params()["cell"], codes.shape[1])
    """
    result = run_python(code, env={"KERAS_BACKEND": keras.backend.backend()})
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("pkl", "zip"):
        assert f"{name} bilstm 8" in result.stdout
        np.testing.assert_array_equal(np.load(tmp_path / f"{name}.npy"), expected)
