"""Adapters to other libraries' interfaces, each needing an optional extra: _sktime
(LSTMSAEForecaster, sktime's forecaster interface; the ``sktime`` extra)."""
