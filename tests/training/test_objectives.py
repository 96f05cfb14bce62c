"""Pretraining objectives (reconstruction, prediction, composite) and conditional decoders."""

import pickle

import keras
import numpy as np
import pytest
from sklearn.base import clone

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor
from sae_keras.nn.builders import build_lstm_autoencoder, extract_decoder
from sae_keras.training.pretraining import ShiftedRight, greedy_pretrain
from conftest import TINY, TINY_REGRESSOR, PhaseRecorder, sine_windows, tiny_pretraining


def _output_names(model):
    return [name.split("/")[0] for name in model.output_names]


@pytest.mark.parametrize(
    "objective, outputs, shapes",
    [
        ("reconstruction", ["reconstruction_1"], (None, 6, 2)),
        ("prediction", ["prediction_1"], (None, 3, 2)),
        ("composite", ["reconstruction_1", "prediction_1"], [(None, 6, 2), (None, 3, 2)]),
    ],
)
def test_objective_chooses_the_decoders(objective, outputs, shapes):
    autoencoder, encoder = build_lstm_autoencoder(
        6, 2, 4, objective=objective, prediction_steps=3
    )
    assert _output_names(autoencoder) == outputs
    assert autoencoder.output_shape == shapes
    names = {layer.name for layer in autoencoder.layers}
    assert ("predictor_1" in names) == (objective != "reconstruction")
    assert ("decoder_1" in names) == (objective != "prediction")
    assert encoder.output_shape == (None, 4)  # one encoder under every decoder


def test_conditional_decoder_reads_the_previous_target_step():
    plain, _ = build_lstm_autoencoder(6, 2, 4)
    conditional, _ = build_lstm_autoencoder(6, 2, 4, conditional=True)
    assert [tuple(i.shape) for i in plain.inputs] == [(None, 6, 2)]
    assert [i.name for i in conditional.inputs] == ["window", "reconstruction_teacher_1"]
    # Unconditional: the decoder LSTM reads the repeated codes (4 wide); conditional:
    # codes and the previous target step side by side (4 + 2).
    assert plain.get_layer("decoder_1").input.shape == (None, 6, 4)
    assert conditional.get_layer("decoder_1").input.shape == (None, 6, 6)
    joined = conditional.get_layer("decoder_input_1")
    assert isinstance(joined, keras.layers.Concatenate)
    assert "reconstruction_teacher_1" in [t.name for t in joined.input]


def test_free_running_decoder_equals_teacher_forcing_with_its_own_outputs():
    """At inference a conditional decoder's input at step t is its own output at t - 1."""
    keras.utils.set_random_seed(0)
    autoencoder, _ = build_lstm_autoencoder(
        5, 2, 3, objective="composite", prediction_steps=2, conditional=True
    )
    codes = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    free = extract_decoder(autoencoder, 1).predict(codes, verbose=0)
    reconstruction, prediction = free[:, :5], free[:, 5:]

    code_input = keras.Input((3,))
    teachers = [keras.Input((5, 2)), keras.Input((2, 2))]
    forced = []
    for (output, prefix), teacher in zip(
        [("reconstruction", "decoder"), ("prediction", "predictor")], teachers
    ):
        sequence = autoencoder.get_layer(f"{prefix}_repeat_1")(code_input)
        sequence = autoencoder.get_layer(f"{prefix}_input_1")([sequence, teacher])
        sequence = autoencoder.get_layer(f"{prefix}_1")(sequence)[0]
        forced.append(autoencoder.get_layer(f"{output}_1")(sequence))
    teacher_forced = keras.Model([code_input, *teachers], forced)
    shifted = [np.asarray(ShiftedRight(part)) for part in (reconstruction, prediction)]
    got = teacher_forced.predict([codes, *shifted], verbose=0)
    np.testing.assert_allclose(got[0], reconstruction, atol=1e-5)
    np.testing.assert_allclose(got[1], prediction, atol=1e-5)
    # ...and not its input at t - 1 being anything else: zeros change the outputs.
    zeros = teacher_forced.predict([codes, *map(np.zeros_like, shifted)], verbose=0)
    assert np.abs(zeros[0][:, 1:] - reconstruction[:, 1:]).max() > 1e-4


def test_reversed_composite_decoder_reverses_only_the_reconstruction():
    autoencoder, _ = build_lstm_autoencoder(5, 2, 3, objective="composite", prediction_steps=2)
    codes = np.random.default_rng(1).normal(size=(3, 3)).astype("float32")
    forward = extract_decoder(autoencoder, 1).predict(codes, verbose=0)
    backward = extract_decoder(autoencoder, 1, reverse=True).predict(codes, verbose=0)
    np.testing.assert_allclose(backward[:, :5], forward[:, 4::-1], atol=1e-6)
    np.testing.assert_allclose(backward[:, 5:], forward[:, 5:], atol=1e-6)


def test_shifted_right_delays_by_one_step_and_slices_lazily():
    target = np.arange(12.0).reshape(2, 3, 2)
    shifted = ShiftedRight(target)
    want = np.concatenate([np.zeros((2, 1, 2)), target[:, :2]], axis=1)
    np.testing.assert_array_equal(np.asarray(shifted), want)
    np.testing.assert_array_equal(shifted[np.array([1])], want[1:])
    assert isinstance(shifted[1:], ShiftedRight)
    np.testing.assert_array_equal(np.asarray(shifted[1:]), want[1:])


def _spy_train(seen):
    def train(model, x, y, epochs, phase, loss_weights=None):
        seen.append((x, y, loss_weights))
        model.compile("adam", "mse" if loss_weights is None else ["mse"] * 2,
                      loss_weights=loss_weights)
        return model.fit(np.asarray(x) if not isinstance(x, tuple) else
                         tuple(np.asarray(p) for p in x),
                         tuple(np.asarray(p) for p in y) if isinstance(y, tuple) else y,
                         epochs=epochs, verbose=0).history
    return train


