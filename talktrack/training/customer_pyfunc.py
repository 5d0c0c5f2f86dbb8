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
    names = config["features"]
    X = frame.reindex(columns=names).astype(float).to_numpy()
    p = estimator.predict_proba(X)[:, 1]
    contributions = estimator.contributions(X)
    stages = {key: tuple(value) for key, value in config["stages"].items()}
    reasons = [json.dumps(top_reasons(names, X[i], contributions[i], config["top_reasons"], stages),
                          ensure_ascii=False) for i in range(len(X))]
    tiers = [tier(float(value), config["tiers"]["a"], config["tiers"]["b"]) for value in p]
    return pd.DataFrame({"p_win": p.astype(float), "tier": tiers, "reasons": reasons}, index=frame.index)


class CustomerScorerModel(mlflow.pyfunc.PythonModel):
    """The logged model; see the module docstring for input and output."""

    def load_context(self, context):
        self.estimator = load_estimator(context.artifacts["estimator"])
        self.config = json.loads(Path(context.artifacts["config"]).read_text(encoding="utf-8"))

    def predict(self, context, model_input, params=None):
        if not isinstance(model_input, pd.DataFrame):
            model_input = pd.DataFrame(np.asarray(model_input, dtype=float), columns=self.config["features"])
        return score_frame(self.estimator, self.config, model_input)
