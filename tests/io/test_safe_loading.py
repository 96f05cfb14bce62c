"""Hostile and damaged model files are refused with ValueError, writing nothing outside
the loader's temporary folder; save never destroys the previous file (issue 21, items 1-4).

The crafted files are rewrites of real saved tiny estimators (one fit per module).
"""

import io
import json
import os
import tempfile
import zipfile

import numpy as np
import pytest

import sae_keras
from sae_keras import LSTMSAERegressor, TableForecaster
from sae_keras.training._checkpoint import Checkpoint
from conftest import TINY_REGRESSOR, sine_windows


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A saved regressor (pretraining=an LSTMSAEEncoder) and a saved TableForecaster."""
    from sae_keras.data.datasets import make_synthetic

    folder = tmp_path_factory.mktemp("saved")
    X, y = sine_windows(n_samples=40)
    regressor = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).fit(X, y)
    table = make_synthetic(80, 2, random_state=0)
    forecaster = TableForecaster(
        "target", timesteps=6, regressor=LSTMSAERegressor(**TINY_REGRESSOR, epochs=1)
    ).fit(table)
    return {
        "regressor": regressor.save(folder / "reg.zip"),
        "forecaster": forecaster.save(folder / "forecaster.zip"),
        "X": X,
        "expected": regressor.predict(X),
    }


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """``tmp_path/tmp`` as the temporary folder; yields ``tmp_path``."""
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return tmp_path


def rewrite(src, dst, manifest=None, members=None, drop=()):
    """Copy the zip ``src`` to ``dst``: ``manifest(m)`` edits the manifest in place,
    ``members`` ({name: bytes}) replaces or adds members, ``drop`` leaves some out."""
    members = dict(members or {})
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        for item in old.infolist():
            if item.filename in drop:
                continue
            data = old.read(item.filename)
            if item.filename == "manifest.json" and manifest is not None:
                content = json.loads(data)
                manifest(content)
                data = json.dumps(content)
            new.writestr(item.filename, members.pop(item.filename, data))
        for name, data in members.items():
            new.writestr(name, data)
    return dst


def assert_refused(path, sandbox, match):
    before = sorted(p for p in sandbox.rglob("*") if p != path)
    with pytest.raises(ValueError, match=match):
        sae_keras.load(path)
    after = sorted(p for p in sandbox.rglob("*") if p != path)
    assert after == before, "load wrote files"
    assert os.listdir(sandbox / "tmp") == [], "the temporary folder was left behind"


# -- item 1: no string from a file becomes a path ----------------------------

@pytest.mark.parametrize("name", ["../../escaped", "../escaped", "ABSOLUTE"])
def test_model_names_from_the_manifest_never_become_paths(saved, sandbox, name):
    outside = sandbox / "outside"
    outside.mkdir()
    name = str(outside / "escaped") if name == "ABSOLUTE" else name
    crafted = rewrite(saved["regressor"], sandbox / "crafted.zip",
                      manifest=lambda m: m.update(models={name: "models/model_.keras"}))
    assert_refused(crafted, sandbox, "lists models \\['.*'\\]; a LSTMSAERegressor .* saves "
                                     "exactly \\['model_'\\]")
    assert not list(sandbox.rglob("*escaped*"))


def test_a_manifest_pointing_at_another_member_is_refused(saved, sandbox):
    crafted = rewrite(saved["regressor"], sandbox / "crafted.zip",
                      manifest=lambda m: m.update(models={"model_": "manifest.json"}),
                      members={"models/other.keras": b"x"})
    assert_refused(crafted, sandbox, "lists models")


@pytest.mark.parametrize("member", [
    "../evil.txt", "/tmp/evil.txt", "models/../../evil.keras", "C:/evil.txt", "..\\evil.txt",
])
def test_zip_members_with_unsafe_names_are_refused(saved, sandbox, member):
    crafted = rewrite(saved["regressor"], sandbox / "crafted.zip", members={member: b"evil"})
    assert_refused(crafted, sandbox, f"unsafe name {member!r}".replace("\\", "\\\\"))


def test_unexpected_zip_members_are_refused(saved, sandbox):
    crafted = rewrite(saved["regressor"], sandbox / "crafted.zip",
                      members={"models/extra.keras": b"x"})
    assert_refused(crafted, sandbox,
                   "members a sae_keras file does not: \\['models/extra.keras'\\]")


# -- item 2: a malformed file raises ValueError naming what is wrong ---------

def _set(*keys, value):
    def change(manifest):
        target = manifest
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return change


def _delete(*keys):
    def change(manifest):
        target = manifest
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]
    return change


@pytest.mark.parametrize("change, match", [
    (_set("class", value=["LSTMSAERegressor"]), "holds a \\['LSTMSAERegressor'\\], not one of"),
    (_set("params", value=[]), "'params' must be a JSON object, not list"),
    (_set("fitted", value="x"), "'fitted' must be a JSON object, not str"),
    (_set("models", value=[]), "'models' must be a JSON object, not list"),
    (_set("params", "no_such_parameter", value=1),
     "has no parameter\\(s\\) \\['no_such_parameter'\\]"),
    (_set("params", "hidden_units", value="many"), "parameters: The 'hidden_units' parameter"),
    (_set("fitted", "hidden_units_", value="abc"), "hidden_units_ must be a non-empty list"),
    (_set("fitted", "timesteps_", value="8"), "timesteps_ must be a positive int"),
    (_set("fitted", "input_mean_", value=["a", "b"]), "input_mean_ must be null or numbers"),
    (_set("fitted", "output_shape_", value={"a": 1}), "output_shape_ must be a list"),
    (_delete("params"), "manifest has no 'params'"),
    (_delete("fitted"), "manifest has no 'fitted'"),
    (_delete("models"), "manifest has no 'models'"),
    (_delete("fitted", "timesteps_"), "malformed fitted state.*KeyError: 'timesteps_'"),
    (_delete("models", "model_"), "lists models \\[\\]"),
])
def test_a_malformed_manifest_is_refused_naming_what_is_wrong(saved, sandbox, change, match):
    crafted = rewrite(saved["regressor"], sandbox / "crafted.zip", manifest=change)
    assert_refused(crafted, sandbox, match)


@pytest.mark.parametrize("value, match", [
    ({"estimator": "LSTMSAEEncoder", "params": {"optimizer": "bogus"}},
     "parameters of pretraining: The 'optimizer' parameter of LSTMSAEEncoder"),
    ({"estimator": "LSTMSAEEncoder", "params": {"no_such_parameter": 1}},
     "LSTMSAEEncoder has no parameter\\(s\\) \\['no_such_parameter'\\]"),
    ({"estimator": "os.system", "params": {}}, "pretraining of a LSTMSAERegressor must be an "
                                               "LSTMSAEEncoder"),
    ({"estimator": "TableForecaster", "params": {}}, "must be an LSTMSAEEncoder"),
    ({"estimator": "LSTMSAEEncoder", "params": [1]},
     "must be an LSTMSAEEncoder with a JSON object"),
    ({"estimator": "LSTMSAEEncoder"}, "pretraining of a LSTMSAERegressor cannot be"),
])
def test_nested_estimator_parameters_are_validated_like_top_level_ones(
    saved, sandbox, value, match
):
    crafted = rewrite(saved["regressor"], sandbox / "crafted.zip",
                      manifest=_set("params", "pretraining", value=value))
    assert_refused(crafted, sandbox, match)


def test_a_forecasters_nested_regressor_is_validated(saved, sandbox):
    crafted = rewrite(saved["forecaster"], sandbox / "crafted.zip",
                      manifest=_set("params", "regressor", "params", "loss", value="bogus"))
    assert_refused(crafted, sandbox, "parameters of regressor: The 'loss' parameter")
    crafted = rewrite(saved["forecaster"], sandbox / "crafted.zip",
                      manifest=_set("params", "regressor", "estimator", value="LSTMSAEEncoder"))
    assert_refused(crafted, sandbox, "regressor of a TableForecaster must be an LSTMSAERegressor")
    crafted = rewrite(saved["forecaster"], sandbox / "crafted.zip",
                      manifest=_set("fitted", "regressor_", "timesteps_", value=-1))
    assert_refused(crafted, sandbox, "fitted state of regressor_: timesteps_ must be a positive")
    crafted = rewrite(saved["forecaster"], sandbox / "crafted.zip",
                      manifest=_set("models", value={"model_": "models/model_.keras"}))
    assert_refused(crafted, sandbox, "saves exactly \\['regressor_.model_'\\]")


def test_machine_local_paths_are_neither_saved_nor_restored(saved, sandbox):
    elsewhere = str(sandbox / "elsewhere")

    def change(manifest):
        manifest["params"].update(checkpoint_dir=elsewhere)
        manifest["params"]["pretraining"]["params"].update(memory=elsewhere,
                                                           checkpoint_dir=elsewhere)

    loaded = sae_keras.load(rewrite(saved["regressor"], sandbox / "crafted.zip", manifest=change))
    assert loaded.checkpoint_dir is None
    assert loaded.pretraining.memory is None and loaded.pretraining.checkpoint_dir is None
    np.testing.assert_array_equal(loaded.predict(saved["X"]), saved["expected"])
    loaded.set_params(checkpoint_dir=elsewhere, pretraining__memory=elsewhere)
    with zipfile.ZipFile(loaded.save(sandbox / "again.zip")) as archive:
        params = json.loads(archive.read("manifest.json"))["params"]
    assert params["checkpoint_dir"] is None and params["pretraining"]["params"]["memory"] is None
    assert not os.path.exists(elsewhere)


def _keras_member(saved, replace=None, add=None):
    """The saved model_.keras, with members replaced or added."""
    with zipfile.ZipFile(saved["regressor"]) as archive:
        data = archive.read("models/model_.keras")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(out, "w") as new:
        for item in old.infolist():
            new.writestr(item.filename, (replace or {}).get(item.filename, old.read(item)))
        for name, content in (add or {}).items():
            new.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize("inner, match", [
    ({"replace": {"config.json": b"{}"}}, "model 'model_' could not be read by Keras"),
    ({"replace": {"config.json": b"not json"}}, "model 'model_' could not be read by Keras"),
    ({"add": {"assets/../../x": b"x"}}, "model 'model_' holds members"),
    (None, "model 'model_' is not a .keras file"),
])
def test_a_model_keras_cannot_read_is_refused_with_value_error(saved, sandbox, inner, match):
    data = b"not a zip" if inner is None else _keras_member(saved, **inner)
    crafted = rewrite(saved["regressor"], sandbox / "crafted.zip",
                      members={"models/model_.keras": data})
    assert_refused(crafted, sandbox, match)


@pytest.mark.parametrize("content", ["empty file", "empty zip", "truncated", "cut member"])
def test_truncated_and_empty_files_are_refused(saved, sandbox, content):
    path = sandbox / "crafted.zip"
    data = saved["regressor"].read_bytes()
    if content == "empty file":
        path.write_bytes(b"")
    elif content == "empty zip":
        zipfile.ZipFile(path, "w").close()
    elif content == "truncated":
        path.write_bytes(data[: len(data) // 2])
    else:  # the central directory intact, a member's data cut short
        with zipfile.ZipFile(saved["regressor"]) as archive:
            info = archive.getinfo("models/model_.keras")
        start = info.header_offset + 30 + len(info.filename)
        path.write_bytes(data[: start + 100] + data[start + info.compress_size:])
    assert_refused(path, sandbox, "not a readable sae_keras model file|no manifest.json")


HUGE = 64 << 20  # deflated zeros: about 1000 times smaller stored


def _with_huge_member(src, huge):
    """A copy of the zip bytes ``src`` whose member ``huge`` is HUGE deflated zero bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as old, zipfile.ZipFile(out, "w") as new:
        for item in old.infolist():
            if item.filename != huge:
                new.writestr(item.filename, old.read(item))
        info = zipfile.ZipInfo(huge)
        info.compress_type = zipfile.ZIP_DEFLATED
        with new.open(info, "w") as handle:
            chunk = bytes(1 << 20)
            for _ in range(HUGE >> 20):
                handle.write(chunk)
    return out.getvalue()


