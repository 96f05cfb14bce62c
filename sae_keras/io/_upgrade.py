"""Files of an earlier format version read as today's: what was renamed or moved.

Format version 1 (sae_keras 0.1.0) to 2:

- ``LSTMSAEEncoder``: ``pretraining`` became ``reconstruct``, ``encoder`` became
  ``cell``, ``reverse_target`` became ``reverse_reconstruction`` (and the fitted
  ``pretraining_`` and ``reverse_target_``, ``reconstruct_`` and
  ``reverse_reconstruction_``);
- ``LSTMSAERegressor``: ``encoder`` became ``cell``; how it pretrained (the target
  in ``pretraining``, ``pretrain_epochs``, ``decoder_units``, ``pretrain_noise``,
  ``reverse_target``, ``pretrain_objective``, ``prediction_steps``,
  ``composite_weight``, ``conditional_decoder``) became its composed encoder's
  parameters: ``pretraining="auto"`` where they were the defaults, else
  ``pretraining=LSTMSAEEncoder(...)`` with them and the regressor's training
  settings, which pretraining used; ``memory`` (never saved) went with them.

Only the JSON changes; the models are read as they are. What is not a JSON object
where one is expected is left for the checks that follow to refuse.
"""

from __future__ import annotations

_ENCODER_RENAMES = {"pretraining": "reconstruct", "encoder": "cell",
                    "reverse_target": "reverse_reconstruction"}
_ENCODER_STATE_RENAMES = {"pretraining_": "reconstruct_",
                          "reverse_target_": "reverse_reconstruction_"}

#: The regressor's version-1 pretraining parameters and their defaults (as the
#: encoder's, renamed).
_RECIPE = {"pretrain_epochs": 10, "decoder_units": None, "pretrain_noise": 0.0,
           "reverse_target": False, "pretrain_objective": "reconstruction",
           "prediction_steps": 1, "composite_weight": 0.5, "conditional_decoder": False}
_SHARED = ("hidden_units", "activation", "scaling", "optimizer", "learning_rate", "loss",
           "batch_size", "early_stopping", "validation_fraction", "n_iter_no_change", "tol")


def upgrade(manifest, version):
    """``manifest`` of format ``version`` as the current format has it (a new dict)."""
    manifest = dict(manifest)
    if version < 2:
        name = manifest.get("class")
        if isinstance(manifest.get("params"), dict):
            manifest["params"] = _params_v1(name, manifest["params"])
        if name == "LSTMSAEEncoder" and isinstance(manifest.get("fitted"), dict):
            manifest["fitted"] = _renamed(manifest["fitted"], _ENCODER_STATE_RENAMES)
    return manifest


def _params_v1(name, params):
    if name == "LSTMSAEEncoder":
        return _renamed(params, _ENCODER_RENAMES)
    if name == "LSTMSAERegressor":
        return _regressor_v1(params)
    if name == "TableForecaster" and isinstance(params.get("regressor"), dict):
        inner = dict(params["regressor"])
        if isinstance(inner.get("params"), dict):
            inner["params"] = _params_v1(inner.get("estimator"), inner["params"])
        return {**params, "regressor": inner}
    return params


def _regressor_v1(params):
    params = _renamed(params, {"encoder": "cell"})
    params.pop("memory", None)
    recipe = {key: params.pop(key) for key in _RECIPE if key in params}
    pretraining = params.get("pretraining")
    if isinstance(pretraining, dict):  # a nested encoder (or a frozen one)
        params["pretraining"] = _nested_encoder_v1(pretraining)
    elif pretraining in ("input", "previous"):
        defaults = all(recipe.get(key, value) == value for key, value in _RECIPE.items())
        if pretraining == "input" and defaults:
            params["pretraining"] = "auto"
        else:
            encoder = {"reconstruct": pretraining, "cell": params.get("cell", "lstm"),
                       **{key: params[key] for key in _SHARED if key in params},
                       **_renamed(recipe, _ENCODER_RENAMES)}
            params["pretraining"] = {"estimator": "LSTMSAEEncoder", "params": encoder}
    return params


def _nested_encoder_v1(value):
    value = dict(value)
    inner = value.get("params")
    if value.get("estimator") == "LSTMSAEEncoder" and isinstance(inner, dict):
        value["params"] = _renamed(inner, _ENCODER_RENAMES)
    elif value.get("estimator") == "FrozenEstimator" and isinstance(inner, dict) \
            and isinstance(inner.get("estimator"), dict):
        value["params"] = {**inner, "estimator": _nested_encoder_v1(inner["estimator"])}
    return value


def _renamed(mapping, renames):
    return {renames.get(key, key): value for key, value in mapping.items()}
