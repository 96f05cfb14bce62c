"""Private Keras/TensorFlow names live in one checked module; epochs are set explicitly."""

import ast
from pathlib import Path

import keras
import numpy as np
import pytest

import sae_keras
from sae_keras.training import _keras_private, _loop
from sae_keras.training._loop import PhaseSettings, _EpochBatches, _SetEpoch, derive_seed, train_phase

PACKAGE = Path(sae_keras.__file__).parent
PRIVATE_MODULES = ("keras.src", "tensorflow.python")
#: Private names of Keras objects the package relies on (besides ``keras.src``).
PRIVATE_NAMES = {"_all_reduce_sum_gradients", "seed_generator", "SeedGenerator", "__dict__"}


def _package_trees():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _own_names():
    """Every name the package defines itself (functions, classes, attributes, variables)."""
    names = set()
    for _, tree in _package_trees():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.alias):
                names.add((node.asname or node.name).split(".")[-1])
    return names - PRIVATE_NAMES


def _private_uses(tree, own):
    """``(line, what)`` for every private Keras/TensorFlow use in one module's tree."""
    for node in ast.walk(tree):
        modules = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules = [node.module or ""]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith(PRIVATE_MODULES):  # importlib.import_module("keras.src...")
                modules = [node.value]
            elif node.value in PRIVATE_NAMES:  # getattr(optimizer, "_all_reduce_sum_gradients")
                yield node.lineno, node.value
        elif isinstance(node, (ast.Attribute, ast.Name)):
            name = node.attr if isinstance(node, ast.Attribute) else node.id
            if name in PRIVATE_NAMES:
                yield node.lineno, name
            elif (
                isinstance(node, ast.Attribute) and name.startswith("_")
                and not name.startswith("__") and name not in own
            ):
                yield node.lineno, ast.unparse(node)  # a private attribute of someone else's
        for module in modules:
            if module.startswith(PRIVATE_MODULES):
                yield node.lineno, module


def test_only_the_private_module_uses_private_keras_or_tensorflow_names():
    own = _own_names()
    found = {
        f"{path.relative_to(PACKAGE)}:{line}: {what}"
        for path, tree in _package_trees() if path.name != "_keras_private.py"
        for line, what in _private_uses(tree, own)
    }
    # scikit-learn's own private API (``_validate_params``) is not Keras'/TensorFlow's.
    found = {entry for entry in found if not entry.endswith("._validate_params")}
    assert not found, sorted(found)


def test_the_scan_sees_each_kind_of_private_use():
    own = _own_names()
    source = (
        "from keras.src.utils import rng_utils\n"
        "import tensorflow.python.framework.ops\n"
        "m = importlib.import_module('keras.src.backend')\n"
        "optimizer.__dict__['_all_reduce_sum_gradients'] = list\n"
        "layer.seed_generator.state.assign(0)\n"
        "model._tracker\n"
    )
    lines = {line for line, _ in _private_uses(ast.parse(source), own)}
    assert lines == {1, 2, 3, 4, 5, 6}


def test_the_self_check_passes_on_the_installed_keras():
    _keras_private.self_check()


def test_a_dropout_layer_without_its_seed_generator_fails_loudly(monkeypatch):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dropout(0.5)(keras.layers.Dense(2)(inputs)))
    assert len(_keras_private.dropout_seed_states(model)) == 1
    monkeypatch.setattr(model.layers[-1], "seed_generator", None)
    with pytest.raises(RuntimeError, match=r"Dropout\.seed_generator.*Keras 3"):
        _keras_private.dropout_seed_states(model)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's optimizer")
