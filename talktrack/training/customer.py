"""Train, measure and register the customer/deal scorer (``talktrack train customer``).

Step by step (:func:`train_customer`):

1. features of every deal as of its cut-off (:mod:`talktrack.models.features.deal`);
2. split by time: deals closed in the last ``settings.training.holdout_months`` months are the
   holdout, deals closed before that cut-off the training set (open deals are neither);
3. on the same rolling-origin folds of the training closes (fit on the months before each of the last
   ``SELECTION_FOLDS`` months, validate on that month): keep an optional feature group (the chat and
   e-mail columns) only if it lowers the simplest family's mean log-loss by more than its fold-to-fold
   standard error (:func:`earned_columns`); then choose the estimator family: the simplest family
   stays unless a more complex one has a lower mean log-loss by more than its standard error
   (:func:`choose_family`); or run a Ray Tune search of ``--tune N`` trials on the latest 20 %
   of the training closes;
4. fit the winner on the whole training set; measure AUC, Brier, ECE and log-loss on the holdout
   (calibrated as ``settings.training.calibration`` says; ``auto`` picks sigmoid on deal-sized data,
   see :mod:`talktrack.models.customer_scorer`);
5. log everything to MLflow and register it; it becomes champion only past the promotion gate.

Example::

    result = train_customer(catalog, settings, workspace)
    result.promotion.promoted, result.metrics["holdout_auc"]
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from talktrack.core.catalog import Catalog
from talktrack.core.config import Settings
from talktrack.core.workspace import Workspace
from talktrack.models.customer_scorer import CustomerScorer
from talktrack.models.features.deal import CapabilityProvider, DealTable, build_deal_table, stage_info
from talktrack.training import registry
from talktrack.training.customer_fit import scorer_for, validation_loss
from talktrack.training.registry import PromotionResult

MODEL_NAME = "talktrack-customer-scorer"
EXPERIMENT = "customer-scorer"
HOLDOUT_METRIC = "holdout_auc"
VALIDATION_SHARE = 0.2   # latest share of training closes used to tune the estimator (and a fallback fold)
SELECTION_FOLDS = 4      # last close months of training; each validates families fitted on the months before
SIMPLER_FIRST = ("logistic", "boosting")   # the order in which a family must earn its extra complexity
# Feature groups (column prefixes) that must earn their place: on a generated world whose chats carry no
# outcome signal, the 13 chat columns cost the holdout 0.034 AUC (seed 23, 521 training deals).
OPTIONAL_GROUPS = {"chats": "chat__"}

Hook = Callable[[str, int, int], None]


class TrainingDataError(ValueError):
    """The catalog does not hold enough closed deals to train and measure a scorer."""


@dataclass(frozen=True)
class Split:
    """Boolean masks over the deal table's rows, and the time that separates them."""

    train: np.ndarray
    holdout: np.ndarray
    cutoff: pd.Timestamp


@dataclass
class CustomerTrainResult:
    """What one training run produced: the registry decision, metrics, and holdout scores."""

    promotion: PromotionResult | None
    metrics: dict[str, float]
    params: dict
    estimator: CustomerScorer
    table: DealTable
    split: Split
    holdout_p: pd.Series
    seconds: float
    trials: list[dict] = field(default_factory=list)

    def summary(self) -> dict:
        return {"metrics": self.metrics, "params": self.params, "seconds": round(self.seconds, 2),
                "promotion": None if self.promotion is None else self.promotion.to_dict(),
                "trials": len(self.trials)}


def time_split(meta: pd.DataFrame, holdout_months: int) -> Split:
    """Closed deals before ``last close − holdout_months`` train; the rest of the closed ones are held out."""
    closed = meta["label"].notna().to_numpy()
    if not closed.any():
        raise TrainingDataError("no closed (won/lost) deals in the catalog: nothing to learn from")
    closes = pd.to_datetime(meta["closed_at"])
    cutoff = closes[closed].max() - pd.DateOffset(months=holdout_months)
    train = closed & (closes < cutoff).to_numpy()
    return Split(train=train, holdout=closed & ~train, cutoff=cutoff)


