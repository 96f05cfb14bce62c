"""Variable-length sequences: NaN right-padded windows and lists of sequences."""

import pickle

import keras
import numpy as np
import pytest

from sae_keras import LSTMSAEEncoder, LSTMSAEOutlierDetector, LSTMSAERegressor
from sae_keras.data._validation import pad_sequences, valid_steps
from sae_keras.nn.builders import PAD_VALUE, build_stacked_encoder
from sae_keras.training.pretraining import greedy_pretrain
from conftest import TINY, TINY_REGRESSOR, sine_windows


def _padded(X, lengths):
    padded = np.array(X, dtype=np.float64)
    for row, length in zip(padded, lengths):
        row[length:] = np.nan
    return padded


@pytest.fixture(scope="module")
def sequences():
    X, y = sine_windows(n_samples=64)
    lengths = np.random.default_rng(0).integers(3, 9, size=len(X))
    lengths[:2] = (8, 4)
    return X, y, lengths


@pytest.fixture(scope="module")
def padded_encoder(sequences):
    X, _, lengths = sequences
    return LSTMSAEEncoder(**TINY, reverse_reconstruction=True).fit(_padded(X, lengths))


def test_valid_steps_reads_right_padding():
    X = np.ones((3, 4, 2))
    assert valid_steps(X) is None
    X[1, 2:] = np.nan
    X[2, 1:] = np.nan
    np.testing.assert_array_equal(
        valid_steps(X), [[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]]
    )


@pytest.mark.parametrize(
    "where, message",
    [
        ((0, 1, 1), r"NaN in some channels of window 0 at step 1.*Right-pad shorter"),
        ((1, 1, slice(None)), r"window 1 has data at step 2 after an all-NaN step 1.*list of 2-D"),
        ((2, slice(None), slice(None)), r"window 2 holds no data"),
    ],
)
def test_nan_inside_a_sequence_is_refused_with_how_to_pad(where, message):
    X, y = sine_windows(n_samples=40)
    X = X.copy()
    X[where] = np.nan
    before = X.copy()
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1)
    with pytest.raises(ValueError, match=message):
        reg.fit(X, y)
    with pytest.raises(ValueError, match=message):
        LSTMSAEEncoder(**TINY).fit(X)
    np.testing.assert_array_equal(X, before)  # NaN compare equal here: same positions
    assert not hasattr(reg, "model_")


def test_pad_sequences_pads_lists_with_nan():
    padded = pad_sequences([np.ones((2, 3)), np.zeros((4, 3))])
    assert padded.shape == (2, 4, 3)
    assert np.isnan(padded[0, 2:]).all() and not np.isnan(padded[1]).any()
    univariate = pad_sequences([[1.0, 2.0], [3.0, 4.0, 5.0]])
    assert univariate.shape == (2, 3, 1)
    assert pad_sequences([[1.0, 2.0], [3.0, 4.0]]) == [[1.0, 2.0], [3.0, 4.0]]  # untouched
    assert pad_sequences([[1.0, 2.0]], timesteps=3).shape == (1, 3, 1)
    with pytest.raises(ValueError, match="sequence 1 has 2 channels, but sequence 0 has 3"):
        pad_sequences([np.ones((2, 3)), np.ones((5, 2))])
    with pytest.raises(ValueError, match="sequence 0 has 4 steps, more than the 3"):
        pad_sequences([np.ones((4, 1)), np.ones((2, 1))], timesteps=3)


def test_masked_codes_are_those_of_the_sequence_alone():
    """Padded steps are skipped: the codes equal the unpadded shorter sequence's, and
    differ from the codes of the longer sequence the padding replaced."""
    keras.utils.set_random_seed(0)
    # One layer: a layer above reads these codes repeated over the padded length.
    long = build_stacked_encoder(8, 2, (5,), masked=True)
    short = build_stacked_encoder(5, 2, (5,))
    short.set_weights(long.get_weights())
    X = np.random.default_rng(0).normal(size=(4, 8, 2)).astype("float32")
    padded = X.copy()
    padded[:, 5:] = PAD_VALUE
    np.testing.assert_allclose(
        long.predict(padded, verbose=0), short.predict(X[:, :5], verbose=0), atol=1e-5
    )
    assert np.abs(long.predict(padded, verbose=0) - long.predict(X, verbose=0)).min() > 1e-4