@pytest.mark.parametrize("huge", ["models/model_.keras", "manifest.json", "model.weights.h5"])
def test_a_member_declaring_a_huge_size_is_refused_unread(saved, sandbox, monkeypatch, huge):
    path = sandbox / "crafted.zip"
    if huge == "model.weights.h5":  # inside the .keras file
        rewrite(saved["regressor"], path, members={
            "models/model_.keras": _with_huge_member(_keras_member(saved), huge)})
        match = f"model 'model_' member '{huge}' declares {HUGE} bytes but stores only"
    else:
        path.write_bytes(_with_huge_member(saved["regressor"].read_bytes(), huge))
        match = f"member '{huge}' declares {HUGE} bytes but stores only"
    opened = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    assert_refused(path, sandbox, match)
    assert huge not in opened


# -- item 3: save replaces a file only once the new one is complete ----------

@pytest.mark.parametrize("step", ["manifest", "model"])
def test_a_save_failing_midway_leaves_the_previous_file_intact(saved, tmp_path, monkeypatch, step):
    import keras

    loaded = sae_keras.load(saved["regressor"])
    target = tmp_path / "model.zip"
    previous = loaded.save(target).read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    if step == "manifest":  # the last member written
        monkeypatch.setattr(zipfile.ZipFile, "writestr", fail)
    else:
        monkeypatch.setattr(keras.Model, "save", fail)
    with pytest.raises(OSError, match="disk full"):
        loaded.save(target)
    assert target.read_bytes() == previous
    assert os.listdir(tmp_path) == ["model.zip"], "a temporary file was left behind"
    monkeypatch.undo()
    loaded.save(target)
    assert os.listdir(tmp_path) == ["model.zip"]
    np.testing.assert_array_equal(sae_keras.load(target).predict(saved["X"]), saved["expected"])


