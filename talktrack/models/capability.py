"""The capability model behind the 12-dimension radar.

Three small parts, each with a stated uncertainty so they can be blended honestly:

* :class:`SurveyFusion` turns one dimension's 360-degree survey scores (one column per source:
  customer, manager, peer, self) into one reading per rep-month with a variance. Scores are
  moved to the logit scale of the 1-5 range, each source's bias (self-ratings run high) and
  noise per respondent are *learned from the data*: two sources rating the same rep-month differ
  only by their noises, so the variances of pairwise differences identify every source's noise.
* :class:`CapabilityRegressor` learns all dimensions at once from conversation features
  (impute -> standardise -> ridge with the penalty picked by cross-validation, per dimension);
  its variance is the cross-validated residual variance minus the label's own survey noise.
* :func:`precision_blend` and :func:`smooth_months` combine the two readings (inverse-variance
  weights) and pool a rep's months (a random-walk smoother: skills drift slowly).

:class:`CapabilityModel` bundles the fitted parts and estimates a table of rep-months; it is
what training saves and the MLflow pyfunc loads. Imports numpy, pandas and scikit-learn only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import nnls
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.impute import SimpleImputer
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

SCORE_CLIP = 0.01  # scores at the very ends of the scale are read as 1% / 99% of the range
MIN_VARIANCE = 1e-4


def score_to_logit(score, low: float = 1.0, high: float = 5.0) -> np.ndarray:
    """A 1-5 survey score on the logit scale, where noise is roughly symmetric.

    >>> round(float(score_to_logit(3.0)), 6)
    0.0
    """
    share = (np.asarray(score, dtype=float) - low) / (high - low)
    share = np.clip(share, SCORE_CLIP, 1.0 - SCORE_CLIP)
    return np.log(share / (1.0 - share))


def logit_to_score(z, low: float = 1.0, high: float = 5.0) -> np.ndarray:
    """Back from the logit scale to the survey's range (what a radar shows)."""
    return low + (high - low) / (1.0 + np.exp(-np.asarray(z, dtype=float)))


