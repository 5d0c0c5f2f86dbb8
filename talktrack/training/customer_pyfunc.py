"""The customer scorer as an MLflow pyfunc: feature rows in, win probability, tier and reasons out.

Artefacts: ``estimator`` (the fitted :class:`CustomerScorer`, saved with skops — no pickle of
arbitrary code) and ``config`` (JSON: feature names, tier thresholds, stage names/thresholds,
how many reasons). Heavy files load in :meth:`load_context`, never at import.

Input: a DataFrame with the feature columns (missing columns count as unknown/NaN; extra ones
are ignored). Output: a DataFrame with ``p_win``, ``tier`` (A/B/C) and ``reasons`` (a JSON list
of ``{feature, effect, direction, text}``).
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from talktrack.models.features.deal import top_reasons
from talktrack.models.scorer_vector import VectorScorer

TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "talktrack.models.")


def save_estimator(estimator, path: Path) -> Path:
    import skops.io

    skops.io.dump(estimator, path)
    return path


def load_estimator(path: Path | str):
    """Load a skops file, trusting only scikit-learn/numpy/scipy types and our own models."""
    import skops.io

    untrusted = skops.io.get_untrusted_types(file=str(path))
    refused = [name for name in untrusted if not name.startswith(TRUSTED_PREFIXES)]
    if refused:
        raise ValueError(f"estimator file {path}: refuses to load types outside "
                         f"{TRUSTED_PREFIXES}: {refused}")
    return skops.io.load(str(path), trusted=untrusted)


def tier(p: float, a: float, b: float) -> str:
    return "A" if p >= a else "B" if p >= b else "C"


def score_frame(estimator, config: dict, frame: pd.DataFrame) -> pd.DataFrame:
    """Win probability, tier and reasons for each row of ``frame`` (the pyfunc's predict)."""
    X = frame.reindex(columns=config["features"]).astype(float).to_numpy()
    answers = score_rows(estimator, config, X)
    return pd.DataFrame({"p_win": [a["p_win"] for a in answers], "tier": [a["tier"] for a in answers],
                         "reasons": [json.dumps(a["reasons"], ensure_ascii=False) for a in answers]},
                        index=frame.index)


def score_rows(estimator, config: dict, X: np.ndarray, fast: VectorScorer | None = None) -> list[dict]:
    """``{p_win, tier, reasons}`` for each row of ``X`` (shape: (n, len(config["features"])), NaN
    for unknown); with ``fast`` (the estimator's numpy view) without scikit-learn's per-call checks."""
    names = config["features"]
    if fast is None:
        p, contributions = estimator.predict_proba(X)[:, 1], estimator.contributions(X)
    else:
        p, contributions = fast.proba(X), fast.contributions(X)
    stages = {key: tuple(value) for key, value in config["stages"].items()}
    return [{"p_win": float(p[i]), "tier": tier(float(p[i]), config["tiers"]["a"], config["tiers"]["b"]),
             "reasons": top_reasons(names, X[i], contributions[i], config["top_reasons"], stages)}
            for i in range(len(X))]


class CustomerScorerModel(mlflow.pyfunc.PythonModel):
    """The logged model; see the module docstring for input and output."""

    def load_context(self, context):
        self.estimator = load_estimator(context.artifacts["estimator"])
        self.config = json.loads(Path(context.artifacts["config"]).read_text(encoding="utf-8"))
        self.fast = VectorScorer.of(self.estimator)

    def score_rows(self, X: np.ndarray) -> list[dict]:
        """What :meth:`predict` answers, for a numpy matrix of the config's features and with
        reasons as lists: the service's path for a few deals (no DataFrame, no sklearn checks)."""
        return score_rows(self.estimator, self.config, X, fast=self.fast)

    def predict(self, context, model_input, params=None):
        if not isinstance(model_input, pd.DataFrame):
            model_input = pd.DataFrame(np.asarray(model_input, dtype=float), columns=self.config["features"])
        return score_frame(self.estimator, self.config, model_input)
