"""Files saved by earlier releases still load and predict what they did when saved.

``tests/io/saved_<version>/`` holds one file of each savable class, written by that
version (``tests/io/make_saved_files.py``), and what each predicted then.
"""

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sae_keras

DATA = Path(__file__).parent
FOLDERS = sorted(DATA.glob("saved_*"))


def test_there_are_fixtures_of_a_release():
    assert [folder.name for folder in FOLDERS] >= ["saved_0.1.0"]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda folder: folder.name)
def test_old_files_load_and_predict_as_when_saved(folder):
    expected = np.load(folder / "expected.npz")
    version = folder.name.removeprefix("saved_")
    for name in ("encoder.zip", "regressor.zip", "table_forecaster.zip"):
        with zipfile.ZipFile(folder / name) as archive:
            manifest = json.loads(archive.read("manifest.json"))
        assert manifest["format_version"] == 1 and manifest["written_by"]["sae_keras"] == version
    X = expected["X"]
    encoder = sae_keras.load(folder / "encoder.zip")
    assert type(encoder).__name__ == "LSTMSAEEncoder"
    np.testing.assert_allclose(encoder.transform(X), expected["encoder_transform"],
                               rtol=1e-4, atol=1e-6)
    regressor = sae_keras.load(folder / "regressor.zip")
    np.testing.assert_allclose(regressor.predict(X), expected["regressor_predict"],
                               rtol=1e-4, atol=1e-6)
    forecaster = sae_keras.load(folder / "table_forecaster.zip")
    frame = pd.read_csv(folder / "table.csv")
    np.testing.assert_allclose(forecaster.predict(frame).to_numpy(dtype=float),
                               expected["forecaster_predict"], rtol=1e-4, atol=1e-6)
