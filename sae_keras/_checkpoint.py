"""Training state on disk, so that an interrupted ``fit`` resumes where it stopped.

A checkpoint directory holds ``state.json`` (a fingerprint of the parameters and
data, the seed, and for each training phase the epochs finished, its loss curves and
early-stopping state) and one ``<phase>.npz`` per phase with the values of the
model's variables (weights and random-seed states), the optimizer's variables and,
with early stopping, the best variables so far. Files are replaced atomically, so
a process killed while writing leaves the previous epoch's state.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
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
        try:
            state = json.loads((self.directory / _STATE).read_text())
        except (OSError, ValueError):
            return {"fingerprint": self.fingerprint, "seed": None, "phases": {}}
        if state.get("fingerprint") != self.fingerprint:
            return {"fingerprint": self.fingerprint, "seed": None, "phases": {}}
        return state

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
        with np.load(self.directory / info["file"]) as data:
            arrays = {key: data[key] for key in data.files}
        return info, arrays

    def save_phase(self, name, info, arrays):
        """Record phase ``name``: JSON-able ``info`` and named lists of arrays."""
        self.directory.mkdir(parents=True, exist_ok=True)
        file = re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".npz"
        flat = {
            f"{group}__{i:05d}": value
            for group, values in arrays.items()
            for i, value in enumerate(values)
        }
        _atomic(self.directory / file, lambda handle: np.savez(handle, **flat))
        self.state["phases"][name] = {**info, "file": file}
        text = json.dumps(self.state, indent=1)
        _atomic(self.directory / _STATE, lambda handle: handle.write(text.encode()))

    def clear(self):
        """Remove this fit's files after it finished."""
        for info in self.state["phases"].values():
            (self.directory / info["file"]).unlink(missing_ok=True)
        (self.directory / _STATE).unlink(missing_ok=True)
        self.state = {"fingerprint": self.fingerprint, "seed": None, "phases": {}}


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
