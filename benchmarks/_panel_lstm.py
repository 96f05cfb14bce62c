"""The LSTM-SAE contenders of ``panels.py``: global, per series, with the series identity.

Each is fitted on the validation stage with early stopping (epochs, and
pretraining epochs per layer, chosen there, and the normalisation among those
given), then refitted on everything but the test part for the chosen epochs.
The windows are normalised outside the estimator, as for the other global
contenders (``_panels.scaled_panel_windows``).
"""

from __future__ import annotations

import numpy as np
from _common import Stopwatch
from _panels import NORMALISATIONS, scaled_panel_windows, scores, stage, summary


def lstm_estimator(pretrained, seed, quick, *, validation_fraction=None, epochs=None,
                   pretrain_epochs=None):
    """The one place an ``LSTMSAERegressor`` is built.

    Shipped defaults but the schedule, the same for pretraining (its
    ``LSTMSAEEncoder``) and fine-tuning: with ``validation_fraction``, early
    stopping on the last windows (the validation ones); otherwise exactly
    ``epochs`` (and ``pretrain_epochs`` per layer), no early stopping.
    """
    from sae_keras import LSTMSAEEncoder, LSTMSAERegressor

    params = {"random_state": seed}
    recipe = {}
    if quick:
        params.update(hidden_units=(8, 4), epochs=2)
        recipe["pretrain_epochs"] = 1
    if validation_fraction is not None:
        schedule = dict(early_stopping=True, validation_fraction=validation_fraction)
    else:
        schedule = dict(early_stopping=False)
        params["epochs"] = epochs
        recipe["pretrain_epochs"] = pretrain_epochs
    params.update(schedule)
    params["pretraining"] = LSTMSAEEncoder(**recipe, **schedule) if pretrained else None
    return LSTMSAERegressor(**params)


def _best_epochs(history):
    """Epochs to refit for: each phase's best validation epoch (at least 1)."""
    best = {phase: max(int(np.argmin(curves["val_loss"])) + 1, 1)
            if curves.get("val_loss") else len(curves["loss"])
            for phase, curves in history.items()}
    pretrain = [best[k] for k in sorted(best) if k.startswith("pretrain_")]
    return best["finetune"], pretrain or None, best


def _identity(fit_series, n_series, identity):
    """``fit`` and ``predict`` keyword arguments: the series identity, or none.

    With ``identity``, the series of each fitted window (``fit_series``), one-hot,
    as static covariates, and for the forecasts one row per series (the inputs
    ``last`` of ``scaled_panel_windows``, in series order); else no arguments.
    """
    if not identity:
        return {}, {}
    one_hot = np.eye(n_series, dtype=np.float32)
    return {"static_covariates": one_hot[fit_series]}, {"static_covariates": one_hot}


def lstm_select(histories, val_targets, timesteps, horizon, pretrained, seed, quick,
                normalisation, identity=False):
    """Fit on the validation stage with early stopping; its validation forecast and epochs.

    Normalisation is done here, outside the estimator, as for the other global
    contenders: the windows are normalised as ``normalisation`` says
    (``scaled_panel_windows``) and the forecasts unscaled; early stopping holds
    out each series' last window (the validation ones, last in ``X``), which the
    estimators' ``series=`` split would not. With one history it is the
    per-series model. With ``identity``, each window's series enters as one-hot
    static covariates (``_identity``).
    """
    w = scaled_panel_windows(histories, timesteps, horizon, val_targets, normalisation)
    X = np.concatenate([w.X, w.last])  # the validation windows last: early stopping's part
    y = np.concatenate([w.y, w.val_y])
    n = len(w.last)
    fit_static, static = _identity(np.concatenate([w.series_of_window, np.arange(n)]), n,
                                   identity)
    model = lstm_estimator(pretrained, seed, quick, validation_fraction=n / len(X))
    with Stopwatch() as selection:
        model.fit(X, y, **fit_static)
    return (w.unscale(model.predict(w.last, **static)), _best_epochs(model.history_),
            selection.seconds, n)


def lstm_refit(test_histories, timesteps, horizon, pretrained, seed, quick, normalisation,
               best_epochs, identity=False):
    """Refit on everything but the test part for the chosen epochs; the forecasts."""
    epochs, pretrain_epochs, _ = best_epochs
    t = scaled_panel_windows(test_histories, timesteps, horizon, normalisation=normalisation)
    fit_static, static = _identity(t.series_of_window, len(t.last), identity)
    model = lstm_estimator(pretrained, seed, quick, epochs=epochs,
                           pretrain_epochs=pretrain_epochs)
    with Stopwatch() as fit:
        model.fit(t.X, t.y, **fit_static)
    return list(t.unscale(model.predict(t.last, **static))), fit.seconds, len(t.X)


def lstm_global(panel, timesteps, pretrained, seed, quick, identity=False,
                normalisations=NORMALISATIONS):
    """Each of ``normalisations`` fitted on the validation stage; the better one refitted.

    With ``identity``, the series identity is a learned input (one-hot static
    covariates, ``_identity``).
    """
    val_hist, val_target = stage(panel, "validation")
    hist, _ = stage(panel, "test")
    selected, sel_s = {}, 0.0
    for normalisation in normalisations:
        forecast, best, seconds, n_val = lstm_select(
            val_hist, val_target, timesteps, panel.horizon, pretrained, seed, quick,
            normalisation, identity)
        mase = summary(scores(val_hist, val_target, forecast, panel.season))["gmean_mase"]
        selected[normalisation] = (mase, best)
        sel_s += seconds
    normalisation = min(selected, key=lambda n: selected[n][0])
    mase, best = selected[normalisation]
    forecast, fit_s, n = lstm_refit(hist, timesteps, panel.horizon, pretrained, seed, quick,
                                    normalisation, best, identity)
    return forecast, fit_s, sel_s, {
        "normalisation": normalisation, "timesteps": timesteps, "epochs": best[2],
        "series_identity": identity,
        "windows": n, "validation_windows": n_val, "validation_gmean_mase": mase,
        "validation_gmean_mase_by_normalisation": {k: v[0] for k, v in selected.items()}}


def lstm_per_series(panel, timesteps, seed, quick):
    val_hist, val_target = stage(panel, "validation")
    hist, _ = stage(panel, "test")
    forecasts, fit_s, sel_s, epochs = [], 0.0, 0.0, []
    for i in range(len(hist)):
        _, best, s, _ = lstm_select([val_hist[i]], [val_target[i]], timesteps,
                                    panel.horizon, True, seed, quick, "series")
        forecast, f, _ = lstm_refit([hist[i]], timesteps, panel.horizon, True, seed, quick,
                                    "series", best)
        forecasts.append(forecast[0])
        fit_s, sel_s = fit_s + f, sel_s + s
        epochs.append(best[2])
    return forecasts, fit_s, sel_s, {"timesteps": timesteps, "epochs": epochs}
