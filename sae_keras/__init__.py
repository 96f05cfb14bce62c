"""sae_keras: LSTM stacked autoencoders (LSTM-SAE) for multivariate time-series
forecasting, as Keras 3 models behind scikit-learn estimators.

Public API
----------
LSTMSAEEncoder
    Greedy unsupervised pretraining; ``transform`` gives learned features.
LSTMSAERegressor
    Pretrain, stack, fine-tune and forecast.
LSTMSAEForecaster
    The regressor in sktime's forecaster interface (``fh``, panels,
    ``pretrain``); needs the ``sktime`` extra.
LSTMSAEOutlierDetector
    Outlier windows from the stack's reconstruction error (``predict`` +1/-1).
TableForecaster
    A table in, forecasts in its units out: reading rules, categories,
    windowing and a regressor, saved as one portable file.
make_windows
    A table (time × channels) to windows ``X`` and targets ``y`` (optionally
    of first differences).
undifference
    Forecast changes back to levels.
SequenceScaler
    Per-channel scaling of 3-D windows, a Pipeline step.

Submodules: ``sae_keras.data.datasets`` (bundled Beijing PM2.5 data, synthetic
series), ``sae_keras.evaluation.metrics`` (RMSE, MAE, SMAPE, skill),
``sae_keras.evaluation.rolling`` (rolling-origin evaluation beside baselines),
``sae_keras.evaluation.plotting`` (forecast and loss plots),
``sae_keras.nn.builders`` (the Keras models), ``sae_keras.training.pretraining``
(the greedy loop) and ``sae_keras.nn.distribute`` (strategies). The package is
laid out in subpackages by job (``estimators``, ``nn``, ``training``,
``forecasting``, ``data``, ``io``, ``evaluation``, ``integrations``, ``cli``;
see CONTRIBUTING.md);
modules whose names start with ``_`` are private.

The names above are imported on first use, so that ``import sae_keras`` (and
the ``sae-keras`` command) starts without loading Keras until it is needed;
that first import keeps TensorFlow's native start-up lines off stderr (see
``sae_keras.cli._native_logs``).
"""

import importlib

__version__ = "0.1.0"

_PUBLIC = {
    "LSTMSAEClassifier": "estimators._classifier",
    "LSTMSAEEncoder": "estimators._encoder",
    "LSTMSAEForecaster": "integrations._sktime",
    "LSTMSAERegressor": "estimators._regressor",
    "LSTMSAEOutlierDetector": "estimators._outlier",
    "SequenceScaler": "data._windows",
    "TableForecaster": "estimators._forecaster",
    "make_windows": "data._windows",
    "undifference": "data._windows",
}

__all__ = [*_PUBLIC, "load", "__version__"]


def __getattr__(name):
    if name in _PUBLIC:
        from .cli._native_logs import quiet_backend_import

        with quiet_backend_import():
            module = importlib.import_module(f".{_PUBLIC[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


def load(path):
    """Load an estimator saved with ``save``; see :mod:`sae_keras.io._zip`.

    Runs no code from the file and turns no string from it into a path; a
    malformed or hostile file raises ``ValueError`` naming what is wrong.
    ``memory``, ``checkpoint_dir`` and ``callbacks`` load as ``None``.

    Examples
    --------
    >>> import sae_keras
    >>> model = sae_keras.load("model.zip")  # doctest: +SKIP
    """
    from .cli._native_logs import quiet_backend_import

    with quiet_backend_import():
        # Importing the table forecaster imports the regressor and the encoder:
        # every class a file may name is registered (see sae_keras.io._params._saved_class).
        from .estimators._classifier import LSTMSAEClassifier  # noqa: F401
        from .estimators._forecaster import TableForecaster  # noqa: F401
        from .io._zip import load_estimator
    return load_estimator(path)
