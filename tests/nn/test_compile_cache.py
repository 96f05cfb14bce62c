import json
import os

import keras
import pytest
from _subprocess import run_python

from sae_keras.nn._compile_cache import default_cache_dir, use_persistent_cache

#: JAX's cache settings, unset in the subprocesses so that each case starts as a user
#: who never heard of them (the test suite itself sets a folder in conftest).
JAX_VARIABLES = {name: None for name in (
    "JAX_COMPILATION_CACHE_DIR", "JAX_ENABLE_COMPILATION_CACHE",
    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES",
)}

REPORT = """
import json, jax
print("REPORT", json.dumps({
    "dir": jax.config.jax_compilation_cache_dir,
    "min_seconds": jax.config.jax_persistent_cache_min_compile_time_secs,
    "returned": returned,
}))
"""


def _report(result):
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("REPORT "))
    return json.loads(line[len("REPORT "):])


@pytest.mark.skipif(os.name == "nt" or os.uname().sysname == "Darwin",
                    reason="the XDG folder is the Linux default")
def test_the_default_folder_is_in_the_users_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "sae_keras" / "jax"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert str(default_cache_dir()).startswith(os.path.expanduser("~"))


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's pass")
def test_tensorflow_leaves_jax_alone():
    assert use_persistent_cache() is None


@pytest.mark.one_backend("jax")
def test_a_fit_on_jax_fills_the_users_cache_folder(tmp_path):
    # Not conftest's settings: importing conftest sets the suite's own cache folder.
    code = """
import numpy as np
from sae_keras import LSTMSAEEncoder, LSTMSAERegressor
from sae_keras.nn._compile_cache import use_persistent_cache
rng = np.random.default_rng(0)
X = rng.normal(size=(64, 5, 2)).astype("float32")
pretraining = LSTMSAEEncoder(pretrain_epochs=1, early_stopping=False)
LSTMSAERegressor(hidden_units=(4,), epochs=1, early_stopping=False, pretraining=pretraining,
                 random_state=0).fit(X, X[:, -1, 0])
returned = use_persistent_cache()
"""
    result = run_python(code + REPORT, env={**JAX_VARIABLES, "KERAS_BACKEND": "jax",
                                            "XDG_CACHE_HOME": str(tmp_path)})
    report = _report(result)
    folder = tmp_path / "sae_keras" / "jax"
    assert report["dir"] == report["returned"] == str(folder)
    assert report["min_seconds"] == 0.0
    assert any(path.is_file() for path in folder.rglob("*"))  # the fit's programs


@pytest.mark.one_backend("jax")
@pytest.mark.parametrize("setting", ["opted out", "own folder"])
def test_a_users_own_jax_settings_are_kept(tmp_path, setting):
    own = tmp_path / "own"
    env = {**JAX_VARIABLES, "KERAS_BACKEND": "jax", "XDG_CACHE_HOME": str(tmp_path),
           **({"JAX_ENABLE_COMPILATION_CACHE": "false"} if setting == "opted out"
              else {"JAX_COMPILATION_CACHE_DIR": str(own)})}
    code = """
from sae_keras.nn.distribute import strategy_scope
from sae_keras.nn._compile_cache import use_persistent_cache
with strategy_scope("auto"):
    pass
returned = use_persistent_cache()
"""
    report = _report(run_python(code + REPORT, env=env))
    assert not (tmp_path / "sae_keras").exists()
    assert report["min_seconds"] == 1.0  # JAX's own threshold, untouched
    if setting == "opted out":
        assert report["dir"] is None and report["returned"] is None
    else:
        assert report["dir"] == report["returned"] == str(own)


def test_macos_and_windows_have_their_own_cache_folders(monkeypatch, tmp_path):
    monkeypatch.setattr("sys.platform", "darwin")
    assert default_cache_dir() == default_cache_dir().home() / "Library/Caches/sae_keras/jax"
    monkeypatch.setattr("sys.platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path))
    assert default_cache_dir() == tmp_path / "sae_keras" / "jax"


@pytest.fixture
def jax_cache_settings():
    """JAX's cache settings, restored after the test (they are process-wide)."""
    jax = pytest.importorskip("jax")
    names = ("jax_enable_compilation_cache", "jax_compilation_cache_dir",
             "jax_persistent_cache_min_compile_time_secs", "jax_compilation_cache_max_size")
    saved = {name: getattr(jax.config, name) for name in names}
    yield jax.config
    for name, value in saved.items():
        jax.config.update(name, value)


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="JAX's pass")
def test_in_this_process_the_settings_follow_the_user(jax_cache_settings, monkeypatch,
                                                      tmp_path):
    config = jax_cache_settings
    monkeypatch.setattr("sys.platform", "linux")  # the XDG folder
    config.update("jax_compilation_cache_dir", None)
    config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    config.update("jax_enable_compilation_cache", False)  # opted out: nothing changes
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert use_persistent_cache() is None and config.jax_compilation_cache_dir is None
    config.update("jax_enable_compilation_cache", True)
    blocked = tmp_path / "file"  # a cache home that cannot hold a folder: no cache
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert use_persistent_cache() is None and config.jax_compilation_cache_dir is None
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = str(tmp_path / "sae_keras" / "jax")
    assert use_persistent_cache() == folder == config.jax_compilation_cache_dir
    assert config.jax_persistent_cache_min_compile_time_secs == 0.0
    assert config.jax_compilation_cache_max_size == 2 * 1024**3
    assert use_persistent_cache() == folder  # the folder is now the user's: kept
