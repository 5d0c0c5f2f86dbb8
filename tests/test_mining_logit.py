"""The block (Schur-complement) solve of the rep-adjusted logit gives the numbers of the plain
dense Newton fit it replaced (issue 20: the dense Hessian grew as deals x reps^2)."""

from __future__ import annotations

import numpy as np
import pytest

from talktrack.pipelines.mining.stats import fit_adjusted_logit


def _dense_reference(answers, groups, won, group_penalty, covariates):
    """The textbook fit: one design matrix with the one-hot rep columns, full Hessian, full inverse."""
    n, p = answers.shape
    q = covariates.shape[1]
    num_groups = int(groups.max()) + 1
    design = np.zeros((n, 1 + p + q + num_groups))
    design[:, 0] = 1.0
    design[:, 1 : 1 + p] = answers
    design[:, 1 + p : 1 + p + q] = covariates
    design[np.arange(n), 1 + p + q + groups] = 1.0
    penalty = np.full(design.shape[1], group_penalty)
    penalty[: 1 + p] = 1e-6
    penalty[1 + p : 1 + p + q] = 0.01
    beta = np.zeros(design.shape[1])
    for _ in range(50):
        prob = 1 / (1 + np.exp(-(design @ beta)))
        hessian = (design * (prob * (1 - prob))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian, design.T @ (won - prob) - penalty * beta)
        beta += step
        if np.max(np.abs(step)) < 1e-8:
            break
    prob = 1 / (1 + np.exp(-(design @ beta)))
    hessian = (design * (prob * (1 - prob))[:, None]).T @ design + np.diag(penalty)
    se = np.sqrt(np.diag(np.linalg.inv(hessian))[1 : 1 + p])
    return beta[1 : 1 + p], se, beta[0]


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
