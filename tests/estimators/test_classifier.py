"""``LSTMSAEClassifier``: pretraining without labels, a softmax head fine-tuned on them."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import sae_keras
from sae_keras import LSTMSAEClassifier, LSTMSAEEncoder
from sae_keras.training._loop import PhaseSettings
from conftest import PhaseRecorder, Settings, tiny_pretraining

#: A tiny classifier: one 6-unit layer, one pretraining epoch.
TINY_CLASSIFIER = Settings(hidden_units=(6,), pretraining=tiny_pretraining(), batch_size=32,
                           random_state=0)


def waves(n=90, timesteps=16, n_channels=2, labels=("slow", "fast", "flat"), seed=0):
    """Sequences of a few classes told apart by their frequency; the classes in turn."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, timesteps)
    kinds = np.arange(n) % len(labels)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1))
    channels = np.arange(1, n_channels + 1)[None, None, :]
    speed = np.array([1.0, 3.0, 0.0])[kinds][:, None, None]
    X = np.sin(speed * t[None, :, None] * channels + phase) + 0.1 * rng.normal(
        size=(n, timesteps, n_channels))
    return X, np.asarray(labels)[kinds]


@pytest.fixture(scope="module")
def fitted():
    X, y = waves()
    return LSTMSAEClassifier(**TINY_CLASSIFIER, epochs=40, learning_rate=1e-2).fit(X, y), X, y


def test_probabilities_labels_and_accuracy(fitted):
    clf, X, y = fitted
    assert list(clf.classes_) == ["fast", "flat", "slow"]  # sorted, as scikit-learn's
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))
    predicted = clf.predict(X)
    np.testing.assert_array_equal(predicted, clf.classes_[proba.argmax(axis=1)])
    assert clf.score(X, y) == pytest.approx(np.mean(predicted == y))
    assert clf.score(X, y) > 0.9  # the three frequencies are easy to tell apart
    assert list(clf.history_) == ["pretrain_1", "finetune"]
    assert clf.model_.get_layer("probabilities").output.shape[-1] == 3
    assert "linear_skip" not in [layer.name for layer in clf.model_.layers]  # the default


def test_it_pickles_saves_and_loads(fitted, tmp_path):
    clf, X, _ = fitted
    expected = clf.predict_proba(X[:7])
    for copy in (pickle.loads(pickle.dumps(clf)),
                 sae_keras.load(clf.save(tmp_path / "clf.zip"))):
        np.testing.assert_allclose(copy.predict_proba(X[:7]), expected, rtol=1e-6)
        np.testing.assert_array_equal(copy.classes_, clf.classes_)
        assert type(copy) is LSTMSAEClassifier


def test_a_classifier_pickled_before_patches_and_the_skip_reads_step_by_step(fitted):
    clf, X, _ = fitted
    state = clf.__getstate__()
    del state["patch_size"], state["patch_size_"], state["linear_skip"]
    old = LSTMSAEClassifier.__new__(LSTMSAEClassifier)
    old.__setstate__(state)
    params = old.get_params()
    assert params["patch_size"] == 1 and old.patch_size_ == 1 and params["linear_skip"] is None
    np.testing.assert_allclose(old.predict_proba(X[:3]), clf.predict_proba(X[:3]))
    assert clone(old).patch_size == 1


def test_binary_int_labels_and_no_pretraining():
    X, y = waves(n=60, labels=(3, 7))
    clf = LSTMSAEClassifier(**{**TINY_CLASSIFIER, "pretraining": None}, epochs=2).fit(X, y)
    assert clf.predict(X[:4]).dtype == clf.classes_.dtype
    assert set(clf.predict(X)) <= {3, 7} and clf.predict_proba(X).shape == (60, 2)
    assert list(clf.history_) == ["finetune"]


def test_early_stopping_holds_out_a_stratified_part_of_class_sorted_labels():
    codes = np.repeat([0, 1, 2], 40)  # the classes one after another, as archives ship them
    clf = LSTMSAEClassifier(random_state=0)
    settings = PhaseSettings(seed=3, batch_size=32, validation_fraction=0.1,
                             n_iter_no_change=10, tol=0.0, callbacks=[], verbose=0, owner="x")
    order, n_held = clf._held_out_last(codes, settings)
    assert sorted(order) == list(range(120))
    assert n_held == 12  # ceil(0.1 * 120) windows, the part early stopping holds out
    held = codes[order[-12:]]
    assert np.bincount(held, minlength=3).tolist() == [4, 4, 4]
    # A class of one window cannot be stratified: a random part is held out instead.
    order, n_held = clf._held_out_last(np.array([0] * 19 + [1]), settings)
    assert sorted(order) == list(range(20)) and n_held == 2
    # ... which leaves every class a window to train on, whatever the seed.
    from sae_keras.estimators._labels import stratified_held_out_last

    for few in (np.array([0] * 19 + [1]), np.repeat(np.arange(5), [2, 2, 4, 2, 2])):
        for seed in range(50):
            order, n_held = stratified_held_out_last(few, 0.1, seed)
            assert set(few[order[:-n_held]]) == set(few), (few, seed)
    no_stopping = PhaseSettings(**{**settings.__dict__, "validation_fraction": 0.0})
    order, n_held = clf._held_out_last(codes, no_stopping)
    np.testing.assert_array_equal(order, np.arange(120))
    assert n_held == 0