class SurveyFusion(BaseEstimator):
    """Precision-weighted consensus of several survey sources for one dimension.

    ``fit(Z, R)``: ``Z`` (n_rows, n_sources) logit scores, NaN where a source is missing;
    ``R`` the respondents behind each score. Learns ``bias_`` (source mean minus the mean of
    all sources) and ``noise_var_`` (variance of one respondent's score, per source).
    ``transform(Z, R)`` returns ``(mean, var)``; a row without any survey gets NaN and inf.

    >>> rng = np.random.default_rng(0); level = rng.normal(size=400)
    >>> Z = level[:, None] + rng.normal(0, [0.3, 0.6], size=(400, 2)); R = np.ones_like(Z)
    >>> fusion = SurveyFusion().fit(Z, R); bool(fusion.noise_var_[0] < fusion.noise_var_[1])
    True
    """

    def __init__(self, min_noise_var: float = 1e-3):
        self.min_noise_var = min_noise_var

    def fit(self, Z, R=None):
        Z, R = _survey_arrays(Z, R)
        means = np.nanmean(Z, axis=0)
        if np.isnan(means).any():
            raise ValueError("SurveyFusion.fit: every source needs at least one score")
        self.bias_ = means - means.mean()
        self.noise_var_ = np.maximum(self._pairwise_noise(Z - self.bias_, R), self.min_noise_var)
        self.n_sources_ = Z.shape[1]
        return self

    def _pairwise_noise(self, Z: np.ndarray, R: np.ndarray) -> np.ndarray:
        """Solve E[(z_a - z_b)^2] = s_a / r_a + s_b / r_b over all rows and source pairs (NNLS)."""
        n_sources = Z.shape[1]
        if n_sources == 1:
            return np.array([np.nanvar(Z[:, 0])])
        rows, targets = [], []
        for a in range(n_sources):
            for b in range(a + 1, n_sources):
                both = ~np.isnan(Z[:, a]) & ~np.isnan(Z[:, b])
                design = np.zeros((int(both.sum()), n_sources))
                design[:, a], design[:, b] = 1.0 / R[both, a], 1.0 / R[both, b]
                rows.append(design)
                targets.append((Z[both, a] - Z[both, b]) ** 2)
        solution, _ = nnls(np.vstack(rows), np.concatenate(targets))
        return solution

    def transform(self, Z, R=None) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self, "noise_var_")
        Z, R = _survey_arrays(Z, R)
        if Z.shape[1] != self.n_sources_:
            raise ValueError(f"SurveyFusion: expected {self.n_sources_} sources, got {Z.shape[1]}")
        precision = np.where(np.isnan(Z), 0.0, R / self.noise_var_)  # shape: (n_rows, n_sources)
        total = precision.sum(axis=1)
        weighted = np.nansum(np.where(np.isnan(Z), 0.0, (Z - self.bias_) * precision), axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(total > 0, weighted / total, np.nan), np.where(total > 0, 1.0 / total, np.inf)


def _survey_arrays(Z, R) -> tuple[np.ndarray, np.ndarray]:
    Z = np.atleast_2d(np.asarray(Z, dtype=float))
    R = np.ones_like(Z) if R is None else np.atleast_2d(np.asarray(R, dtype=float))
    if R.shape != Z.shape:
        raise ValueError(f"survey scores {Z.shape} and respondents {R.shape} differ in shape")
    R = np.where(np.isnan(R) | (R < 1), 1.0, R)
    return Z, R


class CapabilityRegressor(RegressorMixin, BaseEstimator):
    """Ridge regression of the (multi-output) survey consensus on conversation features,
    with a per-output prediction variance from cross-validated residuals.

    Missing feature values (a workspace without moments, a month without closed deals) are
    imputed by the training median, so NaN is accepted in ``X``. ``fit(X, y, label_var=...)``:
    the variance of each label's survey noise, subtracted from the residual variance so the
    model is not blamed for noise in its labels.

    >>> rng = np.random.default_rng(0); X = rng.normal(size=(200, 3))
    >>> y = X @ np.array([1.0, 0.0, -1.0]) + rng.normal(0, 0.1, 200)
    >>> model = CapabilityRegressor(random_state=0).fit(X, y); bool(model.score(X, y) > 0.95)
    True
    """

    def __init__(self, alphas=(0.1, 1.0, 10.0, 100.0, 1000.0), cv: int = 5, random_state=None):
        self.alphas = alphas
        self.cv = cv
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.target_tags.multi_output = True
        return tags

    def _pipeline(self):
        ridge = RidgeCV(alphas=np.asarray(self.alphas, dtype=float), alpha_per_target=True)
        return make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(), ridge)

    def fit(self, X, y, label_var=None):
        X, y = validate_data(self, X, y, multi_output=True, ensure_all_finite="allow-nan", y_numeric=True)
        if len(X) < 2:
            raise ValueError(f"CapabilityRegressor needs at least 2 rows to cross-validate; got n_samples = {len(X)}")
        y = np.asarray(y, dtype=float)
        self._single_output = y.ndim == 1
        Y = y.reshape(len(y), -1)  # shape: (n_rows, n_outputs)
        self.pipeline_ = self._pipeline().fit(X, Y)
        folds = KFold(n_splits=min(self.cv, len(X)), shuffle=True, random_state=self.random_state)
        oof = cross_val_predict(self._pipeline(), X, Y, cv=folds).reshape(Y.shape)
        noise = np.zeros(Y.shape[1]) if label_var is None else np.nanmean(
            np.asarray(label_var, dtype=float).reshape(len(Y), -1), axis=0)
        self.residual_var_ = np.maximum(np.mean((oof - Y) ** 2, axis=0) - noise, MIN_VARIANCE)
        self.oof_predictions_ = oof
        return self

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        prediction = self.pipeline_.predict(X).reshape(len(X), -1)
        return prediction[:, 0] if self._single_output else prediction

    def predict_var(self, X) -> np.ndarray:
        """The prediction variance of every row and output (constant per output)."""
        prediction = self.predict(X)
        return np.broadcast_to(self.residual_var_, np.shape(prediction)).copy() if not self._single_output \
            else np.full(len(prediction), self.residual_var_[0])