# -- the checkpoint directory: its contents never become paths ----------------

def test_a_checkpoint_state_never_names_files_outside_its_directory(tmp_path):
    directory, victim = tmp_path / "ckpt", tmp_path / "victim.npz"
    directory.mkdir()
    np.savez(victim, model__00000=np.ones(3))
    info = {"epoch": 1, "done": False, "history": {"loss": [1.0]}, "best": None, "wait": 0}
    (directory / "state.json").write_text(json.dumps({
        "fingerprint": "f", "seed": 1,
        "phases": {"fine-tuning": {**info, "file": "../victim.npz"}, "bad": {"epoch": "x"}},
    }))
    checkpoint = Checkpoint(directory, "f")
    assert checkpoint.seed == 1
    assert "bad" not in checkpoint.state["phases"]
    assert checkpoint.phase("fine-tuning") == (None, None)  # its own file is missing
    checkpoint.clear()
    assert victim.exists()
    assert os.listdir(directory) == []


@pytest.mark.parametrize("state", ["[1, 2]", '{"fingerprint": "f", "phases": []}',
                                   '{"fingerprint": "f", "seed": "x", "phases": {}}'])
def test_a_checkpoint_state_of_another_shape_counts_as_none(tmp_path, state):
    (tmp_path / "state.json").write_text(state)
    checkpoint = Checkpoint(tmp_path, "f")
    assert checkpoint.seed is None and checkpoint.state["phases"] == {}


@pytest.mark.parametrize("key, value", [("n_channels_in_", 3), ("timesteps_", 4)])
def test_a_fitted_state_that_disagrees_with_its_model_is_refused(saved, sandbox, key, value):
    crafted = rewrite(saved["regressor"], sandbox / "crafted.zip",
                      manifest=_set("fitted", key, value=value))
    assert_refused(crafted, sandbox, "has a model reading windows of \\(timesteps=8, channels=2\\)")
