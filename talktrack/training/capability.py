"""Training of the capability model (the 12-dimension radar), step by step:

1. build the rep-month table: conversation features of the rep's calls in the month (moments,
   talk-track use and deal stalls when present) and the 360-degree survey scores per source;
2. learn, per dimension, each survey source's bias and noise (``SurveyFusion``) and fuse the
   sources into one reading with a variance;
3. learn all 12 dimensions from the features with the fused surveys as labels
   (``CapabilityRegressor``; its variance = cross-validated residual minus label noise);
4. blend model and survey by precision and pool each rep's months (random-walk smoother);
5. hold out the last months: fit on the earlier ones and measure how well the features alone
   predict the held-out months' surveys (Spearman, the promotion metric); refit on everything;
6. save the model and the per-rep-month estimates in the workspace; register in MLflow
   (:func:`register_capability`).

Example::

    result = train_capability(catalog, settings, workspace)
    result.metrics["holdout_spearman"], result.estimates.head()
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Rep, SurveyScore
from talktrack.core.workspace import Workspace
from talktrack.models.capability import (
    CapabilityModel,
    CapabilityRegressor,
    SurveyFusion,
    inputs_to_wide,
    month_step_var,
    survey_arrays,
    write_model_dir,
)
from talktrack.models.features.rep_month import rep_month_features

MODEL_NAME = "talktrack-capability"
EXPERIMENT = "capability"


class CapabilityTrainingError(ValueError):
    """Training cannot run on this catalog; the message says what is missing."""


@dataclass
class CapabilityDataset:
    """Rep-month features (index rep, period; rows with calls or surveys) and long surveys."""

    features: pd.DataFrame
    surveys: pd.DataFrame
    availability: dict[str, bool]
    dimensions: list[str]
    sources: list[str]
    scale: tuple[float, float]

    def periods(self) -> list[str]:
        return sorted(set(self.features.index.get_level_values("period")))

    def fingerprint(self) -> str:
        """A hash of the training data (features and surveys), logged with the run."""
        digest = hashlib.sha256()
        digest.update(pd.util.hash_pandas_object(self.features.fillna(-1e9), index=True).values.tobytes())
        digest.update(pd.util.hash_pandas_object(self.surveys, index=False).values.tobytes())
        return digest.hexdigest()[:16]


@dataclass
class CapabilityTraining:
    """What one training run produced."""

    model: CapabilityModel
    estimates: pd.DataFrame
    metrics: dict[str, float]
    params: dict
    availability: dict[str, bool]
    fingerprint: str
    holdout_periods: list[str]
    model_dir: Path | None = None
    per_dimension: dict[str, dict[str, float]] = field(default_factory=dict)
    data: CapabilityDataset | None = None


# -- 1. data ------------------------------------------------------------------------------------
def load_surveys(catalog: Catalog) -> pd.DataFrame:
    """Survey scores, long: rep (external id), period, dimension, source, score, respondents."""
    query = select(Rep.external_id, SurveyScore.period, SurveyScore.dimension, SurveyScore.source,
                   SurveyScore.score, SurveyScore.respondents).join(Rep, Rep.id == SurveyScore.rep_id)
    with catalog.session() as session:
        rows = session.execute(query).all()
    return pd.DataFrame(rows, columns=["rep", "period", "dimension", "source", "score", "respondents"])


def build_dataset(catalog: Catalog, settings) -> CapabilityDataset:
    """Features and surveys on one rep-month index (the union of both)."""
    features, availability = rep_month_features(catalog, settings)
    surveys = load_surveys(catalog)
    if surveys.empty:
        raise CapabilityTrainingError("capability training needs survey scores (survey_scores is empty); "
                                      "import surveys.csv first")
    survey_index = pd.MultiIndex.from_frame(surveys[["rep", "period"]].drop_duplicates())
    index = features.index.union(survey_index).sort_values()
    index.names = ["rep", "period"]
    features = features.reindex(index)
    features = features.loc[:, features.nunique(dropna=True) > 1]
    scale = (float(settings.survey_scale["min"]), float(settings.survey_scale["max"]))
    return CapabilityDataset(features, surveys, availability, list(settings.capability_keys),
                             list(settings.survey_sources), scale)


def split_periods(periods: list[str], holdout_months: int) -> tuple[list[str], list[str]]:
    """Earlier months for training, the last ``holdout_months`` for the holdout."""
    if len(periods) <= holdout_months:
        raise CapabilityTrainingError(f"capability: {len(periods)} months of data, need more than the "
                                      f"{holdout_months} held out (training.holdout_months)")
    return periods[:-holdout_months], periods[-holdout_months:]


# -- 2-4. fit --------------------------------------------------------------------------------------
def fit_capability(data: CapabilityDataset, options, periods: list[str] | None = None,
                   random_state: int | None = 0) -> CapabilityModel:
    """Fit survey fusions, the feature regressor and month step variances on ``periods``."""
    rows = data.features.index if periods is None else \
        data.features.index[data.features.index.get_level_values("period").isin(periods)]
    surveys = data.surveys[data.surveys["period"].isin(set(rows.get_level_values("period")))]
    fusions = {dim: SurveyFusion().fit(*survey_arrays(surveys, dim, data.sources, rows, data.scale))
               for dim in data.dimensions}
    model = CapabilityModel(data.dimensions, data.sources, list(data.features.columns), fusions, None, {},
                            data.scale, {"use_features": options.use_features, "smooth": options.smooth_months})
    survey_m, survey_v = model.survey_readings(surveys, rows)
    model.step_var = {dim: month_step_var(survey_m[dim].unstack("period"), survey_v[dim].unstack("period"))
                      for dim in data.dimensions}
    if options.smooth_months:
        survey_m, survey_v = model.smooth(survey_m, survey_v)
    if options.use_features:
        model.regressor = _fit_regressor(data.features.loc[rows], survey_m, survey_v, options, random_state)
    return model


def _usable_rows(features: pd.DataFrame, survey_m: pd.DataFrame) -> pd.Series:
    """Rep-months the regressor learns from: with calls and a survey reading in every dimension."""
    usable = survey_m.notna().all(axis=1)
    return usable & features["calls"].notna() if "calls" in features else usable


def out_of_fold_readings(model: CapabilityModel, data: CapabilityDataset) -> pd.DataFrame | None:
    """The regressor's cross-validated predictions on its own training rows (None without one)."""
    if model.regressor is None:
        return None
    survey_m, _ = model.survey_readings(data.surveys, data.features.index)
    usable = _usable_rows(data.features, survey_m)
    return pd.DataFrame(model.regressor.oof_predictions_, index=data.features.index[usable.to_numpy()],
                        columns=model.dimensions)


