import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The tests build many identical tiny networks; on JAX, XLA's persistent compilation
# cache (shared by xdist workers and test subprocesses) halves the suite's time.
os.environ.setdefault(
    "JAX_COMPILATION_CACHE_DIR", os.path.join(tempfile.gettempdir(), "sae_keras_jax_cache")
)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
# On CI's empty cache, the JAX pass is bound by XLA compiling its many tiny programs
# (benchmarks/results/suite_cost_compile_profile.json). XLA's backend optimisation
# level 0 (LLVM's, the last step: the program JAX lowers is the same) makes each
# compile cheaper: the pass took 970 s against 1,291 s (CONTRIBUTING.md, "CI, and what the
# test suite costs"). Its machine code rounds a few results differently in the last
# bits; every comparison in the suite is within one setting (subprocesses inherit it).
# The TensorFlow pass, and any run with XLA_FLAGS set (even empty), keep the defaults.
if os.environ.get("KERAS_BACKEND") == "jax":
    os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")

from collections.abc import Mapping  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from _subprocess import TESTS  # noqa: E402
from sklearn.base import clone  # noqa: E402

#: Test modules of behaviour above Keras, run in the JAX pass only. What they check is
#: the library's own NumPy, pandas and scikit-learn work around the network: reading
#: tables and the command's rough edges, leakage and gaps, scaling, conformal intervals,
#: covariates, recursion, the ridge start, warm starts, frozen fitted state, nested
#: estimators, sample weights and unlabeled windows, many series, TableForecaster,
#: the sktime adapter, bad input and fuzzing, the outlier detector's thresholds and
#: hostile model files. The code below them that depends on the backend (building,
#: training, seeding, strategies, masking, MC dropout, saving, export, memory) is
#: tested in both passes by the other modules (tests/nn, tests/training, tests/io,
#: the regressor's, encoder's and classifier's own tests, ...). A test of such a
#: module that must run in both passes says so with ``@pytest.mark.both_backends``.
#: Together they were 39% of the TensorFlow pass's test time (measured at 51b6009).
ABOVE_KERAS = (
    "cli/test_many_series.py", "cli/test_rough_edges.py",
    "data/test_leakage.py", "data/test_table_gaps.py",
    "estimators/test_bad_input.py", "estimators/test_forecaster.py",
    "estimators/test_forecaster_series.py", "estimators/test_frozen_state.py",
    "estimators/test_nested_estimators.py", "estimators/test_outlier.py",
    "estimators/test_reuse.py", "estimators/test_sample_weight.py",
    "estimators/test_series.py", "estimators/test_unlabeled.py",
    "forecasting/test_conformal.py", "forecasting/test_covariates.py",
    "forecasting/test_forecasting_tools.py", "forecasting/test_linear_skip.py",
    "forecasting/test_scaling.py", "integrations/test_sktime.py",
    "io/test_safe_loading.py", "test_fuzz.py",
)

def _pass_of(item):
    """The one backend whose pass runs ``item``, or ``None`` for both."""
    if item.get_closest_marker("both_backends") is not None:
        return None
    marker = item.get_closest_marker("one_backend")
    if marker is not None:
        return marker.args[0]
    module = os.path.relpath(str(item.path), TESTS).replace(os.sep, "/")
    return "jax" if module in ABOVE_KERAS else None


def pytest_collection_modifyitems(config, items):
    """Run some tests in one backend's pass only.

    Tests marked ``one_backend("name")`` run in that backend's pass: whole scripts
    (the benchmarks' quick modes, in the JAX pass) and tests of behaviour above
    Keras inside a module that also tests the backend (scikit-learn's metadata routing
    through ``Pipeline`` and searches, parallel and Dask searches, most of
    ``check_estimator``). The modules of ``ABOVE_KERAS`` run in the JAX pass, where a
    tiny fit costs about a third of TensorFlow's (XLA's persistent compilation cache
    against TensorFlow's tracing). The backend-specific code they reach is tested on
    both backends. The slow tests that run in the pass go first.
    """
    backend = keras.backend.backend()
    runs_long = set()
    for item in items:
        only = _pass_of(item)
        if only is not None and only != backend:
            item.add_marker(pytest.mark.skip(
                reason=f"checked once, in the {only} pass (tests/conftest.py)"
            ))
        elif item.get_closest_marker("slow") is not None:
            runs_long.add(item.nodeid)
    # The long tests that run in this pass start first (the sort is stable): xdist hands
    # the first tests out in turn, so they run side by side on the workers instead of
    # one of them finishing the pass alone while the other waits.
    items.sort(key=lambda item: item.nodeid not in runs_long)


