"""NumPy around the network: scaling, the ridge start of the linear skip, prediction
intervals, recursive forecasts and covariates."""
