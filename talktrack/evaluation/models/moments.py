"""What model evaluations share: a fresh workspace imported from a world, and its calls'
moments: none, from the truth (an upper bound), or detected.

Detected moments come from a detector trained on labels of a world of another seed, so the
graded world's calls are never seen in training. Mining is deliberately not run here: tracks
mined on all deals would carry the holdout deals' outcomes into the features.
"""

from __future__ import annotations

from pathlib import Path

from talktrack.core.catalog import open_catalog
from talktrack.core.workspace import Workspace
from talktrack.evaluation.world.labels import export_labels, labels_from_new_world

MOMENT_SOURCES = ("detector", "oracle", "none")
LABEL_WORLD = {"reps": 8, "customers": 40, "deals": 80, "calls": 200, "audio": 0}


def fresh_workspace(world_dir: Path, settings, root: Path):
    """(settings, workspace, catalog) of a new workspace at ``root`` with ``world_dir`` imported."""
    from talktrack.pipelines.crm_import import import_directory

    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"workspace {root}: exists and is not empty; evaluation needs a fresh one")
    workspace = Workspace.at(root).ensure()
    settings = settings.model_copy(update={"workspace": workspace.root})
    catalog = open_catalog(workspace.catalog_url)
    import_directory(catalog, settings, world_dir)
    return settings, workspace, catalog


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

    if label_world:
        labels_world, labels = Path(label_world), workdir / "moment-labels.jsonl"
        export_labels(labels_world, labels)
    else:
        labels_world = workdir / "label-world"
        labels = labels_from_new_world(labels_world, truth["seed"] + 1000, LABEL_WORLD)
    train_detector(catalog, settings, workspace, labels_file=labels)
    summary = detect_calls(catalog, settings, workspace, progress=progress)
    return {"source": "detector", "label_world": str(labels_world),
            "summary": summary.to_dict() if hasattr(summary, "to_dict") else str(summary)}
