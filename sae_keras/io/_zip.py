"""Save and load fitted estimators as one zip file of ``.keras`` models and JSON.

Format (``format_version`` 2; files of version 1 are read through
:mod:`sae_keras.io._upgrade`): a zip archive holding

- ``manifest.json``: ``format`` (``"sae_keras"``), ``format_version``, the versions of
  sae_keras, Keras and the backend that wrote it, the estimator ``class``, its
  ``params`` and its fitted attributes (plain JSON);
- ``models/<name>.keras``: each fitted Keras model, in Keras' own format.

Loading never runs code from the file and never turns a string from it into a
path: the class comes from a fixed list of sae_keras estimators; parameters,
nested estimators' too, are validated like any ``set_params``; the model names
must be exactly those the class saves, and each is copied to a temporary file
named by its position; zip members with absolute names or ``..``, unexpected
members, and members declaring more than 100 times the bytes they store (the
class stores them uncompressed) are refused before anything is read; the
models are read with ``keras.saving.load_model`` in ``safe_mode`` (no lambdas
or custom code are deserialised; this rests on Keras 3.14's safe-mode fixes).
Machine-local parameters (``memory``, ``checkpoint_dir``) are neither saved nor
restored: they load as ``None``. A malformed file raises ``ValueError`` naming
what is wrong. ``save`` writes a temporary file next to the target and renames
it into place, so an interrupted save leaves any previous file intact.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import keras

from ._params import _check_state, _estimator_from_manifest, _field, _saved_params
from ._upgrade import upgrade


FORMAT = "sae_keras"
FORMAT_VERSION = 2

#: Members are stored uncompressed; one declaring more than this many times the
#: bytes it stores (above ``_SIZE_FLOOR``) is refused unread (a zip bomb).
_MAX_EXPANSION = 100
_SIZE_FLOOR = 1 << 20

#: What Keras writes in a ``.keras`` file of the models this library builds.
_KERAS_MEMBERS = {"config.json", "metadata.json", "model.weights.h5"}

# Reading a zip archive can fail in all these ways on a damaged or hostile file.
_READ_ERRORS = (
    zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, RuntimeError,
    NotImplementedError,
)


def save_estimator(estimator, path):
    """Write a fitted estimator to ``path`` (a zip file); see the module docstring.

    ``callbacks`` are not saved (the loaded estimator has ``callbacks=None``),
    nor are the machine-local ``memory`` and ``checkpoint_dir`` (``None``); a
    callable ``strategy`` is saved as ``"auto"`` and a ``RandomState`` instance
    as ``None``. The file is written under a temporary name in the same folder
    and renamed into place: if saving fails midway, an existing file at
    ``path`` is left as it was.

    Parameters
    ----------
    estimator : LSTMSAERegressor, LSTMSAEEncoder or TableForecaster
        A fitted estimator.
    path : str or path-like
        File to write; ``.zip`` is a good suffix.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras import LSTMSAEEncoder
    >>> from sae_keras.io._zip import save_estimator, load_estimator
    >>> enc = LSTMSAEEncoder((4,), pretrain_epochs=1, random_state=0).fit(np.ones((8, 5)))
    >>> path = save_estimator(enc, "encoder.zip")
    >>> load_estimator(path).transform(np.ones((1, 5))).shape
    (1, 4)
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    path = Path(path)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "written_by": _versions(),
        "class": type(estimator).__name__,
        "params": _saved_params(estimator),
        "fitted": estimator._fitted_state(),
        "models": {},
    }
    models = estimator._fitted_models()
    partial = path.with_name(f".{path.name}.{secrets.token_hex(8)}.partial")
    try:
        # O_EXCL: a fresh file of our own; 0o666 less the umask, like open(path, "w").
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(descriptor, "wb") as handle, tempfile.TemporaryDirectory() as tmp:
            with zipfile.ZipFile(handle, "w") as archive:
                for index, (name, model) in enumerate(models.items()):
                    file = Path(tmp) / f"{index}.keras"
                    model.save(file)
                    archive.write(file, _member(name))
                    manifest["models"][name] = _member(name)
                archive.writestr("manifest.json", json.dumps(manifest, indent=2))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def load_estimator(path):
    """Read an estimator written by :func:`save_estimator`.

    Loading runs no code from the file and writes nothing outside a temporary
    folder that it removes (see the module docstring for the checks). The
    machine-local parameters ``memory`` and ``checkpoint_dir`` load as ``None``
    (set them again with ``set_params`` on this machine); ``callbacks`` load as
    ``None``. The file may name only estimator classes already imported (each
    registers itself; this module imports none): :func:`sae_keras.load` imports
    them all first.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    estimator : LSTMSAERegressor, LSTMSAEEncoder or TableForecaster
        Fitted, predicting exactly as the saved one did.

    Raises
    ------
    ValueError
        If the file is not a sae_keras model file, is corrupted, is malformed
        (unknown class, parameters or model names, values of the wrong type,
        missing entries, unsafe or oversized zip members, models Keras cannot
        read), or comes from a newer format version than this sae_keras reads;
        the message names what is wrong.
    FileNotFoundError
        If there is no file at ``path``.

    Examples
    --------
    >>> from sae_keras import LSTMSAEEncoder  # registers the class
    >>> from sae_keras.io._zip import load_estimator
    >>> load_estimator("encoder.zip").hidden_units_   # doctest: +SKIP
    (4,)
    """
    path = Path(path)
    size = os.path.getsize(path)  # FileNotFoundError as it is
    try:
        with zipfile.ZipFile(path) as archive:
            members = _checked_members(archive, path, size)
            manifest = _read_manifest(archive, members, path)
            estimator = _estimator_from_manifest(manifest, path)
            state = _field(manifest, "fitted", path)
            names = _expected_model_names(estimator, state, path)
            models = _read_models(archive, members, manifest, names, path)
    except _READ_ERRORS as exc:
        raise ValueError(
            f"{path} is not a readable sae_keras model file (corrupted or another "
            f"format): {type(exc).__name__}: {exc}"
        ) from None
    try:
        estimator._restore_fitted(state, models)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ValueError(
            f"{path} has a malformed fitted state, or models that do not match it "
            f"({type(exc).__name__}: {exc})."
        ) from None
    _check_model_matches_state(getattr(estimator, "regressor_", estimator), path)
    return estimator


