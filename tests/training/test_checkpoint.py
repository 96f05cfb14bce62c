"""An interrupted fit resumes from its checkpoint and ends as if never interrupted."""

import json

import keras
import numpy as np

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
    out = tmp_path / f"{name.replace(' ', '_')}.npy"
    code = SCRIPT.format(
        X=str(tmp_path / "X.npy"), y=str(tmp_path / "y.npy"), kill_at=kill_at,
        params=PARAMS, ckpt=None if checkpoint_dir is None else str(checkpoint_dir), out=str(out),
    )
    result = run_python(code, env={"KERAS_BACKEND": keras.backend.backend()})
    return result, out


def test_a_fit_killed_twice_mid_phase_resumes_each_time_and_ends_as_if_never_killed(tmp_path):
    """Killed at the end of an epoch, before the checkpoint saves it: the next process
    resumes that phase after its last saved epoch (restoring weights, optimizer and
    early-stopping state) and skips the phases done. Two kills, three processes: mid
    pretraining layer 2, then (in the resumed process) mid fine-tuning. The fit ends
    with the weights of a fit never interrupted, made here."""
    X, y = sine_windows(n_samples=96)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    reference = LSTMSAERegressor(**PARAMS).fit(X, y).predict(X)
    checkpoints = tmp_path / "ckpt"

    def phases():
        return json.loads((checkpoints / "state.json").read_text())["phases"]

    # Epochs: layer 1's two, layer 2's three, fine-tuning's three. The 4th epoch is
    # layer 2's second: its first is saved.
    killed, _ = run_fit(tmp_path, "killed", 4, checkpoints)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert phases()["pretraining layer 1/2"] == {**phases()["pretraining layer 1/2"],
                                                  "epoch": 2, "done": True}
    assert phases()["pretraining layer 2/2"] == {**phases()["pretraining layer 2/2"],
                                                  "epoch": 1, "done": False}
    assert "fine-tuning" not in phases()
    # The resumed process trains layer 2's last two epochs, then fine-tuning's first
    # (saved) and second (killed).
    again, _ = run_fit(tmp_path, "killed again", 4, checkpoints)
    assert again.returncode == -9, again.stderr[-2000:]
    assert phases()["pretraining layer 2/2"] == {**phases()["pretraining layer 2/2"],
                                                  "epoch": 3, "done": True}
    assert phases()["fine-tuning"] == {**phases()["fine-tuning"], "epoch": 1, "done": False}

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
