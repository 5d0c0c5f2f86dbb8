"""Hyper-parameter search for the customer scorer on Ray Tune (``talktrack train customer --tune N``).

Every trial fits a scorer on the earlier training closes and reports its log-loss on the later
ones (the same time-ordered validation split the untuned run uses). Trials run as Ray tasks on
the Ray the caller started (``talktrack.pipelines.ingest.ray_runtime.start_ray`` — the training
layer does not start Ray itself); the driver then logs each trial as a nested MLflow run.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable

import numpy as np

from talktrack.core.config import Settings
from talktrack.training.customer_fit import scorer_for, scorer_for_params, validation_loss
from talktrack.training.registry import flatten_params


class RayNotStartedError(RuntimeError):
    """Tuning needs a running Ray (local or cluster)."""


def search_space(settings: Settings) -> dict:
    from ray import tune

    return {
        "estimator": tune.choice(list(settings.training.customer.estimators)),
        "C": tune.loguniform(0.01, 10.0),
        "learning_rate": tune.loguniform(0.02, 0.3),
        "max_iter": tune.choice([50, 100, 200]),
        "max_depth": tune.choice([2, 3, 4]),
        "min_samples_leaf": tune.choice([20, 40, 80]),
        "calibration": tune.choice(["isotonic", "sigmoid"]),
    }


def _trial(config: dict, X: np.ndarray, y: np.ndarray, fit: np.ndarray, validate: np.ndarray, base: dict) -> None:
    from ray import tune
    from sklearn.metrics import roc_auc_score

    scorer = scorer_for_params(base | config)
    loss = validation_loss(scorer, X, y, fit, validate)
    p = scorer.predict_proba(X[validate])[:, 1]
    tune.report({"validation_log_loss": loss, "validation_auc": float(roc_auc_score(y[validate], p))})


def tune_customer(settings: Settings, X: np.ndarray, y: np.ndarray, fit: np.ndarray, validate: np.ndarray,
                  trials: int, *, hook: Callable[[str, int, int], None] | None = None) -> list[dict]:
    """Run ``trials`` random-search trials; returns ``[{config, validation_log_loss, validation_auc}]``."""
    import ray
    from ray import tune
    from ray.tune.search import BasicVariantGenerator

    if not ray.is_initialized():
        raise RayNotStartedError("--tune needs Ray: start it first (talktrack.pipelines.ingest.ray_runtime.start_ray)")
    hook = hook or (lambda step, done, total: None)
    hook("tune", 0, trials)
    base = scorer_for(settings, settings.training.customer.estimators[0]).get_params()
    trainable = tune.with_parameters(_trial, X=X, y=y, fit=fit, validate=validate, base=base)
    with tempfile.TemporaryDirectory(prefix="tt-tune-") as storage:
        tuner = tune.Tuner(
            trainable,
            param_space=search_space(settings),
            tune_config=tune.TuneConfig(num_samples=trials, metric="validation_log_loss", mode="min",
                                        search_alg=BasicVariantGenerator(random_state=settings.training.random_state)),
            run_config=tune.RunConfig(storage_path=storage, name="customer", verbose=0),
        )
        grid = tuner.fit()
        results = [{"config": dict(result.config), "validation_log_loss": float(result.metrics["validation_log_loss"]),
                    "validation_auc": float(result.metrics["validation_auc"])}
                   for result in grid if result.error is None]
    hook("tune", trials, trials)
    if not results:
        raise RuntimeError(f"all {trials} tuning trials failed; first error: {grid.errors[:1]}")
    return results


def log_trials(trials: list[dict]) -> None:
    """Each trial as a nested MLflow run of the active (parent) run."""
    import mlflow

    parent = mlflow.active_run()
    experiment_id = None if parent is None else parent.info.experiment_id   # else MLflow's "Default"
    for index, trial in enumerate(trials):
        with mlflow.start_run(run_name=f"trial-{index:03d}", nested=parent is not None, experiment_id=experiment_id):
            mlflow.log_params(flatten_params({"model": trial["config"]}))
            mlflow.log_metrics({"validation_log_loss": trial["validation_log_loss"],
                                "validation_auc": trial["validation_auc"]})
