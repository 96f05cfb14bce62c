import numpy as np
import pandas as pd
import pytest
import keras
from sklearn.base import clone
from sklearn.metrics import r2_score
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor
from conftest import TINY_REGRESSOR, sine_windows, tiny_pretraining


def tiny_regressor(**params):
    return LSTMSAERegressor(**{**TINY_REGRESSOR, "epochs": 2, **params})


@pytest.mark.parametrize(
    "y_shape", [(), (3,), (3, 2)], ids=["one-step", "horizon", "horizon-targets"]
)
def test_predict_returns_the_shape_of_y_as_float64(windows, y_shape):
    X, _ = windows
    y = np.random.default_rng(0).normal(size=(len(X),) + y_shape)
    reg = tiny_regressor().fit(X, y)
    y_pred = reg.predict(X[:7])
    assert y_pred.shape == (7,) + y_shape
    assert y_pred.dtype == np.float64
    assert reg.output_shape_ == y_shape


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_column_y_means_horizon_one_and_predicts_a_column(windows):
    X, y = windows
    reg = tiny_regressor().fit(X, y[:, None])
    assert reg.predict(X[:3]).shape == (3, 1)


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_score_is_r2_of_predict(windows):
    X, y = windows
    reg = tiny_regressor(epochs=5).fit(X, y)
    assert reg.score(X, y) == pytest.approx(r2_score(y, reg.predict(X)))


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_score_averages_r2_over_lead_times_and_targets():
    X, y = sine_windows(horizon=3)
    y3 = np.stack([y, -y], axis=2)
    reg = tiny_regressor().fit(X, y3)
    pred = reg.predict(X)
    expected = r2_score(y3.reshape(len(X), -1), pred.reshape(len(X), -1))
    assert reg.score(X, y3) == pytest.approx(expected)


def test_learns_a_sine_better_than_the_mean():
    X, y = sine_windows(n_samples=300)
    reg = tiny_regressor(hidden_units=(16, 8), epochs=15, learning_rate=5e-3).fit(X, y)
    assert reg.score(X, y) > 0.8


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
@pytest.mark.parametrize("reconstruct", ["input", "previous"])
def test_history_has_one_curve_per_phase(windows, reconstruct):
    X, y = windows
    pretraining = tiny_pretraining(reconstruct=reconstruct, pretrain_epochs=(2, 3))
    reg = tiny_regressor(pretraining=pretraining, epochs=4).fit(X, y)
    assert list(reg.history_) == ["pretrain_1", "pretrain_2", "finetune"]
    assert [len(reg.history_[k]["loss"]) for k in reg.history_] == [2, 3, 4]


def test_no_pretraining_is_the_dlstm_baseline_with_the_same_network(windows, fitted_regressor):
    X, y = windows
    dlstm = tiny_regressor(pretraining=None).fit(X, y)
    sae = fitted_regressor
    assert list(dlstm.history_) == ["finetune"]
    assert [l.name for l in dlstm.model_.layers] == [l.name for l in sae.model_.layers]


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_pretraining_is_the_encoder_estimators_own(windows):
    """Same seed and settings: the regressor's frozen encoders are the encoder's."""
    X, y = windows
    params = dict(hidden_units=(6, 4), batch_size=32, random_state=3, early_stopping=False)
    encoder = LSTMSAEEncoder(**params, pretrain_epochs=2).fit(X)
    reg = LSTMSAERegressor(**params, pretraining=tiny_pretraining(pretrain_epochs=2), epochs=2,
                           freeze_encoders=True).fit(X, y)
    for index in (1, 2):
        got = reg.model_.get_layer(f"encoder_{index}").get_weights()
        want = encoder.encoders_[index - 1].get_layer(f"encoder_{index}").get_weights()
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


def test_fine_tuning_moves_unfrozen_encoders(windows):
    X, y = windows
    params = dict(hidden_units=(6,), batch_size=32, random_state=3)
    encoder = LSTMSAEEncoder(**params, pretrain_epochs=2).fit(X)
    # Without early stopping: with it, weights that never beat the start are not kept.
    reg = LSTMSAERegressor(**params, pretraining=tiny_pretraining(pretrain_epochs=2), epochs=2,
                           early_stopping=False).fit(X, y)
    got = reg.model_.get_layer("encoder_1").get_weights()[0]
    want = encoder.encoders_[0].get_layer("encoder_1").get_weights()[0]
    assert not np.array_equal(got, want)


