"""One training phase (an autoencoder, or fine-tuning): one ``Model.fit`` call.

Exact resume without a ``fit`` call per epoch rests on two things:

- the order of the windows in epoch *e* is a permutation drawn from a seed
  derived from the fit's seed, the phase and *e* (:class:`_EpochBatches`, told
  the epoch by Keras' ``on_epoch_begin``), not from the global random state or
  how Keras iterates, so epoch *e* sees the same batches whether the fit
  started at epoch 0 or resumed at *e*;
- dropout draws from ``SeedGenerator`` states, which are model variables, and
  the checkpoint saves every model variable and the optimizer's after each
  epoch (:class:`_PhaseMonitor`).

Early stopping, the finite-loss check and checkpointing happen in
:class:`_PhaseMonitor`, the last callback of the phase; user callbacks see one
ordinary training per phase.
"""

from __future__ import annotations

import hashlib
import math
import sys
from dataclasses import dataclass

import keras
import numpy as np

from ._checkpoint import grouped
from ..nn._inference import quiet_retracing
from ._keras_private import (
    build_optimizer, clear_eager_kernel_cache, skip_single_replica_all_reduce,
)
from ..data._split import time_split


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
    shard: tuple = None  # (process index, process count) when each process feeds its share
    gap: int = 0  # purge gap: windows left out before the validation part (horizon - 1)
    #: The validation part's size when the estimator laid it out itself (the last
    #: windows; per-series splits, ``series_split``), instead of ``validation_fraction``'s.
    held_out: int = None

    def derive(self, *key):
        """The seed of one random part of the fit (a model's weights), from the fit's seed.

        Every model is built from such an explicit seed
        (:mod:`sae_keras.nn.builders`' ``seed``) and the batches are drawn from
        NumPy generators: no global random state (NumPy's, Python's, the
        backend's) is read or changed by a fit.
        """
        return derive_seed(self.seed, *key)


def train_phase(model, x, y, *, epochs, phase, settings, sample_weight=None):
    """Train a compiled ``model`` for ``epochs`` epochs in one ``fit``; return its loss curves.

    With early stopping the *last* ``validation_fraction`` of the windows is
    held out (for time-ordered windows they come after the training ones) and
    the weights of the best validation epoch are kept, as ``MLPRegressor``
    does; the weights the phase started from count as epoch 0. Raises
    ``FloatingPointError`` at the first epoch whose loss is not finite.
    ``sample_weight`` (one weight per window, one per window and step of a
    sequence target, or ``None``) weights the training and validation losses. ``x`` and ``y`` are arrays, or tuples of arrays for
    a model with several inputs or outputs.
    """
    monitor = _PhaseMonitor(phase, settings)
    start = monitor.resume(model)
    if start < epochs and not monitor.finished:
        if settings.verbose:
            print(f"{settings.owner}: {phase}, epochs {start + 1}-{epochs}", flush=True)
        if sample_weight is not None and np.ndim(sample_weight) == 1:
            # One weight per window, broadcast over the steps of sequence targets.
            ndim = (y[0] if isinstance(y, tuple) else y).ndim
            sample_weight = np.reshape(sample_weight, (-1,) + (1,) * max(0, ndim - 2))
        (x_fit, y_fit, w_fit), validation = _hold_out(
            x, y, sample_weight, settings.validation_fraction, settings.shard, settings.gap,
            settings.held_out,
        )
        if validation is not None and start == 0:
            monitor.start_from(model, validation, settings.batch_size)
        batches = _EpochBatches(
            x_fit, y_fit, settings.batch_size, seed=derive_seed(settings.seed, phase),
            epoch=start, sample_weight=w_fit, shard=settings.shard,
        )
        build_optimizer(model)
        with quiet_retracing(), skip_single_replica_all_reduce(model):
            model.fit(
                batches,
                epochs=epochs,
                initial_epoch=start,
                validation_data=validation,
                validation_batch_size=settings.batch_size,
                shuffle=False,  # _EpochBatches shuffles, reproducibly
                callbacks=[_SetEpoch(batches), *settings.callbacks, monitor],
                verbose=progress_verbosity(settings.verbose, sys.stdout),
            )
        clear_eager_kernel_cache()
    monitor.restore_best(model)
    return monitor.history


