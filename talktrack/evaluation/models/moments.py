"""Moments for model evaluations: none, from the truth (an upper bound), or detected.

Detected moments come from a detector trained on labels of a world of another seed, so the
graded world's calls are never seen in training. Mining is deliberately not run here: tracks
mined on all deals would carry the holdout deals' outcomes into the features.
"""

from __future__ import annotations

from pathlib import Path

from talktrack.core.workspace import Workspace
from talktrack.evaluation.world.labels import export_labels

MOMENT_SOURCES = ("detector", "oracle", "none")


def fill_moments(moments: str, world_dir: Path, truth: dict, catalog, settings, workspace: Workspace,
                 workdir: Path, label_world: Path | str | None = None, progress=None) -> dict:
    """Give the catalog's calls their moments: none, the world's true ones, or detected by a detector
    trained on labels of another world (seed + 1000), as a deployment would have them."""
    if moments == "none":
        return {"source": "none"}
    if moments == "oracle":
        from talktrack.evaluation.semantic.oracle import write_truth_moments

        return {"source": "oracle", "rows": write_truth_moments(world_dir, catalog, truth)}
    from talktrack.pipelines.semantic.moments import detect_calls, train_detector

    labels_world = Path(label_world) if label_world else _label_world(truth["seed"], workdir)
    labels = workdir / "moment-labels.jsonl"
    export_labels(labels_world, labels)
    train_detector(catalog, settings, workspace, labels_file=labels)
    summary = detect_calls(catalog, settings, workspace, progress=progress)
    return {"source": "detector", "label_world": str(labels_world),
            "summary": summary.to_dict() if hasattr(summary, "to_dict") else str(summary)}


def _label_world(seed: int, workdir: Path) -> Path:
    """A small world of another seed whose truth labels train the moment detector."""
    from talktrack.evaluation.world import WorldSpec, generate_world

    out = workdir / "label-world"
    if not (out / "truth.json").is_file():
        generate_world(WorldSpec(seed=seed + 1000, reps=8, customers=40, deals=80, calls=200, audio=0), out)
    return out