def precision_blend(mean_a, var_a, mean_b, var_b) -> tuple[np.ndarray, np.ndarray]:
    """Inverse-variance weighted mean of two independent readings; a missing one (NaN mean or
    infinite variance) simply drops out.

    >>> m, v = precision_blend(np.array([0.0]), np.array([1.0]), np.array([2.0]), np.array([1.0]))
    >>> float(m[0]), float(v[0])
    (1.0, 0.5)
    """
    mean_a, var_a, mean_b, var_b = (np.asarray(x, dtype=float) for x in (mean_a, var_a, mean_b, var_b))
    wa = np.where(np.isnan(mean_a) | ~np.isfinite(var_a), 0.0, 1.0 / np.maximum(var_a, MIN_VARIANCE))
    wb = np.where(np.isnan(mean_b) | ~np.isfinite(var_b), 0.0, 1.0 / np.maximum(var_b, MIN_VARIANCE))
    total = wa + wb
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (np.nan_to_num(mean_a) * wa + np.nan_to_num(mean_b) * wb) / total
        return np.where(total > 0, mean, np.nan), np.where(total > 0, 1.0 / total, np.inf)


def smooth_months(means: np.ndarray, variances: np.ndarray, step_var: float) -> tuple[np.ndarray, np.ndarray]:
    """Rauch-Tung-Striebel smoother of one rep's monthly readings under a random walk whose
    monthly step has variance ``step_var``; months without a reading (NaN) are bridged.

    >>> m, v = smooth_months(np.array([0.0, 1.0, 0.0]), np.array([1.0, 1.0, 1.0]), 1e-6)
    >>> [round(float(x), 3) for x in m]
    [0.333, 0.333, 0.333]
    """
    n = len(means)
    filt_m, filt_v, pred_m, pred_v = (np.zeros(n) for _ in range(4))
    mean, var = 0.0, np.inf
    for t in range(n):
        pred_m[t], pred_v[t] = mean, var + step_var
        mean, var = precision_blend(pred_m[t], pred_v[t], means[t], variances[t])
        mean, var = float(mean), float(var)
        filt_m[t], filt_v[t] = mean, var
    out_m, out_v = filt_m.copy(), filt_v.copy()
    for t in range(n - 2, -1, -1):
        if not np.isfinite(pred_v[t + 1]) or not np.isfinite(filt_v[t]):
            continue
        gain = filt_v[t] / pred_v[t + 1]
        out_m[t] = filt_m[t] + gain * (out_m[t + 1] - pred_m[t + 1])
        out_v[t] = filt_v[t] + gain ** 2 * (out_v[t + 1] - pred_v[t + 1])
    return out_m, out_v


def month_step_var(means: pd.DataFrame, variances: pd.DataFrame) -> float:
    """The random walk's monthly step variance, from consecutive readings of the same rep:
    E[(x_t+1 - x_t)^2] = step + var_t + var_t+1 (rows: reps, columns: months in order)."""
    diff = np.diff(means.to_numpy(dtype=float), axis=1) ** 2
    noise = variances.to_numpy(dtype=float)
    noise = noise[:, 1:] + noise[:, :-1]
    ok = np.isfinite(diff) & np.isfinite(noise)
    if not ok.any():
        return MIN_VARIANCE
    return float(max(np.mean(diff[ok] - noise[ok]), MIN_VARIANCE))