def test_a_changed_all_reduce_signature_fails_loudly(monkeypatch):
    optimizer_class = _keras_private._tf_optimizer_class()
    monkeypatch.setattr(optimizer_class, "_all_reduce_sum_gradients",
                        lambda self, grads_and_vars, options: grads_and_vars)
    with pytest.raises(RuntimeError, match=r"_all_reduce_sum_gradients.*Keras 3.*TensorFlow 2"):
        _keras_private.self_check()
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(keras.optimizers.SGD(), "mse")
    with pytest.raises(RuntimeError, match="_all_reduce_sum_gradients"):
        with _keras_private.skip_single_replica_all_reduce(model):
            pass
    monkeypatch.delattr(optimizer_class, "_all_reduce_sum_gradients")
    with pytest.raises(RuntimeError, match="_all_reduce_sum_gradients.*missing"):
        _keras_private.self_check()


class _Recording(_EpochBatches):
    """Records the rows of every batch served while training, under the epoch it served."""

    seen = None

    def __getitem__(self, index):
        batch = super().__getitem__(index)
        if self.seen is not None:
            self.seen.setdefault(self.epoch, []).append(batch[0][:, 0, 0].astype(int))
        return batch


class _StartRecording(keras.callbacks.Callback):
    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def on_train_begin(self, logs=None):
        self.batches.seen = {}  # batches read for Keras' input signature do not count


def _expected_order(seed, epoch, n):
    return np.random.default_rng(derive_seed(seed, epoch)).permutation(n)


def _tiny_model():
    inputs = keras.Input((1, 1))
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Flatten()(inputs)))
    model.compile(keras.optimizers.SGD(0.0), "mse")
    return model


@pytest.mark.parametrize("steps_per_epoch, initial_epoch", [(None, 0), ("len", 0), (None, 2)])
def test_each_epoch_order_is_a_function_of_seed_and_epoch_however_keras_iterates(
    steps_per_epoch, initial_epoch
):
    x = np.arange(23, dtype=np.float64).reshape(23, 1, 1)
    batches = _Recording(x, x[:, 0], 5, seed=11, epoch=initial_epoch)
    assert len(batches) == 5  # one epoch long
    _tiny_model().fit(
        batches, epochs=4, initial_epoch=initial_epoch, shuffle=False, verbose=0,
        steps_per_epoch=len(batches) if steps_per_epoch == "len" else None,
        callbacks=[_SetEpoch(batches), _StartRecording(batches)],
    )
    assert sorted(batches.seen) == list(range(initial_epoch, 4))
    for epoch, rows in batches.seen.items():
        np.testing.assert_array_equal(np.concatenate(rows), _expected_order(11, epoch, 23))


def test_train_phase_feeds_each_epoch_its_own_order(monkeypatch):
    made = []

    class Recorded(_Recording):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(_loop, "_EpochBatches", Recorded)
    settings = PhaseSettings(seed=5, batch_size=4, validation_fraction=0.0, n_iter_no_change=5,
                             tol=0.0, callbacks=[], verbose=0, owner="test")
    x = np.arange(10, dtype=np.float64).reshape(10, 1, 1)
    model = _tiny_model()
    settings.callbacks.append(_LateStart(made))
    train_phase(model, x, x[:, 0], epochs=3, phase="p", settings=settings)
    (batches,) = made
    seed = derive_seed(5, "p")
    assert sorted(batches.seen) == [0, 1, 2]
    for epoch, rows in batches.seen.items():
        np.testing.assert_array_equal(np.concatenate(rows), _expected_order(seed, epoch, 10))


class _LateStart(keras.callbacks.Callback):
    """Starts recording on the one dataset ``train_phase`` made, when training begins."""

    def __init__(self, made):
        super().__init__()
        self.made = made

    def on_train_begin(self, logs=None):
        self.made[0].seen = {}


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's eager context")
def test_a_missing_kernel_cache_clear_fails_loudly(monkeypatch):
    from tensorflow.python.eager import context

    _keras_private.clear_eager_kernel_cache()
    monkeypatch.setattr(context.Context, "clear_kernel_cache", None)
    with pytest.raises(RuntimeError, match=r"clear_kernel_cache.*Keras 3.*TensorFlow 2"):
        _keras_private.self_check()
