"""Fitted behaviour is frozen at fit: no parameter set after ``fit`` changes a predict-time result.

For each estimator a tiny one is fitted, then every parameter of ``get_params()``
(nested ones included) is set, one at a time, to each of its alternative valid
values; every predict-time method must return exactly what it returned before
(or raise the same error). The alternatives are generated from each estimator's
``_parameter_constraints`` where they can be, and a parameter with none fails the
test, so that a new parameter cannot be forgotten. Finally all parameters are
changed at once and the estimator is pickled and saved: the copies read the frozen
state too.
"""

import pickle
from numbers import Integral, Real

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import TINY, sine_windows
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions, make_constraint

from sae_keras import (
    LSTMSAEEncoder, LSTMSAEOutlierDetector, LSTMSAERegressor, SequenceScaler,
    TableForecaster, load,
)
from sae_keras.data.datasets import make_synthetic

SMALL = dict(TINY, hidden_units=(4, 3))
#: One phase of training only (fine-tuning): what a regressor's predict reads is its model.
ONE_PHASE = dict(hidden_units=(3,), batch_size=32, random_state=0, pretraining=None, epochs=1)


def _interval_value(interval, value):
    """A value inside ``interval`` other than ``value``, or ``None`` if none is found."""
    left = 0 if interval.left is None else interval.left
    if interval.type is Integral:
        start = value if isinstance(value, Integral) and not isinstance(value, bool) else left
        candidates = [start + 1, start + 2, left + 1, left + 2, start - 1]
    else:
        start = value if isinstance(value, Real) and not isinstance(value, bool) else left
        right = 1.0 if interval.right is None else interval.right
        candidates = [start / 2, start * 2, (left + right) / 2, start + 0.1, left + 0.05]
    for candidate in candidates:
        if candidate != value and interval.is_satisfied_by(candidate):
            return candidate
    return None


def generated_alternatives(constraints, value):
    """Other valid values of one parameter, read from its constraints."""
    out = []
    for constraint in constraints:
        if isinstance(constraint, StrOptions):
            out += [option for option in sorted(constraint.options)
                    if option != value and option not in getattr(constraint, "deprecated", ())]
        elif constraint == "boolean":
            out += [b for b in (True, False)
                    if not (isinstance(value, (bool, np.bool_)) and b == value)]
        elif isinstance(constraint, Interval):
            candidate = _interval_value(constraint, value)
            if candidate is not None:
                out.append(candidate)
        elif constraint is None and value is not None:
            out.append(None)
    return out


def manual_alternatives(tmp_path):
    """Alternatives of parameters whose constraints say too little to generate them."""
    return {
        "hidden_units": [(5, 2), [3]],
        "pretrain_epochs": [[2, 1]],
        "random_state": [None, 1, np.random.RandomState(3)],
        "verbose": [1, 2],
        "callbacks": [[keras.callbacks.Callback()], []],
        "checkpoint_dir": [str(tmp_path / "checkpoints")],
        "memory": [str(tmp_path / "cache")],
        "strategy": [lambda: None],
        "pretraining": [LSTMSAEEncoder((3,), pretrain_epochs=1)],
        "encoder": [LSTMSAEEncoder((5,), pretrain_epochs=1, random_state=2)],
        "regressor": [LSTMSAERegressor((3,), pretraining=LSTMSAEEncoder(pretrain_epochs=1),
                                       epochs=1, random_state=4)],
        "scaler": [MinMaxScaler((0, 2)), StandardScaler(with_mean=False)],
        "target": ["driver_1"],
        "time_column": ["time"],
        "id_column": ["site"],
        "categorical": [["driver_1"], ("target",)],
        "sort_time": [True],
        "feature_range": [(0, 3)],
    }


def alternatives(estimator, tmp_path):
    """``{parameter: [other valid values]}`` for every parameter of ``get_params()``."""
    manual = manual_alternatives(tmp_path)
    table = {}
    for name, value in estimator.get_params(deep=True).items():
        owner, _, leaf = name.rpartition("__")
        owner = estimator.get_params(deep=True)[owner] if owner else estimator
        constraints = getattr(owner, "_parameter_constraints", {}).get(leaf, [])
        table[name] = generated_alternatives(constraints, value) + [
            v for v in manual.get(leaf, [])
            if not _same(v, value) and _valid(v, constraints)
        ]
    return table


def _valid(value, constraints):
    """``value`` satisfies the owner's constraints (when it declares any)."""
    if not constraints:
        return True
    return any(make_constraint(c).is_satisfied_by(value) for c in constraints)


def _same(a, b):
    try:
        return bool(np.all(a == b)) and type(a) is type(b)
    except Exception:
        return a is b


def _capture(method):
    try:
        return ("ok", method())
    except Exception as exc:  # the same error, before and after
        return ("error", type(exc), str(exc))