def test_class_weight_enters_the_fine_tuning_loss():
    X, y = waves(n=60, labels=("a", "b"))
    plain = LSTMSAEClassifier(**TINY_CLASSIFIER, epochs=2, early_stopping=False).fit(X, y)
    weighted = LSTMSAEClassifier(**TINY_CLASSIFIER, epochs=2, early_stopping=False,
                                 class_weight={"a": 5.0}).fit(X, y)
    assert weighted.history_["pretrain_1"] == plain.history_["pretrain_1"]  # no labels there
    assert weighted.history_["finetune"]["loss"] != plain.history_["finetune"]["loss"]
    clf = LSTMSAEClassifier(class_weight="balanced")
    codes = np.array([0, 0, 0, 1])
    clf.classes_ = np.array(["a", "b"])
    np.testing.assert_allclose(clf._fine_tuning_weight(codes, np.full(4, 2.0)),
                               [4 / 3, 4 / 3, 4 / 3, 4.0])


@pytest.mark.parametrize("y, params, error, message", [
    (np.zeros(30), {}, ValueError, r"y holds one class only \(np.float64\(0.0\)\)|one class"),
    (np.linspace(0, 1, 30), {}, ValueError, "Unknown label type"),
    (np.arange(29) % 2, {}, ValueError, "inconsistent numbers of samples"),
    (None, {}, ValueError, "requires y to be passed"),
    (np.arange(30) % 2, {"class_weight": {5: 2.0}}, ValueError,
     r"class_weight names labels that y does not hold: \[5\]"),
    (np.arange(30) % 2, {"class_weight": {1: -1.0}}, ValueError,
     r"class_weight must map labels to finite numbers >= 0; got \{1: -1.0\}"),
    (np.arange(30) % 2, {"class_weight": {0: float("nan")}}, ValueError,
     "class_weight must map labels to finite numbers >= 0"),
    (np.arange(30) % 2, {"class_weight": {0: "x"}}, ValueError,
     "class_weight must map labels to finite numbers >= 0"),
    (np.arange(30) % 2, {"pretraining": "input"}, ValueError, "'pretraining' parameter"),
    (np.arange(30) % 2, {"pretraining": None, "freeze_encoders": True}, ValueError,
     "freeze_encoders=True needs pretrained encoders"),
])
def test_bad_labels_and_settings_are_refused_before_training(y, params, error, message):
    X, _ = waves(n=30)
    recorder = PhaseRecorder()
    clf = LSTMSAEClassifier(**{**TINY_CLASSIFIER, **params}, callbacks=[recorder])
    with pytest.raises(error, match=message):
        clf.fit(X, y)
    assert recorder.steps == [] and not hasattr(clf, "model_")
    with pytest.raises(NotFittedError):
        clf.predict(X)