def test_freeze_encoders_needs_pretraining(windows):
    X, y = windows
    with pytest.raises(ValueError, match="freeze_encoders=True needs pretrained encoders"):
        tiny_regressor(pretraining=None, freeze_encoders=True).fit(X, y)


def test_same_random_state_gives_identical_predictions(windows):
    X, y = windows
    first = tiny_regressor(random_state=7).fit(X, y).predict(X)
    second = tiny_regressor(random_state=7).fit(X, y).predict(X)
    np.testing.assert_array_equal(first, second)


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_early_stopping_holds_out_data_and_stops(windows):
    X, y = windows
    # A huge tol means no epoch counts as an improvement over the starting weights
    # (epoch 0): every phase stops after n_iter_no_change epochs and keeps its start.
    stopping = dict(early_stopping=True, n_iter_no_change=2, tol=1e9)
    reg = tiny_regressor(
        **stopping, epochs=20, pretraining=tiny_pretraining(**stopping, pretrain_epochs=20)
    ).fit(X, y)
    for curve in reg.history_.values():
        assert len(curve["loss"]) == 2
        assert len(curve["val_loss"]) == 2


def test_too_few_windows_for_the_validation_split_fail_before_training():
    X, y = sine_windows(n_samples=1)  # ceil(0.1 * 1) = 1 validation window, none to train on
    with pytest.raises(ValueError, match="validation_fraction=0.1 holds out 1 of 1 windows"):
        tiny_regressor(early_stopping=True).fit(X, y)


def test_user_callbacks_see_every_phase(windows):
    X, y = windows

    class RecordEpochs(keras.callbacks.Callback):
        epochs = []

        def on_epoch_end(self, epoch, logs=None):
            RecordEpochs.epochs.append((self.model.name, epoch, sorted(logs)))

    tiny_regressor(pretraining=tiny_pretraining(pretrain_epochs=(1, 2)), epochs=3,
                   early_stopping=True, callbacks=[RecordEpochs()]).fit(X, y)
    # Each phase's model by its documented name (a pruning callback reports the
    # fine-tuning epochs only: examples/search_optuna.py), with its validation loss.
    assert [(name, epoch) for name, epoch, _ in RecordEpochs.epochs] == [
        ("autoencoder_1", 0), ("autoencoder_2", 0), ("autoencoder_2", 1),
        ("lstm_sae_forecaster", 0), ("lstm_sae_forecaster", 1), ("lstm_sae_forecaster", 2)]
    # Fine-tuning's early-stopping part (the tiny pretraining encoder stops by epochs).
    assert [("val_loss" in logs) for _, _, logs in RecordEpochs.epochs] == [False] * 3 + [True] * 3


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_verbose_names_each_phase(windows, capsys):
    X, y = windows
    tiny_regressor(verbose=1).fit(X, y)
    out = capsys.readouterr().out
    for phase in ("pretraining layer 1/2", "pretraining layer 2/2", "fine-tuning"):
        assert phase in out


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_verbose_zero_is_silent(windows, capsys):
    X, y = windows
    tiny_regressor(verbose=0).fit(X, y).predict(X)
    assert capsys.readouterr().out == ""


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_two_d_input_is_one_channel(windows):
    X, y = windows
    reg = tiny_regressor().fit(X[:, :, 0], y)
    assert (reg.timesteps_, reg.n_channels_in_, reg.n_features_in_) == (8, 1, 8)


def test_three_d_input_keeps_time_steps_and_channels_apart(fitted_regressor):
    reg = fitted_regressor
    assert (reg.timesteps_, reg.n_channels_in_, reg.n_features_in_) == (8, 2, 8)


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_dataframe_input_records_feature_names(windows):
    X, y = windows
    frame = pd.DataFrame(X[:, :, 0], columns=[f"t-{8 - i}" for i in range(8)])
    reg = tiny_regressor().fit(frame, y)
    assert list(reg.feature_names_in_) == list(frame.columns)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_array = reg.predict(X[:, :, 0])
    np.testing.assert_allclose(reg.predict(frame), from_array, rtol=1e-6)


@pytest.mark.parametrize(
    "shape, message",
    [
        ((10, 7, 2), r"X has 7 features, but LSTMSAERegressor is expecting 8 .*timesteps=7, "
         r"channels=2.*timesteps=8, channels=2"),
        ((10, 8, 3), r"timesteps=8, channels=3.*fitted on windows of shape \(timesteps=8, "
         r"channels=2\)"),
    ],
)
def test_predict_on_other_window_shapes_names_both_shapes(fitted_regressor, shape, message):
    reg = fitted_regressor
    with pytest.raises(ValueError, match=message):
        reg.predict(np.zeros(shape))


