"""The block (Schur-complement) solve of the rep-adjusted logit gives the numbers of the plain
dense Newton fit it replaced (issue 20: the dense Hessian grew as deals x reps^2)."""

from __future__ import annotations

import numpy as np
import pytest

from talktrack.evaluation.mining_logit import dense_logit as _dense_reference
from talktrack.pipelines.mining.stats import fit_adjusted_logit


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_block_solve_matches_the_dense_fit(seed):
    rng = np.random.default_rng(seed)
    n, reps = 600, 40
    groups = rng.integers(0, reps, n)
    skill = rng.normal(size=reps)[groups]
    answers = (rng.random((n, 3)) < [0.3, 0.5, 0.2]).astype(float)
    answers[:, 1] = np.maximum(answers[:, 1], answers[:, 0])  # a related (super-)pattern, as mining has
    covariates = rng.normal(size=(n, 4))
    won = (rng.random(n) < 1 / (1 + np.exp(-(0.8 * answers[:, 0] + skill + 0.5 * covariates[:, 0])))).astype(float)
    fit = fit_adjusted_logit(answers, groups, won, group_penalty=0.5, covariates=covariates)
    coef, se, intercept = _dense_reference(answers, groups, won, 0.5, covariates)
    assert fit.converged
    np.testing.assert_allclose(fit.coef, coef, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(fit.se, se, rtol=1e-6, atol=1e-9)
    assert fit.intercept == pytest.approx(intercept, rel=1e-6, abs=1e-9)


def test_block_solve_keeps_a_constant_column_solvable():
    rng = np.random.default_rng(5)
    groups = rng.integers(0, 8, 200)
    won = (rng.random(200) < 0.4).astype(float)
    answers = np.column_stack([np.ones(200), rng.random(200) < 0.5]).astype(float)
    fit = fit_adjusted_logit(answers, groups, won, group_penalty=0.5)
    coef, se, _ = _dense_reference(answers, groups, won, 0.5, np.zeros((200, 0)))
    np.testing.assert_allclose(fit.coef, coef, rtol=1e-5, atol=1e-7)
    assert np.all(np.isfinite(fit.se))
