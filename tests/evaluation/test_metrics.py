import numpy as np
import pytest

from sae_keras.evaluation.metrics import mae, rmse, skill_score, smape


def test_metrics_on_known_values():
    assert rmse([0, 0], [3, 4]) == pytest.approx(np.sqrt(12.5))
    assert mae([1, 2], [2, 4]) == pytest.approx(1.5)
    # Authors' SMAPE: 100/n * sum |F - A| / (|A| + |F|); A = F = 0 counts 0.
    assert smape([100, 0], [50, 0]) == pytest.approx(100 / 2 * (50 / 150))
    assert skill_score([1, 2], [1, 2], [2, 3]) == 1.0
    assert skill_score([1, 2], [2, 3], [2, 3]) == 0.0


def test_metrics_refuse_mismatched_shapes():
    with pytest.raises(ValueError, match=r"same shape; got \(2,\) and \(3,\)"):
        rmse([1, 2], [1, 2, 3])
