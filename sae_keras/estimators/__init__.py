"""The scikit-learn faces: the shared base (parameters, constraints, input checks),
the encoder, regressor, outlier detector and table forecaster, their shared docstrings."""