def test_the_future_part_is_split_off_the_window():
    X = np.random.default_rng(0).normal(size=(16, 7, 2)).astype("float32")
    seen = []
    greedy_pretrain(X, (3, 2), (1, 1), _spy_train(seen), objective="composite",
                    prediction_steps=2, composite_weight=0.25, conditional=True)
    (x1, y1, w1), (x2, y2, w2) = seen
    inputs, teacher_reconstruction, teacher_prediction = x1
    np.testing.assert_array_equal(inputs, X[:, :5])  # the encoder reads the first T - k
    np.testing.assert_array_equal(y1[0], X[:, :5])  # ... reconstructs them
    np.testing.assert_array_equal(y1[1], X[:, 5:])  # ... and predicts the last k
    np.testing.assert_array_equal(np.asarray(teacher_prediction)[:, 1], X[:, 5])
    assert w1 == w2 == [0.75, 0.25]
    assert x2[0].shape == (16, 3)  # layer 2 reads layer 1's codes
    np.testing.assert_array_equal(y2[1], X[:, 5:])


def test_composite_losses_both_decrease():
    X, _ = sine_windows(n_samples=128, timesteps=10)
    enc = LSTMSAEEncoder(
        hidden_units=(8,), pretrain_epochs=25, batch_size=32, random_state=0,
        early_stopping=False, pretrain_objective="composite", prediction_steps=3,
    ).fit(X)
    history = enc.history_["pretrain_1"]
    for key in ("reconstruction_1_loss", "prediction_1_loss"):
        curve = history[key]
        assert curve[-1] < 0.7 * curve[0], (key, curve)


def test_prediction_objective_learns_a_predictable_future():
    """A sine's next steps follow from its past: the prediction loss falls far below 1."""
    X, _ = sine_windows(n_samples=128, timesteps=10, n_channels=1)
    enc = LSTMSAEEncoder(
        hidden_units=(8,), pretrain_epochs=40, batch_size=32, random_state=0,
        early_stopping=False, pretrain_objective="prediction", prediction_steps=2,
    ).fit(X)
    assert enc.history_["pretrain_1"]["loss"][-1] < 0.1
    with pytest.raises(ValueError, match="'prediction' trains decoders that predict"):
        enc.inverse_transform(enc.transform(X[:2]))


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(pretrain_objective="composite", prediction_steps=8),
         r"prediction_steps=8 must be at least 1 and shorter than the windows \(8 steps\)"),
        (dict(pretrain_objective="prediction", reconstruct="previous"),
         r"pretrain_objective='prediction' needs reconstruct='input'"),
    ],
)
@pytest.mark.parametrize("composed", [False, True], ids=["encoder", "regressor"])
def test_objectives_that_cannot_train_are_refused_before_training(composed, params, message):
    X, y = sine_windows(n_samples=32)
    recorder = PhaseRecorder()
    with pytest.raises(ValueError, match=message):
        if composed:
            LSTMSAERegressor(**{**TINY_REGRESSOR, "pretraining": tiny_pretraining(**params)},
                             callbacks=[recorder]).fit(X, y)
        else:
            LSTMSAEEncoder(**TINY, **params, callbacks=[recorder]).fit(X)
    assert recorder.steps == []


@pytest.mark.parametrize("conditional", [False, True])
def test_composite_encoder_decodes_whole_windows_and_round_trips(conditional, tmp_path):
    X, _ = sine_windows(n_samples=64)
    enc = LSTMSAEEncoder(**TINY, pretrain_objective="composite", prediction_steps=2,
                         conditional_decoder=conditional, reverse_reconstruction=True).fit(X)
    codes = enc.transform(X[:5])
    # The codes are those of the first 6 steps, as the encoders learned to read...
    assert enc.model_.input_shape == (None, 6, 2)
    changed = X[:5].copy()
    changed[:, 6:] += 5.0
    np.testing.assert_allclose(enc.transform(changed), codes, atol=1e-6)
    # ...and they decode into whole windows: the reconstruction, then the prediction.
    windows = enc.inverse_transform(codes)
    assert windows.shape == (5, 8, 2)
    assert enc.reconstruction_error(changed).mean() > enc.reconstruction_error(X[:5]).mean()
    assert enc.reconstruction_error(X[:5]).shape == (5,)
    again = pickle.loads(pickle.dumps(enc))
    np.testing.assert_allclose(again.inverse_transform(codes), windows, atol=1e-5)
    loaded = LSTMSAEEncoder.load(enc.save(tmp_path / "enc.zip"))
    np.testing.assert_allclose(loaded.inverse_transform(codes), windows, atol=1e-5)
    assert clone(enc).get_params()["conditional_decoder"] is conditional


def test_regressor_pretrains_with_each_objective_and_stacks_the_same_encoders():
    X, y = sine_windows(n_samples=64)
    recipe = dict(pretrain_objective="composite", prediction_steps=2, conditional_decoder=True)
    enc = LSTMSAEEncoder(**TINY, **recipe).fit(X)
    reg = LSTMSAERegressor(**{**TINY_REGRESSOR, "pretraining": tiny_pretraining(**recipe)},
                           epochs=1, freeze_encoders=True, linear_skip=None).fit(X, y)
    for k in (1, 2):
        for got, want in zip(reg.model_.get_layer(f"encoder_{k}").get_weights(),
                             enc.model_.get_layer(f"encoder_{k}").get_weights()):
            np.testing.assert_array_equal(got, want)
    assert "prediction_1_loss" in reg.history_["pretrain_1"]