def data_fingerprint(features: pd.DataFrame, labels: pd.Series) -> str:
    """sha256 over the training rows (index, every feature, the label): same data, same hash."""
    frame = features.assign(__label=labels)
    hashes = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    digest = hashlib.sha256(hashes.tobytes())
    digest.update(",".join(frame.columns).encode())
    return digest.hexdigest()


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Σ_bins (share of rows) · |mean outcome − mean probability|, equal-width bins on [0, 1]."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for index in np.unique(which):
        chosen = which == index
        total += chosen.mean() * abs(y[chosen].mean() - p[chosen].mean())
    return float(total)


def holdout_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    y = np.asarray(y, int)
    return {
        "holdout_auc": float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan"),
        "holdout_brier": float(brier_score_loss(y, p)),
        "holdout_ece": expected_calibration_error(y, p),
        "holdout_log_loss": float(log_loss(y, np.clip(p, 1e-6, 1 - 1e-6), labels=[0, 1])),
        "holdout_win_rate": float(y.mean()),
        "holdout_mean_p": float(np.mean(p)),
    }


def validation_split(meta: pd.DataFrame, train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Within the training rows: the earliest 80 % of closes fit, the latest 20 % validate."""
    closes = pd.to_datetime(meta["closed_at"]).to_numpy()
    order = np.flatnonzero(train)[np.argsort(closes[train], kind="stable")]
    cut = int(round(len(order) * (1 - VALIDATION_SHARE)))
    fit, validate = np.zeros(len(meta), bool), np.zeros(len(meta), bool)
    fit[order[:cut]], validate[order[cut:]] = True, True
    return fit, validate


def selection_folds(meta: pd.DataFrame, train: np.ndarray, y: np.ndarray,
                    folds: int = SELECTION_FOLDS) -> list[tuple[np.ndarray, np.ndarray]]:
    """Rolling-origin ``(fit, validate)`` masks: for each of the last ``folds`` close months of the
    training rows, fit on the training closes of earlier months and validate on that month.

    One split of the latest 20 % left the choice to a single noisy number (on an unseen world boosting
    won 0.576 vs 0.581 and then lost 0.016 holdout AUC); several months show how much the gap moves.
    A fold whose fit rows lack won or lost deals is skipped; with no usable fold the latest-20 % split
    is the only one.
    """
    month = pd.to_datetime(meta["closed_at"]).dt.to_period("M").to_numpy()
    result = []
    for last in sorted(set(month[train]))[-folds:]:
        fit, validate = train & (month < last), train & (month == last)
        if len(np.unique(y[fit])) == 2 and validate.any():
            result.append((fit, validate))
    return result or [validation_split(meta, train)]


def choose_family(settings: Settings, X: np.ndarray, y: np.ndarray,
                  folds: list[tuple[np.ndarray, np.ndarray]]) -> tuple[str, dict]:
    """The simplest configured family unless a more complex one beats it on the folds' mean log-loss
    by more than the standard error of the per-fold differences; and the record of why.

    Prefers simple because a near-tie is noise: a boosting model that wins by less than the folds
    disagree is as likely to lose on new deals, and logistic is cheaper and easier to explain.
    """
    losses = {family: [validation_loss(scorer_for(settings, family), X, y, fit, validate)
                       for fit, validate in folds]
              for family in settings.training.customer.estimators}
    return prefer_simpler(losses)


def prefer_simpler(fold_losses: dict[str, list[float]]) -> tuple[str, dict]:
    """The rule of :func:`choose_family` on per-fold log-losses (same folds, same order, per family):
    walking from simple to complex, a family replaces the current choice only if its mean loss is
    lower by more than the standard error of the paired per-fold differences."""
    families = sorted(fold_losses, key=_simplicity)
    losses = {family: np.asarray(fold_losses[family], float) for family in families}
    chosen, record = families[0], {"validation_folds": len(losses[families[0]])}
    for family in families[1:]:
        margin, error = _paired_margin(losses[chosen], losses[family])
        record |= {f"validation_margin__{family}": margin, f"validation_margin_se__{family}": error}
        if margin > error:
            chosen = family
    record |= {f"validation_log_loss__{family}": float(loss.mean()) for family, loss in losses.items()}
    return chosen, record


def earned_columns(settings: Settings, features: pd.DataFrame, y: np.ndarray,
                   folds: list[tuple[np.ndarray, np.ndarray]]) -> tuple[list[str], dict]:
    """The columns to train on: every one, less each :data:`OPTIONAL_GROUPS` group that does not lower
    the simplest family's mean fold log-loss by more than the standard error of the paired per-fold
    gains (the rule :func:`prefer_simpler` applies to families). A group without any known value
    stays: the scorer leaves all-unknown columns out by itself, and the model keeps its inputs."""
    family = sorted(settings.training.customer.estimators, key=_simplicity)[0]
    columns, record = list(features.columns), {}
    for group, prefix in OPTIONAL_GROUPS.items():
        members = [c for c in columns if c.startswith(prefix)]
        if not members or features[members].isna().all(axis=None):
            continue
        rest = [c for c in columns if c not in members]
        losses = {name: [validation_loss(scorer_for(settings, family), features[cols].to_numpy(float), y, fit, val)
                         for fit, val in folds] for name, cols in (("without", rest), ("with", columns))}
        gain, error = _paired_margin(np.asarray(losses["without"]), np.asarray(losses["with"]))
        kept = gain > error
        record |= {f"group__{group}": "kept" if kept else "left out", f"group_gain__{group}": gain,
                   f"group_gain_se__{group}": error}
        columns = columns if kept else rest
    return columns, record


def _simplicity(family: str) -> int:
    return SIMPLER_FIRST.index(family) if family in SIMPLER_FIRST else len(SIMPLER_FIRST)


def _paired_margin(incumbent: np.ndarray, challenger: np.ndarray) -> tuple[float, float]:
    """(mean of incumbent − challenger loss over the folds, its standard error; 0 with one fold)."""
    gain = incumbent - challenger
    error = float(gain.std(ddof=1) / np.sqrt(len(gain))) if len(gain) > 1 else 0.0
    return float(gain.mean()), error


def prepare(catalog: Catalog, settings: Settings, *, as_of: datetime | None = None,
            capability: CapabilityProvider | None = None) -> tuple[DealTable, Split]:
    """The deal table and its time split; refuses a catalog too small to train on."""
    table = build_deal_table(catalog, settings, as_of=as_of, capability=capability)
    split = time_split(table.meta, settings.training.holdout_months)
    need = settings.training.customer.min_train_deals
    labels = table.meta["label"].to_numpy()
    if split.train.sum() < need or len(np.unique(labels[split.train])) < 2:
        raise TrainingDataError(f"{int(split.train.sum())} closed deals before the holdout cut-off "
                                f"{split.cutoff:%Y-%m-%d} (need {need}, both won and lost)")
    if split.holdout.sum() == 0 or len(np.unique(labels[split.holdout])) < 2:
        raise TrainingDataError(f"the holdout (deals closed after {split.cutoff:%Y-%m-%d}) needs won and lost "
                                f"deals; it has {int(split.holdout.sum())}")
    return table, split


def train_customer(catalog: Catalog, settings: Settings, workspace: Workspace, *, tune_trials: int = 0,
                   as_of: datetime | None = None, capability: CapabilityProvider | None = None,
                   register: bool = True, hook: Hook | None = None) -> CustomerTrainResult:
    """Build features, split by time, choose/tune, fit, measure on the holdout, log and register."""
    hook = hook or (lambda step, done, total: None)
    started = time.perf_counter()
    hook("features", 0, 1)
    table, split = prepare(catalog, settings, as_of=as_of, capability=capability)
    hook("features", 1, 1)
    y = table.meta["label"].to_numpy()
    columns, groups = earned_columns(settings, table.features, y, selection_folds(table.meta, split.train, y))
    table = DealTable(table.features[columns], table.meta, table.available)
    X = table.features.to_numpy(float)
    import mlflow

    registry.open_tracking(settings, workspace)
    parent = (mlflow.start_run(experiment_id=registry.ensure_experiment(settings, workspace, EXPERIMENT),
                               run_name=f"customer-tune-{tune_trials}") if tune_trials and register else None)
    try:
        family, overrides, selection, trials = _choose(settings, table.meta, X, y, split.train, tune_trials,
                                                       hook)
        hook("fit", 0, 1)
        scorer = scorer_for(settings, family, **overrides).fit(X[split.train], y[split.train])
        hook("fit", 1, 1)
        holdout_p = scorer.predict_proba(X[split.holdout])[:, 1]
        metrics = holdout_metrics(y[split.holdout], holdout_p)
        params = _params(settings, table, split, scorer, selection | groups, tune_trials)
        promotion = None
        if register:
            hook("register", 0, 1)
            metrics["train_seconds"] = time.perf_counter() - started
            promotion = _register(settings, workspace, table, split, scorer, params, metrics)
            hook("register", 1, 1)
    finally:
        if parent is not None:
            mlflow.end_run()
    return CustomerTrainResult(promotion, metrics, params, scorer, table, split,
                               pd.Series(holdout_p, index=table.meta.index[split.holdout]),
                               time.perf_counter() - started, trials)


def _choose(settings, meta, X, y, train, tune_trials, hook):
    """(family, parameter overrides, selection record, tuning trials)."""
    if not tune_trials:
        hook("choose", 0, 1)
        family, selection = choose_family(settings, X, y, selection_folds(meta, train, y))
        hook("choose", 1, 1)
        return family, {}, selection, []
    from talktrack.training.tuning import log_trials, tune_customer

    fit, validate = validation_split(meta, train)
    trials = tune_customer(settings, X, y, fit, validate, tune_trials, hook=hook)
    log_trials(trials)
    best = min(trials, key=lambda trial: trial["validation_log_loss"])
    overrides = {key: value for key, value in best["config"].items() if key != "estimator"}
    return best["config"]["estimator"], overrides, {"tuned_best_log_loss": best["validation_log_loss"]}, trials


def _params(settings, table, split, scorer, selection, tune_trials) -> dict:
    used = list(table.features.columns[np.flatnonzero(scorer.usable_)])
    return {
        "model": scorer.get_params() | {"calibration_used": scorer.calibration_},   # "auto" resolved
        "split": {"holdout_months": settings.training.holdout_months, "cutoff": f"{split.cutoff:%Y-%m-%d}",
                  "train_deals": int(split.train.sum()), "holdout_deals": int(split.holdout.sum())},
        "features": {"count": len(used), "available": table.available,
                     "unused_all_missing": sorted(set(table.features.columns) - set(used))},
        "selection": selection | {"tune_trials": tune_trials},
    }


def _register(settings, workspace, table, split, scorer, params, metrics) -> PromotionResult:
    from talktrack.training.customer_pyfunc import CustomerScorerModel, save_estimator
    from talktrack.training.plots import customer_plots

    names = list(table.features.columns)
    y = table.meta["label"].to_numpy()
    with tempfile.TemporaryDirectory(prefix="tt-customer-") as tmp:
        folder = Path(tmp)
        config = {"features": names, "tiers": settings.customer_tiers.model_dump(),
                  "stages": stage_info(settings), "top_reasons": settings.training.customer.top_reasons}
        (folder / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=1), encoding="utf-8")
        artifacts = {"estimator": str(save_estimator(scorer, folder / "estimator.skops")),
                     "config": str(folder / "config.json")}
        holdout = table.features[split.holdout]
        plots = customer_plots(scorer, holdout, y[split.holdout], folder)
        return registry.register_candidate(
            settings, workspace, model_name=MODEL_NAME, experiment=EXPERIMENT, python_model=CustomerScorerModel(),
            artifacts=artifacts, input_example=holdout.head(5).fillna(0.0), params=params, metrics=metrics,
            holdout_metric=HOLDOUT_METRIC, higher_is_better=True,
            data_fingerprint=data_fingerprint(table.features[split.train], table.meta["label"][split.train]),
            plots=plots, tags={"talktrack.estimator": scorer.estimator},
        )
