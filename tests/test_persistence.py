import pickle

import keras
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor
from conftest import TINY, sine_windows
from _subprocess import run_python


@pytest.mark.parametrize("cls", [LSTMSAERegressor, LSTMSAEEncoder])
def test_pickle_round_trip_in_a_fresh_process_predicts_identically(tmp_path, windows, cls):
    X, y = windows
    est = cls(**TINY, **({"epochs": 2} if cls is LSTMSAERegressor else {})).fit(X, y)
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


def test_fitting_another_estimator_leaves_a_fitted_one_intact(windows):
    X, y = windows
    first = LSTMSAERegressor(**TINY, epochs=2).fit(X, y)
    before = first.predict(X)
    other_X, other_y = sine_windows(timesteps=5, n_channels=3, seed=1)
    LSTMSAERegressor(**{**TINY, "hidden_units": (7, 5, 3)}, epochs=2).fit(other_X, other_y)
    LSTMSAEEncoder(**TINY).fit(other_X)
    np.testing.assert_array_equal(first.predict(X), before)


def test_two_estimators_fitted_alternately_match_their_solo_fits(windows):
    X, y = windows
    solo = LSTMSAERegressor(**TINY, epochs=2).fit(X, y).predict(X)
    a = LSTMSAERegressor(**TINY, epochs=2)
    b = LSTMSAERegressor(**{**TINY, "random_state": 1}, epochs=2)
    a.fit(X, y)
    b.fit(X, y)
    a.fit(X, y)
    np.testing.assert_array_equal(a.predict(X), solo)


def test_grid_search_over_hidden_units_with_time_series_split_in_parallel():
    X, y = sine_windows(n_samples=120)
    search = GridSearchCV(
        LSTMSAERegressor(**TINY, epochs=2),
        {"hidden_units": [(4,), (6, 3)]},
        cv=TimeSeriesSplit(3),
        n_jobs=2,
        error_score="raise",
    ).fit(X, y)
    assert search.best_params_["hidden_units"] in [(4,), (6, 3)]
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.predict(X[:4]).shape == (4,)