#: Settings that keep every network tiny and every fit to a few seconds: an encoder's.
#: Early stopping is off: its validation pass costs a quarter of a tiny fit (measured on
#: TensorFlow, where each phase traces an evaluation function too); the tests of early
#: stopping turn it on.
TINY = dict(hidden_units=(6, 4), pretrain_epochs=1, batch_size=32, random_state=0,
            early_stopping=False)


class Settings(Mapping):
    """Keyword settings whose estimator values are cloned at each read.

    ``LSTMSAERegressor(**TINY_REGRESSOR)`` then never shares its ``pretraining``
    encoder with another test's regressor (``set_params(pretraining__...)``
    changes the encoder in place).
    """

    def __init__(self, **values):
        self._values = values

    def __getitem__(self, key):
        value = self._values[key]
        return clone(value) if hasattr(value, "get_params") else value

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)


def tiny_pretraining(**params):
    """The encoder that pretrains a tiny regressor: ``TINY``'s recipe, ``params`` on top."""
    from sae_keras import LSTMSAEEncoder

    return LSTMSAEEncoder(**{"pretrain_epochs": 1, "batch_size": 32, "early_stopping": False,
                             **params})


def _tiny_regressor_settings():
    return Settings(hidden_units=(6, 4), pretraining=tiny_pretraining(), batch_size=32,
                    random_state=0, early_stopping=False)


#: A tiny regressor's settings: ``TINY``'s network, pretrained by ``tiny_pretraining()``.
TINY_REGRESSOR = _tiny_regressor_settings()


class PhaseRecorder(keras.callbacks.Callback):
    """Batches per epoch of each phase that really trains, in order (``steps``)."""

    def __init__(self):
        super().__init__()
        self.steps = []

    def on_train_begin(self, logs=None):
        self.steps.append(self.params["steps"])


def sine_windows(n_samples=160, timesteps=8, n_channels=2, horizon=1, seed=0):
    """Noisy multichannel sine windows and the next values of channel 0."""
    rng = np.random.default_rng(seed)
    length = n_samples + timesteps + horizon
    t = np.arange(length)
    series = np.stack(
        [np.sin(2 * np.pi * t / (12 + 5 * c)) for c in range(n_channels)], axis=1
    ) + 0.05 * rng.normal(size=(length, n_channels))
    X = np.stack([series[i : i + timesteps] for i in range(n_samples)])
    y = np.stack([series[i + timesteps : i + timesteps + horizon, 0] for i in range(n_samples)])
    return X, (y[:, 0] if horizon == 1 else y)


@pytest.fixture
def windows():
    return sine_windows()


def _fingerprint(estimator):
    """What a shared fitted estimator must still be after a test: its parameters, weights."""
    weights = [w.copy() for model in (getattr(estimator, "model_", None),
                                      *getattr(estimator, "encoders_", ()))
               if model is not None for w in model.get_weights()]
    return repr(estimator.get_params(deep=True)), weights


@pytest.fixture(scope="session")
def _shared_fits():
    X, y = sine_windows()
    from sae_keras import LSTMSAEEncoder, LSTMSAERegressor

    return {
        "regressor": LSTMSAERegressor(**TINY_REGRESSOR, epochs=2).fit(X, y),
        "encoder": LSTMSAEEncoder(**TINY).fit(X),
    }


def _read_only(fits, name):
    estimator = fits[name]
    params, weights = _fingerprint(estimator)
    yield estimator
    after_params, after_weights = _fingerprint(estimator)
    assert after_params == params, f"a test changed the shared fitted {name}'s parameters"
    assert all(np.array_equal(a, b) for a, b in zip(weights, after_weights)), (
        f"a test changed the shared fitted {name}'s weights"
    )


@pytest.fixture
def fitted_regressor(_shared_fits):
    """``LSTMSAERegressor(**TINY_REGRESSOR, epochs=2)`` fitted on ``sine_windows()``, shared.

    One fit per test process, for tests that only read a fitted regressor (predict,
    score, attributes, pickling a copy): a test that changes it fails. To change
    it, fit your own.
    """
    yield from _read_only(_shared_fits, "regressor")


@pytest.fixture
def fitted_encoder(_shared_fits):
    """``LSTMSAEEncoder(**TINY)`` fitted on ``sine_windows()[0]``, shared; see above."""
    yield from _read_only(_shared_fits, "encoder")
