"""The serving model (raw windows in, outputs in the user's units out) and the export checks."""

import keras
import numpy as np
import pytest

from sae_keras.nn import _serving
from sae_keras.nn.builders import CELLS, PAD_VALUE, build_forecaster, build_stacked_encoder
from sae_keras.nn._serving import FORMATS, check_exportable, export_model, serving_model

BACKEND = keras.backend.backend()
RNG = np.random.default_rng(0)
MEAN, SCALE = np.array([200.0, -3.0]), np.array([50.0, 0.25])


def _raw_windows(n=5, timesteps=6):
    return (RNG.normal(size=(n, timesteps, 2)) * SCALE + MEAN).astype(np.float32)


def _scaled(x):
    """The estimators' own float32 standardisation (ScaledWindows)."""
    return (x - MEAN.astype(np.float32)) * (1.0 / SCALE).astype(np.float32)


def test_serving_model_scales_windows_and_unscales_forecasts_into_the_target_shape():
    network = build_forecaster(6, 2, (4,), (3, 2), seed=0)
    target_mean, target_scale = RNG.normal(size=(3, 2)) + 10, RNG.uniform(1, 2, size=(3, 2))
    serving = serving_model(network, input_stats=(MEAN, SCALE), output_shape=(3, 2),
                            output_stats=(target_mean, target_scale))
    x = _raw_windows()
    expected = np.asarray(network(_scaled(x))) * target_scale + target_mean
    np.testing.assert_allclose(np.asarray(serving(x)), expected, rtol=1e-6)
    assert serving.input_shape == (None, 6, 2) and serving.output_shape == (None, 3, 2)


def test_serving_model_of_a_one_value_forecaster_returns_one_value_per_window():
    network = build_forecaster(6, 2, (4,), (1,), seed=0)
    serving = serving_model(network, output_shape=())
    x = _raw_windows()
    assert serving(x).shape == (5,)
    np.testing.assert_allclose(np.asarray(serving(x)), np.asarray(network(x))[:, 0], rtol=1e-6)


def test_serving_model_turns_nan_padding_into_the_mask_value():
    network = build_forecaster(6, 2, (4,), (1,), masked=True, seed=0)
    serving = serving_model(network, input_stats=(MEAN, SCALE), padded=True)
    x = _raw_windows()
    x[1, 4:] = np.nan
    filled = np.where(np.isnan(x), PAD_VALUE, _scaled(x))
    np.testing.assert_allclose(np.asarray(serving(x)), np.asarray(network(filled)), rtol=1e-6)
    assert np.isfinite(np.asarray(serving(x))).all()


def test_serving_model_reads_the_first_steps_an_encoder_learned_to_encode():
    encoder = build_stacked_encoder(4, 2, (3,), seed=0)
    serving = serving_model(encoder, timesteps=6, input_stats=(MEAN, SCALE))
    x = _raw_windows()
    assert serving.input_shape == (None, 6, 2)
    np.testing.assert_allclose(np.asarray(serving(x)), np.asarray(encoder(_scaled(x)[:, :4])),
                               rtol=1e-6)


def test_serving_model_names_and_scales_the_covariate_inputs():
    network = build_forecaster(6, 2, (4,), (1,), n_static=2, future_shape=(3, 1), seed=0)
    static_stats = (np.array([5.0, 1.0]), np.array([2.0, 4.0]))
    serving = serving_model(network, covariate_stats=[static_stats, (None, None)],
                            output_shape=())
    assert [tensor.name for tensor in serving.inputs] == [
        "window", "static_covariates", "future_covariates"]
    x, static, future = _raw_windows(), RNG.normal(size=(5, 2)), RNG.normal(size=(5, 3, 1))
    static, future = static.astype(np.float32), future.astype(np.float32)
    scaled_static = (static - static_stats[0]) / static_stats[1]
    expected = np.asarray(network([x, scaled_static.astype(np.float32), future]))[:, 0]
    np.testing.assert_allclose(np.asarray(serving([x, static, future])), expected,
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="covariate_stats must hold one"):
        serving_model(network, covariate_stats=[static_stats])


def test_serving_model_saves_and_loads_with_its_registered_layers(tmp_path):
    network = build_forecaster(6, 2, (4,), (2,), seed=0)
    serving = serving_model(network, input_stats=(MEAN, SCALE), padded=True,
                            output_shape=(2,), output_stats=(np.ones(2), np.full(2, 3.0)))
    serving.save(tmp_path / "serving.keras")
    loaded = keras.saving.load_model(tmp_path / "serving.keras")  # safe mode: no lambdas
    x = _raw_windows()
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(serving(x)), rtol=1e-6)
    names = {type(layer).__name__ for layer in loaded.layers}
    assert {"_Standardize", "_TargetUnits"} <= names


def test_an_unknown_format_is_refused_naming_it(tmp_path):
    with pytest.raises(ValueError, match=r"format must be one of .*'onnx'.*got 'torchscript'"):
        export_model(build_stacked_encoder(4, 2, (3,)), tmp_path / "model", "torchscript")
    assert not (tmp_path / "model").exists()
    assert FORMATS == ("onnx", "tf_saved_model")


def test_a_missing_converter_is_refused_naming_the_extra(monkeypatch):
    converter, extra = ("jax2onnx", "export-jax") if BACKEND == "jax" else ("tf2onnx", "export")
    find_spec = _serving.importlib.util.find_spec
    monkeypatch.setattr(_serving.importlib.util, "find_spec",
                        lambda name, *args: None if name == converter else find_spec(name, *args))
    with pytest.raises(ImportError, match=rf"needs {converter}: pip install 'sae-keras\[{extra}\]'"):
        check_exportable(build_stacked_encoder(4, 2, (3,)), "onnx")


def test_a_bidirectional_encoder_has_no_onnx_export_on_jax_only():
    serving = serving_model(build_stacked_encoder(4, 2, (3,), cell="bilstm"))
    check_exportable(serving, "tf_saved_model")  # jax2tf and TensorFlow translate it
    if BACKEND != "jax":
        pytest.importorskip("tf2onnx")
        check_exportable(serving, "onnx")  # tf2onnx translates it
        return
    with pytest.raises(ValueError, match=r"cell='bilstm' cannot be exported to ONNX on the "
                                         r"JAX backend.*reverse scan.*tf_saved_model"):
        check_exportable(serving, "onnx")


@pytest.mark.parametrize("cell", CELLS)
def test_every_cell_exports_to_onnx_where_the_converter_translates_it(cell, tmp_path):
    if BACKEND == "jax" and cell == "bilstm":
        pytest.skip("refused on JAX (test_a_bidirectional_encoder_has_no_onnx_export_on_jax_only)")
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("jax2onnx" if BACKEND == "jax" else "tf2onnx")
    encoder = build_stacked_encoder(6, 2, (4, 3), cell=cell, seed=0)
    serving = serving_model(encoder, input_stats=(MEAN, SCALE))
    path = export_model(serving, tmp_path / "encoder.onnx", "onnx")
    session = onnxruntime.InferenceSession(str(path))
    x = _raw_windows(37)
    codes = np.asarray(serving(x))
    np.testing.assert_allclose(session.run(None, {"window": x})[0], codes,
                               rtol=1e-5, atol=1e-5 * np.abs(codes).max())
