"""Greedily pretrained layers cached across fits (the estimators' ``memory``).

A layer's training is fully determined by what goes into it: the model's
architecture and initial weights (which carry the seed and every layer below,
through the codes it reads), the windows and targets it trains on, their
weights, and the training settings. The cache key is a digest of exactly
these, so two fits that differ only in what comes after pretraining
(fine-tuning epochs, dropout, the head) or in the layers above share the
layers below; anything that changes a layer changes its key. Entries live in a
``joblib.Memory`` folder, which processes and Dask workers can share.
"""

from __future__ import annotations

import hashlib
import os
import json

import keras
import numpy as np

_CHUNK = 4096  # rows digested at a time: lazy windows are never materialised whole


def as_memory(memory):
    """``None``, or a ``joblib.Memory`` for a path or an object with ``cache``."""
    if memory is None:
        return None
    if isinstance(memory, str) or hasattr(memory, "__fspath__"):
        import joblib

        return joblib.Memory(location=os.fspath(memory), verbose=0)
    if not hasattr(memory, "cache"):
        raise ValueError(
            "memory must be None, a path or a joblib.Memory (an object with a cache "
            f"method); got {type(memory).__name__}."
        )
    return memory


def cached_training(memory, train, settings, fixed):
    """``train`` behind ``memory``: a layer trained before is loaded, not trained again.

    Parameters
    ----------
    memory : joblib.Memory
    train : callable
        ``train(model, x, y, *, epochs, phase, **options) -> history``, as
        :func:`~sae_keras.training.pretraining.greedy_pretrain` calls it.
    settings : PhaseSettings
        The fit's settings (seed, batch size, early stopping): part of the key.
    fixed : list
        What else ``train`` trains with that the call does not show (the
        optimizer, learning rate, loss, per-window weights): part of the key.
    """
    run = memory.cache(_train_layer, ignore=["model", "x", "y", "train", "options"])

    def train_or_load(model, x, y, *, epochs, phase, **options):
        key = _digest(
            model.to_json(),
            [keras.ops.convert_to_numpy(v.value) for v in model.variables],
            x, y, options.get("sample_weight"), options.get("loss_weights"),
            epochs, phase, _settings_key(settings), list(fixed),
        )
        trained = not run.check_call_in_cache(key, model, x, y, train, epochs, phase, options)
        values, history = run(key, model, x, y, train, epochs, phase, options)
        if not trained:
            for variable, value in zip(model.variables, values, strict=True):
                variable.assign(value)
        return history

    return train_or_load


def _train_layer(key, model, x, y, train, epochs, phase, options):
    history = train(model, x, y, epochs=epochs, phase=phase, **options)
    return [keras.ops.convert_to_numpy(v.value) for v in model.variables], history


def _settings_key(settings):
    return [settings.seed, settings.batch_size, settings.validation_fraction,
            settings.n_iter_no_change, settings.tol]


def _digest(*parts):
    digest = hashlib.sha256()
    for part in parts:
        _update(digest, part)
    return digest.hexdigest()


def _update(digest, part):
    if isinstance(part, (tuple, list)):
        digest.update(f"seq{len(part)}".encode())
        for item in part:
            _update(digest, item)
    elif part is None or isinstance(part, (str, int, float, bool, dict)):
        digest.update(json.dumps(part, sort_keys=True, default=repr).encode())
    else:  # arrays and lazy windows, in float32 chunks of rows
        shape = tuple(part.shape)
        digest.update(repr(shape).encode())
        for start in range(0, shape[0], _CHUNK):
            chunk = np.ascontiguousarray(part[start : start + _CHUNK], dtype=np.float32)
            digest.update(chunk.tobytes())
