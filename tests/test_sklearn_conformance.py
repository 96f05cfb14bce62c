"""scikit-learn's own estimator checks, on tiny networks.

No check is expected to fail: every one of scikit-learn's checks passes as is.
The regressor declares the ``poor_score`` tag (see ``LSTMSAERegressor``), because
two epochs of a 4-unit LSTM do not reach R² > 0.5 on scikit-learn's generic
regression data, which the tag exists to acknowledge.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor

ESTIMATORS = [
    LSTMSAERegressor(hidden_units=(4,), pretrain_epochs=1, epochs=2, batch_size=32, random_state=0),
    LSTMSAEEncoder(hidden_units=(4,), pretrain_epochs=1, batch_size=32, random_state=0),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
