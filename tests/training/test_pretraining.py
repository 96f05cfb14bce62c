import numpy as np
import pytest

from sae_keras.training.pretraining import decode_codes, greedy_pretrain


class RecordingTrainer:
    """A ``train`` callable that fits briefly and records what it was given."""

    def __init__(self):
        self.calls = []

    def __call__(self, model, x, y, *, epochs, phase):
        self.calls.append(dict(model=model, x=x, y=y, epochs=epochs, phase=phase))
        model.compile("adam", "mse")
        return model.fit(x, y, epochs=epochs, batch_size=16, verbose=0).history


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(40, 6, 3)).astype("float32")


def test_input_target_reconstructs_the_original_window_at_every_layer(X):
    train = RecordingTrainer()
    greedy_pretrain(X, (5, 4, 2), (1, 2, 1), train, target="input")
    assert [c["epochs"] for c in train.calls] == [1, 2, 1]
    for call in train.calls:
        assert call["y"] is X
    assert train.calls[1]["x"].shape == (40, 5)
    assert train.calls[2]["x"].shape == (40, 4)


def test_previous_target_reconstructs_the_repeated_codes_below(X):
    train = RecordingTrainer()
    greedy_pretrain(X, (5, 4), (1, 1), train, target="previous")
    second = train.calls[1]
    assert second["y"].shape == (40, 6, 5)
    np.testing.assert_array_equal(second["y"][:, 3, :], second["x"])


def test_codes_passed_up_are_the_trained_encoder_outputs(X):
    train = RecordingTrainer()
    stack = greedy_pretrain(X, (5, 4), (1, 1), train)
    expected = stack.encoders[0].predict(X, verbose=0)
    np.testing.assert_allclose(train.calls[1]["x"], expected, rtol=1e-5)


def test_history_and_phases_are_per_layer(X):
    train = RecordingTrainer()
    stack = greedy_pretrain(X, (5, 4), (2, 1), train)
    assert [c["phase"] for c in train.calls] == [
        "pretraining layer 1/2", "pretraining layer 2/2"
    ]
    assert len(stack.history["pretrain_1"]["loss"]) == 2
    assert len(stack.encoder_weights) == len(stack.decoders) == 2


def test_pretraining_lowers_reconstruction_loss(X):
    stack = greedy_pretrain(X, (8,), (15,), RecordingTrainer())
    loss = stack.history["pretrain_1"]["loss"]
    assert loss[-1] < loss[0]


@pytest.mark.parametrize("target", ["input", "previous"])
def test_decode_codes_returns_windows_for_both_targets(X, target):
    stack = greedy_pretrain(X, (5, 4), (1, 1), RecordingTrainer(), target=target)
    windows = decode_codes(stack.decoders, np.zeros((3, 4), "float32"), target)
    assert windows.shape == (3, 6, 3)


def test_unknown_target_is_refused(X):
    with pytest.raises(ValueError, match="target must be one of"):
        greedy_pretrain(X, (5,), (1,), RecordingTrainer(), target="composite")