@dataclass
class CapabilityModel:
    """The fitted capability model: survey fusions per dimension, the feature regressor,
    and each dimension's monthly step variance. ``estimate`` turns rep-months (features,
    surveys) into blended, smoothed estimates with standard deviations."""

    dimensions: list[str]
    sources: list[str]
    feature_names: list[str]
    fusions: dict[str, SurveyFusion]
    regressor: CapabilityRegressor | None
    step_var: dict[str, float]
    scale: tuple[float, float] = (1.0, 5.0)
    options: dict = field(default_factory=dict)

    def survey_readings(self, surveys: pd.DataFrame, index: pd.MultiIndex) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Fused survey reading and variance per rep-month (rows ``index``) and dimension."""
        means, variances = {}, {}
        for dimension in self.dimensions:
            Z, R = survey_arrays(surveys, dimension, self.sources, index, self.scale)
            means[dimension], variances[dimension] = self.fusions[dimension].transform(Z, R)
        return pd.DataFrame(means, index=index), pd.DataFrame(variances, index=index)

    def model_readings(self, features: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The regressor's reading and variance per rep-month; all NaN/inf without a regressor."""
        if self.regressor is None:
            shape = (len(features), len(self.dimensions))
            return (pd.DataFrame(np.full(shape, np.nan), index=features.index, columns=self.dimensions),
                    pd.DataFrame(np.full(shape, np.inf), index=features.index, columns=self.dimensions))
        X = features.reindex(columns=self.feature_names).to_numpy(dtype=float)
        return (pd.DataFrame(self.regressor.predict(X), index=features.index, columns=self.dimensions),
                pd.DataFrame(self.regressor.predict_var(X), index=features.index, columns=self.dimensions))

    def estimate(self, features: pd.DataFrame, surveys: pd.DataFrame, *, use_features: bool = True,
                 smooth: bool = True, model_z: pd.DataFrame | None = None) -> pd.DataFrame:
        """Long table: rep, period, dimension, estimate (survey scale), sd, z, z_sd, survey_z, model_z.

        The fused surveys are pooled over the rep's months first (when ``smooth``), then blended
        with the feature model's reading by precision; the model's variance was measured against
        such pooled surveys, so both readings' variances are on the same footing. ``model_z``
        replaces the model's reading on the rows it has (training uses out-of-fold predictions
        there: an in-sample prediction has learned the very survey noise it would be blended with).
        """
        index = features.index
        survey_m, survey_v = self.survey_readings(surveys, index)
        if smooth:
            survey_m, survey_v = self.smooth(survey_m, survey_v)
        model_m, model_v = self.model_readings(features)
        if model_z is not None:
            model_m.update(model_z.reindex(columns=self.dimensions))
        if not use_features:
            model_m, model_v = model_m * np.nan, model_v * 0 + np.inf
        blend_m, blend_v = precision_blend(survey_m, survey_v, model_m, model_v)
        blend_m = pd.DataFrame(blend_m, index=index, columns=self.dimensions)
        blend_v = pd.DataFrame(blend_v, index=index, columns=self.dimensions)
        return _long_table(blend_m, blend_v, survey_m, model_m, self.scale)

    def smooth(self, means: pd.DataFrame, variances: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Each rep's months pooled per dimension (rows must be indexed by rep, period)."""
        out_m, out_v = means.copy(), variances.copy()
        for _rep, rows in means.groupby(level="rep").groups.items():
            rows = sorted(rows, key=lambda key: key[1])
            for dimension in self.dimensions:
                m, v = smooth_months(means.loc[rows, dimension].to_numpy(), variances.loc[rows, dimension].to_numpy(),
                                     self.step_var[dimension])
                out_m.loc[rows, dimension], out_v.loc[rows, dimension] = m, v
        return out_m, out_v


def survey_arrays(surveys: pd.DataFrame, dimension: str, sources: list[str], index: pd.MultiIndex,
                  scale: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """``Z`` (logit scores) and ``R`` (respondents), shape (len(index), len(sources)), NaN where missing.

    ``surveys`` is long: rep, period, dimension, source, score, respondents.
    """
    rows = surveys[surveys["dimension"] == dimension]
    wide = rows.pivot_table(index=["rep", "period"], columns="source", values=["score", "respondents"],
                            aggfunc="mean")
    scores = wide["score"].reindex(index=index, columns=sources) if len(wide) else \
        pd.DataFrame(np.nan, index=index, columns=sources)
    respondents = wide["respondents"].reindex(index=index, columns=sources) if len(wide) else scores * np.nan
    return score_to_logit(scores.to_numpy(dtype=float), *scale), respondents.to_numpy(dtype=float)


def _long_table(blend_m: pd.DataFrame, blend_v: pd.DataFrame, survey_m: pd.DataFrame, model_m: pd.DataFrame,
                scale: tuple[float, float]) -> pd.DataFrame:
    frames = []
    for dimension in blend_m.columns:
        z, z_sd = blend_m[dimension].to_numpy(), np.sqrt(blend_v[dimension].to_numpy())
        frame = pd.DataFrame({
            "rep": blend_m.index.get_level_values("rep"), "period": blend_m.index.get_level_values("period"),
            "dimension": dimension, "z": z, "z_sd": z_sd, "survey_z": survey_m[dimension].to_numpy(),
            "model_z": model_m[dimension].to_numpy(), "estimate": logit_to_score(z, *scale),
        })
        frame["sd"] = _score_sd(z, z_sd, scale)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _score_sd(z: np.ndarray, z_sd: np.ndarray, scale: tuple[float, float]) -> np.ndarray:
    """The sd on the survey scale by the delta method (slope of the logistic at z)."""
    share = 1.0 / (1.0 + np.exp(-z))
    return (scale[1] - scale[0]) * share * (1.0 - share) * z_sd


# -- persistence and the pyfunc's wide input -------------------------------------------------------
MODEL_FILE, ESTIMATES_FILE, META_FILE = "model.skops", "estimates.csv", "meta.json"
TRUSTED_PREFIXES = ("talktrack.models.capability.", "sklearn.", "numpy.", "scipy.", "builtins.")


def write_model_dir(directory: Path, model: CapabilityModel, estimates: pd.DataFrame, meta: dict) -> Path:
    """Save the fitted model (skops), its estimates (CSV) and the run's metadata (JSON)."""
    import skops.io as sio

    directory.mkdir(parents=True, exist_ok=True)
    sio.dump(model, directory / MODEL_FILE)
    estimates.to_csv(directory / ESTIMATES_FILE, index=False)
    (directory / META_FILE).write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
    return directory


def read_model_dir(directory: Path) -> CapabilityModel:
    """Load a saved model, trusting only our own, scikit-learn, numpy and scipy types."""
    import skops.io as sio

    path = Path(directory) / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no capability model at {path}: run `talktrack train capability` first")
    untrusted = sio.get_untrusted_types(file=path)
    refused = [name for name in untrusted if not name.startswith(TRUSTED_PREFIXES)]
    if refused:
        raise ValueError(f"{path}: refusing to load unexpected types {refused}")
    return sio.load(path, trusted=untrusted)


def read_estimates(directory: Path) -> pd.DataFrame:
    """The per-rep-month estimates saved by the last training run (what radars and heatmaps show)."""
    path = Path(directory) / ESTIMATES_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no capability estimates at {path}: run `talktrack train capability` first")
    return pd.read_csv(path, dtype={"rep": str, "period": str, "dimension": str})


def inputs_to_wide(model: CapabilityModel, features: pd.DataFrame, surveys: pd.DataFrame) -> pd.DataFrame:
    """Rep-month rows in the pyfunc's input format: rep, period, features, ``survey:DIM:SOURCE`` and
    ``respondents:DIM:SOURCE`` (NaN where missing)."""
    wide = features.reindex(columns=model.feature_names).copy()
    for dimension in model.dimensions:
        Z, R = survey_arrays(surveys, dimension, model.sources, features.index, (0.0, 1.0))
        scores = surveys[surveys["dimension"] == dimension].pivot_table(
            index=["rep", "period"], columns="source", values="score", aggfunc="mean").reindex(
            index=features.index, columns=model.sources)
        for i, source in enumerate(model.sources):
            wide[f"survey:{dimension}:{source}"] = scores[source].to_numpy(dtype=float)
            wide[f"respondents:{dimension}:{source}"] = R[:, i]
    return wide.reset_index().astype({"rep": str, "period": str})


def wide_to_inputs(model: CapabilityModel, wide: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Back from the pyfunc's input to (features indexed by rep, period; long surveys)."""
    for column in ("rep", "period"):
        if column not in wide:
            raise ValueError(f"capability input: column {column!r} is required (one row per rep-month)")
    index = pd.MultiIndex.from_frame(wide[["rep", "period"]].astype(str), names=["rep", "period"])
    features = wide.reindex(columns=model.feature_names).set_axis(index)
    rows = []
    for dimension in model.dimensions:
        for source in model.sources:
            score = wide.get(f"survey:{dimension}:{source}")
            if score is None:
                continue
            respondents = wide.get(f"respondents:{dimension}:{source}", pd.Series(1.0, index=wide.index))
            rows.append(pd.DataFrame({"rep": index.get_level_values(0), "period": index.get_level_values(1),
                                      "dimension": dimension, "source": source,
                                      "score": pd.to_numeric(score, errors="coerce").to_numpy(),
                                      "respondents": pd.to_numeric(respondents, errors="coerce").to_numpy()}))
    columns = ["rep", "period", "dimension", "source", "score", "respondents"]
    surveys = pd.concat(rows, ignore_index=True).dropna(subset=["score"]) if rows else pd.DataFrame(columns=columns)
    return features, surveys
