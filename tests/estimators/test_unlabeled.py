"""Unlabeled windows for pretraining: ``LSTMSAERegressor.fit(X, y, X_unlabeled=...)``."""

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor
from conftest import TINY, TINY_REGRESSOR, PhaseRecorder, sine_windows


def test_pretraining_reads_unlabeled_windows_and_fine_tuning_does_not():
    X, y = sine_windows(n_samples=200)
    spy = PhaseRecorder()
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1, callbacks=[spy])
    reg.fit(X[:20], y[:20], X_unlabeled=X[20:])
    # batch_size 32: 200 windows in each pretraining phase, the 20 labeled in fine-tuning.
    assert spy.steps == [7, 7, 1]
    mean = X.reshape(-1, 2).mean(axis=0)
    np.testing.assert_allclose(reg.input_mean_, mean, rtol=1e-6)


def test_unlabeled_windows_reach_an_encoder_given_as_pretraining():
    X, y = sine_windows(n_samples=120)
    encoder = LSTMSAEEncoder(**TINY)
    reg = LSTMSAERegressor(TINY["hidden_units"], pretraining=encoder, epochs=1, batch_size=32,
                           random_state=0)
    reg.fit(X[:20], y[:20], X_unlabeled=X[20:] + 1.0)
    # The fitted copy of the encoder learned its scaling on all 120 windows.
    seen = np.concatenate([X[20:] + 1.0, X[:20]]).reshape(-1, 2)
    np.testing.assert_allclose(reg.input_mean_, seen.mean(axis=0), rtol=1e-6)
    assert not hasattr(encoder, "model_")  # the encoder passed is left as it was


@pytest.mark.parametrize(
    "params, reason",
    [(dict(pretraining=None), "pretraining=None")],
)
def test_unused_unlabeled_windows_warn(params, reason):
    X, y = sine_windows(n_samples=40)
    with pytest.warns(UserWarning, match=f"X_unlabeled is ignored: {reason}"):
        LSTMSAERegressor(**{**TINY_REGRESSOR, **params}, epochs=1).fit(X, y, X_unlabeled=X)


def test_bad_unlabeled_windows_are_refused_before_training():
    X, y = sine_windows(n_samples=40)
    reg = LSTMSAERegressor(**TINY_REGRESSOR, epochs=1)
    with pytest.raises(ValueError, match=r"X_unlabeled must hold windows shaped like X's "
                                         r"\(timesteps=8, channels=2\); got .*timesteps=7"):
        reg.fit(X, y, X_unlabeled=X[:, :7])
    bad = X.copy()
    bad[3, 2, 1] = np.nan
    with pytest.raises(ValueError, match="X_unlabeled"):
        reg.fit(X, y, X_unlabeled=bad)
    assert np.isnan(bad[3, 2, 1])  # not modified
    assert not hasattr(reg, "model_")


@pytest.mark.one_backend("jax")  # above Keras: see conftest
def test_pipeline_routes_unlabeled_windows_through_the_preceding_steps():
    X, y = sine_windows(n_samples=40)
    unlabeled = np.full((100, 8, 2), 5.0)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [
                ("negate", FunctionTransformer(np.negative)),
                ("reg", LSTMSAERegressor(**TINY_REGRESSOR, epochs=1).set_fit_request(X_unlabeled=True)),
            ],
            transform_input=["X_unlabeled"],
        )
        pipe.fit(X, y, X_unlabeled=unlabeled)
        reg = pipe.named_steps["reg"]
        seen = np.concatenate([-unlabeled, -X]).reshape(-1, 2)
        np.testing.assert_allclose(reg.input_mean_, seen.mean(axis=0), rtol=1e-6)

        search = GridSearchCV(pipe, {"reg__pretraining__pretrain_epochs": [1, 2]},
                              cv=TimeSeriesSplit(2))
        search.fit(X, y, X_unlabeled=unlabeled)
        assert search.best_estimator_.named_steps["reg"].input_mean_[0] < -3


@pytest.mark.slow
def test_scarce_labels_with_unlabeled_pretraining(record_property):
    """5% of the windows labeled: pretraining on all of them, or on the labeled 5% only.

    Reported, not asserted either way, for the forecast (see
    examples/unlabeled_pretraining.py for the PM2.5 study); asserted: the
    encoders learned from the unlabeled windows (lower reconstruction error
    on windows neither fit saw).
    """
    X, y = sine_windows(n_samples=600, n_channels=3, seed=1)
    train, test = slice(0, 400), slice(400, 600)
    labeled = slice(380, 400)  # 5% of the training windows, the most recent
    params = dict(hidden_units=(8, 4), epochs=30, batch_size=32, random_state=0,
                  pretraining=LSTMSAEEncoder(pretrain_epochs=15, batch_size=32))
    alone = LSTMSAERegressor(**params).fit(X[labeled], y[labeled])
    helped = LSTMSAERegressor(**params).fit(X[labeled], y[labeled], X_unlabeled=X[:380])
    rmse = {
        name: float(np.sqrt(np.mean((model.predict(X[test]) - y[test]) ** 2)))
        for name, model in (("labeled only", alone), ("with unlabeled", helped))
    }
    record_property("scarce_label_rmse", rmse)
    print(f"\n5% labeled, test RMSE: {rmse}")
    assert all(np.isfinite(list(rmse.values())))

    encoders = [
        LSTMSAEEncoder(hidden_units=(8,), pretrain_epochs=15, batch_size=32,
                       random_state=0).fit(windows)
        for windows in (X[labeled], X[train])
    ]
    errors = [enc.reconstruction_error(X[test]).mean() for enc in encoders]
    assert errors[1] < errors[0], errors