def _fit_regressor(features: pd.DataFrame, survey_m: pd.DataFrame, survey_v: pd.DataFrame, options,
                   random_state) -> CapabilityRegressor:
    """Regress the fused survey readings on features, on rep-months that have calls and all surveys."""
    usable = _usable_rows(features, survey_m)
    if int(usable.sum()) < options.min_train_rep_months:
        raise CapabilityTrainingError(f"capability: {int(usable.sum())} rep-months with calls and surveys to train "
                                      f"on, need {options.min_train_rep_months} (training.capability."
                                      "min_train_rep_months)")
    regressor = CapabilityRegressor(alphas=tuple(options.alphas), cv=options.cv_folds, random_state=random_state)
    return regressor.fit(features[usable].to_numpy(dtype=float), survey_m[usable].to_numpy(),
                         label_var=survey_v[usable].to_numpy())


# -- 5. holdout -----------------------------------------------------------------------------------
def holdout_metrics(model: CapabilityModel, data: CapabilityDataset, periods: list[str]) -> dict[str, dict]:
    """Per dimension, on the held-out months: Spearman of the features-only reading with the fused
    surveys (what the features learned), and the model's stated sd against its real error."""
    rows = data.features.index[data.features.index.get_level_values("period").isin(periods)]
    features = data.features.loc[rows]
    with_calls = features["calls"].notna().to_numpy() if "calls" in features else np.ones(len(rows), bool)
    survey_m, survey_v = model.survey_readings(data.surveys, rows)
    if model.options.get("smooth"):
        survey_m, survey_v = model.smooth(survey_m, survey_v)
    model_m, model_v = model.model_readings(features)
    out = {}
    for dim in data.dimensions:
        ok = with_calls & survey_m[dim].notna().to_numpy() & model_m[dim].notna().to_numpy()
        if ok.sum() < 3:
            continue
        error = (model_m[dim].to_numpy()[ok] - survey_m[dim].to_numpy()[ok]) ** 2 - survey_v[dim].to_numpy()[ok]
        out[dim] = {"spearman": float(spearmanr(model_m[dim].to_numpy()[ok], survey_m[dim].to_numpy()[ok])[0]),
                    "model_sd": float(np.sqrt(model_v[dim].to_numpy()[ok].mean())),
                    "rmse": float(np.sqrt(max(error.mean(), 0.0)))}
    return out


def _summary(per_dimension: dict[str, dict]) -> dict[str, float]:
    if not per_dimension:
        return {"holdout_spearman": 0.0}
    values = [m["spearman"] for m in per_dimension.values() if np.isfinite(m["spearman"])]
    metrics = {"holdout_spearman": float(np.mean(values)) if values else 0.0}
    metrics |= {f"holdout_spearman__{dim}": m["spearman"] for dim, m in per_dimension.items()}
    metrics |= {f"holdout_rmse__{dim}": m["rmse"] for dim, m in per_dimension.items()}
    return metrics


