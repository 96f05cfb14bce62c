"""Tuning on an existing engine: GridSearchCV under joblib's Dask backend."""

import glob
import os

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from sae_keras import LSTMSAERegressor
from conftest import TINY_REGRESSOR, sine_windows, tiny_pretraining

distributed = pytest.importorskip("distributed")


@pytest.mark.slow
@pytest.mark.one_backend("jax")  # above Keras: see conftest
def test_grid_search_on_a_local_dask_cluster_shares_the_pretraining_cache(tmp_path):
    """Two worker processes fit the candidates; they share one pretraining cache."""
    X, y = sine_windows(n_samples=64)
    grid = {"epochs": [1, 2]}
    cv = TimeSeriesSplit(n_splits=2)
    local = GridSearchCV(LSTMSAERegressor(**TINY_REGRESSOR), grid, cv=cv).fit(X, y)

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster, timeout="60s") as client:
        with distributed.get_task_stream(client) as stream, \
                joblib.parallel_backend("dask", wait_for_workers_timeout=120):
            search = GridSearchCV(LSTMSAERegressor(**{**TINY_REGRESSOR, "pretraining": tiny_pretraining(memory=str(tmp_path))}), grid,
                                  cv=cv, n_jobs=-1).fit(X, y)
        workers = {task["worker"] for task in stream.data}
    assert len(workers) == 2  # both worker processes fitted candidates
    # Dask workers run single-threaded (OMP_NUM_THREADS=1): float sums may differ in
    # the last bits from this process's, not more.
    np.testing.assert_allclose(search.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"], atol=5e-3)
    # Every fold's 2 layers and the refit's 2 (here, on all 64 windows) are in the shared
    # folder; at most one entry per fit and layer. (A worker reuses a layer when it draws
    # the same initial weights; Keras seeds its initialisers from Python's global random,
    # which a Dask worker's own threads also use, so that is not guaranteed.)
    entries = glob.glob(os.path.join(str(tmp_path), "**", "output.pkl"), recursive=True)
    assert 2 * 2 + 2 <= len(entries) <= 2 * 2 * 2 + 2
