"""One training phase (an autoencoder, or fine-tuning), epoch by epoch.

Each epoch is one ``Model.fit`` call preceded by a reseed derived from the fit's
seed, the phase and the epoch, so that an epoch's shuffling and dropout do not
depend on what ran before it in the process. That is what lets a fit interrupted
after epoch *k* resume from a checkpoint and end with the same weights as an
uninterrupted one. Early stopping is done here, across those calls; user
callbacks see one continuous training per phase through :class:`_CallbackRelay`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import keras
import numpy as np

from ._checkpoint import grouped


def derive_seed(seed, *key):
    """A 31-bit seed determined by ``seed`` and ``key``."""
    digest = hashlib.sha256(repr((int(seed),) + key).encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


@dataclass
class PhaseSettings:
    """How every phase of one fit trains."""

    seed: int
    batch_size: int
    validation_fraction: float  # 0 without early stopping
    n_iter_no_change: int
    tol: float
    callbacks: list
    verbose: int
    owner: str  # the estimator's class name, for progress lines
    checkpoint: object = None  # a _checkpoint.Checkpoint, or None

    def reseed(self, *key):
        keras.utils.set_random_seed(derive_seed(self.seed, *key))


def train_phase(model, x, y, *, epochs, phase, settings):
    """Train a compiled ``model`` for ``epochs`` epochs; return its loss curves.

    Raises ``FloatingPointError`` at the first epoch whose loss is not finite.
    """
    early_stopping = settings.validation_fraction > 0
    checkpoint = settings.checkpoint
    info, arrays = checkpoint.phase(phase) if checkpoint is not None else (None, None)
    history, start, best, wait, best_values = {}, 0, None, 0, None
    if info is not None:
        _restore(model, arrays)
        history, start = info["history"], info["epoch"]
        best, wait = info["best"], info["wait"]
        best_values = grouped(arrays, "best") or None
    finished = info is not None and info["done"]
    relay = _CallbackRelay(settings.callbacks, epochs)
    epoch = start
    while not finished and epoch < epochs:
        settings.reseed(phase, epoch)
        if settings.verbose:
            print(f"{settings.owner}: {phase}, epoch {epoch + 1}/{epochs}", flush=True)
        relay.offset = epoch
        result = model.fit(
            x,
            y,
            batch_size=settings.batch_size,
            epochs=1,
            # Keras holds out the *last* fraction: for time-ordered windows the
            # validation windows come after the training ones.
            validation_split=settings.validation_fraction,
            shuffle=True,
            callbacks=[relay],
            verbose=settings.verbose,
        )
        for key, values in result.history.items():
            history.setdefault(key, []).extend(float(v) for v in values)
        _check_finite(history, phase, epoch + 1)
        stop = model.stop_training  # a user callback may ask to stop
        if early_stopping:
            current = history["val_loss"][-1]
            if best is None or current < best - settings.tol:
                best, wait = current, 0
                best_values = [np.array(v) for v in _values(model.variables)]
            else:
                wait += 1
                stop = stop or wait >= settings.n_iter_no_change
        epoch += 1
        finished = stop or epoch == epochs
        if checkpoint is not None:
            state = {"epoch": epoch, "done": finished, "history": history,
                     "best": best, "wait": wait}
            saved = {"model": _values(model.variables),
                     "optimizer": _values(model.optimizer.variables)}
            if best_values is not None:
                saved["best"] = best_values
            checkpoint.save_phase(phase, state, saved)
    if best_values is not None:
        # Keep the weights of the best validation epoch, as MLPRegressor does.
        for variable, value in zip(model.variables, best_values):
            variable.assign(value)
    relay.finish()
    settings.reseed(phase, "end")
    return history


def _values(variables):
    return [keras.ops.convert_to_numpy(v.value) for v in variables]


def _restore(model, arrays):
    model.optimizer.build(model.trainable_variables)
    for variables, group in ((model.variables, "model"), (model.optimizer.variables, "optimizer")):
        for variable, value in zip(variables, grouped(arrays, group), strict=True):
            variable.assign(value)


def _check_finite(history, phase, epoch):
    for key in ("loss", "val_loss"):
        if key in history and not np.isfinite(history[key][-1]):
            raise FloatingPointError(
                f"Training diverged during {phase} at epoch {epoch}: {key} became "
                f"{history[key][-1]}. Lower learning_rate or scale the inputs and "
                "targets (e.g. with SequenceScaler)."
            )


class _CallbackRelay(keras.callbacks.Callback):
    """Presents a phase's one-epoch ``fit`` calls to user callbacks as one training.

    ``on_train_begin`` is relayed once, ``on_train_end`` once at :meth:`finish`,
    and epoch numbers count on across the calls. Batch hooks are relayed only
    when a user callback has them, so that Keras need not sync every batch.
    """

    _BATCH_HOOKS = (
        "on_train_batch_begin", "on_train_batch_end",
        "on_test_batch_begin", "on_test_batch_end",
        "on_test_begin", "on_test_end",
    )

    def __init__(self, callbacks, epochs):
        super().__init__()
        self.callbacks = list(callbacks or [])
        self.epochs = epochs
        self.offset = 0
        self.started = False
        for hook in self._BATCH_HOOKS:
            if any(not _is_default(getattr(c, hook)) for c in self.callbacks):
                setattr(self, hook, self._relay(hook))

    def _relay(self, hook):
        def relay(*args, **kwargs):
            for callback in self.callbacks:
                getattr(callback, hook)(*args, **kwargs)
        return relay

    def set_model(self, model):
        super().set_model(model)
        for callback in self.callbacks:
            callback.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        for callback in self.callbacks:
            callback.set_params({**params, "epochs": self.epochs})

    def on_train_begin(self, logs=None):
        if not self.started:
            self.started = True
            for callback in self.callbacks:
                callback.on_train_begin(logs)

    def on_epoch_begin(self, epoch, logs=None):
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch + self.offset, logs)

    def on_epoch_end(self, epoch, logs=None):
        for callback in self.callbacks:
            callback.on_epoch_end(epoch + self.offset, logs)

    def finish(self):
        if self.started:
            for callback in self.callbacks:
                callback.on_train_end({})


def _is_default(method):
    return getattr(method, "_is_default", False)
