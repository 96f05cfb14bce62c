import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from sae_keras import LSTMSAEEncoder
from conftest import TINY, TINY_REGRESSOR, tiny_pretraining


def tiny_encoder(**params):
    return LSTMSAEEncoder(**{**TINY, **params})


def test_transform_returns_float64_codes_of_the_top_layer(windows, fitted_encoder):
    X, _ = windows
    codes = fitted_encoder.transform(X)
    assert codes.shape == (len(X), 4)
    assert codes.dtype == np.float64


def test_transform_is_the_stack_of_pretrained_encoders(windows, fitted_encoder):
    X, _ = windows
    enc = fitted_encoder
    scaled = (X - enc.input_mean_) / enc.input_scale_  # the models see standardised windows
    codes_1 = enc.encoders_[0].predict(scaled.astype("float32"), verbose=0)
    codes_2 = enc.encoders_[1].predict(codes_1, verbose=0)
    np.testing.assert_allclose(enc.transform(X), codes_2, rtol=1e-5, atol=1e-6)


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
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
    enc = tiny_encoder(reconstruct="input").fit(X)
    X32 = ((X - enc.input_mean_) / enc.input_scale_).astype("float32")
    codes_1 = enc.encoders_[0].predict(X32, verbose=0)
    # The models work in standardised units; inverse_transform returns the data's.
    reconstruction = enc.autoencoders_[1].predict(codes_1, verbose=0)
    reconstruction = reconstruction * enc.input_scale_ + enc.input_mean_
    np.testing.assert_allclose(
        enc.inverse_transform(enc.transform(X)), reconstruction, rtol=1e-4, atol=1e-5
    )


def test_inverse_transform_with_previous_target_decodes_down_the_stack(windows):
    X, _ = windows
    enc = tiny_encoder(reconstruct="previous").fit(X)
    codes = enc.transform(X[:6])
    upper = enc.decoders_[1].predict(codes.astype("float32"), verbose=0).mean(axis=1)
    expected = enc.decoders_[0].predict(upper, verbose=0) * enc.input_scale_ + enc.input_mean_
    windows_back = enc.inverse_transform(codes)
    assert windows_back.shape == (6, 8, 2)
    np.testing.assert_allclose(windows_back, expected, rtol=1e-4, atol=1e-5)


def test_longer_pretraining_reconstructs_better(windows):
    X, _ = windows
    def error(epochs):
        enc = tiny_encoder(hidden_units=(8,), pretrain_epochs=epochs, learning_rate=1e-2).fit(X)
        return np.mean((enc.inverse_transform(enc.transform(X)) - X) ** 2)
    assert error(30) < 0.75 * error(1)


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_inverse_transform_checks_the_code_width(windows):
    enc = tiny_encoder().fit(windows[0])
    with pytest.raises(ValueError, match="X has 3 codes per sample, but LSTMSAEEncoder produces 4"):
        enc.inverse_transform(np.zeros((2, 3)))


def test_history_has_one_curve_per_layer(windows):
    enc = tiny_encoder(pretrain_epochs=(2, 1)).fit(windows[0])
    assert {k: len(v["loss"]) for k, v in enc.history_.items()} == {
        "pretrain_1": 2, "pretrain_2": 1
    }


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_codes_feed_a_scikit_learn_regressor_in_a_pipeline(windows):
    X, y = windows
    pipe = make_pipeline(tiny_encoder(), Ridge()).fit(X, y)
    assert pipe.predict(X).shape == y.shape


def test_the_tutorials_first_example_reconstructs_at_the_defaults():
    # ../shared/seeds/001: one sequence 0.1 ... 0.9, 100 units, 300 epochs; the
    # tutorial's own model gets below 0.01. Defaults otherwise (decoder as wide as
    # the encoder, standardised input): below 0.02 on both backends.
    sequence = np.linspace(0.1, 0.9, 9).reshape(1, 9, 1)
    enc = LSTMSAEEncoder(hidden_units=(100,), pretrain_epochs=300, random_state=1)
    rebuilt = enc.fit(sequence).inverse_transform(enc.transform(sequence))
    assert enc.autoencoders_[0].get_layer("decoder_1").units == 100
    assert np.abs(rebuilt - sequence).max() < 0.02


def test_pretrain_noise_makes_denoising_autoencoders(windows, fitted_encoder):
    X, _ = windows
    noisy = tiny_encoder(pretrain_noise=0.3).fit(X)
    for index, autoencoder in enumerate(noisy.autoencoders_, start=1):
        assert autoencoder.get_layer(f"noise_{index}").stddev == 0.3
    np.testing.assert_array_equal(noisy.transform(X[:5]), noisy.transform(X[:5]))
    clean = fitted_encoder
    assert noisy.history_["pretrain_1"]["loss"] != clean.history_["pretrain_1"]["loss"]
    assert "noise_1" not in [layer.name for layer in clean.autoencoders_[0].layers]


