"""The GPU paths: ``strategy="gpu"``, ``"mirrored"`` and ``"auto"`` on a machine with a GPU.

Skipped on a machine without one (CI has none); run where a GPU is, e.g.::

    KERAS_BACKEND=jax python -m pytest tests/nn/test_gpu.py -v --no-cov
"""

import pickle

import keras
import numpy as np
import pytest

from sae_keras import LSTMSAEEncoder, LSTMSAEOutlierDetector, LSTMSAERegressor
from sae_keras.nn.distribute import resolve_strategy
from conftest import Settings, sine_windows

pytestmark = pytest.mark.skipif(
    not keras.distribution.list_devices()[0].lower().startswith(("gpu", "cuda")),
    reason="needs a GPU",
)

SMALL = Settings(hidden_units=(16, 8), epochs=3, batch_size=32, dropout=0.0, random_state=0,
                 pretraining=LSTMSAEEncoder(pretrain_epochs=2, batch_size=32))


@pytest.fixture(scope="module")
def data():
    return sine_windows(n_samples=256, timesteps=12, n_channels=3)


def _on_gpu(strategy):
    return all("gpu" in d.lower() or "cuda" in d.lower() for d in strategy["devices"])


def test_gpu_strategy_resolves_to_the_first_gpu():
    resolved = resolve_strategy("gpu")
    if keras.backend.backend() == "tensorflow":
        assert "GPU:0" in resolved.extended.worker_devices[0].upper()
    else:
        assert list(resolved.device_mesh.devices)[0].lower().startswith(("gpu", "cuda"))


def test_a_gpu_fit_records_the_gpu_predicts_and_pickles(data):
    X, y = data
    reg = LSTMSAERegressor(**SMALL, strategy="gpu").fit(X, y)
    assert reg.strategy_["name"] == "gpu" and reg.strategy_["replicas"] == 1
    assert _on_gpu(reg.strategy_), reg.strategy_
    pred = reg.predict(X)
    assert pred.shape == (len(X),) and np.isfinite(pred).all()
    assert np.allclose(pickle.loads(pickle.dumps(reg)).predict(X), pred, rtol=1e-5, atol=1e-6)
    assert reg.score(X, y) > 0.5  # a sine is learnt, not just run


def test_a_gpu_fit_follows_the_cpu_fits_loss_curve(data):
    """Same seed, same data: the GPU's loss curve is the CPU's up to float rounding."""
    X, y = data
    curves = {}
    for name in ("cpu", "gpu"):
        reg = LSTMSAERegressor(**SMALL, strategy=name).fit(X, y)
        # Keras' cuDNN kernel on the GPU; its portable kernel under strategy="cpu"
        kernels = {layer.use_cudnn for layer in reg.model_.layers
                   if isinstance(layer, keras.layers.LSTM)}
        assert kernels == ({False} if name == "cpu" else {"auto"}), (name, kernels)
        assert np.isfinite(reg.predict(X)).all()  # on the GPU, after a CPU fit too
        curves[name] = np.array(reg.history_["pretrain_1"]["loss"]
                                + reg.history_["finetune"]["loss"])
    gap = np.max(np.abs(curves["gpu"] - curves["cpu"]) / np.abs(curves["cpu"]))
    print("relative gap between the CPU and GPU loss curves:", gap)
    assert gap < 5e-2, (curves, gap)


def test_mirrored_and_auto_use_the_gpu(data):
    X, y = data
    mirrored = LSTMSAERegressor(**SMALL, strategy="mirrored").fit(X, y)
    assert mirrored.strategy_["name"] == "mirrored"
    assert mirrored.strategy_["replicas"] == len(
        [d for d in keras.distribution.list_devices() if d.lower().startswith(("gpu", "cuda"))])
    assert _on_gpu(mirrored.strategy_), mirrored.strategy_
    auto = LSTMSAERegressor(**SMALL).fit(X, y)
    assert np.isfinite(auto.predict(X)).all()


def test_the_encoder_and_the_detector_run_on_the_gpu(data):
    X, _ = data
    enc = LSTMSAEEncoder(hidden_units=(16, 8), pretrain_epochs=2, batch_size=32,
                         random_state=0, strategy="gpu").fit(X)
    codes = enc.transform(X)
    assert codes.shape == (len(X), 8) and np.isfinite(codes).all()
    assert _on_gpu(enc.strategy_)
    det = LSTMSAEOutlierDetector(LSTMSAEEncoder(hidden_units=(16, 8), pretrain_epochs=2,
                                                batch_size=32, strategy="gpu"),
                                 random_state=0).fit(X)
    assert set(np.unique(det.predict(X))) <= {-1, 1}
    assert _on_gpu(det.encoder_.strategy_)
