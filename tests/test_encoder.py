import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from sae_keras import LSTMSAEEncoder
from conftest import TINY


def tiny_encoder(**params):
    return LSTMSAEEncoder(**{**TINY, **params})


def test_transform_returns_float64_codes_of_the_top_layer(windows):
    X, _ = windows
    codes = tiny_encoder().fit(X).transform(X)
    assert codes.shape == (len(X), 4)
    assert codes.dtype == np.float64


def test_transform_is_the_stack_of_pretrained_encoders(windows):
    X, _ = windows
    enc = tiny_encoder().fit(X)
    codes_1 = enc.encoders_[0].predict(X.astype("float32"), verbose=0)
    codes_2 = enc.encoders_[1].predict(codes_1, verbose=0)
    np.testing.assert_allclose(enc.transform(X), codes_2, rtol=1e-5, atol=1e-6)


def test_feature_names_out_and_pandas_output(windows):
    X, _ = windows
    enc = tiny_encoder().fit(X)
    names = enc.get_feature_names_out()
    assert list(names) == [f"lstmsaeencoder{i}" for i in range(4)]
    frame = enc.set_output(transform="pandas").transform(X[:5])
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(names)


def test_inverse_transform_with_input_target_is_the_top_autoencoder(windows):
    X, _ = windows
    enc = tiny_encoder(pretraining="input").fit(X)
    X32 = X.astype("float32")
    codes_1 = enc.encoders_[0].predict(X32, verbose=0)
    reconstruction = enc.autoencoders_[1].predict(codes_1, verbose=0)
    np.testing.assert_allclose(
        enc.inverse_transform(enc.transform(X)), reconstruction, rtol=1e-4, atol=1e-5
    )


def test_inverse_transform_with_previous_target_decodes_down_the_stack(windows):
    X, _ = windows
    enc = tiny_encoder(pretraining="previous").fit(X)
    codes = enc.transform(X[:6])
    upper = enc.decoders_[1].predict(codes.astype("float32"), verbose=0).mean(axis=1)
    expected = enc.decoders_[0].predict(upper, verbose=0)
    windows_back = enc.inverse_transform(codes)
    assert windows_back.shape == (6, 8, 2)
    np.testing.assert_allclose(windows_back, expected, rtol=1e-4, atol=1e-5)


def test_longer_pretraining_reconstructs_better(windows):
    X, _ = windows
    def error(epochs):
        enc = tiny_encoder(hidden_units=(8,), pretrain_epochs=epochs, learning_rate=1e-2).fit(X)
        return np.mean((enc.inverse_transform(enc.transform(X)) - X) ** 2)
    assert error(30) < 0.75 * error(1)


def test_inverse_transform_checks_the_code_width(windows):
    enc = tiny_encoder().fit(windows[0])
    with pytest.raises(ValueError, match="X has 3 codes per sample, but LSTMSAEEncoder produces 4"):
        enc.inverse_transform(np.zeros((2, 3)))


def test_history_has_one_curve_per_layer(windows):
    enc = tiny_encoder(pretrain_epochs=(2, 1)).fit(windows[0])
    assert {k: len(v["loss"]) for k, v in enc.history_.items()} == {
        "pretrain_1": 2, "pretrain_2": 1
    }


def test_codes_feed_a_scikit_learn_regressor_in_a_pipeline(windows):
    X, y = windows
    pipe = make_pipeline(tiny_encoder(), Ridge()).fit(X, y)
    assert pipe.predict(X).shape == y.shape
