"""strategy="multi_worker": two real processes on 127.0.0.1, one model."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import keras
import pytest

from sae_keras import LSTMSAERegressor
from sae_keras.nn.distribute import resolve_strategy
from conftest import TINY_REGRESSOR, sine_windows

WORKER = """
    import hashlib, json
    import numpy as np
    from sae_keras import LSTMSAEEncoder, LSTMSAERegressor

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(72, 6, 2)), rng.normal(size=72)
    training = dict(batch_size=16, early_stopping=True, validation_fraction=0.25,
                    n_iter_no_change=50)
    reg = LSTMSAERegressor((4, 3), pretraining=LSTMSAEEncoder(pretrain_epochs=2, **training),
                           epochs=3, strategy="multi_worker", random_state=0,
                           **training).fit(X, y)
    weights = np.concatenate([w.ravel() for w in reg.model_.get_weights()])
    print("RESULT " + json.dumps({
        "weights": hashlib.sha256(weights.tobytes()).hexdigest(),
        "history": reg.history_,
        "strategy": reg.strategy_,
        "prediction": reg.predict(X[:3]).tolist(),
    }))
"""


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "jax",
                    reason="runs JAX workers in subprocesses: once, in the JAX pass")
def test_two_worker_processes_train_one_model():
    address = f"127.0.0.1:{_free_port()}"
    base = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(WORKER)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**base, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
                 "TF_CPP_MIN_LOG_LEVEL": "3",
                 "KERAS_DISTRIBUTION_JOB_ADDRESSES": address,
                 "KERAS_DISTRIBUTION_NUM_PROCESSES": "2",
                 "KERAS_DISTRIBUTION_PROCESS_ID": str(index)},
        )
        for index in range(2)
    ]
    results = []
    try:
        for worker in workers:
            out, err = worker.communicate(timeout=300)  # bounded: never a hang
            assert worker.returncode == 0, err[-3000:]
            line = [row for row in out.splitlines() if row.startswith("RESULT ")][-1]
            results.append(json.loads(line[len("RESULT "):]))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    first, second = results
    assert first["weights"] == second["weights"]  # the same fitted weights on every worker
    assert first["history"] == second["history"]
    assert first["prediction"] == second["prediction"]
    assert first["strategy"]["name"] == "multi_worker"
    assert first["strategy"]["replicas"] == 2 and len(first["strategy"]["devices"]) == 2
    assert "val_loss" in first["history"]["finetune"]


def test_multi_worker_without_workers_or_on_tensorflow_is_a_clear_error(monkeypatch):
    for name in ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
                 "KERAS_DISTRIBUTION_PROCESS_ID"):
        monkeypatch.delenv(name, raising=False)
    message = ("is not available on TensorFlow.*KERAS_BACKEND=jax"
               if keras.backend.backend() == "tensorflow"
               else "needs to know the workers: set KERAS_DISTRIBUTION_JOB_ADDRESSES")
    with pytest.raises(RuntimeError, match=message):
        resolve_strategy("multi_worker")
    X, y = sine_windows(n_samples=40)
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1, strategy="multi_worker")
    with pytest.raises(RuntimeError, match=message):
        reg.fit(X, y)
    assert not hasattr(reg, "model_")
