"""How well the capability model recovers the hidden skill levels of a generated world.

A fresh workspace is built from the world; moments come from a detector trained on labels of a
world with a *different* seed (``moments="detector"``; ``"oracle"`` writes the truth's moments,
an upper bound for development; ``"none"`` trains without moments). The model is trained as
``talktrack train capability`` does, and its per-rep-month estimates are compared with the truth:
Spearman per dimension of the blended estimate, of the surveys alone (same fusion and pooling,
no features), of the raw per-month survey fusion, and of the feature model alone.

Example::

    evaluate_capability("/tmp/tt/world_dev", settings, "/tmp/cap_eval", moments="oracle")["blended"]["mean"]
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from talktrack.evaluation.models.moments import MOMENT_SOURCES, fill_moments, fresh_workspace
from talktrack.evaluation.world.labels import load_truth
from talktrack.training.capability import train_capability



def evaluate_capability(world_dir: Path | str, settings, workdir: Path | str, *, moments: str = "detector",
                        label_world: Path | str | None = None, progress=None) -> dict:
    """Train on a fresh workspace from ``world_dir`` and grade against its truth (JSON-ready dict)."""
    if moments not in MOMENT_SOURCES:
        raise ValueError(f"moments={moments!r}: choose one of {MOMENT_SOURCES}")
    world_dir, workdir = Path(world_dir), Path(workdir)
    truth = load_truth(world_dir)
    settings, workspace, catalog = fresh_workspace(world_dir, settings, workdir / "ws")
    moment_info = fill_moments(moments, world_dir, truth, catalog, settings, workspace, workdir, label_world, progress)
    result = train_capability(catalog, settings, workspace, progress=progress)
    graded = grade_estimates(result, truth)
    return {"world": str(world_dir), "seed": truth["seed"], "moments": moment_info,
            "features_available": result.availability, "rep_months": int(len(result.data.features)),
            "holdout_spearman_vs_surveys": round(result.metrics["holdout_spearman"], 4), **graded}


def grade_estimates(result, truth: dict) -> dict:
    """Spearman with the hidden levels per dimension for the four estimates, and the gain of features."""
    model, data = result.model, result.data
    variants = {
        "blended": result.estimates,
        "surveys_only": model.estimate(data.features, data.surveys, use_features=False, smooth=model.options["smooth"]),
        "surveys_raw": model.estimate(data.features, data.surveys, use_features=False, smooth=False),
    }
    out = {name: _spearman(table, truth, "z") for name, table in variants.items()}
    out["model_only"] = _spearman(variants["blended"], truth, "model_z")
    out["features_gain"] = {dim: round(out["blended"]["per_dimension"][dim] - out["surveys_only"]["per_dimension"][dim], 4)
                            for dim in out["blended"]["per_dimension"]}
    out["features_gain_mean"] = round(out["blended"]["mean"] - out["surveys_only"]["mean"], 4)
    return out


def _spearman(table: pd.DataFrame, truth: dict, column: str) -> dict:
    levels = truth["reps"]
    known = table[table["rep"].isin(levels.keys())].copy()
    known["truth"] = [levels[r]["levels"].get(p, {}).get(d, np.nan)
                      for r, p, d in zip(known["rep"], known["period"], known["dimension"], strict=True)]
    known = known.dropna(subset=[column, "truth"])
    per = {dim: round(float(spearmanr(g[column], g["truth"])[0]), 4) for dim, g in known.groupby("dimension")
           if len(g) > 2}
    return {"per_dimension": per, "mean": round(float(np.mean(list(per.values()))), 4) if per else None,
            "rows": int(len(known))}


def main_json(result: dict) -> str:
    return json.dumps(result, indent=2, ensure_ascii=False)
