import os

import keras
import pytest

from sae_keras import LSTMSAERegressor
from sae_keras.nn.distribute import check_backend, resolve_strategy, strategy_scope
from conftest import TINY_REGRESSOR
from _subprocess import TESTS, run_python

BACKEND = keras.backend.backend()


def test_check_backend_names_the_active_backend():
    assert check_backend() == BACKEND


def test_cpu_strategy_resolves_to_the_backends_own_object():
    resolved = resolve_strategy("cpu")
    if BACKEND == "tensorflow":
        import tensorflow as tf

        assert isinstance(resolved, tf.distribute.OneDeviceStrategy)
    else:
        assert isinstance(resolved, keras.distribution.DataParallel)
        assert list(resolved.device_mesh.devices) == ["cpu:0"]


def test_auto_on_a_cpu_machine_keeps_default_placement():
    assert resolve_strategy("auto") is None


def test_gpu_strategy_without_a_gpu_is_a_clear_error():
    if keras.distribution.list_devices()[0].startswith("gpu"):
        pytest.skip("this machine has a GPU")
    with pytest.raises(RuntimeError, match="strategy='gpu' asks for a GPU"):
        resolve_strategy("gpu")


def test_a_callable_must_return_the_backends_strategy_type():
    with pytest.raises(TypeError, match="A callable strategy must return"):
        resolve_strategy(lambda: "not a strategy")


def test_unknown_name_is_refused():
    with pytest.raises(ValueError, match="strategy must be one of"):
        resolve_strategy("tpu-pod")


def test_fit_builds_the_model_under_the_chosen_strategy(windows):
    X, y = windows
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1, strategy="cpu").fit(X, y)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        assert isinstance(reg.model_.distribute_strategy, tf.distribute.OneDeviceStrategy)
    assert keras.distribution.distribution() is None  # restored after the fit


def test_fit_accepts_a_zero_argument_callable(windows):
    X, y = windows
    if BACKEND == "tensorflow":
        import tensorflow as tf

        def make():
            return tf.distribute.OneDeviceStrategy("/cpu:0")
    else:
        def make():
            return keras.distribution.DataParallel(devices=["cpu:0"])
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1, strategy=make).fit(X, y)
    assert reg.predict(X[:2]).shape == (2,)


def test_jax_distribution_is_restored_after_the_scope():
    if BACKEND != "jax":
        pytest.skip("keras.distribution is set only on JAX")
    with strategy_scope("cpu") as resolved:
        assert keras.distribution.distribution() is resolved
    assert keras.distribution.distribution() is None


MIRRORED = """
    import json, pickle
    import numpy as np
    import keras
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
    import sys
    sys.path.insert(0, {tests!r})
    from conftest import PhaseRecorder
    from sae_keras import LSTMSAEEncoder, LSTMSAERegressor

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 6, 2)), rng.normal(size=64)
    curves = {}
    for name in ("cpu", "mirrored"):
        spy = PhaseRecorder()
        reg = LSTMSAERegressor((4,), pretraining=LSTMSAEEncoder(pretrain_epochs=3, batch_size=16),
                               epochs=3, batch_size=16, dropout=0.0, strategy=name,
                               random_state=0, callbacks=[spy]).fit(X, y)
        curves[name] = reg.history_["pretrain_1"]["loss"] + reg.history_["finetune"]["loss"]
        print("fitted", json.dumps({"strategy": reg.strategy_, "steps": spy.steps}))
    gap = max(abs(a - b) / abs(b) for a, b in zip(curves["mirrored"], curves["cpu"]))
    print("gap", gap)
    print("pred", pickle.loads(pickle.dumps(reg)).predict(X[:3]).shape)
"""


def test_mirrored_strategy_trains_over_two_cpu_devices_like_one():
    """Two replicas, the global batch split between them: the loss curve of one device."""
    import json

    # CPUs only, also on a machine with a GPU ("mirrored" would take the GPUs there).
    env = {"KERAS_BACKEND": BACKEND, "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
           "JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": ""}
    result = run_python(MIRRORED.replace("{tests!r}", repr(TESTS)), env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    fitted = [json.loads(line.split(" ", 1)[1]) for line in result.stdout.splitlines()
              if line.startswith("fitted ")]
    one, two = fitted
    assert one["strategy"]["replicas"] == 1 and two["strategy"]["replicas"] == 2
    assert two["strategy"]["name"] == "mirrored" and len(two["strategy"]["devices"]) == 2
    # batch_size is the global batch: 64 windows / 16 = 4 steps per epoch either way.
    assert one["steps"] == two["steps"] == [4, 4]
    gap = float(result.stdout.split("gap ")[1].split()[0])
    assert gap < 1e-3, result.stdout
    assert "pred (3,)" in result.stdout  # a mirrored fit predicts after pickling, anywhere


def test_lstms_keep_keras_kernel_choice_where_no_gpu_is_hidden_by_the_strategy():
    from sae_keras.nn.builders import build_stacked_encoder
    from sae_keras.nn.distribute import cudnn_kernel_setting

    assert cudnn_kernel_setting() == "auto"  # no strategy: Keras chooses
    with strategy_scope("cpu"):
        # "auto" on a machine without a GPU; False beside one (tests/nn/test_gpu.py)
        setting = cudnn_kernel_setting()
        model = build_stacked_encoder(6, 2, (4, 3), seed=0)
    lstms = [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
    assert len(lstms) == 2 and {layer.use_cudnn for layer in lstms} == {setting}


def test_tpu_without_a_tpu_is_a_clear_error():
    with pytest.raises(RuntimeError, match="strategy='tpu' asks for a TPU"):
        resolve_strategy("tpu")


def test_the_fitted_estimator_records_what_ran_where(windows):
    import pickle

    X, y = windows
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1, strategy="cpu").fit(X, y)
    assert reg.strategy_["name"] == "cpu" and reg.strategy_["replicas"] == 1
    assert "cpu" in reg.strategy_["devices"][0].lower()
    assert pickle.loads(pickle.dumps(reg)).strategy_ == reg.strategy_
    assert LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).fit(X, y).strategy_["name"] == "default"


def test_an_unsupported_backend_is_a_clear_error():
    code = """
        import numpy as np
        from sae_keras import LSTMSAEEncoder, LSTMSAERegressor
        try:
            LSTMSAERegressor((4,), pretraining=LSTMSAEEncoder(pretrain_epochs=1), epochs=1).fit(np.zeros((8, 3)), np.zeros(8))
        except RuntimeError as exc:
            print("refused:", exc)
    """
    result = run_python(code, env={"KERAS_BACKEND": "numpy"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "refused: sae_keras trains on the Keras backends" in result.stdout
    assert "'numpy'" in result.stdout
