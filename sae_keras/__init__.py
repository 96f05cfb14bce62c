"""sae_keras: LSTM stacked autoencoders (LSTM-SAE) for multivariate time-series
forecasting, as Keras 3 models behind scikit-learn estimators.

Public API
----------
LSTMSAEEncoder
    Greedy unsupervised pretraining; ``transform`` gives learned features.
LSTMSAERegressor
    Pretrain, stack, fine-tune and forecast.
"""

from .encoder import LSTMSAEEncoder
from .regressor import LSTMSAERegressor

__version__ = "0.1.0"

__all__ = ["LSTMSAEEncoder", "LSTMSAERegressor", "__version__"]
