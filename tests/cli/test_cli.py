import json

import numpy as np
import pandas as pd
import pytest

import sae_keras
from sae_keras.cli import _job
from sae_keras.cli._command import build_parser, main
from sae_keras.data.datasets import make_synthetic
from _subprocess import run_python

FAST = ["--hidden-units", "4", "--pretrain-epochs", "1", "--epochs", "1", "--quiet"]


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "series.csv"
    # 600 rows: more than 100 test windows, the job's minimum.
    make_synthetic(600, 3, random_state=0).reset_index().to_csv(path, index=False)
    return path


def test_a_run_on_a_csv_writes_model_plots_and_metrics(csv, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["--data", str(csv), "--target", "target", "--timesteps", "12",
                 "--output", str(out), *FAST])
    assert code == 0
    for name in ("model.zip", "forecast.png", "loss.png", "metrics.json"):
        assert (out / name).stat().st_size > 0
    report = json.loads((out / "metrics.json").read_text())
    assert set(report["metrics"]) == {"persistence", "ridge (flattened windows)", "lstm-sae"}
    assert report["settings"]["timesteps"] == 12
    assert report["metrics"]["persistence"]["skill_vs_persistence"] == 0.0
    printed = capsys.readouterr().out
    assert "| lstm-sae |" in printed and "| persistence |" in printed