@pytest.mark.one_backend("jax")  # above Keras: see conftest
def test_a_failed_refit_leaves_no_previous_network_and_class_weights_save(tmp_path):
    X, y = waves(n=40, labels=(1, 2))
    clf = LSTMSAEClassifier(**TINY_CLASSIFIER, epochs=1, early_stopping=False,
                            class_weight={2: 3.0}).fit(X, y)
    # A dict of weights saves and loads, its int labels as ints.
    loaded = sae_keras.load(clf.save(tmp_path / "c.zip"))
    assert loaded.class_weight == {2: 3.0}
    np.testing.assert_allclose(loaded.predict_proba(X[:4]), clf.predict_proba(X[:4]),
                               rtol=1e-6)
    # A refit on other labels that fails before training: unfitted, not the previous
    # network beside the new classes.
    with pytest.raises(ValueError, match="class_weight names labels"):
        clf.fit(X, np.where(y == 1, "x", "y"))
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_sequences_of_different_lengths_and_unlabeled_ones():
    rng = np.random.default_rng(1)
    X, y = waves(n=48, timesteps=14)
    lengths = rng.integers(6, 15, size=len(X))
    sequences = [x[:length] for x, length in zip(X, lengths)]
    unlabeled = [x[: length - 2] for x, length in zip(waves(n=64, timesteps=14, seed=2)[0],
                                                      rng.integers(8, 15, size=64))]
    spy = PhaseRecorder()
    clf = LSTMSAEClassifier(**TINY_CLASSIFIER, epochs=1, early_stopping=False,
                            callbacks=[spy]).fit(sequences, y, X_unlabeled=unlabeled)
    assert clf.variable_length_ and clf.timesteps_ == 14
    assert spy.steps == [4, 2]  # 112 windows in pretraining, the 48 labeled in fine-tuning
    padded = np.full((3, 14, 2), np.nan)
    for row, length in enumerate((6, 9, 14)):
        padded[row, :length] = X[row, :length]
    np.testing.assert_allclose(clf.predict_proba(padded),
                               clf.predict_proba([x[:n] for x, n in zip(X, (6, 9, 14))]))
    # The padding is masked: what follows a sequence's end changes nothing.
    changed = padded.copy()
    changed[0, 6:] = np.nan
    np.testing.assert_allclose(clf.predict_proba(changed), clf.predict_proba(padded))


def test_unlabeled_windows_are_ignored_without_pretraining():
    X, y = waves(n=30)
    with pytest.warns(UserWarning, match="X_unlabeled is ignored: pretraining=None"):
        LSTMSAEClassifier(**{**TINY_CLASSIFIER, "pretraining": None}, epochs=1).fit(
            X, y, X_unlabeled=X)


def test_a_fitted_encoder_supplies_the_stack_and_its_scaling():
    X, y = waves(n=45)
    encoder = LSTMSAEEncoder((5,), pretrain_epochs=1, random_state=0).fit(X)
    clf = LSTMSAEClassifier(pretraining=encoder, freeze_encoders=True, epochs=1,
                            random_state=0).fit(X, y)
    assert clf.hidden_units_ == (5,) and "pretrain_1" not in clf.history_
    np.testing.assert_array_equal(clf.input_mean_, encoder.input_mean_)
    for got, want in zip(clf.model_.get_layer("encoder_1").get_weights(),
                         encoder.model_.get_layer("encoder_1").get_weights()):
        np.testing.assert_array_equal(got, want)


@pytest.mark.one_backend("jax")  # above Keras: see conftest
def test_a_search_tunes_the_pretraining_and_routes_unlabeled_windows():
    import sklearn

    X, y = waves(n=60)
    with sklearn.config_context(enable_metadata_routing=True):
        clf = clone(LSTMSAEClassifier(**TINY_CLASSIFIER, epochs=1)).set_fit_request(
            X_unlabeled=True)
        pipe = make_pipeline(FunctionTransformer(np.negative), clf,
                             transform_input=["X_unlabeled"])
        search = GridSearchCV(
            pipe, {"lstmsaeclassifier__pretraining__pretrain_epochs": [1, 2]},
            cv=StratifiedKFold(2),
        ).fit(X, y, X_unlabeled=X[:20] + 10.0)
    best = search.best_estimator_[-1]
    assert best.pretraining.pretrain_epochs in (1, 2)
    assert best.input_mean_[0] < -2  # the unlabeled windows (20 of 80) were negated and read
    assert search.predict(X[:3]).shape == (3,)


@pytest.mark.one_backend("jax")  # above Keras: see conftest
def test_a_soft_voting_ensemble_of_seeds_averages_probabilities_and_routes_unlabeled():
    # The guide's recipe for a seed ensemble: scikit-learn's VotingClassifier.
    import sklearn
    from sklearn.ensemble import VotingClassifier

    X, y = waves(n=60)
    with sklearn.config_context(enable_metadata_routing=True):
        members = [(f"seed{seed}", clone(LSTMSAEClassifier(**{**TINY_CLASSIFIER,
                                                               "random_state": seed},
                                                            epochs=1)).set_fit_request(
            X_unlabeled=True)) for seed in range(2)]
        ensemble = VotingClassifier(members, voting="soft").fit(
            X, y, X_unlabeled=X[:20] + 10.0)
    fitted = ensemble.estimators_
    assert [member.random_state for member in fitted] == [0, 1]
    assert all(member.input_mean_[0] > 1 for member in fitted)  # the unlabeled were read
    np.testing.assert_allclose(ensemble.predict_proba(X[:5]),
                               np.mean([m.predict_proba(X[:5]) for m in fitted], axis=0))
    assert set(ensemble.predict(X[:5])) <= set(y)


