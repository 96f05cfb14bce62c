"""Encoder variants: "lstm", "bilstm" and "cnn_lstm", from the one builder."""

import keras
import numpy as np
import pytest

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor
from sae_keras.nn.builders import (
    CELLS, PAD_VALUE, build_forecaster, build_lstm_autoencoder, build_stacked_encoder,
)
from conftest import TINY, TINY_REGRESSOR, sine_windows


def test_each_variant_builds_the_layer_it_names():
    expected = {"lstm": ("LSTM", 6), "bilstm": ("Bidirectional", 12), "cnn_lstm": ("_ConvLSTM", 6)}
    for kind, (layer_class, width) in expected.items():
        autoencoder, encoder = build_lstm_autoencoder(9, 2, 6, cell=kind)
        layer = autoencoder.get_layer("encoder_1")
        assert type(layer).__name__ == layer_class
        assert encoder.output_shape == (None, width)
        # The layer above reads repeated codes: a plain (or bidirectional) LSTM.
        upper, _ = build_lstm_autoencoder(9, width, 4, repeat_input=True, index=2, cell=kind)
        assert type(upper.get_layer("encoder_2")).__name__ == (
            "Bidirectional" if kind == "bilstm" else "LSTM"
        )
    conv = build_lstm_autoencoder(9, 2, 6, cell="cnn_lstm")[0].get_layer("encoder_1").conv
    assert (conv.padding, conv.kernel_size, conv.filters) == ("causal", (3,), 6)


def test_bilstm_codes_join_a_forward_and_a_backward_pass():
    encoder = build_stacked_encoder(5, 1, (3,), cell="bilstm")
    x = np.random.default_rng(0).normal(size=(4, 5, 1)).astype("float32")
    codes = keras.ops.convert_to_numpy(encoder(x))
    forward = keras.layers.LSTM(3)
    forward.build((None, 5, 1))
    layer = encoder.get_layer("encoder_1")
    forward.set_weights(layer.forward_layer.get_weights())
    backward = keras.layers.LSTM(3)
    backward.build((None, 5, 1))
    backward.set_weights(layer.backward_layer.get_weights())
    np.testing.assert_allclose(codes[:, :3], forward(x), atol=1e-5)
    np.testing.assert_allclose(codes[:, 3:], backward(x[:, ::-1]), atol=1e-5)


@pytest.mark.parametrize("kind", CELLS)
def test_every_variant_keeps_padding_out_of_the_codes(kind):
    x = np.random.default_rng(1).normal(size=(3, 9, 2)).astype("float32")
    padded = x.copy()
    padded[:, 6:] = PAD_VALUE
    long = build_stacked_encoder(9, 2, (4,), masked=True, cell=kind)
    short = build_stacked_encoder(6, 2, (4,), cell=kind)
    short.set_weights(long.get_weights())
    np.testing.assert_allclose(long(padded), short(x[:, :6]), atol=1e-5)
    assert not np.allclose(long(padded), long(x), atol=1e-3)


@pytest.mark.parametrize("kind", ["bilstm", "cnn_lstm"])
def test_variants_are_pretrained_and_stacked_like_the_lstm(kind):
    X, y = sine_windows(n_samples=96)
    encoder = LSTMSAEEncoder(**TINY, cell=kind).fit(X)
    width = 8 if kind == "bilstm" else 4
    assert encoder.transform(X).shape == (96, width)
    assert encoder.get_feature_names_out().shape == (width,)
    assert encoder.inverse_transform(encoder.transform(X[:3])).shape == (3, 8, 2)
    assert set(encoder.history_) == {"pretrain_1", "pretrain_2"}
    reg = LSTMSAERegressor(pretraining=encoder, freeze_encoders=True, epochs=1,
                           random_state=0).fit(X, y)
    for index in (1, 2):
        for fitted, pretrained in zip(reg.model_.get_layer(f"encoder_{index}").get_weights(),
                                      encoder.model_.get_layer(f"encoder_{index}").get_weights()):
            np.testing.assert_array_equal(fitted, pretrained)
    assert type(reg.model_.get_layer("encoder_1")).__name__ == type(
        encoder.model_.get_layer("encoder_1")).__name__


def test_the_forecaster_of_each_variant_shapes_its_output():
    for kind in CELLS:
        model = build_forecaster(12, 3, (8, 4), (6, 2), cell=kind, linear_skip=True)
        assert model.output_shape == (None, 6, 2)
    with pytest.raises(ValueError, match="cell must be one of"):
        build_forecaster(12, 3, (8,), (1,), cell="gru")


def test_an_unknown_cell_is_refused_before_training():
    X, y = sine_windows(n_samples=64)
    with pytest.raises(ValueError, match="'cell' parameter of LSTMSAERegressor must be"):
        LSTMSAERegressor(**TINY_REGRESSOR, cell="transformer").fit(X, y)
