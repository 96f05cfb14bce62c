"""Tuning on Ray: GridSearchCV under Ray's joblib backend (the search guide's recipe)."""

import os

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from sae_keras import LSTMSAERegressor
from conftest import TINY_REGRESSOR, sine_windows

ray = pytest.importorskip("ray")


@pytest.mark.slow
@pytest.mark.one_backend("jax")  # above Keras: see conftest
def test_grid_search_under_rays_joblib_backend_fits_in_ray_workers():
    from ray.util.joblib import register_ray

    X, y = sine_windows(n_samples=64)
    grid = {"epochs": [1, 2]}
    cv = TimeSeriesSplit(n_splits=2)
    # the process that fitted each split, beside its score (a lambda travels by value)
    scoring = {"rmse": "neg_root_mean_squared_error", "pid": lambda est, X, y: os.getpid()}
    local = GridSearchCV(LSTMSAERegressor(**TINY_REGRESSOR), grid, cv=cv,
                         scoring=scoring, refit="rmse").fit(X, y)

    keep = ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {k: os.environ[k] for k in keep if k in os.environ}})
    try:
        register_ray()
        with joblib.parallel_backend("ray"):
            search = GridSearchCV(LSTMSAERegressor(**TINY_REGRESSOR), grid, cv=cv,
                                  scoring=scoring, refit="rmse", n_jobs=2).fit(X, y)
    finally:
        ray.shutdown()
    pids = {int(search.cv_results_[f"split{i}_test_pid"][c])
            for i in range(2) for c in range(2)}
    assert os.getpid() not in pids  # every split was fitted in a Ray worker
    np.testing.assert_allclose(search.cv_results_["mean_test_rmse"],
                               local.cv_results_["mean_test_rmse"], rtol=1e-6)
    assert search.best_params_ == local.best_params_
    # the refit runs here, as without Ray: the same network
    np.testing.assert_allclose(search.best_estimator_.predict(X[:3]),
                               local.best_estimator_.predict(X[:3]), rtol=1e-5)