def _assert_same(got, want, context):
    assert got[0] == want[0], f"{context}: {got[:1] + got[1:2]} != {want[:1] + want[1:2]}"
    if got[0] == "error":
        assert got[1:] == want[1:], context
        return
    got, want = got[1], want[1]
    if isinstance(want, pd.DataFrame):
        pd.testing.assert_frame_equal(got, want, obj=context)
    elif isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), context
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w, err_msg=context)
    else:
        np.testing.assert_array_equal(got, want, err_msg=context)


def outputs(estimator, methods):
    return {name: _capture(lambda m=method: m(estimator)) for name, method in methods.items()}


def check_frozen(estimator, methods, tmp_path, save=True):
    """Every parameter, every alternative: the same outputs; then all at once, copied."""
    before = outputs(estimator, methods)
    assert any(result[0] == "ok" for result in before.values())
    table = alternatives(estimator, tmp_path)
    missing = sorted(name for name, values in table.items() if not values)
    assert not missing, f"no alternative value for parameters {missing}: add them to the table"
    for name, values in table.items():
        original = estimator.get_params(deep=True)[name]
        for value in values:
            estimator.set_params(**{name: value})
            try:
                after = outputs(estimator, methods)
            finally:
                estimator.set_params(**{name: original})
            for method, result in after.items():
                _assert_same(result, before[method], f"{name}={value!r}, {method}")
    # Every top-level parameter changed at once, then copied by pickle and by save.
    estimator.set_params(**{name: table[name][0] for name in estimator.get_params(deep=False)})
    copies = {"pickle": pickle.loads(pickle.dumps(estimator))}
    if save:
        copies["save"] = load(estimator.save(tmp_path / "model.zip"))
    for how, copy in copies.items():
        for method, result in outputs(copy, methods).items():
            _assert_same(result, before[method], f"all parameters changed, {how}, {method}")


def test_the_alternatives_generated_from_constraints():
    assert generated_alternatives([StrOptions({"a", "b", "c"})], "b") == ["a", "c"]
    assert generated_alternatives(["boolean"], False) == [True]
    assert generated_alternatives(["boolean", StrOptions({"auto"})], "auto") == [True, False]
    assert generated_alternatives([Interval(Integral, 1, None, closed="left")], 1) == [2]
    assert generated_alternatives([Interval(Real, 0, 1, closed="neither")], 0.1) == [0.05]
    assert generated_alternatives([Interval(Integral, 1, None, closed="left"), None], None) == [2]
    assert generated_alternatives([list, None], [1]) == [None]
    assert generated_alternatives(["random_state"], 0) == []  # left to the manual table


def test_an_encoder_reads_only_what_fit_froze(tmp_path):
    X, _ = sine_windows(n_samples=48)
    encoder = LSTMSAEEncoder(**SMALL, pretrain_objective="composite", prediction_steps=2).fit(X)
    codes = encoder.transform(X[:4])
    methods = {
        "transform": lambda e: e.transform(X[:6]),
        "inverse_transform": lambda e: e.inverse_transform(codes),
        "reconstruction_error": lambda e: e.reconstruction_error(X[:6], per="step"),
        "score_samples": lambda e: e.score_samples(X[:6]),
        "feature_names": lambda e: e.get_feature_names_out(),
    }
    check_frozen(encoder, methods, tmp_path)


def test_the_issue_reproduction_prediction_steps_after_fit():
    X, _ = sine_windows(n_samples=40)
    encoder = LSTMSAEEncoder(**dict(TINY, hidden_units=(3,)), pretrain_objective="prediction").fit(X)
    codes = encoder.transform(X[:3])
    encoder.set_params(prediction_steps=5, pretrain_objective="reconstruction")
    np.testing.assert_array_equal(encoder.transform(X[:3]), codes)
    with pytest.raises(ValueError, match="pretrain_objective='prediction'"):
        encoder.inverse_transform(codes)  # as fitted: a prediction stack decodes nothing


@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_a_regressor_reads_only_what_fit_froze(tmp_path, dropout):
    X, y = sine_windows(n_samples=64)
    reg = LSTMSAERegressor(**ONE_PHASE, dropout=dropout, calibration_fraction=0.3).fit(X, y)
    methods = {
        "predict": lambda r: r.predict(X[:6]),
        "return_std": lambda r: r.predict(X[:6], return_std=True, n_passes=4),
        "conformal": lambda r: r.predict_interval(X[:6], coverage=0.8),
        "mc_dropout": lambda r: r.predict_interval(X[:6], method="mc_dropout", n_passes=4),
        "recursive": lambda r: r.predict_recursive(X[:3], steps=3),
        "score": lambda r: r.score(X[:10], y[:10]),
    }
    check_frozen(reg, methods, tmp_path)


