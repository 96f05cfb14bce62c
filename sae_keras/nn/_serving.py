"""Models for serving: a fitted network with its scaling folded in, exported to
ONNX or a TensorFlow SavedModel.

:func:`serving_model` wraps an estimator's network in a ``keras.Model`` that reads
raw windows (float32, any batch size) and returns outputs in the user's units:
the input standardisation (and, for variable-length windows, NaN padding to
:data:`~sae_keras.nn.builders.PAD_VALUE`) in front, the target's un-scaling and
reshape behind. :func:`export_model` writes it with Keras' own
``Model.export``: on TensorFlow through ``tf2onnx`` (ONNX) or
``tf.saved_model``; on JAX through ``jax2onnx`` (ONNX) or ``jax2tf`` (SavedModel).
What a converter cannot translate is refused before anything is written
(:func:`check_exportable`), naming the option that built it.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import warnings

import keras
import numpy as np
from keras import layers

from ._layers import _Standardize, _TargetUnits
from .builders import PAD_VALUE

#: The formats :func:`export_model` writes.
FORMATS = ("onnx", "tf_saved_model")

#: What each format needs beyond Keras, per backend: the modules (their pip names
#: too) and the extra of sae-keras that installs them.
_CONVERTERS = {
    ("onnx", "tensorflow"): (("onnx", "tf2onnx"), "export"),
    ("onnx", "jax"): (("onnx", "jax2onnx"), "export-jax"),
    ("tf_saved_model", "tensorflow"): (("tensorflow",), None),
    ("tf_saved_model", "jax"): (("tensorflow",), None),  # jax2tf, then TensorFlow
}

#: The option that builds a bidirectional encoder, as the estimators name it.
_BIDIRECTIONAL_OPTION = "cell='bilstm'"


def serving_model(model, *, timesteps=None, input_stats=(None, None), padded=False,
                  covariate_stats=(), output_shape=None, output_stats=(None, None),
                  name="serving"):
    """``model`` behind the estimator's input scaling, and its output un-scaled.

    Parameters
    ----------
    model : keras.Model
        A fitted network: its first input the scaled windows, then one input
        per covariate (as :func:`~sae_keras.nn.builders.build_forecaster` builds).
    timesteps : int, default=None
        Steps of the raw windows; when more than ``model`` reads, it reads the
        first ones (an encoder pretrained to predict the rest). ``None``: as
        many as ``model`` reads.
    input_stats : (mean, scale), default=(None, None)
        Per-channel standardisation of the windows; ``(None, None)``: none.
    padded : bool, default=False
        ``model`` reads variable-length windows: NaN (right padding) becomes
        ``PAD_VALUE`` once scaled, as its ``Masking`` layer expects.
    covariate_stats : sequence of (mean, scale), default=()
        The standardisation of each further input of ``model``, in order.
    output_shape : tuple of int, default=None
        Shape of one window's output (``()`` for one value); ``None``: as
        ``model`` returns it.
    output_stats : (mean, scale), default=(None, None)
        The output's standardisation, undone (``y * scale + mean``).
    name : str, default="serving"
        The model's name.

    Returns
    -------
    keras.Model
        Inputs ``window`` (then ``static_covariates``/``future_covariates``
        for a forecaster's ``static``/``future`` inputs), float32, batch size
        free; one output.

    Examples
    --------
    >>> import numpy as np
    >>> from sae_keras.nn.builders import build_forecaster
    >>> from sae_keras.nn._serving import serving_model
    >>> network = build_forecaster(6, 2, (4,), (1,))
    >>> serving = serving_model(network, input_stats=([10.0, 0.0], [2.0, 1.0]),
    ...                         output_shape=(), output_stats=(5.0, 3.0))
    >>> serving(np.zeros((3, 6, 2), "float32")).shape
    (3,)
    """
    window_input, *covariate_inputs = model.inputs
    model_steps, n_channels = window_input.shape[1:]
    timesteps = model_steps if timesteps is None else int(timesteps)
    if len(covariate_stats) != len(covariate_inputs):
        raise ValueError(
            f"covariate_stats must hold one (mean, scale) per covariate input of the "
            f"model ({len(covariate_inputs)}); got {len(covariate_stats)}."
        )
    windows = keras.Input((timesteps, n_channels), name="window")
    scaled = _Standardize(*input_stats, fill=PAD_VALUE if padded else None,
                          name="standardize_window")(windows)
    if timesteps > model_steps:
        scaled = layers.Cropping1D((0, timesteps - model_steps), name="steps_read")(scaled)
    inputs, model_inputs = [windows], [scaled]
    for tensor, stats in zip(covariate_inputs, covariate_stats):
        label = {"static": "static_covariates", "future": "future_covariates"}.get(
            tensor.name, tensor.name
        )
        raw = keras.Input(tuple(tensor.shape[1:]), name=label)
        inputs.append(raw)
        model_inputs.append(_Standardize(*stats, name=f"standardize_{label}")(raw))
    outputs = model(model_inputs if covariate_inputs else scaled)
    if output_shape is not None or output_stats[0] is not None:
        shape = tuple(model.output_shape[1:]) if output_shape is None else tuple(output_shape)
        outputs = _TargetUnits(shape, *output_stats, name="target_units")(outputs)
    return keras.Model(inputs if covariate_inputs else windows, outputs, name=name)


def check_exportable(model, format):
    """Refuse, before anything is written, what ``format`` cannot hold on this backend.

    Raises
    ------
    ValueError
        ``format`` is not one of :data:`FORMATS`, or ``model`` holds a layer
        the backend's converter lacks (the message names the option that
        built it, and what exports instead).
    ImportError
        The converter is not installed (the message names the extra).
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}; got {format!r}.")
    backend = keras.backend.backend()
    if (format, backend) not in _CONVERTERS:
        raise ValueError(
            f"export to {format!r} runs on the tensorflow and jax Keras backends; "
            f"this process runs {backend!r}."
        )
    if format == "onnx" and backend == "jax" and any(
        isinstance(layer, layers.Bidirectional) for layer in _all_layers(model)
    ):
        raise ValueError(
            f"{_BIDIRECTIONAL_OPTION} cannot be exported to ONNX on the JAX backend: its "
            "backward LSTM is a reverse scan, which jax2onnx does not translate. Export "
            "with format='tf_saved_model', or to ONNX on the TensorFlow backend (save the "
            "estimator, load it with KERAS_BACKEND=tensorflow, export it there)."
        )
    modules, extra = _CONVERTERS[(format, backend)]
    missing = [module for module in modules if importlib.util.find_spec(module) is None]
    if missing:
        install = f"sae-keras[{extra}]" if extra else " ".join(missing)
        raise ImportError(
            f"export to {format!r} on the {backend} backend needs {', '.join(missing)}: "
            f"pip install '{install}'."
        )


def export_model(model, path, format):
    """Write ``model`` (checked with :func:`check_exportable`) to ``path`` in ``format``.

    ``"onnx"``: one ``.onnx`` file; ``"tf_saved_model"``: a SavedModel folder
    (its ``serve`` endpoint). Either takes float32 inputs of any batch size.

    Returns
    -------
    path : pathlib.Path
    """
    check_exportable(model, format)
    path = pathlib.Path(os.fspath(path))
    # Keras exports only a model that has been called on data.
    model([np.zeros((1,) + tuple(tensor.shape[1:]), dtype=np.float32)
           for tensor in model.inputs] if len(model.inputs) > 1
          else np.zeros((1,) + tuple(model.inputs[0].shape[1:]), dtype=np.float32))
    with warnings.catch_warnings():
        # Keras' own patch of tf2onnx for NumPy 2 sets np.object, which NumPy warns about.
        warnings.filterwarnings("ignore", message=".*np.object.*", category=FutureWarning)
        model.export(str(path), format=format, verbose=False)
    return path


def _all_layers(model):
    """The layers of ``model``, those of the models nested in it included."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