def test_codes_do_not_depend_on_how_a_sequence_is_padded(padded_encoder, sequences):
    X, _, lengths = sequences
    as_array = padded_encoder.transform(_padded(X, lengths))
    as_list = padded_encoder.transform([X[i, :length] for i, length in enumerate(lengths)])
    np.testing.assert_allclose(as_list, as_array, atol=1e-6)
    # Window 1 (4 steps) alone, or beside a longer one, or padded to the full length.
    alone = padded_encoder.transform([X[1, :4]])
    np.testing.assert_allclose(alone[0], as_array[1], atol=1e-6)
    # ...and not those of the whole 8-step window it was cut from.
    assert np.abs(padded_encoder.transform(X[1:2])[0] - as_array[1]).max() > 1e-3


def test_padding_stays_out_of_the_pretraining_losses():
    X = np.random.default_rng(0).normal(size=(16, 6, 2)).astype("float32")
    lengths = np.arange(16) % 5 + 2
    steps = ~np.isnan(_padded(X, lengths)).all(axis=2)
    from sae_keras.forecasting._scaling import ScaledWindows

    windows = ScaledWindows(_padded(X, lengths), np.zeros(2), np.ones(2), fill=PAD_VALUE)
    seen = []

    def train(model, x, y, epochs, phase, sample_weight=None):
        seen.append((np.asarray(x), np.asarray(y), sample_weight))
        model.compile("adam", "mse")
        return model.fit(np.asarray(x), np.asarray(y), sample_weight=sample_weight,
                         epochs=epochs, verbose=0).history

    stack = greedy_pretrain(windows, (3,), (1,), train, reverse=True,
                            step_weight=steps.astype("float32"))
    x, y, weight = seen[0]
    assert "mask" in [layer.name for layer in stack.autoencoders[0].layers]
    np.testing.assert_array_equal(x[~steps], PAD_VALUE)  # the encoder masks these
    np.testing.assert_array_equal(weight, steps[:, ::-1])  # reversed with the target
    np.testing.assert_array_equal(y[weight == 0], 0.0)  # finite targets, weighted 0
    np.testing.assert_array_equal(y[:, ::-1][steps], X[steps])


def test_padded_estimators_predict_score_and_round_trip(sequences, padded_encoder, tmp_path):
    X, y, lengths = sequences
    lists = [X[i, :length] for i, length in enumerate(lengths)]
    errors = padded_encoder.reconstruction_error(lists, per="step")
    np.testing.assert_array_equal(np.isnan(errors), ~valid_steps(_padded(X, lengths)))
    assert np.isfinite(padded_encoder.reconstruction_error(lists)).all()

    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).fit(lists, y)
    assert reg.variable_length_ and "mask" in [layer.name for layer in reg.model_.layers]
    predictions = reg.predict(lists)
    np.testing.assert_allclose(reg.predict(_padded(X, lengths)), predictions, atol=1e-6)
    np.testing.assert_allclose(reg.predict(X), reg.predict(X))  # full-length windows too
    np.testing.assert_allclose(pickle.loads(pickle.dumps(reg)).predict(lists), predictions,
                               atol=1e-6)
    loaded = LSTMSAERegressor.load(reg.save(tmp_path / "reg.zip"))
    assert loaded.variable_length_
    np.testing.assert_allclose(loaded.predict(lists), predictions, atol=1e-6)

    detector = LSTMSAEOutlierDetector(LSTMSAEEncoder(**TINY)).fit(lists)
    assert detector.predict(lists).shape == (len(lists),)


def test_padding_needs_an_estimator_fitted_on_padded_windows(sequences):
    X, y, lengths = sequences
    enc = LSTMSAEEncoder(**TINY).fit(X)
    with pytest.raises(ValueError, match="fitted on full-length windows, without masking"):
        enc.transform(_padded(X, lengths))
    with pytest.raises(ValueError, match="sequence 0 has 9 steps, more than the 8"):
        enc.transform([np.ones((9, 2))])


def test_objectives_with_a_future_part_refuse_padding(sequences):
    X, y, lengths = sequences
    with pytest.raises(ValueError, match="splits the future off the end of each window"):
        LSTMSAEEncoder(**TINY, pretrain_objective="composite").fit(_padded(X, lengths))