def test_the_issue_reproduction_dropout_after_fit():
    X, y = sine_windows(n_samples=40)
    reg = LSTMSAERegressor(**ONE_PHASE, dropout=0.0).fit(X, y)
    reg.set_params(dropout=0.3)
    with pytest.raises(ValueError, match="dropout > 0"):
        reg.predict(X[:2], return_std=True)


def test_an_outlier_detector_reads_only_what_fit_froze(tmp_path):
    X, _ = sine_windows(n_samples=48)
    detector = LSTMSAEOutlierDetector(LSTMSAEEncoder(**dict(TINY, hidden_units=(3,))),
                                      contamination=0.1).fit(X)
    methods = {
        "score_samples": lambda d: d.score_samples(X[:8]),
        "decision_function": lambda d: d.decision_function(X[:8]),
        "predict": lambda d: d.predict(X[:8]),
    }
    check_frozen(detector, methods, tmp_path, save=False)  # not a saved class: pickle only


def test_a_table_forecaster_reads_only_what_fit_froze(tmp_path):
    table = make_synthetic(80, 2, random_state=0)
    forecaster = TableForecaster(
        "target", timesteps=6, horizon=2,
        regressor=LSTMSAERegressor(**ONE_PHASE),
    ).fit(table.iloc[:60])
    new = table.iloc[50:]
    shuffled = new.sample(frac=1.0, random_state=0)
    methods = {
        "predict": lambda f: f.predict(new),
        "predict_unsorted": lambda f: f.predict(shuffled),  # refused, as fitted
        "windows": lambda f: f.windows(new),
        "windows_only": lambda f: f.windows(new, targets=False),
    }
    check_frozen(forecaster, methods, tmp_path)


def test_the_issue_reproduction_target_mode_after_fit():
    table = make_synthetic(60, 2, random_state=0)
    forecaster = TableForecaster("target", timesteps=6,
                                 regressor=LSTMSAERegressor(**ONE_PHASE)).fit(table)
    forecast = forecaster.predict(table.iloc[-6:])
    forecaster.set_params(target_mode="level", timesteps=4, horizon=3)
    pd.testing.assert_frame_equal(forecaster.predict(table.iloc[-6:]), forecast)


@pytest.mark.parametrize("scaler", [None, StandardScaler(), MinMaxScaler((-2, 2))])
def test_a_sequence_scaler_reads_only_what_fit_froze(tmp_path, scaler):
    X, _ = sine_windows(n_samples=20)
    sequence_scaler = SequenceScaler(scaler).fit(X)
    methods = {
        "transform": lambda s: s.transform(X[:5]),
        "inverse_transform": lambda s: s.inverse_transform(X[:5]),
        "transform_channels": lambda s: s.transform_channels(X[:5, 0, 1], 1),
        "inverse_transform_channels": lambda s: s.inverse_transform_channels(X[:5, :, 0], 0),
    }
    check_frozen(sequence_scaler, methods, tmp_path, save=False)


def _without(path, target, fitted_names):
    """A copy of the model file ``path`` whose manifest lacks the given fitted attributes."""
    import json
    import zipfile

    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as copy:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "manifest.json":
                manifest = json.loads(data)
                fitted = manifest["fitted"]
                for name in fitted_names:
                    owner = fitted["regressor_"] if name.startswith("regressor_.") else fitted
                    del owner[name.rpartition(".")[2]]
                data = json.dumps(manifest)
            copy.writestr(item, data)
    return target


def test_files_saved_before_the_freeze_load_with_their_saved_parameters(tmp_path):
    """A manifest without the frozen attributes reads them from its parameters, as before."""
    X, y = sine_windows(n_samples=40)
    reg = LSTMSAERegressor(**dict(ONE_PHASE, random_state=3), dropout=0.2).fit(X, y)
    old = _without(reg.save(tmp_path / "new.zip"), tmp_path / "old.zip",
                   ["batch_size_", "dropout_seed_"])
    loaded = load(old)
    assert loaded.batch_size_ == reg.batch_size and loaded.dropout_seed_ == reg.dropout_seed_
    np.testing.assert_array_equal(loaded.predict(X[:4], return_std=True, n_passes=3)[1],
                                  reg.predict(X[:4], return_std=True, n_passes=3)[1])
    table = make_synthetic(40, 2, random_state=0)
    forecaster = TableForecaster("target", timesteps=5, horizon=2, target_mode="level",
                                 regressor=LSTMSAERegressor(**ONE_PHASE)).fit(table)
    old = _without(forecaster.save(tmp_path / "table.zip"), tmp_path / "old_table.zip",
                   ["timesteps_", "horizon_", "target_mode_", "sort_time_",
                    "regressor_.batch_size_", "regressor_.dropout_seed_"])
    loaded = load(old)
    assert (loaded.timesteps_, loaded.horizon_, loaded.target_mode_) == (5, 2, "level")
    pd.testing.assert_frame_equal(loaded.predict(table), forecaster.predict(table))
