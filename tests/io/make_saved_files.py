"""Write the saved-file fixtures: one file of each savable class, and what it predicts.

Files saved by one release must keep loading in the next (the decision of issue #22,
checked by ``tests/io/test_saved_files.py``). This script wrote ``saved_0.1.0/`` with the
code of 0.1.0 just before the package moved into subpackages; run it again only to add
the files of a new format version, into a new folder, never to overwrite old ones::

    KERAS_BACKEND=tensorflow python tests/io/make_saved_files.py tests/io/saved_0.1.0
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

import sae_keras
from sae_keras import LSTMSAEEncoder, LSTMSAERegressor, TableForecaster

SETTINGS = dict(hidden_units=(6, 4), batch_size=32, random_state=0)
RECIPE = dict(pretrain_epochs=1, batch_size=32)


def windows(n_samples=96, timesteps=8, n_channels=2, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples + timesteps + 1)
    series = np.stack([np.sin(2 * np.pi * t / (12 + 5 * c)) for c in range(n_channels)], 1)
    series = series + 0.05 * rng.normal(size=series.shape)
    X = np.stack([series[i : i + timesteps] for i in range(n_samples)])
    return X, series[timesteps : timesteps + n_samples, 0]


def table(n_rows=120, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n_rows)
    return pd.DataFrame({
        "time": pd.date_range("2020-01-01", periods=n_rows, freq="h").astype(str),
        "load": 10 + np.sin(2 * np.pi * t / 24) + 0.1 * rng.normal(size=n_rows),
        "temp": 20 + np.cos(2 * np.pi * t / 24) + 0.1 * rng.normal(size=n_rows),
    })


def main(folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    X, y = windows()
    encoder = LSTMSAEEncoder(**SETTINGS, **RECIPE).fit(X)
    regressor = LSTMSAERegressor(**SETTINGS, pretraining=LSTMSAEEncoder(**RECIPE),
                                 epochs=1).fit(X, y)
    frame = table()
    forecaster = TableForecaster(
        "load", timesteps=8, horizon=2, time_column="time",
        regressor=LSTMSAERegressor(**SETTINGS, pretraining=LSTMSAEEncoder(**RECIPE), epochs=1),
    ).fit(frame)
    encoder.save(folder / "encoder.zip")
    regressor.save(folder / "regressor.zip")
    forecaster.save(folder / "table_forecaster.zip")
    frame.to_csv(folder / "table.csv", index=False)
    np.savez(
        folder / "expected.npz", X=X,
        encoder_transform=encoder.transform(X),
        regressor_predict=regressor.predict(X),
        forecaster_predict=forecaster.predict(frame).to_numpy(dtype=float),
    )
    for name in ("encoder.zip", "regressor.zip", "table_forecaster.zip"):
        sae_keras.load(folder / name)  # each one loads back at once
    print("wrote", sorted(p.name for p in folder.iterdir()))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "saved_0.1.0")