def test_patches_of_steps_in_pretraining_and_fine_tuning_and_the_linear_skip(tmp_path):
    rng = np.random.default_rng(3)
    X, y = waves(n=48, timesteps=14)
    sequences = [x[:n] for x, n in zip(X, rng.integers(5, 15, size=len(X)))]
    spy = PhaseRecorder()
    clf = LSTMSAEClassifier(**TINY_CLASSIFIER, patch_size=3, epochs=1, early_stopping=False,
                            linear_skip="trained", callbacks=[spy]).fit(
        sequences, y, X_unlabeled=sequences[:16])
    assert clf.patch_size_ == 3 and clf.timesteps_ == 14
    # The encoder pretrained and the one fine-tuned read 5 patches of 3 steps x 2 channels;
    # so does the linear skip, to the 3 classes' scores.
    assert clf.model_.get_layer("patches").output.shape[1:] == (5, 6)
    assert clf.model_.get_layer("encoder_1").get_weights()[0].shape == (6, 4 * 6)
    assert clf.model_.get_layer("linear_skip").kernel.shape == (5 * 6, 3)
    assert list(clf.history_) == ["pretrain_1", "finetune"] and spy.steps == [2, 2]
    padded = np.full((3, 14, 2), np.nan)
    for row, length in enumerate((4, 7, 14)):
        padded[row, :length] = X[row, :length]
    expected = clf.predict_proba(padded)
    np.testing.assert_allclose(expected, clf.predict_proba([x[:n] for x, n in
                                                            zip(X, (4, 7, 14))]))
    for copy in (pickle.loads(pickle.dumps(clf)), sae_keras.load(clf.save(tmp_path / "c.zip"))):
        np.testing.assert_allclose(copy.predict_proba(padded), expected, rtol=1e-6)
        assert copy.patch_size_ == 3
    # "auto": the smallest patches that leave at most AUTO_PATCH_STEPS steps.
    from sae_keras.estimators._composition import AUTO_PATCH_STEPS
    for timesteps, size in [(AUTO_PATCH_STEPS, 1), (AUTO_PATCH_STEPS + 1, 2),
                            (5 * AUTO_PATCH_STEPS, 5)]:
        assert LSTMSAEClassifier()._resolve_patch_size(timesteps, False) == size
        assert LSTMSAEClassifier()._resolve_patch_size(timesteps, True) == 1


def test_a_fitted_encoder_read_steps_not_patches():
    X, y = waves(n=30)
    encoder = LSTMSAEEncoder((4,), pretrain_epochs=1, random_state=0).fit(X)
    recorder = PhaseRecorder()
    with pytest.raises(ValueError, match="patch_size=2 needs the encoders pretrained on"):
        LSTMSAEClassifier(pretraining=encoder, patch_size=2, callbacks=[recorder]).fit(X, y)
    assert recorder.steps == []
    with pytest.raises(ValueError, match="'patch_size' parameter"):
        LSTMSAEClassifier(patch_size=0).fit(X, y)


def test_the_logistic_start_is_a_cross_validated_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    from sae_keras.estimators._linear_start import logistic_skip

    X, y = waves(n=60, timesteps=20)
    # learning_rate=1e-9: one epoch leaves the network where it started.
    clf = LSTMSAEClassifier(**{**TINY_CLASSIFIER, "pretraining": None}, epochs=1,
                            linear_skip="logistic", learning_rate=1e-9,
                            early_stopping=False).fit(X, y)
    assert clf.patch_size_ == 2 and clf.linear_skip_C_ in np.logspace(-4, 4, 10)
    assert not clf.model_.get_layer("linear_skip").trainable
    flat = ((X - clf.input_mean_) / clf.input_scale_).reshape(len(X), -1)
    expected = LogisticRegression(C=clf.linear_skip_C_, max_iter=1000).fit(flat, y)
    np.testing.assert_allclose(clf.predict_proba(X), expected.predict_proba(flat), atol=1e-5)
    # A class absent from the sequences it is fitted on: no start (zeros).
    kernel, bias, C = logistic_skip(flat[y != "flat"], np.arange(60)[y != "flat"] % 3, 3)
    assert C is None and not kernel.any() and not bias.any()
    # A class present with weight 0 only: no start either.
    codes = np.arange(60) % 3
    kernel, bias, C = logistic_skip(flat, codes, 3, sample_weight=(codes != 2).astype(float))
    assert C is None and not kernel.any() and not bias.any()
