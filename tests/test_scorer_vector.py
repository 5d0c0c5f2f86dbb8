"""The numpy view of a fitted logistic scorer answers what scikit-learn answers (each calibration,
unknown values, a column never known in training), and a boosting scorer has no such view."""

from __future__ import annotations

import numpy as np
import pytest

from talktrack.models.customer_scorer import CustomerScorer
from talktrack.models.scorer_vector import VectorScorer


def _data(seed: int, rows: int = 600) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 6)) * [1, 5, 0.1, 2, 1, 1]
    y = (X[:, 0] + 0.3 * X[:, 1] - X[:, 3] + rng.normal(size=rows) > 0).astype(int)
    X[rng.random(X.shape) < 0.2] = np.nan  # unknown values, imputed by the fold's medians
    X[:, 5] = np.nan  # a column never known (left out of the fit: no contribution)
    return X, y


@pytest.mark.parametrize("calibration", ["sigmoid", "isotonic", "none"])
def test_the_numpy_view_answers_what_the_scorer_answers(calibration):
    X, y = _data(7)
    scorer = CustomerScorer("logistic", calibration=calibration, random_state=0).fit(X[:400], y[:400])
    fast = VectorScorer.of(scorer)
    assert fast is not None and len(fast.folds) == (0 if calibration == "none" else 5)
    new = X[400:]
    np.testing.assert_allclose(fast.proba(new), scorer.predict_proba(new)[:, 1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.contributions(new), scorer.contributions(new), rtol=0, atol=1e-12)
    one = new[:1]  # one row, the service's case
    assert abs(fast.proba(one)[0] - scorer.predict_proba(one)[0, 1]) <= 1e-12
    assert (fast.contributions(new)[:, 5] == 0).all()


def test_a_boosting_scorer_or_an_unfitted_one_has_no_numpy_view():
    X, y = _data(3)
    assert VectorScorer.of(CustomerScorer("boosting", random_state=0).fit(X, y)) is None
    assert VectorScorer.of(object()) is None
    with pytest.raises(Exception, match="not fitted"):
        VectorScorer.of(CustomerScorer("logistic"))
