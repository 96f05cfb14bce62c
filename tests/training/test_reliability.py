"""Divergence, concurrency and long-run behaviour."""

import os
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor
from conftest import TINY, TINY_REGRESSOR, sine_windows
from _subprocess import TESTS, run_python


def test_divergence_in_fine_tuning_names_the_phase_and_leaves_unfitted(windows):
    X, y = windows
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=2, scaling=None)  # the built-in scaling would cure it
    with pytest.raises(FloatingPointError, match=r"during fine-tuning at epoch 1: loss became (nan|inf)"):
        reg.fit(X, y * 1e25)
    with pytest.raises(NotFittedError):
        reg.predict(X)


def test_divergence_in_pretraining_hints_at_the_cure(windows):
    enc = LSTMSAEEncoder(**TINY, scaling=None)
    with pytest.raises(FloatingPointError, match=r"pretraining layer 1/2 at epoch 1.*Lower learning_rate.*scaling='standard'"):
        enc.fit(windows[0] * 1e20)
    with pytest.raises(NotFittedError):
        enc.transform(windows[0])


def test_refitting_after_a_divergence_works(windows):
    X, y = windows
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1, scaling=None)
    with pytest.raises(FloatingPointError):
        reg.fit(X * 1e20, y)
    assert reg.fit(X, y).predict(X[:2]).shape == (2,)


def test_predict_from_several_threads_matches_serial(windows):
    X, y = windows
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).fit(X, y)
    chunks = [X[i::4] for i in range(4)] * 3
    serial = [reg.predict(chunk) for chunk in chunks]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(reg.predict, chunks))
    for got, want in zip(threaded, serial):
        np.testing.assert_array_equal(got, want)


_SOAK = """
import gc, json, os, sys
sys.path.insert(0, {tests!r})
from sae_keras import LSTMSAERegressor
from conftest import TINY_REGRESSOR, sine_windows

def rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")

X, y = sine_windows(n_samples=64)
rss = []
for i in range({iterations}):
    reg = LSTMSAERegressor(**{{**TINY_REGRESSOR, "random_state": i}}, epochs=1).fit(X, y)
    reg.predict(X)
    del reg
    gc.collect()
    rss.append(rss_mb())
print(json.dumps(rss))
"""


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_repeated_fit_and_predict_keep_memory_bounded():
    """Soak: SAE_SOAK_ITERATIONS fits (default 12 for CI; 50 for the full soak).

    Measured in a fresh interpreter: a test worker that has already run hundreds of
    tests carries a fragmented heap whose RSS drifts by tens of MB on its own.
    """
    import json

    iterations = int(os.environ.get("SAE_SOAK_ITERATIONS", "12"))
    code = _SOAK.format(tests=TESTS, iterations=iterations)
    done = run_python(code, env={"KERAS_BACKEND": keras.backend.backend()}, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    rss = json.loads(done.stdout.strip().splitlines()[-1])
    settled = np.asarray(rss[iterations // 3 :])
    slope = np.polyfit(np.arange(settled.size), settled, 1)[0]
    # Each fit builds fresh Keras models; what stays behind must be small.
    assert slope < 8.0, f"RSS grows {slope:.1f} MB per fit: {np.round(rss, 1)}"


def test_a_dropped_estimator_frees_its_models():
    """Nothing global (compiled functions, caches) keeps a fitted estimator's models alive."""
    import gc
    import weakref

    X, y = sine_windows(n_samples=64)
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).fit(X, y)
    reg.predict(X)
    model = weakref.ref(reg.model_)
    del reg
    gc.collect()
    assert model() is None