def test_predict_before_fit_raises_not_fitted(windows):
    with pytest.raises(NotFittedError):
        tiny_regressor().predict(windows[0])


def test_encoder_refuses_no_reconstruction_target(windows):
    with pytest.raises(InvalidParameterError, match="reconstruct"):
        LSTMSAEEncoder(reconstruct=None).fit(windows[0])


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(hidden_units=()), "hidden_units must be a positive int or a non-empty"),
        (dict(hidden_units=(4, -1)), "hidden_units must be a positive int"),
        (dict(pretraining=tiny_pretraining(pretrain_epochs=(1, 2, 3))),
         r"pretrain_epochs must be .* \(2 for hidden_units"),
        (dict(dropout=1.0), "'dropout' parameter"),
        (dict(strategy="quantum"), "'strategy' parameter"),
        (dict(pretraining="input"), "'pretraining' parameter"),
        (dict(pretraining=tiny_pretraining(hidden_units=(9,))),
         r"LSTMSAEEncoder\(hidden_units=\(9,\)\) differs from this estimator's "
         r"hidden_units=\(6, 4\).*Set hidden_units=\(9,\) here"),
        (dict(pretraining=tiny_pretraining(cell="bilstm")), r"cell='bilstm'.*cell='lstm'"),
        (dict(pretraining=tiny_pretraining(pretrain_objective="prediction",
                                            prediction_steps=8)),
         "prediction_steps=8 must be at least 1 and shorter than the windows"),
    ],
)
def test_bad_parameters_fail_before_training(windows, params, message):
    X, y = windows
    reg = tiny_regressor(**params)
    with pytest.raises((ValueError, InvalidParameterError), match=message):
        reg.fit(X, y)
    assert not hasattr(reg, "history_")


def test_diverging_loss_raises_and_leaves_the_estimator_unfitted(windows):
    X, y = windows
    # Fitted before: the failed refit leaves no previous network behind either.
    reg = tiny_regressor(scaling=None, epochs=1).fit(X, y)
    with pytest.raises(FloatingPointError, match="pretraining layer 1/2 at epoch 1"):
        reg.fit(X * 1e20, y)
    with pytest.raises(NotFittedError):
        reg.predict(X)


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_fit_does_not_modify_its_inputs(windows):
    X, y = windows
    X_copy, y_copy = X.copy(), y.copy()
    X32 = X.astype(np.float32)
    X32_copy = X32.copy()
    tiny_regressor().fit(X, y).predict(X32)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    np.testing.assert_array_equal(X32, X32_copy)


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_clone_gives_an_unfitted_twin(windows):
    reg = tiny_regressor(hidden_units=(5, 3)).fit(*windows)
    twin = clone(reg)
    assert repr(twin.get_params()) == repr(reg.get_params())
    assert twin.pretraining is not reg.pretraining
    assert not hasattr(twin, "model_")


def test_at_most_25_parameters_the_encoders_recipe_is_the_encoders():
    params = LSTMSAERegressor().get_params(deep=False)
    assert len(params) <= 25
    recipe = {"pretrain_epochs", "decoder_units", "pretrain_noise", "reverse_reconstruction",
              "pretrain_objective", "prediction_steps", "composite_weight",
              "conditional_decoder", "reconstruct", "memory"}
    assert not recipe & set(params)
    assert recipe <= set(LSTMSAEEncoder().get_params())


def test_auto_pretrains_as_the_encoder_with_the_regressors_network_and_training():
    reg = LSTMSAERegressor((5, 3), cell="bilstm", learning_rate=1e-2, batch_size=16,
                           loss="huber", early_stopping=False, scaling=None)
    encoder = reg._pretraining_encoder()
    assert isinstance(encoder, LSTMSAEEncoder)
    got = encoder.get_params()
    assert got["hidden_units"] == (5, 3) and got["cell"] == "bilstm"
    assert (got["learning_rate"], got["batch_size"], got["loss"]) == (1e-2, 16, "huber")
    assert got["early_stopping"] is False and got["scaling"] is None
    defaults = LSTMSAEEncoder().get_params()
    for name in ("reconstruct", "pretrain_epochs", "pretrain_objective", "memory"):
        assert got[name] == defaults[name]


