"""Rough edges a new user hit, each fixed (issue #21, item 14)."""

import ast
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import sae_keras
from sae_keras import (
    LSTMSAEEncoder, LSTMSAEOutlierDetector, LSTMSAERegressor, TableForecaster,
)
from sae_keras.cli._command import build_parser, build_predict_parser, main
from sae_keras.data.datasets import make_synthetic

FAST = ["--hidden-units", "4", "--pretrain-epochs", "1", "--epochs", "1", "--quiet"]
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*[a-z]")
PACKAGE = Path(sae_keras.__file__).parent


def _options(parser):
    return {option for action in parser._actions for option in action.option_strings}


def _flat(X):
    return X.reshape(len(X), -1)


def _linear():
    return make_pipeline(FunctionTransformer(_flat), LinearRegression())


# -- every flag an error message advises exists --------------------------------


def _string_constants(path):
    tree = ast.parse(path.read_text())
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_every_flag_the_package_names_is_an_option_of_the_command():
    known = _options(build_parser()) | _options(build_predict_parser())
    named = {
        (path.name, flag)
        for path in PACKAGE.rglob("*.py")
        for text in _string_constants(path)
        for flag in FLAG.findall(text)
    }
    assert {flag for _, flag in named} >= {"--sort-time", "--allow-gaps", "--encoding"}
    assert [(name, flag) for name, flag in sorted(named) if flag not in known] == []


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A saved model of an hourly table with a categorical column."""
    frame = make_synthetic(200, 2, random_state=0).reset_index()
    frame["site"] = np.where(np.arange(200) % 2, "north", "south")
    path = tmp_path_factory.mktemp("model") / "model.zip"
    TableForecaster("target", timesteps=6, categorical=["site"], regressor=LSTMSAERegressor(
        (4,), pretraining=LSTMSAEEncoder(pretrain_epochs=1), epochs=1,
        random_state=0)).fit(frame).save(path)
    return path, frame


def _predict_errors(model, frame, tmp_path, capsys):
    """The error line of ``sae-keras predict`` on each of a few broken tables."""
    def stray_string(f):
        f["driver_1"] = f["driver_1"].astype(object)
        f.loc[f.index[3], "driver_1"] = "abc"
        return f

    broken = {
        "shuffled": lambda f: f.sample(frac=1, random_state=0),
        "stray string": stray_string,
        "dates in a number column": lambda f: f.assign(driver_1=f["time"]),
        "a gap": lambda f: f.drop(index=f.index[10]),
        "a repeated time": lambda f: f.assign(time=f["time"].where(f.index != f.index[5],
                                                                   f["time"].iloc[4])),
        "unseen category": lambda f: f.assign(site="east"),
        "a column missing": lambda f: f.drop(columns=["driver_1"]),
    }
    errors = {}
    for name, corrupt in broken.items():
        path = tmp_path / "new.csv"
        corrupt(frame.iloc[-30:].copy()).to_csv(path, index=False)
        assert main(["predict", "--model", str(model), "--data", str(path)]) == 2, name
        errors[name] = capsys.readouterr().err.strip()
        assert len(errors[name].splitlines()) == 1, errors[name]
    return errors


def test_predict_advises_only_options_it_has(model_file, tmp_path, capsys):
    model, frame = model_file
    errors = _predict_errors(model, frame, tmp_path, capsys)
    known = _options(build_predict_parser())
    for name, error in errors.items():
        assert [flag for flag in FLAG.findall(error) if flag not in known] == [], (name, error)
    assert "--sort-time" in errors["shuffled"]
    assert "the model was fitted on numbers in this column" in errors["stray string"]
    # And the option it advises works: shuffled rows forecast as the ordered ones.
    shuffled = tmp_path / "shuffled.csv"
    frame.iloc[-30:].sample(frac=1, random_state=0).to_csv(shuffled, index=False)
    ordered = tmp_path / "ordered.csv"
    frame.iloc[-30:].to_csv(ordered, index=False)
    for path, out in ((shuffled, "a.csv"), (ordered, "b.csv")):
        assert main(["predict", "--model", str(model), "--data", str(path), "--sort-time",
                     "--output", str(tmp_path / out)]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))


def test_main_command_errors_name_its_own_options(tmp_path, capsys):
    frame = make_synthetic(700, 2, random_state=0).reset_index()  # > 100 test windows
    frame["site"] = np.where(np.arange(700) % 2, "north", "south")
    cases = {
        "shuffled": frame.sample(frac=1, random_state=0),
        "text column": frame,
        "time column in the middle": frame[["target", "time", "driver_1"]],
        "a gap": frame.drop(columns="site").drop(index=range(100, 110)),
    }
    known = _options(build_parser())
    for name, table in cases.items():
        path = tmp_path / "data.csv"
        table.to_csv(path, index=False)
        assert main(["--data", str(path), "--output", str(tmp_path / "out"), *FAST]) == 2
        error = capsys.readouterr().err.strip()
        flags = FLAG.findall(error)
        assert flags, (name, error)  # each of these advises an option
        assert [flag for flag in flags if flag not in known] == [], (name, error)


def test_help_mentions_predict(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "sae-keras predict --model" in " ".join(capsys.readouterr().out.split())


# -- encodings -----------------------------------------------------------------


def _small_table():
    # Too few rows for a scored run: the command stops (code 2) right after reading.
    frame = make_synthetic(40, 2, random_state=0).reset_index()
    return frame.rename(columns={"driver_1": "température"})


@pytest.mark.parametrize("encoding, suggested", [("latin-1", "latin-1"), ("utf-16", "utf-16")])
def test_a_file_in_another_encoding_is_named_with_the_option_to_read_it(
    tmp_path, capsys, encoding, suggested
):
    path = tmp_path / "data.csv"
    _small_table().to_csv(path, index=False, encoding=encoding)
    argv = ["--data", str(path), "--timesteps", "4", "--output", str(tmp_path / "out"), *FAST]
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"sae-keras: error: {path} is not valid utf-8 text at line 1")
    assert f"--encoding {suggested}" in error and len(error.splitlines()) == 1
    assert main([*argv, "--encoding", encoding]) == 2
    # Read this time: the run stops only because the table is small.
    assert "warning: the test part has" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*argv, "--encoding", "klingon"])
    assert "argument --encoding: unknown encoding 'klingon'" in capsys.readouterr().err


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    from sae_keras.data import _table

    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbftime,value\n2020-01-01,1\n2020-01-02,2\n")
    assert list(_table.read_csv(path).columns) == ["time", "value"]
    assert list(_table.read_csv(path, "UTF8").columns) == ["time", "value"]


# -- windows that are probably not what the user meant ---------------------------


def _tiny_encoder():
    return LSTMSAEEncoder((4,), pretrain_epochs=1, batch_size=32, random_state=0)


def _validate_only(estimator, X):
    """Fit up to the shared window checks: a wrong ``sample_weight`` stops it right after."""
    args = (X, X[:, 0, -1]) if isinstance(estimator, LSTMSAERegressor) else (X,)
    with pytest.raises(ValueError, match="sample_weight"):
        estimator.fit(*args, sample_weight=np.ones(3))


@pytest.mark.parametrize("estimator", [LSTMSAERegressor((4,)), LSTMSAEEncoder((4,))],
                         ids=["regressor", "encoder"])
def test_channels_first_windows_warn_naming_the_transpose(estimator):
    rng = np.random.default_rng(0)
    sktime_layout = rng.normal(size=(40, 6, 100))  # (n, channels, timesteps)
    with pytest.warns(UserWarning, match=re.escape("6 step(s) x 100 channels")) as record:
        _validate_only(estimator, sktime_layout)
    assert "X.transpose(0, 2, 1)" in str(record[0].message)
    with pytest.warns(UserWarning, match="transpose"):
        _validate_only(estimator, rng.normal(size=(40, 1, 50)))  # a univariate series
    # Ordinary windows, and wide ones under the ratio, do not warn.
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        for shape in ((40, 8, 20), (40, 24, 3), (40, 17, 100)):
            _validate_only(estimator, rng.normal(size=shape))


def test_constant_channels_warn_once_at_fit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 8, 3))
    X[:, :, 1] = 5.0
    with pytest.warns(UserWarning, match=r"X channel\(s\) \[1\] hold one value") as record:
        encoder = _tiny_encoder().fit(X)
    assert sum("hold one value" in str(w.message) for w in record) == 1
    with warnings.catch_warnings():  # not again on every prediction
        warnings.simplefilter("error", UserWarning)
        encoder.transform(X)


def test_constant_table_columns_warn_once_naming_them():
    frame = make_synthetic(200, 2, random_state=0).reset_index()
    frame["station"] = 7.0
    frame["flag"] = "ok"
    with pytest.warns(UserWarning, match=r"column\(s\) \['station', 'flag'\] hold one value") as record:
        forecaster = TableForecaster("target", timesteps=6, categorical=["flag"],
                                     regressor=_linear()).fit(frame)
    assert sum("hold one value" in str(w.message) for w in record) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        forecaster.predict(frame.iloc[-10:])


# -- the forecast plot names the span in the data's step ---------------------------


@pytest.mark.parametrize(
    "freq, n, words",
    [("h", 168, "week"), ("D", 168, "24 weeks"), ("D", 30, "30 days"), ("15min", 168, "42 hours"),
     ("ME", 24, "24 months"), ("B", 10, "10 business days"), (None, 50, "50 steps")],
)
def test_the_span_is_named_in_the_units_of_the_data(freq, n, words):
    from sae_keras.evaluation.plotting import span_words

    index = pd.RangeIndex(n) if freq is None else pd.date_range("2020-01-31", periods=n, freq=freq)
    assert span_words(index) == words


def test_the_forecast_plot_of_daily_data_does_not_say_week(tmp_path, monkeypatch, capsys):
    from sae_keras.evaluation import plotting
    from sae_keras.evaluation.plotting import span_words

    titles = []
    original = plotting.plot_forecast

    def recording(*args, **kwargs):
        titles.append(kwargs["title"])
        return original(*args, **kwargs)

    monkeypatch.setattr(plotting, "plot_forecast", recording)
    frame = make_synthetic(600, 2, random_state=0).reset_index()
    frame["time"] = pd.date_range("2000-01-01", periods=600, freq="D")
    frame["constant"] = 1.0
    path = tmp_path / "daily.csv"
    frame.to_csv(path, index=False)
    assert main(["--data", str(path), "--timesteps", "7", "--output", str(tmp_path / "out"),
                 *FAST]) == 0
    report = json.loads((tmp_path / "out" / "metrics.json").read_text())
    shown = pd.date_range("2000-01-01", periods=min(168, report["settings"]["test_windows"]))
    assert titles == [f"target: first {span_words(shown)} of the test part, 1 step ahead"]
    assert "week" not in span_words(shown[:20])  # e.g. "20 days"
    # The constant column is said once, as one of the command's warning lines.
    err = capsys.readouterr().err
    assert err.count("sae-keras: warning: column(s) ['constant'] hold one value") == 1
    assert "channel(s)" not in err  # not again as a channel of the windows


# -- outlier detection on a trending series ---------------------------------------


def _trending_windows(n=400, timesteps=12, seed=0):
    """A daily cycle on a rising trend: every later window is a new high."""
    rng = np.random.default_rng(seed)
    t = np.arange(n + timesteps)
    series = 0.02 * t + np.sin(2 * np.pi * t / 12) + 0.1 * rng.normal(size=t.shape)
    windows = np.stack([series[i : i + timesteps] for i in range(n)])[:, :, None]
    return windows[:250], windows[250 + timesteps :]  # train, later test (no overlap)


def _detector(how):
    return LSTMSAEOutlierDetector(
        LSTMSAEEncoder((6,), pretrain_epochs=3, batch_size=32), random_state=0,
        window_normalization=how,
    )


@pytest.fixture(scope="module")
def plain_on_a_trend():
    train, _ = _trending_windows()
    return _detector(None).fit(train)


@pytest.mark.parametrize("how", ["standardize", "difference"])
def test_window_normalization_keeps_auto_near_its_rate_on_a_trend(how, plain_on_a_trend):
    train, test = _trending_windows()
    plain = plain_on_a_trend
    normalized = _detector(how).fit(train)
    flagged = {name: (float(np.mean(d.predict(train) == -1)), float(np.mean(d.predict(test) == -1)))
               for name, d in (("plain", plain), (how, normalized))}
    # Without it, every window above the training range is an outlier.
    assert flagged["plain"][1] > 0.9, flagged
    # With it, "auto" flags about its nominal tail (3 robust sigmas) in and out of sample.
    assert flagged[how][0] <= 0.02 and flagged[how][1] <= 0.05, flagged
    # Learned at fit and frozen: scores ignore the level of new windows.
    assert normalized.window_normalization_ == how
    np.testing.assert_allclose(normalized.score_samples(test + 100.0),
                               normalized.score_samples(test), rtol=1e-4, atol=1e-6)
    assert normalized.n_features_in_ == 12
    if how == "standardize":
        floor = normalized.window_scale_floor_.copy()
        np.testing.assert_allclose(floor, [0.01 * np.median(train.std(axis=1).ravel())])
        flat = normalized.score_samples(train * 0.0)  # the floor, not a division by zero
        assert np.isfinite(flat).all()
        np.testing.assert_array_equal(normalized.window_scale_floor_, floor)


def test_window_normalization_refuses_bad_values_before_training():
    train, _ = _trending_windows(n=100)
    with pytest.raises(ValueError, match="window_normalization"):
        _detector("demean").fit(train)
    with pytest.raises(ValueError, match="at least 2 steps"):
        _detector("difference").fit(train[:, :1])
