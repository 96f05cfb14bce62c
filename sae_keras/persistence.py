"""Save and load fitted estimators as one zip file of ``.keras`` models and JSON.

Format (``format_version`` 1): a zip archive holding

- ``manifest.json``: ``format`` (``"sae_keras"``), ``format_version``, the versions of
  sae_keras, Keras and the backend that wrote it, the estimator ``class``, its
  ``params`` and its fitted attributes (plain JSON);
- ``models/<name>.keras``: each fitted Keras model, in Keras' own format.

Loading never runs code from the file: the class comes from a fixed list of
sae_keras estimators, parameters are validated like any ``set_params``, and the
models are read with ``keras.saving.load_model`` in its default ``safe_mode``
(no lambdas or custom code are deserialised).
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

import keras
import numpy as np

from .builders import extract_decoder

FORMAT = "sae_keras"
FORMAT_VERSION = 1

# Parameters that hold Python objects rather than data are not written:
_NOT_SAVED = {"callbacks": None}


def save_estimator(estimator, path):
    """Write a fitted estimator to ``path`` (a zip file); see the module docstring.

    ``callbacks`` are not saved (the loaded estimator has ``callbacks=None``); a
    callable ``strategy`` is saved as ``"auto"`` and a ``RandomState`` instance
    as ``None``.

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
    >>> from sae_keras.persistence import save_estimator, load_estimator
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
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(path, "w") as archive:
        for name, model in models.items():
            file = Path(tmp) / f"{name}.keras"
            model.save(file)
            archive.write(file, f"models/{name}.keras")
            manifest["models"][name] = f"models/{name}.keras"
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    return path


def load_estimator(path):
    """Read an estimator written by :func:`save_estimator`.

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
        If the file is not a sae_keras model file, is corrupted, or comes from a
        newer format version than this sae_keras reads.

    Examples
    --------
    >>> from sae_keras.persistence import load_estimator
    >>> load_estimator("encoder.zip").hidden_units_   # doctest: +SKIP
    (4,)
    """
    from .encoder import LSTMSAEEncoder
    from .forecaster import TableForecaster
    from .regressor import LSTMSAERegressor

    classes = {
        cls.__name__: cls for cls in (LSTMSAERegressor, LSTMSAEEncoder, TableForecaster)
    }
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory() as tmp:
            manifest = _read_manifest(archive, path)
            cls = classes.get(manifest.get("class"))
            if cls is None:
                raise ValueError(
                    f"{path} holds a {manifest.get('class')!r}, not one of {sorted(classes)}."
                )
            params = {
                name: _param_from_json(value, classes) for name, value in manifest["params"].items()
            }
            estimator = cls(**params)
            estimator._validate_params()
            models = {}
            for name, member in manifest["models"].items():
                target = Path(tmp) / f"{name}.keras"
                target.write_bytes(archive.read(member))
                models[name] = keras.saving.load_model(target, compile=False)
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, OSError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(
            f"{path} is not a readable sae_keras model file (corrupted or another "
            f"format): {exc}"
        ) from None
    estimator._restore_fitted(manifest["fitted"], models)
    return estimator


def _read_manifest(archive, path):
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except KeyError:
        raise ValueError(f"{path} has no manifest.json: it is not a sae_keras model file.") from None
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{path} is not a sae_keras model file (format {manifest.get('format')!r}).")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        written = manifest.get("written_by", {}).get("sae_keras", "an unknown version")
        raise ValueError(
            f"{path} uses sae_keras file format version {version!r}, written by sae_keras "
            f"{written}; this sae_keras reads versions up to {FORMAT_VERSION}. Upgrade "
            "sae_keras to load it."
        )
    return manifest


def _versions():
    from . import __version__

    return {
        "sae_keras": __version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
    }


def _saved_params(estimator):
    params = {}
    for name, value in estimator.get_params(deep=False).items():
        if name in _NOT_SAVED:
            value = _NOT_SAVED[name]
        elif name == "strategy" and callable(value):
            value = "auto"
        elif name == "memory" and value is not None:
            value = str(getattr(value, "location", value))  # a joblib.Memory's folder
        elif name == "random_state" and not (value is None or isinstance(value, int)):
            value = None
        elif hasattr(value, "get_params"):
            # An estimator parameter (``pretraining=LSTMSAEEncoder(...)``) is saved by
            # its parameters: what it learned is already in the fitted models.
            value = {"estimator": type(value).__name__, "params": _saved_params(value)}
        params[name] = _to_json(value)
    return params


def _param_from_json(value, classes):
    """An estimator parameter back from :func:`_saved_params` (an unfitted estimator)."""
    if isinstance(value, dict) and set(value) == {"estimator", "params"}:
        from sklearn.frozen import FrozenEstimator

        # A FrozenEstimator parameter comes back wrapping its estimator, unfitted.
        cls = {**classes, "FrozenEstimator": FrozenEstimator}.get(value["estimator"])
        if cls is None:
            raise ValueError(f"unknown estimator {value['estimator']!r} in parameters")
        return cls(**{k: _param_from_json(v, classes) for k, v in value["params"].items()})
    return value


def _to_json(value):
    if isinstance(value, (tuple, list, np.ndarray)):
        return [_to_json(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def rebuild_layer_models(autoencoders, *, reverse=False):
    """Encoder and decoder models sharing the layers of loaded autoencoders."""
    encoders, decoders = [], []
    for index, autoencoder in enumerate(autoencoders, start=1):
        codes = autoencoder.get_layer(f"encoder_{index}").output
        # The first input is the window or codes; teacher inputs, if any, follow.
        encoders.append(keras.Model(autoencoder.inputs[0], codes, name=f"encoder_model_{index}"))
        decoders.append(extract_decoder(autoencoder, index, reverse=reverse))
    return encoders, decoders
