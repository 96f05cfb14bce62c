import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV

from sae_keras import LSTMSAEEncoder, LSTMSAEOutlierDetector


def _windows(n=300, timesteps=24, seed=0):
    """Two noisy daily cycles: every window has the same shape, shifted."""
    rng = np.random.default_rng(seed)
    t = np.arange(n + timesteps)
    series = np.stack([np.sin(2 * np.pi * t / 24), np.cos(2 * np.pi * t / 24)], axis=1)
    series += 0.05 * rng.normal(size=series.shape)
    return np.stack([series[i : i + timesteps] for i in range(n)])


INJECTED = {"spike": 50, "level shift": 120, "frozen sensor": 200}


def _with_anomalies():
    X = _windows()
    X[50, 10, 0] += 3.0  # a spike
    X[120, 12:, 0] += 1.5  # a level shift
    X[200, :, 1] = X[200, 0, 1]  # a frozen sensor
    return X


def _encoder(**params):
    return LSTMSAEEncoder(**{"hidden_units": (16,), "pretrain_epochs": 30, "batch_size": 32, **params})


@pytest.fixture(scope="module")
def fitted():
    X = _with_anomalies()
    return X, LSTMSAEOutlierDetector(_encoder(), random_state=0).fit(X)


def test_injected_anomalies_are_ranked_first_and_flagged(fitted):
    X, detector = fitted
    scores = detector.score_samples(X)
    assert set(np.argsort(scores)[:3]) == set(INJECTED.values())
    flagged = np.flatnonzero(detector.predict(X) == -1)
    assert set(INJECTED.values()) <= set(flagged)
    # 'auto' flags the injected windows and few others (precision).
    assert len(flagged) <= 3 * len(INJECTED)
    np.testing.assert_allclose(detector.decision_function(X), scores - detector.offset_)
    assert set(np.unique(detector.predict(X))) <= {-1, 1}


def test_errors_per_step_and_channel_locate_the_anomaly(fitted):
    X, detector = fitted
    encoder = detector.encoder_
    per_step = encoder.reconstruction_error(X[[50]], per="step")[0]
    per_channel = encoder.reconstruction_error(X[[50]], per="channel")[0]
    element = encoder.reconstruction_error(X[[50]], per="element")[0]
    assert per_step.shape == (24,) and per_channel.shape == (2,) and element.shape == (24, 2)
    assert int(np.argmax(per_step)) == 10  # the spike's step
    assert int(np.argmax(per_channel)) == 0  # and its channel
    np.testing.assert_allclose(per_step, element.mean(axis=1))
    np.testing.assert_allclose(encoder.reconstruction_error(X[[50]])[0], element.mean())
    np.testing.assert_allclose(encoder.score_samples(X[[50]]), -element.mean())
    with pytest.raises(ValueError, match="per must be one of"):
        encoder.reconstruction_error(X, per="time")


def test_errors_are_in_standardised_units_so_channels_weigh_the_same(fitted):
    X, detector = fitted
    scaled = X.copy()
    scaled[:, :, 1] *= 1000.0  # channel 2 in other units
    other = LSTMSAEOutlierDetector(_encoder(), random_state=0).fit(scaled)
    np.testing.assert_allclose(other.score_samples(scaled), detector.score_samples(X), rtol=1e-3, atol=1e-5)


def test_contamination_sets_the_share_of_training_windows_flagged(fitted):
    X, detector = fitted
    for contamination in (0.02, 0.1):
        other = clone(detector).set_params(contamination=contamination).fit(X)
        share = np.mean(other.predict(X) == -1)
        assert share == pytest.approx(contamination, abs=1.5 / len(X))


def test_it_behaves_like_scikit_learns_outlier_detectors(fitted):
    X, detector = fitted
    forest = IsolationForest(random_state=0).fit(X.reshape(len(X), -1))
    for model, data in ((detector, X), (forest, X.reshape(len(X), -1))):
        assert model.predict(data).dtype.kind == "i"
        assert np.all((model.decision_function(data) < 0) == (model.predict(data) == -1))
    restored = pickle.loads(pickle.dumps(detector))
    np.testing.assert_allclose(restored.score_samples(X), detector.score_samples(X), rtol=1e-6)
    # Its encoder's parameters tune through the usual double underscore.
    assert detector.get_params()["encoder__hidden_units"] == (16,)
    search = GridSearchCV(
        LSTMSAEOutlierDetector(_encoder(pretrain_epochs=2), random_state=0),
        {"encoder__hidden_units": [(4,), (8,)]},
        scoring=lambda est, X_, y_=None: float(np.mean(est.score_samples(X_))),
        cv=2,
    ).fit(X[:120])
    assert search.best_params_["encoder__hidden_units"] in ((4,), (8,))


def test_bad_parameters_are_refused_before_training():
    encoder = _encoder()
    with pytest.raises(ValueError, match="'contamination' parameter"):
        LSTMSAEOutlierDetector(encoder, contamination=0.7).fit(_windows(40))
    with pytest.raises(ValueError, match="'encoder' parameter"):
        LSTMSAEOutlierDetector(Ridge()).fit(_windows(40))  # no score_samples
    assert not hasattr(encoder, "model_")
