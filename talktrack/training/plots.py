"""Diagnostic plots of a trained scorer, written as PNG for MLflow (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")   # no display on servers; must precede the pyplot import
    import matplotlib.pyplot as plt

    return plt


def customer_plots(scorer, holdout: pd.DataFrame, y: np.ndarray, folder: Path) -> dict[str, Path]:
    """ROC, calibration curve and feature importance on the holdout; name → PNG path."""
    p = scorer.predict_proba(holdout.to_numpy(float))[:, 1]
    importance = pd.Series(scorer.feature_importance(holdout.to_numpy(float)), index=holdout.columns)
    return {
        "roc": roc_plot(y, p, folder / "roc.png"),
        "calibration": calibration_plot(y, p, folder / "calibration.png"),
        "feature_importance": importance_plot(importance, folder / "feature_importance.png"),
    }


def roc_plot(y: np.ndarray, p: np.ndarray, path: Path) -> Path:
    from sklearn.metrics import auc, roc_curve

    plt = _pyplot()
    fpr, tpr, _ = roc_curve(y, p)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot(fpr, tpr, label=f"AUC {auc(fpr, tpr):.3f}")
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="Holdout ROC")
    ax.legend(loc="lower right")
    return _save(plt, fig, path)


def calibration_plot(y: np.ndarray, p: np.ndarray, path: Path, bins: int = 10) -> Path:
    from sklearn.calibration import calibration_curve

    plt = _pyplot()
    observed, predicted = calibration_curve(y, p, n_bins=bins, strategy="uniform")
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot(predicted, observed, marker="o", label="scorer")
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfect")
    ax.set(xlabel="predicted win probability", ylabel="observed win rate", title="Holdout calibration")
    ax.legend(loc="upper left")
    return _save(plt, fig, path)


def importance_plot(importance: pd.Series, path: Path, top: int = 20) -> Path:
    plt = _pyplot()
    shown = importance.dropna().sort_values().tail(top)
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(shown) + 1.2))
    ax.barh(shown.index, shown.to_numpy())
    ax.set(xlabel="mean |contribution| (log-odds)", title="Feature importance (holdout)")
    return _save(plt, fig, path)


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
