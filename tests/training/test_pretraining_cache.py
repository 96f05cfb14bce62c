"""``memory``: greedily pretrained layers reused across fits and a grid search."""

import glob
import os

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor
from conftest import TINY, TINY_REGRESSOR, PhaseRecorder, sine_windows, tiny_pretraining  # noqa: E501 (a loaded layer never trains)


def _entries(folder):
    return len(glob.glob(os.path.join(str(folder), "**", "output.pkl"), recursive=True))


def test_a_second_fit_loads_its_layers_and_ends_identical(tmp_path):
    X, _ = sine_windows(n_samples=96)
    first, second = PhaseRecorder(), PhaseRecorder()
    a = LSTMSAEEncoder(**TINY, memory=str(tmp_path), callbacks=[first]).fit(X)
    b = LSTMSAEEncoder(**TINY, memory=joblib.Memory(str(tmp_path), verbose=0),
                       callbacks=[second]).fit(X)
    assert (len(first.steps), len(second.steps)) == (2, 0)
    assert _entries(tmp_path) == 2
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert a.history_ == b.history_
    uncached = LSTMSAEEncoder(**TINY).fit(X)
    np.testing.assert_array_equal(uncached.transform(X), a.transform(X))


@pytest.mark.one_backend("jax")  # the key's contents, above Keras: see conftest
def test_what_shapes_a_layer_is_in_its_key(tmp_path):
    X, _ = sine_windows(n_samples=96)
    LSTMSAEEncoder(**TINY, memory=str(tmp_path)).fit(X)
    cases = [
        (dict(pretrain_epochs=(1, 2)), 1),  # layer 1 as before, layer 2 trains longer
        (dict(hidden_units=(6, 3)), 1),  # a different layer above
        (dict(random_state=1), 2),  # other initial weights
        (dict(learning_rate=1e-2), 2),
        (dict(reverse_reconstruction=True), 2),
    ]
    for params, trained in cases:
        spy = PhaseRecorder()
        LSTMSAEEncoder(**{**TINY, **params}, memory=str(tmp_path), callbacks=[spy]).fit(X)
        assert len(spy.steps) == trained, params
    spy = PhaseRecorder()
    LSTMSAEEncoder(**TINY, memory=str(tmp_path), callbacks=[spy]).fit(X[:80])  # other data
    assert len(spy.steps) == 2
    spy = PhaseRecorder()
    LSTMSAEEncoder(**TINY, memory=str(tmp_path), callbacks=[spy]).fit(
        X, sample_weight=np.linspace(0.5, 1.5, len(X)))
    assert len(spy.steps) == 2


@pytest.mark.one_backend("jax")  # above Keras: see conftest
def test_a_grid_over_fine_tuning_settings_pretrains_once_per_fold(tmp_path):
    X, y = sine_windows(n_samples=120)
    # Two candidates that differ in two fine-tuning settings.
    grid = [{"epochs": [1], "dropout": [0.0]}, {"epochs": [2], "dropout": [0.2]}]
    cv = TimeSeriesSplit(n_splits=2)
    base = LSTMSAERegressor(**TINY_REGRESSOR)
    plain = GridSearchCV(base, grid, cv=cv).fit(X, y)
    cached = GridSearchCV(clone(base).set_params(pretraining__memory=str(tmp_path)), grid,
                          cv=cv).fit(X, y)
    # 2 folds x 2 layers, and the refit on all the windows: 2 more.
    assert _entries(tmp_path) == 2 * 2 + 2
    np.testing.assert_array_equal(cached.cv_results_["mean_test_score"],
                                  plain.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(cached.predict(X), plain.predict(X))


def test_memory_survives_clone_and_pickle_but_is_not_saved(tmp_path):
    import pickle

    X, y = sine_windows(n_samples=48)
    memory = joblib.Memory(str(tmp_path / "c"), verbose=0)
    reg = LSTMSAERegressor(**{**TINY_REGRESSOR, "pretraining": tiny_pretraining(memory=memory)},
                           epochs=1)
    assert clone(reg).pretraining.memory.location == memory.location
    reg.fit(X, y)
    assert pickle.loads(pickle.dumps(reg)).pretraining.memory.location == memory.location
    loaded = LSTMSAERegressor.load(reg.save(tmp_path / "reg.zip"))
    assert loaded.pretraining.memory is None  # machine-local: not saved (issue 21)


def test_bad_memory_is_refused_before_training():
    X, y = sine_windows(n_samples=48)
    with pytest.raises(ValueError, match="'memory' parameter"):
        LSTMSAERegressor(**{**TINY_REGRESSOR, "pretraining": tiny_pretraining(memory=3)}).fit(X, y)
