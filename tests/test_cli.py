import json
import pickle

import numpy as np
import pandas as pd
import pytest

from sae_keras.cli import main
from sae_keras.datasets import make_synthetic
from _subprocess import run_python

FAST = ["--hidden-units", "4", "--pretrain-epochs", "1", "--epochs", "1", "--quiet"]


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "series.csv"
    make_synthetic(400, 3, random_state=0).reset_index().to_csv(path, index=False)
    return path


def test_a_run_on_a_csv_writes_model_plots_and_metrics(csv, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["--data", str(csv), "--target", "target", "--timesteps", "12",
                 "--output", str(out), *FAST])
    assert code == 0
    for name in ("model.keras", "model.pkl", "forecast.png", "loss.png", "metrics.json"):
        assert (out / name).stat().st_size > 0
    report = json.loads((out / "metrics.json").read_text())
    assert set(report["metrics"]) == {"persistence", "ridge (flattened windows)", "lstm-sae"}
    assert report["settings"]["timesteps"] == 12
    assert report["metrics"]["persistence"]["skill_vs_persistence"] == 0.0
    printed = capsys.readouterr().out
    assert "| lstm-sae |" in printed and "| persistence |" in printed


def test_the_pickled_model_forecasts_in_data_units(csv, tmp_path):
    out = tmp_path / "out"
    assert main(["--data", str(csv), "--timesteps", "12", "--horizon", "3",
                 "--output", str(out), *FAST]) == 0
    model = pickle.loads((out / "model.pkl").read_bytes())
    frame = pd.read_csv(csv, index_col=0)
    X = np.stack([frame.to_numpy()[i : i + 12] for i in range(5)])
    forecast = model.predict(X)
    assert forecast.shape == (5, 3)
    assert np.abs(forecast).max() < 10 * np.abs(frame["target"]).max()


def test_the_default_data_is_the_bundled_pm25(tmp_path, capsys):
    assert main(["--timesteps", "6", "--output", str(tmp_path), *FAST]) == 0
    report = json.loads((tmp_path / "metrics.json").read_text())
    assert report["settings"]["target"] == "pollution"
    assert report["settings"]["channels"] == 8
    assert report["settings"]["encoded_columns"] == ["wnd_dir"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--epochs", "0"], "argument --epochs: expected a positive integer, got '0'"),
        (["--hidden-units", "32,x"], "argument --hidden-units: expected comma-separated"),
        (["--strategy", "quantum"], "argument --strategy: invalid choice"),
        (["--test-fraction", "1.5"], "argument --test-fraction: expected a number in (0, 1)"),
        (["--hidden-units", "8,4", "--pretrain-epochs", "1,2,3"], "give one value or one per layer (2)"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_options_give_one_line_and_exit_code_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "content, argv, message",
    [
        (None, [], "No such file"),
        ("a,b\n1,2\n3,\n5,6\n", ["--timesteps", "1"], "NaN or infinite value(s), the first at row 1, column 'b'"),
        ("a,b\n1,2\n3,4\n", ["--timesteps", "5"], "fewer than timesteps + horizon"),
        ("a,b\n1,2\n3,4\n", ["--target", "c"], "--target 'c' is not a column; columns are ['a', 'b']"),
        ("a,b\nx,2\ny,4\n", ["--target", "a"], "--target 'a' is not numeric"),
    ],
)
def test_bad_csv_gives_one_line_and_exit_code_2(tmp_path, content, argv, message, capsys):
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_text(content)
    assert main(["--data", str(path), "--output", str(tmp_path / "out"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_python_dash_m_runs_the_command():
    result = run_python(
        "import sys; sys.argv = ['sae-keras', '--help']\n"
        "import runpy; runpy.run_module('sae_keras', run_name='__main__')"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage: sae-keras" in result.stdout