def test_the_saved_model_forecasts_new_rows_in_data_units_with_timestamps(csv, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--data", str(csv), "--timesteps", "12", "--horizon", "3",
                 "--output", str(out), *FAST]) == 0
    report = json.loads((out / "metrics.json").read_text())
    assert report["settings"]["time_column"] == "time"
    model = sae_keras.load(out / "model.zip")
    new = pd.read_csv(csv).iloc[-40:]
    forecast = model.predict(new)
    # One row per complete window, labelled by its last observed time.
    assert forecast.shape == (40 - 12 + 1, 3)
    assert list(forecast.columns) == ["target+1", "target+2", "target+3"]
    assert forecast.index[0] == pd.Timestamp(new["time"].iloc[11])
    # In the data's units: the change target is added back to the last value.
    assert np.abs(forecast.to_numpy() - new["target"].to_numpy()[11:, None]).max() < 1.0
    # The same forecasts from the command line.
    capsys.readouterr()
    new.to_csv(tmp_path / "new.csv", index=False)
    assert main(["predict", "--model", str(out / "model.zip"), "--data",
                 str(tmp_path / "new.csv"), "--output", str(tmp_path / "f.csv")]) == 0
    written = pd.read_csv(tmp_path / "f.csv", index_col="origin", parse_dates=["origin"])
    np.testing.assert_allclose(written.to_numpy(), forecast.to_numpy(), rtol=1e-6)
    assert (written.index == forecast.index).all()


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_predict_refuses_what_it_cannot_read(csv, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--data", str(csv), "--timesteps", "12", "--output", str(out), *FAST]) == 0
    capsys.readouterr()
    bad = pd.read_csv(csv).drop(columns=["driver_1"]).iloc[-20:]
    bad.to_csv(tmp_path / "bad.csv", index=False)
    argv = ["predict", "--model", str(out / "model.zip"), "--data", str(tmp_path / "bad.csv")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "frame lacks the fitted column(s) ['driver_1']" in err
    assert len(err.strip().splitlines()) == 1
    assert main(["predict", "--model", str(csv), "--data", str(csv)]) == 2
    assert "not a readable sae_keras model file" in capsys.readouterr().err


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_the_default_data_is_the_bundled_pm25(tmp_path, capsys):
    assert main(["--timesteps", "6", "--output", str(tmp_path), *FAST]) == 0
    report = json.loads((tmp_path / "metrics.json").read_text())
    assert report["settings"]["target"] == "pollution"
    assert report["settings"]["channels"] == 8
    assert report["settings"]["encoded_columns"] == ["wnd_dir"]
    assert report["settings"]["time_column"] == "date"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--epochs", "0"], "argument --epochs: expected a positive integer, got '0'"),
        (["--hidden-units", "32,x"], "argument --hidden-units: expected comma-separated"),
        (["--strategy", "quantum"], "argument --strategy: invalid choice"),
        (["--test-fraction", "1.5"], "argument --test-fraction: expected a number in (0, 1)"),
        (["--hidden-units", "8,4", "--pretrain-epochs", "1,2,3"], "give one value or one per layer (2)"),
        (["--pretraining", "none", "--pretrain-epochs", "2"], "argument --pretrain-epochs: nothing is pretrained"),
        (["--pretraining", "none", "--pretrain-stride", "4"], "argument --pretrain-stride: nothing is pretrained"),
        (["--pretrain-stride", "0"], "argument --pretrain-stride: expected a positive integer"),
        (["--patch-size", "0"], "argument --patch-size: expected a positive integer or 'auto'"),
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
    "argv, expected",
    [
        (["--pretrain-stride", "16", "--batch-size", "512"],
         dict(reconstruct="input", batch_size=512, pretrain_stride=16, pretrain_epochs=10)),
        (["--pretraining", "previous", "--pretrain-epochs", "2,3"],
         dict(reconstruct="previous", batch_size=64, pretrain_stride=1, pretrain_epochs=(2, 3))),
    ],
)
def test_the_training_options_reach_pretraining_and_fine_tuning(argv, expected):
    args = build_parser().parse_args(argv)
    encoder = _job._pretraining(args)
    assert {name: encoder.get_params()[name] for name in expected} == expected
    assert _job._chosen_settings(args).get("batch_size", 64) == expected["batch_size"]
    assert _job._chosen_settings(build_parser().parse_args(["--patch-size", "4"])) == {
        "patch_size": 4}
    assert _job._chosen_settings(build_parser().parse_args(["--patch-size", "auto"])) == {
        "patch_size": "auto"}
    # Without them: the regressor's own recipe ("auto"), or none.
    assert _job._pretraining(build_parser().parse_args([])) == "auto"
    assert _job._pretraining(build_parser().parse_args(["--pretraining", "none"])) is None


@pytest.mark.parametrize(
    "content, argv, message",
    [
        (None, [], "No such file"),
        ("a,b\n1,2\n3,\n5,6\n", ["--timesteps", "1"], "NaN or infinite value(s), the first at row 1, column 'b'"),
        ("a,b\n1,2\n3,4\n", ["--timesteps", "5"], "fewer than timesteps + horizon"),
        ("a,b\n1,2\n3,4\n", ["--target", "c"], "target 'c' is not a column; columns are ['a', 'b']"),
        ("a,b\nx,2\ny,4\n", ["--target", "a", "--categorical", "a"], "target 'a' is categorical"),
        ("a,b\n1,2\n3,4\n", ["--categorical", "c"], "categorical column(s) ['c'] are not columns"),
        ("t,a\n2020-01-01,1\nMonday,2\n", ["--time-column", "t"], "time column 't' holds a value that is not a date at row 1: 'Monday'"),
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


def _series(n=3000):
    frame = make_synthetic(n, 3, random_state=0).reset_index()
    frame["site"] = np.where(np.arange(n) % 2, "north", "south")
    return frame


def _stray_string(frame):
    frame["driver_1"] = frame["driver_1"].astype(object)
    frame.loc[1234, "driver_1"] = "abc"
    return frame


def _swap_two_dates(frame):
    frame.loc[[10, 11], "time"] = frame.loc[[11, 10], "time"].to_numpy()
    return frame


def _repeat_a_date(frame):
    frame.loc[5, "time"] = frame.loc[4, "time"]
    return frame


@pytest.mark.parametrize(
    "corrupt, message",
    [
        # Problem 1: one stray string in a numeric column was label-encoded silently.
        (_stray_string, "column 'driver_1' is not numeric: row 1234 holds 'abc'"),
        # Problem 2: shuffled rows were trained and scored as they came.
        (lambda f: f.sample(frac=1, random_state=0), "rows are not in time order: row 5 ("),
        (_swap_two_dates, "rows are not in time order: row 11 (2020-01-01 10:00:00) is earlier than row 10"),
        (_repeat_a_date, "duplicate timestamp 2020-01-01 04:00:00 at rows 4 and 5"),
        # Problem 3: a date column that is not the first became a channel.
        (lambda f: f[["target", "time", "driver_1"]], "column 'time' holds timestamps, not numbers: pass it as the time column (--time-column time)"),
        # A category column not named as such.
        (lambda f: f, "column 'site' is not numeric: row 0 holds 'south'; fix the value, or name the column as categorical (--categorical site)"),
    ],
)
def test_a_csv_read_wrong_before_is_refused_in_one_line(tmp_path, corrupt, message, capsys):
    path = tmp_path / "data.csv"
    corrupt(_series()).to_csv(path, index=False)
    assert main(["--data", str(path), "--target", "target", "--output", str(tmp_path / "out"), *FAST]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_the_reading_options_accept_what_the_rules_refuse(tmp_path, capsys):
    frame = _series(700)
    path = tmp_path / "data.csv"
    # The time column in the middle, rows shuffled, a categorical column.
    frame[["target", "time", "driver_1", "site"]].sample(frac=1, random_state=0).to_csv(path, index=False)
    argv = ["--data", str(path), "--time-column", "time", "--sort-time", "--categorical", "site",
            "--timesteps", "12", "--output", str(tmp_path / "out"), *FAST]
    assert main(argv) == 0
    report = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert report["settings"]["time_column"] == "time"
    assert report["settings"]["encoded_columns"] == ["site"]
    assert report["settings"]["channels"] == 3  # target, driver_1, site: not the time
    # Sorted: persistence scores as on the ordered series, not the shuffled one.
    ordered = frame.set_index("time")["target"].to_numpy()
    steps = np.abs(np.diff(ordered)).mean()
    assert report["metrics"]["persistence"]["mae"] < 2 * steps


def test_tiny_data_warns_and_stops_unless_forced(tmp_path, capsys):
    # Problem 4: a 30-row CSV was scored on one window without a word.
    path = tmp_path / "tiny.csv"
    make_synthetic(30, 2, random_state=0).reset_index().to_csv(path, index=False)
    argv = ["--data", str(path), "--timesteps", "4", "--output", str(tmp_path / "out"), *FAST]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "warning: the test part has 6 windows, fewer than 100" in err and "--force" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    assert main([*argv, "--force"]) == 0
    assert "warning: the test part has 6 windows" in capsys.readouterr().err


def test_the_library_keeps_backend_start_up_lines_off_stderr():
    # Problem 5: absl/oneDNN/XLA lines on stderr from the library's own imports and fits.
    code = """
        import warnings
        import numpy as np
        from sae_keras import LSTMSAEEncoder, LSTMSAERegressor
        X = np.random.default_rng(0).random((40, 5, 2)); y = X[:, -1, 0]
        LSTMSAERegressor((4,), pretraining=LSTMSAEEncoder(pretrain_epochs=1), epochs=1, verbose=0).fit(X, y).predict(X)
        warnings.warn("the user's own warning")
        import os; print(os.environ.get("TF_CPP_MIN_LOG_LEVEL"))
    """
    result = run_python(code, env={"TF_CPP_MIN_LOG_LEVEL": None})
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert any("the user's own warning" in line for line in lines)
    noise = [line for line in lines if "I0000" in line or "E0000" in line or "absl" in line]
    assert noise == []
    assert result.stdout.strip() == "None"  # the environment is left as it was