def test_an_encoder_says_how_to_pretrain_the_regressors_network():
    given = LSTMSAEEncoder(pretrain_epochs=3, learning_rate=1e-2, reconstruct="previous")
    reg = LSTMSAERegressor((5, 3), activation="relu", learning_rate=1e-4, pretraining=given)
    encoder = reg._pretraining_encoder()
    assert encoder is not given and given.get_params()["hidden_units"] == (64, 32)
    got = encoder.get_params()
    assert (got["hidden_units"], got["activation"]) == ((5, 3), "relu")  # the network's
    assert (got["pretrain_epochs"], got["learning_rate"], got["reconstruct"]) == (
        3, 1e-2, "previous")  # the recipe's


def test_the_encoders_parameters_are_tuned_through_pretraining__(windows):
    reg = LSTMSAERegressor(pretraining=LSTMSAEEncoder())
    reg.set_params(pretraining__pretrain_epochs=2, pretraining__reconstruct="previous")
    assert reg.get_params()["pretraining__pretrain_epochs"] == 2
    assert reg._pretraining_encoder().reconstruct == "previous"


def test_patches_in_pretraining_fine_tuning_and_the_ridge_start(tmp_path):
    import pickle

    import sae_keras
    from sae_keras.forecasting._linear import ridge_skip

    X, y = sine_windows(n_samples=120, timesteps=10, n_channels=2)
    static = np.random.default_rng(1).normal(size=(len(X), 1))
    reg = tiny_regressor(patch_size=4, hidden_units=(6,)).fit(X, y, static_covariates=static)
    assert reg.patch_size_ == 4
    # The encoder pretrained and the one fine-tuned read 3 patches of 4 steps x 2 channels
    # (the last completed by 2 padded steps).
    assert reg.model_.get_layer("patches").output.shape[1:] == (3, 8)
    assert reg.model_.get_layer("encoder_1").get_weights()[0].shape == (8, 4 * 6)
    assert reg.history_["pretrain_1"]["loss"]
    # The ridge start reads the window as it is (and the covariate): the padded steps'
    # 4 values get no weight, in the window's part of the skip, before the covariate's.
    scaled = (X - reg.input_mean_) / reg.input_scale_
    static_scaled = (static - reg.covariate_stats_[0][0]) / reg.covariate_stats_[0][1]
    target = ((y - reg.target_mean_) / reg.target_scale_)[:, None]
    kernel, _, alpha = ridge_skip((scaled, static_scaled), target, validation_fraction=0.1)
    got = reg.model_.get_layer("linear_skip").get_weights()[0]
    assert got.shape == (12 * 2 + 1, 1) and alpha == reg.linear_skip_alpha_
    np.testing.assert_allclose(got[:20], kernel[:20], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(got[20:24], 0.0)
    np.testing.assert_allclose(got[24:], kernel[20:], rtol=1e-4, atol=1e-5)
    expected = reg.predict(X[:5], static_covariates=static[:5])
    for copy in (pickle.loads(pickle.dumps(reg)), sae_keras.load(reg.save(tmp_path / "r.zip"))):
        np.testing.assert_allclose(copy.predict(X[:5], static_covariates=static[:5]), expected,
                                   rtol=1e-6)
        assert copy.patch_size_ == 4
    # "auto" as the classifier's; 1, the default, reads step by step (no layer "patches").
    assert LSTMSAERegressor(patch_size="auto")._resolve_patch_size(40, False) == 3
    assert LSTMSAERegressor(patch_size="auto")._resolve_patch_size(40, True) == 1
    assert LSTMSAERegressor().get_params()["patch_size"] == 1


@pytest.mark.one_backend("jax")  # above Keras: see tests/conftest.py
def test_patches_need_an_encoder_pretrained_on_them(windows):
    X, y = windows
    encoder = LSTMSAEEncoder((4,), pretrain_epochs=1, batch_size=32, random_state=0).fit(X)
    with pytest.raises(ValueError, match="patch_size=2 needs the encoders pretrained on"):
        LSTMSAERegressor(pretraining=encoder, patch_size=2).fit(X, y)
    assert LSTMSAERegressor(pretraining=encoder, patch_size="auto", epochs=1, batch_size=32,
                            early_stopping=False).fit(X, y).patch_size_ == 1
    with pytest.raises(ValueError, match="'patch_size' parameter"):
        LSTMSAERegressor(patch_size=0).fit(X, y)
    # A composed encoder's prediction_steps counts patches, and its error says so.
    predicting = LSTMSAEEncoder(pretrain_objective="prediction", prediction_steps=2)
    with pytest.raises(ValueError, match=r"shorter than the windows \(2 patches\)"):
        LSTMSAERegressor(pretraining=predicting, patch_size=4).fit(X, y)