# -- orchestration --------------------------------------------------------------------------------
def train_capability(catalog: Catalog, settings, workspace: Workspace | None = None, *,
                     random_state: int | None = None, progress=None) -> CapabilityTraining:
    """Build the data, hold out the last months, fit, refit on all months, estimate every rep-month,
    and save model and estimates under ``workspace.models_dir / "capability"`` (when given)."""
    options = settings.training.capability
    seed = settings.training.random_state if random_state is None else random_state
    hook = progress or (lambda step, done, total: None)
    hook("capability", 0, 4)
    data = build_dataset(catalog, settings)
    hook("capability", 1, 4)
    train_periods, holdout = split_periods(data.periods(), settings.training.holdout_months)
    candidate = fit_capability(data, options, train_periods, seed)
    per_dimension = holdout_metrics(candidate, data, holdout) if options.use_features else {}
    hook("capability", 2, 4)
    model = fit_capability(data, options, None, seed)
    estimates = model.estimate(data.features, data.surveys, use_features=options.use_features,
                               smooth=options.smooth_months, model_z=out_of_fold_readings(model, data))
    hook("capability", 3, 4)
    result = CapabilityTraining(model, estimates, _summary(per_dimension) | _fit_metrics(model, data),
                                training_params(settings, data, seed), data.availability, data.fingerprint(),
                                holdout, per_dimension=per_dimension, data=data)
    if workspace is not None:
        result.model_dir = write_model_dir(model_directory(workspace), model, estimates,
                                           {"metrics": result.metrics, "params": result.params,
                                            "availability": data.availability, "fingerprint": result.fingerprint})
    hook("capability", 4, 4)
    return result


def model_directory(workspace: Workspace) -> Path:
    return workspace.models_dir / "capability"


def _fit_metrics(model: CapabilityModel, data: CapabilityDataset) -> dict[str, float]:
    """Learned noise figures worth watching across runs (per source, averaged over dimensions)."""
    metrics = {f"survey_noise_var__{source}": float(np.mean([model.fusions[d].noise_var_[i] for d in data.dimensions]))
               for i, source in enumerate(data.sources)}
    if model.regressor is not None:
        metrics["model_residual_var_mean"] = float(np.mean(model.regressor.residual_var_))
    metrics["rep_months"] = float(len(data.features))
    return metrics


def training_params(settings, data: CapabilityDataset, seed: int) -> dict:
    options = settings.training.capability
    return {
        "data": {"rep_months": len(data.features), "features": len(data.features.columns),
                 "periods": len(data.periods()), **{f"available_{k}": v for k, v in data.availability.items()}},
        "model": {"alphas": list(options.alphas), "cv_folds": options.cv_folds, "use_features": options.use_features,
                  "smooth_months": options.smooth_months, "random_state": seed},
        "split": {"holdout_months": settings.training.holdout_months},
    }


# -- 6. MLflow --------------------------------------------------------------------------------------
def input_example(result: CapabilityTraining, rows: int = 3) -> pd.DataFrame:
    """A few rep-months (with calls) in the pyfunc's wide input format."""
    features = result.data.features
    with_calls = features[features["calls"].notna()] if "calls" in features else features
    return inputs_to_wide(result.model, with_calls.head(rows), result.data.surveys)


def example_plots(result: CapabilityTraining, directory: Path) -> dict[str, Path]:
    """An example radar (the rep with most calls, last month, against all reps' mean) for the run."""
    from talktrack.models.charts import radar_chart

    estimates = result.estimates
    month = estimates["period"].max()
    rows = estimates[estimates["period"] == month]
    calls = result.data.features["calls"].groupby(level="rep").sum() if "calls" in result.data.features else None
    rep = str(calls.idxmax()) if calls is not None and len(calls) else str(rows["rep"].iloc[0])
    mine = rows[rows["rep"] == rep].set_index("dimension")["estimate"]
    mean = rows.groupby("dimension")["estimate"].mean()
    dims = result.model.dimensions
    path = radar_chart({d: float(mine[d]) for d in dims}, directory / "example_radar.png",
                       reference={d: float(mean[d]) for d in dims}, title=f"{rep} {month}",
                       value_range=result.model.scale)
    return {"example_radar": path}


def register_capability(settings, workspace: Workspace, result: CapabilityTraining, plots: dict | None = None):
    """Log and register the run as ``talktrack-capability``; promote it by the configured gate."""
    from talktrack.training.capability_pyfunc import CapabilityPyfunc
    from talktrack.training.registry import register_candidate

    if result.model_dir is None:
        raise CapabilityTrainingError("register_capability: train with a workspace so the model is saved first")
    return register_candidate(
        settings, workspace, model_name=MODEL_NAME, experiment=EXPERIMENT, python_model=CapabilityPyfunc(),
        artifacts={"model_dir": str(result.model_dir)}, input_example=input_example(result),
        params=result.params, metrics=result.metrics, holdout_metric="holdout_spearman", higher_is_better=True,
        data_fingerprint=result.fingerprint, plots=plots,
        tags={"talktrack.features": json.dumps(result.availability, sort_keys=True)},
    )
