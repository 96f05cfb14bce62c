"""A new user gives the command a long table of five stocks (issue #23, item 4).

Before, the errors went "not numeric" -> "not in time order" -> "duplicate timestamp ...
aggregate or drop repeated time steps", never saying "several series", and with the
date column dropped the five series trained end to end as one without a word.
"""

import re

import numpy as np
import pandas as pd
import pytest

from sae_keras.cli._command import build_parser, main

SYMBOLS = ("AAPL", "AMZN", "GOOG", "MSFT", "NVDA")
FIVE = "this looks like 5 series in one long table, one row per series and time"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*[a-z]")


@pytest.fixture
def stocks(tmp_path):
    """``symbol,date,price``: 60 business days of five stocks, one block of rows each."""
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2023-01-02", periods=60).strftime("%Y-%m-%d")
    frame = pd.concat([
        pd.DataFrame({"symbol": symbol, "date": days,
                      "price": (100.0 * (k + 1) * np.exp(np.cumsum(rng.normal(0, 0.01, 60))))
                      .round(2)})
        for k, symbol in enumerate(SYMBOLS)
    ], ignore_index=True)
    path = tmp_path / "stocks.csv"
    frame.to_csv(path, index=False)
    return path, frame


def _run(argv, tmp_path, capsys):
    code = main([*argv, "--output", str(tmp_path / "out"), "--epochs", "1", "--quiet"])
    err = capsys.readouterr().err.strip()
    options = {o for action in build_parser()._actions for o in action.option_strings}
    assert [flag for flag in FLAG.findall(err) if flag not in options] == [], err
    return code, err


@pytest.mark.parametrize("options, start", [
    ([], "sae-keras: error: column 'symbol' is not numeric: row 0 holds 'AAPL'; the "
         "timestamps of 'date' repeat, and line up with the text column 'symbol' (5 values, "
         "e.g. 'AAPL', 'AMZN')"),
    (["--time-column", "date"], "sae-keras: error: rows are not in time order: row 60 "
                                "(2023-01-02 00:00:00) is earlier than row 59"),
    (["--time-column", "date", "--sort-time"], "sae-keras: error: duplicate timestamp "
                                               "2023-01-02 00:00:00 at rows 0 and 1"),
])
def test_each_error_on_the_way_says_several_series_and_how_to_model_them(
        stocks, tmp_path, capsys, options, start):
    path, _ = stocks
    code, err = _run(["--data", str(path), "--target", "price", *options], tmp_path, capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith(start), err
    assert FIVE in err
    assert "series='symbol', time='date'" in err and "the rows where symbol == 'AAPL'" in err
    # None of them leads on to mixing the series: no sorting, categories or aggregating.
    assert not {"--sort-time", "--categorical", "aggregate"} & set(re.findall(
        r"--[a-z-]+|aggregate", err))
    assert not (tmp_path / "out").exists()


def test_with_the_dates_dropped_the_series_one_after_another_are_named(
        stocks, tmp_path, capsys):
    _, frame = stocks
    path = tmp_path / "no_dates.csv"
    frame.drop(columns="date").to_csv(path, index=False)
    code, err = _run(["--data", str(path), "--target", "price"], tmp_path, capsys)
    assert code == 2 and "column 'symbol' holds 5 values, each in one block" in err
    # Told it is categorical, the command warns before anything trains (here it then
    # stops: 60 rows a stock leave fewer than 100 test windows).
    code, err = _run(["--data", str(path), "--target", "price", "--categorical", "symbol"],
                     tmp_path, capsys)
    lines = err.splitlines()
    assert code == 2 and len(lines) == 2
    assert lines[0].startswith("sae-keras: warning: column 'symbol' holds 5 values, each in "
                               "one block of consecutive rows: if these are 5 series one "
                               "after another, windows that cross from one into the next mix "
                               "them; one model over several series: TableForecaster("
                               "id_column='symbol') (sae-keras --id-column symbol) reads "
                               "such a table, and "
                               "make_windows(frame, timesteps, target=..., series='symbol')")
    assert "fewer than 100" in lines[1]


def test_id_column_fits_one_model_over_every_series_split_alike(stocks, tmp_path, capsys):
    import json

    path, frame = stocks
    code, err = _run(["--data", str(path), "--target", "price", "--id-column", "symbol",
                      "--time-column", "date", "--timesteps", "5", "--hidden-units", "4",
                      "--pretrain-epochs", "1", "--force"], tmp_path, capsys)
    assert code == 0, err
    report = json.loads((tmp_path / "out" / "metrics.json").read_text())
    settings = report["settings"]
    # 55 windows a stock (60 days, 5 inputs, 1 target), the last ceil(0.2 * 55) = 11 of
    # each tested.
    assert (settings["id_column"], settings["series"], settings["test_windows"]) == \
        ("symbol", 5, 55)
    assert settings["train_windows"] == 5 * (55 - 11)
    for row in report["metrics"].values():
        assert np.isfinite(row["rmse"])
    # The saved model forecasts a long table per series.
    out = tmp_path / "forecasts.csv"
    assert main(["predict", "--model", str(tmp_path / "out" / "model.zip"), "--data", str(path),
                 "--output", str(out)]) == 0
    forecasts = pd.read_csv(out)
    assert list(forecasts.columns) == ["symbol", "origin", "price+1"]
    assert forecasts.groupby("symbol").size().to_dict() == {s: 56 for s in SYMBOLS}


@pytest.mark.parametrize("options, message", [
    (["--id-column", "ticker"], "id column 'ticker' is not a column"),
    (["--id-column", "symbol", "--categorical", "symbol"],
     "--id-column 'symbol' is also given to --categorical"),
    (["--id-column", "symbol", "--timesteps", "58"], "of series 'AAPL' cannot be split"),
])
def test_a_bad_id_column_or_a_short_series_is_named_before_training(
        stocks, tmp_path, capsys, options, message):
    path, _ = stocks
    code, err = _run(["--data", str(path), "--target", "price", "--time-column", "date",
                      *options], tmp_path, capsys)
    assert code == 2 and message in err, err
    assert not (tmp_path / "out").exists()
