"""Estimators to and from the JSON of a model file's manifest, checked on the way in.

- the registry of the estimator classes a file may name (:func:`_saved_class`:
  each estimator module registers its classes; this package imports none);
- an estimator's parameters as plain JSON (:func:`_saved_params`), and back:
  only a registered class, parameters validated like any ``set_params``, a
  nested estimator only where its class allows one (:func:`_estimator_from_manifest`);
- the kind of each fitted attribute a file may hold (:func:`_check_state`).
"""

from __future__ import annotations

import numpy as np

# Parameters that hold Python objects or machine-local paths rather than data
# are not written, and load as these values whatever a file holds:
_NOT_SAVED = {"callbacks": None, "memory": None, "checkpoint_dir": None}


def _field(manifest, key, path):
    """The JSON object ``manifest[key]``."""
    if key not in manifest:
        raise ValueError(f"{path} manifest has no {key!r}.")
    if not isinstance(manifest[key], dict):
        raise ValueError(f"{path} manifest {key!r} must be a JSON object, not "
                         f"{type(manifest[key]).__name__}.")
    return manifest[key]


#: The classes a file may name, filled by :func:`_saved_class` as each estimator
#: module is imported (sae_keras.io imports no estimator): name -> (class, nested),
#: where ``nested`` maps each parameter that may hold an estimator to the one
#: class name it may hold.
_SAVED_CLASSES = {}


def _saved_class(nested=None):
    """Class decorator: let files name this estimator class (and what it may nest).

    Only registered classes are ever built from a file; a parameter holding an
    estimator is rebuilt only where ``nested`` (parameter name -> class name)
    names it, and only as the one class named there.
    """
    nested = dict(nested or {})

    def register(cls):
        _SAVED_CLASSES[cls.__name__] = (cls, nested)
        return cls

    return register


def _classes():
    top = {name: cls for name, (cls, _) in _SAVED_CLASSES.items()}
    nested = {(name, param): top[inner] for name, (_, inners) in _SAVED_CLASSES.items()
              for param, inner in inners.items()}
    return top, nested


def _estimator_from_manifest(manifest, path):
    """The unfitted estimator of the manifest's class and parameters, validated."""
    classes, nested = _classes()
    name = manifest.get("class")
    if not isinstance(name, str) or name not in classes:
        raise ValueError(f"{path} holds a {name!r}, not one of {sorted(classes)} (the "
                         "estimator classes imported so far; sae_keras.load imports all).")
    return _estimator(classes[name], _field(manifest, "params", path), nested, path,
                      "parameters")


def _estimator(cls, params, nested, path, where):
    from sklearn.utils._param_validation import InvalidParameterError

    known = cls().get_params(deep=False)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueError(f"{path} {where}: {cls.__name__} has no parameter(s) {unknown}.")
    kwargs = {}
    for name, value in params.items():
        if name in _NOT_SAVED:
            value = _NOT_SAVED[name]
        elif isinstance(value, dict) and set(value) == {"mapping"}:
            value = _mapping(value["mapping"], f"{path} {where}: {name} of a {cls.__name__}")
        elif isinstance(value, dict):
            inner = nested.get((cls.__name__, name))
            if inner is None or set(value) != {"estimator", "params"}:
                raise ValueError(
                    f"{path} {where}: {name} of a {cls.__name__} cannot be {value!r:.80}."
                )
            frozen = _frozen_inner(value)
            if frozen is not None:  # FrozenEstimator(inner): saved as its one parameter
                value = frozen
            if value["estimator"] != inner.__name__ or not isinstance(value["params"], dict):
                raise ValueError(
                    f"{path} {where}: {name} of a {cls.__name__} must be an "
                    f"{inner.__name__} with a JSON object of parameters; got "
                    f"{value['estimator']!r}."
                )
            value = _estimator(inner, value["params"], nested, path, f"{where} of {name}")
            if frozen is not None:
                from sklearn.frozen import FrozenEstimator

                value = FrozenEstimator(value)  # unfitted: what it learned is not saved
        kwargs[name] = value
    estimator = cls(**kwargs)
    try:
        estimator._validate_params()
    except InvalidParameterError as exc:
        raise ValueError(f"{path} {where}: {exc}") from None
    return estimator


def _mapping(pairs, where):
    """A saved mapping parameter (``class_weight``): ``[[key, number], ...]`` as a dict.

    Keys are labels (strings or numbers, their JSON type kept), values numbers.
    """
    if not isinstance(pairs, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and _is_label(pair[0])
            and _is_number(pair[1]) for pair in pairs):
        raise ValueError(f"{where} must be a list of [label, number] pairs; got {pairs!r:.80}.")
    return {key: value for key, value in pairs}


def _is_label(value):
    return isinstance(value, str) or _is_number(value)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _frozen_inner(value):
    """The saved estimator inside a saved ``FrozenEstimator``, or ``None``."""
    if value["estimator"] != "FrozenEstimator" or not isinstance(value["params"], dict):
        return None
    inner = value["params"].get("estimator")
    if set(value["params"]) != {"estimator"} or not isinstance(inner, dict) \
            or set(inner) != {"estimator", "params"}:
        return None
    return inner


def _is_int(value, low=0):
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _is_numbers(value):
    """None, a number or nested lists of numbers (an array's ``tolist``)."""
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    try:
        return np.asarray(value).dtype.kind in "iuf"
    except (ValueError, TypeError, OverflowError):  # ragged
        return False


def _is_strs(value):
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_ints(value, low=0):
    return isinstance(value, list) and all(_is_int(v, low) for v in value)


