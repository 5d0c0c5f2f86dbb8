"""Settings of model training and promotion, and where MLflow tracks it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from talktrack.core.config.base import Strict


class MlflowSettings(Strict):
    tracking_uri: str | None = None


class CustomerTrainingSettings(Strict):
    """The customer/deal scorer: which estimator families compete (structure) and their
    tunable parameters (``--tune`` searches around them)."""

    estimators: tuple[Literal["logistic", "boosting"], ...] = ("logistic", "boosting")
    regularization_c: float = Field(1.0, gt=0.0)          # logistic: inverse L2 strength
    learning_rate: float = Field(0.05, gt=0.0, le=1.0)    # boosting
    max_iter: int = Field(200, ge=10)                     # boosting rounds
    max_depth: int | None = Field(3, ge=1)                # boosting tree depth
    min_samples_leaf: int = Field(40, ge=1)               # boosting
    calibration_folds: int = Field(5, ge=2)
    top_reasons: int = Field(3, ge=1, le=10)
    min_train_deals: int = Field(40, ge=10)


class CapabilityTrainingSettings(Strict):
    """The capability model (radar): ridge penalties searched by cross-validation, whether
    conversation features are blended with surveys and months pooled, and the coaching rule
    (a dimension this share below the team mean, or below it this many months running)."""

    alphas: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0, 1000.0)
    cv_folds: int = Field(5, ge=2)
    use_features: bool = True
    smooth_months: bool = True
    min_train_rep_months: int = Field(24, ge=4)
    shortfall_share: float = Field(0.30, gt=0.0, lt=1.0)
    shortfall_months: int = Field(2, ge=1)
    top_sellers: int = Field(3, ge=1)
    examples: int = Field(3, ge=1, le=20)


class TrainingSettings(Strict):
    """Model training and promotion (both models).

    ``promotion_gate``: by how much a new version must beat the champion on the holdout
    metric to be promoted, per model (``customer``: AUC points, ``capability``: Spearman).
    ``holdout_months``: the last months of closed deals (by close date) held out; training uses
    deals closed before that cut-off only.
    """

    promotion_gate: dict[str, float] = {"customer": 0.005, "capability": 0.01}
    holdout_months: int = Field(3, ge=1)
    random_state: int = 0
    calibration: Literal["auto", "isotonic", "sigmoid"] = "auto"
    customer: CustomerTrainingSettings = CustomerTrainingSettings()
    capability: CapabilityTrainingSettings = CapabilityTrainingSettings()
