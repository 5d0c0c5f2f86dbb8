"""Radar and heatmap pictures (PNG or SVG by the file's suffix), drawn with matplotlib's Agg
backend so they work on a server without a display. A leaf module: matplotlib and numpy only.

>>> path = radar_chart({"questioning": 3.5, "rapport": 4.0, "closing": 2.5}, Path("/tmp/r.png"))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

FORMATS = (".png", ".svg")
SIZE_IN = (6.0, 6.0)
DPI = 100


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _check_path(path: Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"chart file {path}: the suffix must be one of {FORMATS}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def radar_chart(values: Mapping[str, float], path: Path, *, reference: Mapping[str, float] | None = None,
                title: str = "", value_range: tuple[float, float] = (1.0, 5.0), labels: Mapping[str, str] | None = None,
                size_in: tuple[float, float] = SIZE_IN, dpi: int = DPI) -> Path:
    """A radar of one rep's dimensions (``values``), with an optional ``reference`` (team mean)."""
    path = _check_path(path)
    plt = _pyplot()
    keys = list(values)
    angles = np.linspace(0, 2 * np.pi, len(keys), endpoint=False).tolist()
    figure = plt.figure(figsize=size_in, dpi=dpi)
    axes = figure.add_subplot(polar=True)
    for series, style, name in ((values, "-", "rep"), (reference, "--", "team mean")):
        if series is None:
            continue
        ring = [float(series[k]) for k in keys]
        axes.plot(angles + angles[:1], ring + ring[:1], style, linewidth=1.5, label=name)
        if series is values:
            axes.fill(angles + angles[:1], ring + ring[:1], alpha=0.2)
    axes.set_xticks(angles, [(labels or {}).get(k, k.replace("_", " ")) for k in keys], fontsize=7)
    axes.set_ylim(*value_range)
    axes.set_title(title, fontsize=10)
    if reference is not None:
        axes.legend(loc="lower right", bbox_to_anchor=(1.15, -0.1), fontsize=7)
    figure.savefig(path, dpi=dpi)
    plt.close(figure)
    return path


def heatmap_chart(matrix: np.ndarray, rows: Sequence[str], columns: Sequence[str], path: Path, *,
                  flags: np.ndarray | None = None, title: str = "", size_in: tuple[float, float] | None = None,
                  dpi: int = DPI, limit: float = 0.5) -> Path:
    """Reps x dimensions, each cell the relative gap to the team mean (-0.3 = 30% below);
    flagged cells (a recommendation) are marked with a dot. Colours are clipped at +-``limit``."""
    path = _check_path(path)
    plt = _pyplot()
    matrix = np.asarray(matrix, dtype=float)  # shape: (n_rows, n_columns)
    size_in = size_in or (max(6.0, 0.6 * len(columns) + 2), max(3.0, 0.35 * len(rows) + 2))
    figure, axes = plt.subplots(figsize=size_in, dpi=dpi)
    image = axes.imshow(matrix, cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto")
    axes.set_xticks(range(len(columns)), [c.replace("_", " ") for c in columns], rotation=45, ha="right", fontsize=7)
    axes.set_yticks(range(len(rows)), list(rows), fontsize=7)
    if flags is not None:
        ys, xs = np.nonzero(np.asarray(flags, dtype=bool))
        axes.scatter(xs, ys, marker="o", s=12, c="black")
    figure.colorbar(image, ax=axes, label="gap to team mean")
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=dpi)
    plt.close(figure)
    return path