#: The kind of each fitted attribute a file holds (checked where present; a
#: missing one that the class needs is refused when it is restored).
_STATE_CHECKS = {
    "hidden_units_": (lambda v: _is_ints(v, 1) and v != [], "a non-empty list of positive ints"),
    "timesteps_": (lambda v: _is_int(v, 1), "a positive int"),
    "n_channels_in_": (lambda v: _is_int(v, 1), "a positive int"),
    "n_features_in_": (lambda v: _is_int(v, 1), "a positive int"),
    "history_": (lambda v: isinstance(v, dict), "a JSON object"),
    "input_mean_": (_is_numbers, "null or numbers"),
    "input_scale_": (_is_numbers, "null or numbers"),
    "variable_length_": (lambda v: isinstance(v, bool), "true or false"),
    "strategy_": (lambda v: v is None or isinstance(v, dict), "null or a JSON object"),
    "feature_names_in_": (_is_strs, "a list of strings"),
    "output_shape_": (lambda v: _is_ints(v, 1) and len(v) <= 2,
                      "a list of at most 2 positive ints"),
    "target_mean_": (_is_numbers, "null or numbers"),
    "target_scale_": (_is_numbers, "null or numbers"),
    "linear_skip_alpha_": (lambda v: v is None or (_is_numbers(v) and np.ndim(v) == 0),
                           "null or a number"),
    "linear_skip_C_": (lambda v: v is None or (_is_numbers(v) and np.ndim(v) == 0),
                       "null or a number"),
    "patch_size_": (lambda v: _is_int(v, 1), "a positive int"),
    "conformal_scores_": (_is_numbers, "null or numbers"),
    "conformal_scales_": (_is_numbers, "null or numbers"),
    "covariate_shapes_": (
        lambda v: isinstance(v, list) and len(v) == 2 and _is_int(v[0])
        and (v[1] is None or (isinstance(v[1], list) and _is_numbers(v[1]))),
        "[int, null or a list of numbers]",
    ),
    "covariate_stats_": (
        lambda v: isinstance(v, list) and len(v) == 2 and all(
            s is None or (isinstance(s, list) and len(s) == 2 and all(map(_is_numbers, s)))
            for s in v),
        "two entries, each null or [numbers, numbers]",
    ),
    "time_column_": (lambda v: v is None or isinstance(v, str), "null or a string"),
    "id_column_": (lambda v: v is None or isinstance(v, str), "null or a string"),
    "categories_": (lambda v: isinstance(v, dict) and all(map(_is_strs, v.values())),
                    "a JSON object of lists of strings"),
    "columns_": (lambda v: _is_strs(v) and v != [], "a non-empty list of strings"),
    "target_": (lambda v: isinstance(v, str), "a string"),
    "step_": (lambda v: v is None or isinstance(v, str), "null or a string"),
    "regressor_": (lambda v: isinstance(v, dict), "a JSON object"),
    "series_": (lambda v: v is None or (isinstance(v, list) and (
        _is_strs(v) or all(isinstance(i, int) and not isinstance(i, bool) for i in v))),
        "null or a list of series ids, all strings or all ints"),
    "classes_": (lambda v: isinstance(v, list) and len(v) >= 2 and (
        _is_strs(v) or all(isinstance(c, (int, float)) for c in v)),
        "a list of at least two labels, all strings or all numbers"),
    # Parameters frozen at fit (what predict-time methods read).
    "batch_size_": (lambda v: _is_int(v, 1), "a positive int"),
    "reconstruct_": (lambda v: v in ("input", "previous"), "'input' or 'previous'"),
    "pretrain_objective_": (lambda v: v in ("reconstruction", "prediction", "composite"),
                            "'reconstruction', 'prediction' or 'composite'"),
    "prediction_steps_": (lambda v: v is None or _is_int(v, 1), "null or a positive int"),
    "reverse_reconstruction_": (lambda v: isinstance(v, bool), "true or false"),
    "dropout_seed_": (lambda v: v is None or _is_int(v), "null or a non-negative int"),
    "horizon_": (lambda v: _is_int(v, 1), "a positive int"),
    "target_mode_": (lambda v: v in ("change", "level"), "'change' or 'level'"),
    "sort_time_": (lambda v: isinstance(v, bool), "true or false"),
    "freq_": (lambda v: v is None or isinstance(v, str), "null or a string"),
    "allow_gaps_": (lambda v: isinstance(v, bool), "true or false"),
}


def _check_state(state, path, where="fitted state"):
    for key, value in state.items():
        check, expected = _STATE_CHECKS.get(key, (None, None))
        if check is not None and not check(value):
            raise ValueError(f"{path} {where}: {key} must be {expected}; got {value!r:.80}.")
    if isinstance(state.get("regressor_"), dict):
        _check_state(state["regressor_"], path, f"{where} of regressor_")


def _saved_params(estimator):
    params = {}
    for name, value in estimator.get_params(deep=False).items():
        if name in _NOT_SAVED:
            value = _NOT_SAVED[name]
        elif name == "strategy" and callable(value):
            value = "auto"
        elif name == "random_state" and not (value is None or isinstance(value, int)):
            value = None
        elif hasattr(value, "get_params"):
            # An estimator parameter (``pretraining=LSTMSAEEncoder(...)``) is saved by
            # its parameters: what it learned is already in the fitted models.
            value = {"estimator": type(value).__name__, "params": _saved_params(value)}
        elif isinstance(value, dict):
            # A mapping (``class_weight={label: weight}``) as its pairs: JSON object
            # keys are strings, and an int label must load as an int.
            value = {"mapping": [[_to_json(key), _to_json(item)] for key, item in value.items()]}
        params[name] = _to_json(value)
    return params


def _to_json(value):
    if isinstance(value, (tuple, list, np.ndarray)):
        return [_to_json(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
