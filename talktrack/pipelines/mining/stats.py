"""The statistics of talk-track mining: win-rate intervals and a rep-adjusted logistic model.

Why adjust: good reps use good answers more often *and* win more for other reasons, so a
raw win-rate difference credits an answer with its users' skill. The model below puts the
answer indicators next to one effect per rep (ridge-penalised, so reps with few deals
shrink to the mean) and reads each answer's effect on the win log-odds with a Wald
interval. A leaf: numpy and scipy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm


def wilson_interval(wins: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (well-behaved near 0 and 1 and for small n)."""
    if n == 0:
        return 0.0, 1.0
    z = float(norm.ppf(0.5 + confidence / 2))
    p = wins / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def difference_interval(wins_a: int, n_a: int, wins_b: int, n_b: int,
                        confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p_a - p_b (method 10), from the two Wilson intervals."""
    p_a, p_b = wins_a / max(n_a, 1), wins_b / max(n_b, 1)
    low_a, high_a = wilson_interval(wins_a, n_a, confidence)
    low_b, high_b = wilson_interval(wins_b, n_b, confidence)
    diff = p_a - p_b
    low = diff - np.sqrt((p_a - low_a) ** 2 + (high_b - p_b) ** 2)
    high = diff + np.sqrt((high_a - p_a) ** 2 + (p_b - low_b) ** 2)
    return float(low), float(high)


@dataclass(frozen=True)
class LogitFit:
    """Coefficients of the answer columns with their standard errors (rep effects left out)."""

    coef: np.ndarray  # shape: (num_answer_columns,)
    se: np.ndarray    # shape: (num_answer_columns,)
    intercept: float
    converged: bool

    def z(self) -> np.ndarray:
        return self.coef / np.maximum(self.se, 1e-12)

    def interval(self, column: int, confidence: float) -> tuple[float, float]:
        z = float(norm.ppf(0.5 + confidence / 2))
        return float(self.coef[column] - z * self.se[column]), float(self.coef[column] + z * self.se[column])


def fit_adjusted_logit(answers: np.ndarray, groups: np.ndarray, won: np.ndarray, *,
                       group_penalty: float, covariates: np.ndarray | None = None,
                       max_iter: int = 50) -> LogitFit:
    """Logistic regression of ``won`` on answer indicators, deal covariates and a ridge-penalised
    effect per group.

    ``answers``: (n, p) 0/1 columns; ``groups``: (n,) integer group (rep) codes; ``won``: (n,) 0/1;
    ``covariates``: (n, q) standardised deal context (customer signals, stalls), lightly penalised.
    Leaving strong predictors of winning out of a logistic model shrinks every other
    coefficient towards zero (non-collapsibility), so the context is worth its columns.
    Newton-Raphson on the penalised log-likelihood; standard errors from the inverse of the
    penalised Hessian (the usual Wald approximation for ridge-penalised nuisance terms).

    Why the block solve: the rep columns are one-hot, so their block of the Hessian is
    diagonal. Eliminating it (Schur complement) leaves a (1+p+q)-square system, and the
    answer columns' block of the inverse Hessian is exactly the inverse of that complement.
    A dense Hessian costs n x reps^2 per step; with reps growing with the deals that made a
    100k-call world cubic (hours), the block solve is linear in n (same numbers).
    """
    n, p = answers.shape
    covariates = np.zeros((n, 0)) if covariates is None else covariates
    q = covariates.shape[1]
    num_groups = int(groups.max()) + 1 if n else 0
    dense = np.column_stack([np.ones(n), answers, covariates])  # shape: (n, 1 + p + q)
    dense_penalty = np.full(1 + p + q, 0.01)
    dense_penalty[: 1 + p] = 1e-6  # keeps the system solvable when a column is constant
    beta, effects = np.zeros(1 + p + q), np.zeros(num_groups)
    converged = False
    for _ in range(max_iter):
        prob = _sigmoid(dense @ beta + effects[groups])
        residual = won - prob
        gradient = dense.T @ residual - dense_penalty * beta
        group_gradient = np.bincount(groups, residual, num_groups) - group_penalty * effects
        complement, cross, group_diag = _reduced_hessian(dense, groups, prob, dense_penalty, group_penalty, num_groups)
        step = np.linalg.solve(complement, gradient - cross @ (group_gradient / group_diag))
        group_step = (group_gradient - cross.T @ step) / group_diag
        beta += step
        effects += group_step
        if max(np.max(np.abs(step)), np.max(np.abs(group_step), initial=0.0)) < 1e-8:
            converged = True
            break
    prob = _sigmoid(dense @ beta + effects[groups])
    complement, _, _ = _reduced_hessian(dense, groups, prob, dense_penalty, group_penalty, num_groups)
    covariance = np.linalg.inv(complement)  # = the (1+p+q) block of the full inverse Hessian
    se = np.sqrt(np.clip(np.diag(covariance)[1 : 1 + p], 0, None))
    return LogitFit(coef=beta[1 : 1 + p].copy(), se=se, intercept=float(beta[0]), converged=converged)


def _sigmoid(eta: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-eta))


def _reduced_hessian(dense: np.ndarray, groups: np.ndarray, prob: np.ndarray, dense_penalty: np.ndarray,
                     group_penalty: float, num_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The penalised Hessian [[A, B], [B', D]] with D diagonal (one-hot groups), reduced to the
    Schur complement A - B D^-1 B'; also B (shape: (1+p+q, groups)) and D's diagonal."""
    weight = prob * (1 - prob)
    weighted = dense * weight[:, None]
    block = weighted.T @ dense + np.diag(dense_penalty)
    cross = np.stack([np.bincount(groups, weighted[:, j], num_groups) for j in range(dense.shape[1])])
    group_diag = np.bincount(groups, weight, num_groups) + group_penalty
    return block - (cross / group_diag) @ cross.T, cross, group_diag


def forward_select(candidates: np.ndarray, groups: np.ndarray, won: np.ndarray, *, z_threshold: float,
                   max_selected: int, group_penalty: float, covariates: np.ndarray | None = None) -> list[int]:
    """Greedy forward selection of answer columns whose rep-adjusted effect is significant
    (either sign: an answer that loses deals is worth knowing too).

    At each round every remaining candidate is fitted next to those already chosen; the one
    with the largest z above ``z_threshold`` joins. A pattern's sub- and super-sequences
    carry its effect only through it, so once it is in they fall below the threshold: the
    selection keeps the pattern that explains the outcome, not its relatives.
    """
    chosen: list[int] = []
    remaining = list(range(candidates.shape[1]))
    while remaining and len(chosen) < max_selected:
        best, best_z = None, z_threshold
        for column in remaining:
            fit = fit_adjusted_logit(candidates[:, chosen + [column]], groups, won, covariates=covariates,
                                     group_penalty=group_penalty)
            z = abs(float(fit.z()[-1]))
            if z > best_z:
                best, best_z = column, z
        if best is None:
            break
        chosen.append(best)
        remaining.remove(best)
    return chosen


def bonferroni_z(confidence: float, tests: int) -> float:
    """Two-sided z critical value for ``tests`` simultaneous tests at the given confidence."""
    alpha = (1 - confidence) / max(tests, 1)
    return float(norm.ppf(1 - alpha / 2))
