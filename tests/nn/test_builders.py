import keras
import numpy as np
import pytest

from sae_keras.nn.builders import (
    PAD_VALUE,
    build_forecaster,
    build_lstm_autoencoder,
    build_stacked_encoder,
    extract_decoder,
    load_encoder_weights,
    patch_windows,
)


def layer_types(model):
    return [type(layer).__name__ for layer in model.layers]


def test_autoencoder_is_lstm_repeat_lstm_timedistributed_dense():
    autoencoder, encoder = build_lstm_autoencoder(9, 3, 5)
    assert layer_types(autoencoder) == [
        "InputLayer", "LSTM", "RepeatVector", "LSTM", "TimeDistributed"
    ]
    assert autoencoder.output_shape == (None, 9, 3)
    assert encoder.output_shape == (None, 5)
    assert autoencoder.get_layer("decoder_1").return_sequences


def test_encoder_shares_layers_with_its_autoencoder():
    autoencoder, encoder = build_lstm_autoencoder(6, 2, 4)
    assert encoder.get_layer("encoder_1") is autoencoder.get_layer("encoder_1")


def test_decoder_units_default_to_the_encoder_width_and_can_be_set():
    autoencoder, _ = build_lstm_autoencoder(6, 5, 4, output_dim=3)
    assert autoencoder.get_layer("decoder_1").units == 4
    assert autoencoder.output_shape == (None, 6, 3)
    autoencoder, _ = build_lstm_autoencoder(6, 5, 4, decoder_units=11)
    assert autoencoder.get_layer("decoder_1").units == 11


def test_upper_layer_autoencoder_repeats_its_code_input():
    autoencoder, encoder = build_lstm_autoencoder(7, 10, 4, repeat_input=True, index=2)
    assert autoencoder.input_shape == (None, 10)
    assert autoencoder.get_layer("repeat_1").output.shape == (None, 7, 10)
    assert encoder.get_layer("encoder_2").units == 4


def test_extracted_decoder_reproduces_the_autoencoder():
    autoencoder, encoder = build_lstm_autoencoder(5, 2, 3)
    x = np.random.default_rng(0).normal(size=(4, 5, 2)).astype("float32")
    decoder = extract_decoder(autoencoder, 1)
    direct = autoencoder.predict(x, verbose=0)
    chained = decoder.predict(encoder.predict(x, verbose=0), verbose=0)
    np.testing.assert_allclose(direct, chained, rtol=1e-5, atol=1e-6)


def test_stacked_encoder_repeats_codes_between_layers():
    model = build_stacked_encoder(10, 3, (8, 6, 4))
    assert [l.name for l in model.layers if l.name.startswith(("encoder", "repeat"))] == [
        "encoder_1", "repeat_1", "encoder_2", "repeat_2", "encoder_3"
    ]
    assert model.output_shape == (None, 4)


@pytest.mark.parametrize(
    "output_shape, expected", [((1,), (None, 1)), ((6,), (None, 6)), ((6, 2), (None, 6, 2))]
)
def test_forecaster_head_matches_output_shape(output_shape, expected):
    model = build_forecaster(12, 3, (8, 4), output_shape, dropout=0.2)
    assert model.output_shape == expected
    assert model.get_layer("head").units == int(np.prod(output_shape))
    assert isinstance(model.get_layer("dropout_1"), keras.layers.Dropout)


def test_forecaster_without_dropout_has_no_dropout_layers():
    model = build_forecaster(12, 3, (8, 4), (1,), dropout=0.0)
    assert not [l for l in model.layers if isinstance(l, keras.layers.Dropout)]


def test_load_encoder_weights_transfers_not_reinitialises():
    _, enc1 = build_lstm_autoencoder(5, 2, 4)
    _, enc2 = build_lstm_autoencoder(5, 4, 3, repeat_input=True, index=2)
    weights = [enc1.get_layer("encoder_1").get_weights(), enc2.get_layer("encoder_2").get_weights()]
    model = load_encoder_weights(build_forecaster(5, 2, (4, 3), (1,)), weights)
    for index, expected in enumerate(weights, start=1):
        for got, want in zip(model.get_layer(f"encoder_{index}").get_weights(), expected):
            np.testing.assert_array_equal(got, want)


