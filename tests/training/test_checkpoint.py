"""An interrupted fit resumes from its checkpoint and ends as if never interrupted."""

import json

import keras
import numpy as np
import pytest

from sae_keras import LSTMSAERegressor
from sae_keras.training._checkpoint import Checkpoint
from conftest import TINY_REGRESSOR, sine_windows, tiny_pretraining
from _subprocess import run_python

PARAMS = dict(TINY_REGRESSOR, epochs=3, dropout=0.3, early_stopping=True, n_iter_no_change=5,
              pretraining=tiny_pretraining(pretrain_epochs=(2, 3), early_stopping=True,
                                           n_iter_no_change=5))

SCRIPT = """
    import os, signal, sys
    import numpy as np, keras
    from sae_keras import LSTMSAEEncoder, LSTMSAERegressor

    class KillAt(keras.callbacks.Callback):
        '''SIGKILL this process at the end of the n-th epoch, before it is saved.'''
        def __init__(self, n):
            super().__init__()
            self.n, self.seen = n, 0
        def on_epoch_end(self, epoch, logs=None):
            self.seen += 1
            if self.seen == self.n:
                os.kill(os.getpid(), signal.SIGKILL)

    X, y = np.load({X!r}), np.load({y!r})
    kill_at = {kill_at}
    callbacks = [KillAt(kill_at)] if kill_at else None
    reg = LSTMSAERegressor(**{params!r}, callbacks=callbacks, checkpoint_dir={ckpt!r})
    reg.fit(X, y)
    np.save({out!r}, reg.predict(X))
    print("history", {{k: len(v["loss"]) for k, v in reg.history_.items()}})
"""


def run_fit(tmp_path, name, kill_at, checkpoint_dir):
    out = tmp_path / f"{name}.npy"
    code = SCRIPT.format(
        X=str(tmp_path / "X.npy"), y=str(tmp_path / "y.npy"), kill_at=kill_at,
        params=PARAMS, ckpt=None if checkpoint_dir is None else str(checkpoint_dir), out=str(out),
    )
    result = run_python(code, env={"KERAS_BACKEND": keras.backend.backend()})
    return result, out


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """The training windows on disk, and the predictions of an uninterrupted fit."""
    directory = tmp_path_factory.mktemp("checkpoint_data")
    X, y = sine_windows(n_samples=96)
    np.save(directory / "X.npy", X)
    np.save(directory / "y.npy", y)
    reference, reference_out = run_fit(directory, "reference", 0, None)
    assert reference.returncode == 0, reference.stderr[-3000:]
    return directory, np.load(reference_out)


@pytest.mark.parametrize("kill_at", [3, 6], ids=["after pretraining layer 1", "mid fine-tuning"])
def test_a_killed_fit_resumes_and_ends_with_the_uninterrupted_weights(data_dir, tmp_path, kill_at):
    directory, reference = data_dir
    for name in ("X.npy", "y.npy"):
        (tmp_path / name).write_bytes((directory / name).read_bytes())
    checkpoints = tmp_path / "ckpt"

    killed, _ = run_fit(tmp_path, "killed", kill_at, checkpoints)
    assert killed.returncode == -9, killed.stderr[-2000:]
    phases = json.loads((checkpoints / "state.json").read_text())["phases"]
    assert phases["pretraining layer 1/2"] == {**phases["pretraining layer 1/2"], "epoch": 2, "done": True}

    resumed, resumed_out = run_fit(tmp_path, "resumed", 0, checkpoints)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    assert "history {'pretrain_1': 2, 'pretrain_2': 3, 'finetune': 3}" in resumed.stdout
    np.testing.assert_array_equal(np.load(resumed_out), reference)
    assert not any(checkpoints.iterdir())  # cleaned up after success


def test_without_checkpoint_dir_nothing_is_written(tmp_path, monkeypatch, windows):
    monkeypatch.chdir(tmp_path)
    LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).fit(*windows)
    assert list(tmp_path.iterdir()) == []


def test_a_checkpoint_of_other_data_is_not_resumed(tmp_path, windows, fitted_regressor):
    X, y = windows
    reference = fitted_regressor.predict(X)  # LSTMSAERegressor(**TINY_REGRESSOR, epochs=2), no checkpoint
    other = Checkpoint(tmp_path, fingerprint="another fit")
    other.set_seed(12345)
    other.save_phase("fine-tuning", {"epoch": 2, "done": True, "history": {}, "best": None,
                                     "wait": 0}, {"model": [np.zeros(1)]})
    resumed = LSTMSAERegressor(**TINY_REGRESSOR, epochs=2, checkpoint_dir=tmp_path).fit(X, y)
    np.testing.assert_array_equal(resumed.predict(X), reference)


def test_checkpointed_fit_equals_a_plain_fit(tmp_path, windows, fitted_regressor):
    X, y = windows
    plain = fitted_regressor.predict(X)  # LSTMSAERegressor(**TINY_REGRESSOR, epochs=2)
    saved = LSTMSAERegressor(**TINY_REGRESSOR, epochs=2, checkpoint_dir=tmp_path / "c").fit(X, y).predict(X)
    np.testing.assert_array_equal(plain, saved)


def test_the_fingerprint_tells_apart_every_array_and_its_role():
    from sae_keras.training._checkpoint import fingerprint

    X, a, b = np.zeros((4, 3, 1)), np.ones((4, 2)), np.full((4, 2), 2.0)
    assert fingerprint({}, X, None, None, a) != fingerprint({}, X, None, None, b)
    # The same covariates as static or as future values: two different fits.
    assert fingerprint({}, X, None, None, a, None) != fingerprint({}, X, None, None, None, a)
