"""A fitted logistic :class:`~talktrack.models.customer_scorer.CustomerScorer` as plain numpy:
win probability and per-feature contributions of a few rows without scikit-learn's per-call
checks.

Why: a one-row ``predict_proba`` of the calibrated logistic scorer runs five fold models, each an
impute → scale → logistic pipeline plus a calibrator, and scikit-learn validates the input at
every step (about 40 ``check_array`` calls): ~10-20 ms of overhead on this machine for a handful
of multiply-adds. Scoring a deal the service has never seen should not pay that.

:meth:`VectorScorer.of` reads the fitted parameters (medians, means, scales, coefficients,
calibrators) once; :meth:`proba` and :meth:`contributions` then repeat what scikit-learn computes,
in the same order, so the answers equal ``predict_proba`` / ``contributions`` to rounding
(tests/test_deal_rows.py compares them on every deal of a world). Boosting scorers have no such
view (``of`` returns None), and their caller uses the estimator itself.

Example::

    fast = VectorScorer.of(scorer)            # None unless a fitted logistic scorer
    p_win = fast.proba(X)                     # shape: (n,)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from sklearn.utils.validation import check_is_fitted

from talktrack.models.customer_scorer import CustomerScorer


@dataclass(frozen=True)
class _Linear:
    """One impute → scale → logistic pipeline, over the usable columns."""

    medians: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # shape: (n_usable,)
    intercept: float

    @classmethod
    def of(cls, pipeline) -> _Linear:
        impute, scale, model = (pipeline.named_steps[name] for name in ("impute", "scale", "model"))
        return cls(impute.statistics_.astype(float), scale.mean_, scale.scale_, model.coef_[0],
                   float(model.intercept_[0]))

    def scaled(self, X: np.ndarray) -> np.ndarray:
        X = np.where(np.isnan(X), self.medians, X)
        X = X - self.mean
        return X / self.scale

    def decision(self, X: np.ndarray) -> np.ndarray:
        return self.scaled(X) @ self.coef + self.intercept


@dataclass(frozen=True)
class VectorScorer:
    """Numpy view of a fitted logistic scorer: ``folds`` are (pipeline, calibrator) pairs whose
    calibrated probabilities are averaged (none: the base pipeline's own probability)."""

    usable: np.ndarray  # shape: (n_features,), bool
    base: _Linear
    folds: tuple[tuple[_Linear, Callable[[np.ndarray], np.ndarray]], ...]

    @classmethod
    def of(cls, scorer) -> VectorScorer | None:
        if not isinstance(scorer, CustomerScorer) or scorer.estimator != "logistic":
            return None
        check_is_fitted(scorer)
        folds = ()
        if scorer.calibrated_ is not None:
            if scorer.calibrated_.method not in ("sigmoid", "isotonic"):
                return None
            folds = tuple((_Linear.of(fold.estimator), _calibration(fold.calibrators[0]))
                          for fold in scorer.calibrated_.calibrated_classifiers_)
        return cls(scorer.usable_, _Linear.of(scorer.base_), folds)

    def proba(self, X: np.ndarray) -> np.ndarray:
        """Win probability of each row of ``X`` (shape: (n, n_features), NaN for unknown)."""
        X = np.asarray(X, dtype=float)[:, self.usable]
        if not self.folds:
            return expit(self.base.decision(X))
        total = np.zeros(len(X))
        for linear, calibrator in self.folds:
            p = calibrator(linear.decision(X))
            p[(1.0 < p) & (p <= 1.0 + 1e-5)] = 1.0  # as scikit-learn clips a probability a hair over 1
            total += p
        return total / len(self.folds)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Per-feature log-odds contributions (shape: (n, n_features)), as
        :meth:`CustomerScorer.contributions` computes them for a logistic scorer."""
        X = np.asarray(X, dtype=float)
        out = np.zeros(X.shape)
        out[:, self.usable] = self.base.scaled(X[:, self.usable]) * self.base.coef
        return out


def _calibration(calibrator) -> Callable[[np.ndarray], np.ndarray]:
    """A fold's calibrator as a function of the decision values: Platt's sigmoid as scikit-learn
    computes it (its ``predict`` spends ~1 ms checking a one-value input), isotonic as it is."""
    if hasattr(calibrator, "a_") and hasattr(calibrator, "b_"):
        a, b = float(calibrator.a_), float(calibrator.b_)
        return lambda decision: expit(-(a * decision + b))
    return calibrator.predict
