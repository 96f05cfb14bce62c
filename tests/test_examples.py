"""Every example runs top to bottom in its quick setting."""

import os
import pathlib
import subprocess
import sys

import keras
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"

EXPECTED = {
    "forecast_pm25.py": "LSTM-SAE",
    "pipeline_gridsearch.py": "best:",
    "feature_extraction.py": "LSTM-SAE codes + last step",
    "tutorial_autoencoders.py": "variable-length codes:",
    "anomaly_detection.py": "events found",
    "bottleneck_size.py": "each larger size gains less than",
    "unlabeled_pretraining.py": "unlabeled windows change the LSTM-SAE's test RMSE",
    "forecast_intervals.py": "encoders, next hour, same settings",
    "rolling_origin.py": "LSTM-SAE beats Ridge at",
}


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.slow
@pytest.mark.one_backend("tensorflow")
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_quick(name, tmp_path):
    env = {"TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": keras.backend.backend()}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), "--quick"],
        capture_output=True, text=True, timeout=600, env={**os.environ, **env},
        cwd=tmp_path,  # where examples write their plots
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert EXPECTED[name] in result.stdout
    first_lines = (EXAMPLES / name).read_text().split('"""')[1]
    assert "Shows" in first_lines  # each example opens with what it shows
