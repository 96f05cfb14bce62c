"""Training state on disk, so that an interrupted ``fit`` resumes where it stopped.

A checkpoint directory holds ``state.json`` (a fingerprint of the parameters and
data, the seed, and for each training phase the epochs finished, its loss curves and
early-stopping state) and one ``<phase>.npz`` per phase with the values of the
model's variables (weights and random-seed states), the optimizer's variables and,
with early stopping, the best variables so far. Files are replaced atomically, so
a process killed while writing leaves the previous epoch's state.

Nothing read from the directory becomes a path: a phase's file name is derived
from the phase's name, and a ``state.json`` of another shape than this module
writes, or a phase whose entry or arrays cannot be read, counts as not saved.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from pathlib import Path

import numpy as np

_STATE = "state.json"


def fingerprint(params, *arrays):
    """Hash of the parameters and the training data: a checkpoint only resumes the same fit."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=repr).encode())
    for array in arrays:
        if array is None:  # marked, so that arrays in different roles never collide
            digest.update(b"None")
            continue
        array = np.ascontiguousarray(array)
        digest.update(repr((array.shape, array.dtype.str)).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


class Checkpoint:
    """Per-phase training state of one fit, kept in ``directory``.

    Parameters
    ----------
    directory : path-like
        Where the files live; created on the first save.
    fingerprint : str
        Identity of the fit; a directory holding another fit's state is ignored
        (and overwritten).
    """

    def __init__(self, directory, fingerprint):
        self.directory = Path(directory)
        self.fingerprint = fingerprint
        self.state = self._read()

    def _read(self):
        fresh = {"fingerprint": self.fingerprint, "seed": None, "phases": {}}
        try:
            state = json.loads((self.directory / _STATE).read_text())
        except (OSError, ValueError, RecursionError):
            return fresh
        if (
            not isinstance(state, dict)
            or state.get("fingerprint") != self.fingerprint
            or not isinstance(state.get("phases"), dict)
            or not (state.get("seed") is None or _is_count(state["seed"]))
        ):
            return fresh
        phases = {name: info for name, info in state["phases"].items() if _valid_phase(info)}
        return {"fingerprint": self.fingerprint, "seed": state.get("seed"), "phases": phases}

    @property
    def seed(self):
        """The seed of the interrupted fit, or ``None`` for a new one."""
        return self.state.get("seed")

    def set_seed(self, seed):
        self.state["seed"] = int(seed)

    def phase(self, name):
        """``(info, arrays)`` saved for phase ``name``, or ``(None, None)``."""
        info = self.state["phases"].get(name)
        if info is None:
            return None, None
        try:
            with np.load(self.directory / _phase_file(name), allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):
            return None, None  # missing or damaged: the phase trains from its start
        return info, arrays

    def save_phase(self, name, info, arrays):
        """Record phase ``name``: JSON-able ``info`` and named lists of arrays."""
        self.directory.mkdir(parents=True, exist_ok=True)
        flat = {
            f"{group}__{i:05d}": value
            for group, values in arrays.items()
            for i, value in enumerate(values)
        }
        _atomic(self.directory / _phase_file(name), lambda handle: np.savez(handle, **flat))
        self.state["phases"][name] = dict(info)
        text = json.dumps(self.state, indent=1)
        _atomic(self.directory / _STATE, lambda handle: handle.write(text.encode()))

    def clear(self):
        """Remove this fit's files after it finished."""
        for name in self.state["phases"]:
            (self.directory / _phase_file(name)).unlink(missing_ok=True)
        (self.directory / _STATE).unlink(missing_ok=True)
        self.state = {"fingerprint": self.fingerprint, "seed": None, "phases": {}}


def _phase_file(name):
    """The file of phase ``name``: one file name inside the directory, never a path."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", str(name)) + ".npz"


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _valid_phase(info):
    """Whether ``info`` is a phase entry as :meth:`Checkpoint.save_phase` writes it."""
    return (
        isinstance(info, dict)
        and _is_count(info.get("epoch"))
        and isinstance(info.get("done"), bool)
        and isinstance(info.get("history"), dict)
        and all(isinstance(v, list) for v in info["history"].values())
        and (info.get("best") is None or isinstance(info["best"], (int, float)))
        and _is_count(info.get("wait"))
    )


def grouped(arrays, group):
    """The arrays saved under ``group``, in order."""
    keys = sorted(k for k in arrays if k.startswith(f"{group}__"))
    return [arrays[k] for k in keys]


def _atomic(path, write):
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