def test_linear_skip_adds_a_linear_map_of_the_flattened_window():
    model = build_forecaster(5, 2, (4, 3), (3, 2), linear_skip=True)
    skip = model.get_layer("linear_skip")
    assert skip.kernel.shape == (5 * 2, 6)
    assert model.output_shape == (None, 3, 2)
    # With the LSTM head silenced, the output is exactly the linear map of the window.
    head = model.get_layer("head")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    x = np.random.default_rng(0).normal(size=(7, 5, 2)).astype("float32")
    kernel, bias = skip.get_weights()
    expected = (x.reshape(7, -1) @ kernel + bias).reshape(7, 3, 2)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)
    assert "linear_skip" not in [l.name for l in build_forecaster(5, 2, (4,), (1,)).layers]


def test_noise_is_a_training_only_input_layer_of_the_autoencoder():
    autoencoder, encoder = build_lstm_autoencoder(6, 2, 4, noise=0.5)
    noise = autoencoder.get_layer("noise_1")
    assert isinstance(noise, keras.layers.GaussianNoise) and noise.stddev == 0.5
    assert encoder.get_layer("noise_1") is noise
    x = np.ones((3, 6, 2), "float32")
    np.testing.assert_array_equal(encoder(x, training=False), encoder(x, training=False))
    assert not np.allclose(encoder(x, training=True), encoder(x, training=False))
    upper, _ = build_lstm_autoencoder(6, 4, 3, repeat_input=True, noise=0.1, index=2)
    assert layer_types(upper)[:3] == ["InputLayer", "RepeatVector", "GaussianNoise"]
    assert "noise_1" not in [l.name for l in build_lstm_autoencoder(6, 2, 4)[0].layers]


def test_patches_join_steps_and_keep_padding_maskable():
    x = np.arange(2 * 7 * 2, dtype="float32").reshape(2, 7, 2)
    x[1, 3:] = PAD_VALUE  # the second window: 3 steps, then padding
    steps = np.arange(7) < np.array([[7], [3]])
    patches, patch_steps = patch_windows(x, 3, steps)
    assert patches.shape == (2, 3, 6) and patches.dtype == np.float32
    np.testing.assert_array_equal(patches[0, 0], x[0, :3].ravel())  # steps 0-2, channels in turn
    np.testing.assert_array_equal(patches[0, 2], [12, 13, 0, 0, 0, 0])  # completed with 0
    np.testing.assert_array_equal(patches[1, 0], x[1, :3].ravel())
    assert (patches[1, 1:] == PAD_VALUE).all()  # wholly padding: masked downstream
    np.testing.assert_array_equal(patch_steps, [[True, True, True], [True, False, False]])
    assert patch_windows(x, 1, steps)[0] is x
    model = build_forecaster(7, 2, (4,), (3,), masked=True, patch_size=3,
                             output_activation="softmax")
    assert model.get_layer("patches").output.shape[1:] == (3, 6)
    assert model.get_layer("encoder_1").get_weights()[0].shape == (6, 4 * 4)  # LSTM kernel
    np.testing.assert_array_equal(  # the model's layer is patch_windows' transform
        keras.Model(model.inputs, model.get_layer("patches").output).predict(x, verbose=0),
        patches)


def test_the_linear_skip_reads_patches_and_padding_as_zeros():
    """Behind patches and a mask, the skip is a linear map of the window's values, 0-padded."""
    x = np.random.default_rng(0).normal(size=(2, 7, 2)).astype("float32")
    x[1, 3:] = PAD_VALUE  # the second window: 3 steps, then padding
    model = build_forecaster(7, 2, (4,), (3,), masked=True, patch_size=3, linear_skip=True,
                             output_activation="softmax")
    skip = model.get_layer("linear_skip")
    assert skip.kernel.shape == (3 * 6, 3)  # 3 patches of 3 steps x 2 channels
    head = model.get_layer("head")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    kernel, bias = skip.get_weights()
    values = np.zeros((2, 9, 2), "float32")  # the window completed to 3 patches with 0
    values[:, :7] = np.where(x == PAD_VALUE, 0.0, x)
    logits = values.reshape(2, -1) @ kernel + bias
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