def _check_model_matches_state(estimator, path):
    """The network reads windows of the fitted shape (else predict fails inside Keras)."""
    steps, channels = tuple(estimator.model_.inputs[0].shape)[1:]
    if channels != estimator.n_channels_in_ or not (
        steps is None or steps <= estimator.timesteps_
    ):
        raise ValueError(
            f"{path} has a model reading windows of (timesteps={steps}, channels={channels}) "
            f"but a fitted state of (timesteps={estimator.timesteps_}, "
            f"channels={estimator.n_channels_in_})."
        )


def _member(name):
    """The zip member of model ``name`` (a name the class itself saves)."""
    return f"models/{name}.keras"


def _checked_members(archive, path, size):
    """The archive's members by name, once each refused if unsafe, without reading any."""
    members = {}
    for info in archive.infolist():
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or ":" in name or ".." in parts:
            raise ValueError(f"{path} has a zip member with an unsafe name {name!r}.")
        if name in members:
            raise ValueError(f"{path} has two zip members named {name!r}.")
        if info.flag_bits & 0x1:
            raise ValueError(f"{path} has an encrypted zip member {name!r}.")
        _check_size(info, size, f"{path} member {name!r}")
        members[name] = info
    return members


def _check_size(info, available, where):
    if info.header_offset + info.compress_size > available:
        raise ValueError(f"{where} is truncated: it extends past the end of the file.")
    if info.file_size > max(_SIZE_FLOOR, _MAX_EXPANSION * info.compress_size):
        raise ValueError(
            f"{where} declares {info.file_size} bytes but stores only "
            f"{info.compress_size}: refused unread (more than {_MAX_EXPANSION} times "
            "what it stores; sae_keras stores members uncompressed)."
        )


def _read_manifest(archive, members, path):
    if "manifest.json" not in members:
        raise ValueError(f"{path} has no manifest.json: it is not a sae_keras model file.")
    try:
        manifest = json.loads(archive.read(members["manifest.json"]))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{path} has a manifest.json that is not JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise ValueError(f"{path} has a manifest.json that is not a JSON object.")
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{path} is not a sae_keras model file (format {manifest.get('format')!r}).")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= FORMAT_VERSION:
        written = manifest.get("written_by")
        written = written.get("sae_keras") if isinstance(written, dict) else None
        raise ValueError(
            f"{path} uses sae_keras file format version {version!r}, written by sae_keras "
            f"{written or 'an unknown version'}; this sae_keras reads versions up to "
            f"{FORMAT_VERSION}. Upgrade sae_keras to load it."
        )
    return upgrade(manifest, version)


def _expected_model_names(estimator, state, path):
    _check_state(state, path)
    try:
        names = estimator._saved_model_names(state)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ValueError(
            f"{path} has a malformed fitted state ({type(exc).__name__}: {exc})."
        ) from None
    return names


def _read_models(archive, members, manifest, names, path):
    """The Keras models ``names`` (what the class saves), each checked, then loaded."""
    listed = _field(manifest, "models", path)
    expected = {name: _member(name) for name in names}
    if listed != expected:
        raise ValueError(
            f"{path} lists models {sorted(listed)!r}; a {manifest['class']} with this "
            f"fitted state saves exactly {sorted(expected)!r} (as models/<name>.keras)."
        )
    extra = sorted(set(members) - {"manifest.json", *expected.values()})
    if extra:
        raise ValueError(f"{path} has zip members a sae_keras file does not: {extra}.")
    models = {}
    with tempfile.TemporaryDirectory() as tmp:
        for index, name in enumerate(names):
            member = expected[name]
            if member not in members:
                raise ValueError(f"{path} has no zip member {member!r}.")
            data = archive.read(members[member])
            _check_keras_file(data, f"{path} model {name!r}")
            target = Path(tmp) / f"{index}.keras"  # named by position, never by the file
            target.write_bytes(data)
            try:
                model = keras.saving.load_model(target, compile=False, safe_mode=True)
            except Exception as exc:  # Keras' reader on untrusted bytes: any error
                raise ValueError(
                    f"{path} model {name!r} could not be read by Keras: "
                    f"{type(exc).__name__}: {exc}"
                ) from None
            if not isinstance(model, keras.Model):
                raise ValueError(f"{path} model {name!r} is a {type(model).__name__}, not a Model.")
            models[name] = model
    return models


def _check_keras_file(data, where):
    """Refuse a ``.keras`` member holding more than Keras writes for these models."""
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            infos = inner.infolist()
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{where} is not a .keras file: {exc}") from None
    names = [info.filename for info in infos]
    if len(set(names)) != len(names) or not set(names) <= _KERAS_MEMBERS:
        raise ValueError(
            f"{where} holds members {sorted(names)}; a .keras file of this library holds "
            f"only {sorted(_KERAS_MEMBERS)}."
        )
    for info in infos:
        _check_size(info, len(data), f"{where} member {info.filename!r}")


def _versions():
    from .. import __version__

    return {
        "sae_keras": __version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
    }
