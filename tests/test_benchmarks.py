"""The benchmarks: the paper protocol and every script's report, on quick budgets (the real runs are scripts)."""

import importlib
import importlib.util
import json
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

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
                                      "lstm_sae", "dlstm"}
    assert row["contenders"]["persistence"]["skill_vs_persistence"]["mean"] == 0.0
    assert row["contenders"]["lstm_sae"]["ratio_to_best_baseline"]["mean"] > 0
    assert set(saved["targets"]) >= {"beats_persistence_everywhere", "geometric_mean_ratio"}
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


@pytest.mark.slow
@pytest.mark.one_backend("jax")
def test_suite_recorder_quick_run(suite_script, tmp_path, capsys):
    saved = suite_script.main(["--quick", "--backends", "jax", "--output", str(tmp_path)])
    run, = saved["runs"]
    assert run["exit_code"] == 0 and run["counts"]["passed"] >= 2
    assert 0 < run["coverage"]["percent"] <= 100 and run["coverage"]["statements"] > 1000
    assert json.loads((tmp_path / "suite_cost_quick.json").read_text())["runs"][0] == run
    assert "| jax |" in capsys.readouterr().out
