"""How a customer scorer is built from the settings and scored on a validation split: the piece
that the training run (:mod:`talktrack.training.customer`) and the Ray Tune search
(:mod:`talktrack.training.tuning`) share. It lives apart so that both import it one way; the
training run calls the search, and the search never needs the training run.

Example::

    scorer = scorer_for(settings, "logistic")
    validation_loss(scorer, X, y, fit_mask, validate_mask)   # log-loss on the validate rows
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import log_loss

from talktrack.core.config import Settings
from talktrack.models.customer_scorer import CustomerScorer


def scorer_for(settings: Settings, family: str, **overrides) -> CustomerScorer:
    """A scorer of ``family`` with the configured parameters (``overrides`` from tuning win)."""
    cfg = settings.training.customer
    params = dict(estimator=family, C=cfg.regularization_c, learning_rate=cfg.learning_rate, max_iter=cfg.max_iter,
                  max_depth=cfg.max_depth, min_samples_leaf=cfg.min_samples_leaf,
                  calibration=settings.training.calibration, cv=cfg.calibration_folds,
                  random_state=settings.training.random_state)
    return CustomerScorer(**(params | overrides))


def scorer_for_params(params: dict) -> CustomerScorer:
    """A scorer from a full parameter dict (a tuning trial's)."""
    return CustomerScorer(**params)


def validation_loss(scorer: CustomerScorer, X: np.ndarray, y: np.ndarray, fit: np.ndarray,
                    validate: np.ndarray) -> float:
    """Fit on the ``fit`` rows, return the log-loss on the ``validate`` rows (probabilities clipped)."""
    p = scorer.fit(X[fit], y[fit]).predict_proba(X[validate])[:, 1]
    return float(log_loss(y[validate], np.clip(p, 1e-6, 1 - 1e-6), labels=[0, 1]))