def test_reverse_reconstruction_trains_decoders_to_emit_the_window_backwards():
    # The tutorial's sequence 0.1 ... 0.9: the decoder of a reversed autoencoder
    # emits 0.9 first; inverse_transform gives it back in time order. (One layer:
    # reconstruct="previous" trains it on the same target; a reversed stack of each
    # kind runs in test_reverse_reconstruction_in_a_stack_decodes_to_time_order.)
    reconstruct = "input"
    sequence = np.linspace(0.1, 0.9, 9).reshape(1, 9, 1)
    # 100 epochs at 1e-2 learn it as well as the tutorial's 300 at Keras' 1e-3, a third
    # of the cost (measured: step errors 0.024 and 0.011 on TensorFlow and JAX, < 0.05).
    settings = dict(hidden_units=(100,), pretrain_epochs=100, learning_rate=1e-2, random_state=1)
    enc = LSTMSAEEncoder(**settings, reconstruct=reconstruct,
                         reverse_reconstruction=True).fit(sequence)
    scaled = (sequence - enc.input_mean_) / enc.input_scale_
    emitted = np.asarray(enc.autoencoders_[0](scaled.astype("float32")))
    np.testing.assert_allclose(emitted[0, :, 0], scaled[0, ::-1, 0], atol=0.05)
    rebuilt = enc.inverse_transform(enc.transform(sequence))
    assert np.abs(rebuilt - sequence).max() < 0.02
    assert enc.reconstruction_error(sequence)[0] < 1e-3
    # Without it the same network emits the window in time order.
    forward = LSTMSAEEncoder(**settings, reconstruct=reconstruct).fit(sequence)
    emitted = np.asarray(forward.autoencoders_[0](scaled.astype("float32")))
    np.testing.assert_allclose(emitted[0, :, 0], scaled[0, :, 0], atol=0.05)


@pytest.mark.parametrize("scaling, reconstruct", [("standard", "input"), (None, "previous")])
def test_reverse_reconstruction_in_a_stack_decodes_to_time_order(windows, scaling, reconstruct):
    X, y = windows
    enc = tiny_encoder(reverse_reconstruction=True, scaling=scaling,
                       reconstruct=reconstruct).fit(X)
    assert enc.inverse_transform(enc.transform(X[:4])).shape == X[:4].shape
    from sae_keras import LSTMSAERegressor

    pretraining = tiny_pretraining(reverse_reconstruction=True, reconstruct=reconstruct)
    reg = LSTMSAERegressor(**{**TINY_REGRESSOR, "epochs": 1, "pretraining": pretraining},
                           scaling=scaling)
    assert reg.fit(X, y).predict(X[:3]).shape == (3,) + np.shape(y)[1:]
    assert enc.get_params()["reverse_reconstruction"] is True
    with pytest.raises(ValueError, match="'reverse_reconstruction' parameter"):
        tiny_encoder(reverse_reconstruction="yes").fit(X)


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_pretrain_stride_pretrains_on_every_kth_window_and_scales_on_all(windows):
    X, _ = windows
    strided = tiny_encoder(pretrain_stride=3).fit(X)
    scaled = (X - strided.input_mean_) / strided.input_scale_
    # The same pretraining as a fit on every third window of the scaled windows.
    by_hand = tiny_encoder(scaling=None).fit(scaled[::3])
    for ours, theirs in zip(strided.model_.get_weights(), by_hand.model_.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)
    # The input scaling is still learned on every window.
    np.testing.assert_allclose(strided.input_mean_, tiny_encoder().fit(X).input_mean_)


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_pretrain_stride_in_a_regressor_trains_fewer_pretraining_batches(windows):
    from sae_keras import LSTMSAERegressor
    from conftest import PhaseRecorder

    X, y = windows
    recorder = PhaseRecorder()
    LSTMSAERegressor(**{**TINY_REGRESSOR, "epochs": 1, "callbacks": [recorder],
                        "pretraining": tiny_pretraining(pretrain_stride=4)}).fit(X, y)
    # 160 windows in batches of 32: 40 strided windows (2 batches) in each
    # pretraining phase, all 160 (5 batches) in fine-tuning.
    assert recorder.steps == [2, 2, 5]


def test_pretrain_stride_counts_a_held_out_part_in_kept_windows():
    from sae_keras.training._loop import PhaseSettings

    settings = PhaseSettings(seed=0, batch_size=4, validation_fraction=0.1, n_iter_no_change=2,
                             tol=0.0, callbacks=[], verbose=0, owner="t", held_out=4)
    X = np.arange(10.0)[:, None, None]
    kept, _, _, strided = tiny_encoder(pretrain_stride=3)._strided(X, None, None, settings)
    # Rows 0, 3, 6, 9 train; of the held-out rows 6-9, rows 6 and 9.
    np.testing.assert_array_equal(kept.ravel(), [0, 3, 6, 9])
    assert strided.held_out == 2
    _, _, _, none_kept = tiny_encoder(pretrain_stride=5)._strided(
        X, None, None, settings.__class__(**{**vars(settings), "held_out": 1}))
    assert none_kept.held_out is None and none_kept.validation_fraction == 0.0


def test_pretrain_stride_leaving_too_few_windows_for_early_stopping_is_refused(windows):
    X, _ = windows
    with pytest.raises(ValueError, match="validation_fraction"):
        tiny_encoder(pretrain_stride=160, early_stopping=True, validation_fraction=0.1).fit(X)