def progress_verbosity(verbose, stream):
    """Keras' ``verbose`` for ``fit``: progress bars (1) only on a terminal.

    Redirected to a file or a pipe, a progress bar is a stream of carriage
    returns and ANSI escapes; there ``verbose=1`` prints one line per epoch (2).
    """
    if verbose == 1:
        isatty = getattr(stream, "isatty", None)
        if not (callable(isatty) and isatty()):
            return 2
    return verbose


def _hold_out(x, y, sample_weight, validation_fraction, shard=None, gap=0, held_out=None):
    """``(x, y, w)`` split into training and validation parts, the latter last (or ``None``).

    The split is :func:`~sae_keras.data._split.time_split`'s; the ``gap`` windows
    before the validation part (the purge gap, ``horizon - 1``) are in neither.
    ``held_out``: the last ``held_out`` windows are the validation part, the
    rest (less ``gap``) the training part.
    With ``shard=(index, count)`` the validation part is this process's share:
    every ``count``-th window from ``index``, the same number in every process.
    """
    if validation_fraction <= 0:
        return (x, y, sample_weight), None
    n = _n_rows(x)
    if held_out is None:
        split, n_held = time_split(validation_fraction, n, gap, name="validation_fraction")
    else:
        split, n_held = n - held_out - gap, held_out
    start = n - n_held
    head, tail = slice(None, split), slice(start, None)
    if shard is not None:
        index, count = shard
        tail = slice(start + index, start + n_held // count * count, count)
    validation = (_float32(_rows(x, tail)), _float32(_rows(y, tail)))
    if sample_weight is None:
        return (_rows(x, head), _rows(y, head), None), validation
    return (
        (_rows(x, head), _rows(y, head), sample_weight[head]),
        validation + (_float32(sample_weight[tail]),),
    )


def _rows(data, rows):
    """Rows of an array, or of each array of a tuple (a model's several inputs or outputs)."""
    return tuple(part[rows] for part in data) if isinstance(data, tuple) else data[rows]


def _n_rows(data):
    return len(data[0]) if isinstance(data, tuple) else len(data)


def _float32(data):
    if isinstance(data, tuple):
        return tuple(np.asarray(part, dtype=np.float32) for part in data)
    return np.asarray(data, dtype=np.float32)


class _EpochBatches(keras.utils.PyDataset):
    """The mini-batches of one epoch; which epoch is set explicitly (:meth:`set_epoch`).

    Epoch *e* visits the windows in ``permutation(n)`` drawn from
    ``derive_seed(seed, e)``: the sequence is one epoch long, and batch ``i``
    is batch ``i`` of epoch :attr:`epoch`, which :class:`_SetEpoch` sets from
    the epoch number Keras passes to ``on_epoch_begin``. Each epoch's order is
    thus a pure function of (seed, epoch), whether Keras keeps one iterator
    across epochs or starts a new one per epoch, resumes at a later epoch, or
    asks for the batches in any order. With ``shard=(index, count)`` (several
    processes, one model) every process draws the same global batches and
    feeds rows ``index::count`` of each; the last partial batch of an epoch is
    left out, so that all shares have the same size. Nothing depends on the
    global random state. Only the rows of one batch are copied (and cast to
    float32) at a time, so windows that are views of a series
    (``make_windows``) are never materialised whole.
    """

    def __init__(self, x, y, batch_size, *, seed, epoch=0, sample_weight=None, shard=None):
        super().__init__()
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.batch_size = int(batch_size)
        self.seed = seed
        self.shard = shard
        if shard is None:
            self.batches_per_epoch = max(1, math.ceil(_n_rows(x) / self.batch_size))
        else:  # every process feeds an equal share: whole batches only
            self.batches_per_epoch = max(1, _n_rows(x) // self.batch_size)
        self.epoch = int(epoch)
        self._order = (None, None)  # (epoch, permutation) of the latest epoch asked for

    def __len__(self):
        return self.batches_per_epoch

    def set_epoch(self, epoch):
        """Serve the batches of ``epoch`` from now on."""
        self.epoch = int(epoch)

    def order(self, epoch):
        """The permutation of the windows for ``epoch``."""
        cached_epoch, permutation = self._order
        if cached_epoch != epoch:
            rng = np.random.default_rng(derive_seed(self.seed, epoch))
            permutation = rng.permutation(_n_rows(self.x))
            self._order = (epoch, permutation)
        return permutation

    def __getitem__(self, index):
        batch = int(index)
        if not 0 <= batch < self.batches_per_epoch:
            raise IndexError(f"batch {index} of an epoch of {self.batches_per_epoch}")
        rows = self.order(self.epoch)[batch * self.batch_size : (batch + 1) * self.batch_size]
        if self.shard is not None:  # this process's share of the global batch
            index, count = self.shard
            rows = rows[index : len(rows) // count * count : count]
        x, y = _float32(_rows(self.x, rows)), _float32(_rows(self.y, rows))
        if self.sample_weight is None:
            return x, y
        return x, y, _float32(self.sample_weight[rows])


class _SetEpoch(keras.callbacks.Callback):
    """Points an :class:`_EpochBatches` at the epoch that is about to start."""

    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.set_epoch(epoch)


class _PhaseMonitor(keras.callbacks.Callback):
    """After each epoch: record the losses, refuse non-finite ones, early-stop, checkpoint."""

    def __init__(self, phase, settings):
        super().__init__()
        self.phase = phase
        self.early_stopping = settings.validation_fraction > 0
        self.n_iter_no_change = settings.n_iter_no_change
        self.tol = settings.tol
        self.checkpoint = settings.checkpoint
        self.history, self.best, self.wait, self.best_values = {}, None, 0, None
        self.finished = False

    def resume(self, model):
        """Load this phase's checkpoint into ``model``; return the first epoch to train."""
        info, arrays = (
            self.checkpoint.phase(self.phase) if self.checkpoint is not None else (None, None)
        )
        if info is None:
            return 0
        _restore(model, arrays)
        self.history, self.best, self.wait = info["history"], info["best"], info["wait"]
        self.best_values = grouped(arrays, "best") or None
        self.finished = info["done"]
        return info["epoch"]

    def start_from(self, model, validation, batch_size):
        """Count the untrained weights as a candidate: keep them if no epoch beats them.

        A network that starts from a good solution (``linear_skip="ridge"``)
        then never ends worse on the validation windows than where it began.
        """
        x, y, *weights = validation
        with quiet_retracing():
            loss = model.evaluate(x, y, sample_weight=weights[0] if weights else None,
                                  batch_size=batch_size, verbose=0)
        loss = float(loss[0] if isinstance(loss, (list, tuple)) else loss)
        if np.isfinite(loss):
            self.best, self.best_values = loss, _values(model.variables)

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        _check_finite(self.history, self.phase, epoch + 1)
        model = self.model
        if self.early_stopping:
            current = self.history["val_loss"][-1]
            if self.best is None or current < self.best - self.tol:
                self.best, self.wait = current, 0
                self.best_values = _values(model.variables)
            else:
                self.wait += 1
                if self.wait >= self.n_iter_no_change:
                    model.stop_training = True
        if self.checkpoint is not None:
            done = model.stop_training or epoch + 1 == self.params["epochs"]
            state = {"epoch": epoch + 1, "done": done, "history": self.history,
                     "best": self.best, "wait": self.wait}
            saved = {"model": _values(model.variables),
                     "optimizer": _values(model.optimizer.variables)}
            if self.best_values is not None:
                saved["best"] = self.best_values
            self.checkpoint.save_phase(self.phase, state, saved)

    def restore_best(self, model):
        if self.best_values is not None:
            for variable, value in zip(model.variables, self.best_values):
                variable.assign(value)


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
                f"{history[key][-1]}. Lower learning_rate, or scale the inputs and "
                "targets (scaling='standard', the default, or SequenceScaler)."
            )
