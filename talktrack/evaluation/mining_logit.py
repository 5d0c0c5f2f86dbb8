"""The rep-adjusted logit of talk-track mining, solved the plain way, and what each way costs.

:func:`dense_logit` is the textbook fit (one design matrix with a one-hot column per rep, the full
penalised Hessian inverted): the reference the block solve of
:func:`talktrack.pipelines.mining.stats.fit_adjusted_logit` must equal (``tests/test_mining_logit.py``)
and the cost it removed: per Newton step deals x (columns + reps)^2, and reps grow with the deals,
so a world 10 times larger cost ~1000 times more per fit. :func:`time_fits` times both ways on
mining-shaped data at a given size.
"""

from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits

from talktrack.pipelines.mining.stats import fit_adjusted_logit


def dense_logit(answers: np.ndarray, groups: np.ndarray, won: np.ndarray, group_penalty: float,
                covariates: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(answer coefficients, their standard errors, intercept) from the full design matrix."""
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
    return beta[1 : 1 + p], se, float(beta[0])


def mining_shaped(deals: int, reps: int, covariates: int = 12, seed: int = 0):
    """One objection type's closed deals as mining fits them: one answer column, deal context, rep codes."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, reps, deals)
    answer = (rng.random((deals, 1)) < 0.4).astype(float)
    context = rng.normal(size=(deals, covariates))
    logit = 0.6 * answer[:, 0] + rng.normal(size=reps)[groups] + 0.4 * context[:, 0]
    won = (rng.random(deals) < 1 / (1 + np.exp(-logit))).astype(float)
    return answer, groups, won, context


def time_fits(deals: int, reps: int, *, dense: bool = True, repeats: int = 5) -> dict:
    """CPU seconds of one fit each way (one BLAS thread, as mining runs them; the block solve's best
    of ``repeats``, the dense one once) and the largest difference of their coefficients and errors."""
    answer, groups, won, context = mining_shaped(deals, reps)
    out: dict = {"deals": deals, "reps": reps}
    with threadpool_limits(1):
        times = []
        for _ in range(repeats):
            started = time.process_time()
            fit = fit_adjusted_logit(answer, groups, won, group_penalty=0.5, covariates=context)
            times.append(time.process_time() - started)
        out["block_cpu_s"] = round(min(times), 5)
        if dense:
            started = time.process_time()
            coef, se, _ = dense_logit(answer, groups, won, 0.5, context)
            out["dense_cpu_s"] = round(time.process_time() - started, 4)
            out["max_abs_difference"] = float(max(np.max(np.abs(coef - fit.coef)), np.max(np.abs(se - fit.se))))
    return out
