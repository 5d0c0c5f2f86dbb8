"""notebooks/model_review.ipynb runs top to bottom in a real kernel, so it never rots: on a workspace
with both models trained and registered it shows the champions, a heatmap, a radar and the scorer's
calibration; on a workspace without models every section says so and skips itself."""

from __future__ import annotations

import json
import os
import struct
import sys
from base64 import b64decode
from pathlib import Path

import nbclient  # the dev extra: nbclient, nbformat, ipykernel, jupyter-client
import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "model_review.ipynb"
KERNEL = "talktrack-test"
CELL_TIMEOUT_S = 300


def _kernel_manager(tmp_path: Path):
    """A kernel manager whose only kernel runs this interpreter (the venv's), wherever Jupyter's
    own kernelspecs point."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    folder = tmp_path / "kernels" / KERNEL
    folder.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "TalkTrack test", "language": "python"}
    (folder / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    specs = KernelSpecManager(kernel_dirs=[str(folder.parent)], ensure_native_kernel=False)
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)


def run_notebook(workspace_root: Path, tmp_path: Path):
    """Execute the notebook with TALKTRACK_WORKSPACE set (and no other TALKTRACK_* variable,
    which the settings would refuse); a failing cell raises ``CellExecutionError``."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    env = {key: value for key, value in os.environ.items() if not key.startswith("TALKTRACK_")}
    env |= {"TALKTRACK_WORKSPACE": str(workspace_root), "MPLBACKEND": "Agg"}
    client = nbclient.NotebookClient(notebook, km=_kernel_manager(tmp_path), timeout=CELL_TIMEOUT_S,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)
    return notebook


def tagged(notebook, tag: str):
    cells = [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]
    assert len(cells) == 1, f"the notebook needs exactly one cell tagged {tag!r}"
    return cells[0]


def text_of(cell) -> str:
    parts = []
    for output in cell.outputs:
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def png_sizes(cell) -> list[tuple[int, int]]:
    sizes = []
    for output in cell.outputs:
        data = output.get("data", {}).get("image/png")
        if data:
            raw = b64decode(data)
            assert raw[:8] == b"\x89PNG\r\n\x1a\n"
            sizes.append(struct.unpack(">II", raw[16:24]))
    return sizes


@pytest.fixture(scope="module")
def trained_workspace(tmp_path_factory, settings):
    """A small generated world imported, both models trained and registered, and the customer
    scorer retrained on the same data: a second version the gate rejects (about 25 s)."""
    from talktrack.core.catalog import open_catalog
    from talktrack.core.workspace import Workspace
    from talktrack.evaluation.world import WorldSpec, generate_world
    from talktrack.pipelines.crm_import import import_directory
    from talktrack.training.capability import example_plots, register_capability, train_capability
    from talktrack.training.customer import train_customer

    root = tmp_path_factory.mktemp("notebook")
    generate_world(WorldSpec(seed=11, reps=12, customers=80, deals=200, calls=500, audio=0), root / "world")
    workspace = Workspace.at(root / "ws").ensure()
    settings = settings.model_copy(update={"workspace": workspace.root})
    catalog = open_catalog(workspace.catalog_url)
    import_directory(catalog, settings, root / "world")
    scorer = train_customer(catalog, settings, workspace, register=True)
    retrained = train_customer(catalog, settings, workspace, register=True)
    assert not retrained.promotion.promoted
    capability = train_capability(catalog, settings, workspace)
    register_capability(settings, workspace, capability, example_plots(capability, capability.model_dir / "plots"))
    catalog.dispose()
    return workspace, scorer


def test_the_notebook_reviews_a_retrained_workspace(trained_workspace, tmp_path):
    workspace, scorer = trained_workspace
    notebook = run_notebook(workspace.root, tmp_path)
    assert not [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
                if o.output_type == "error"]

    versions = text_of(tagged(notebook, "versions"))
    assert "talktrack-customer-scorer: champion v1 (holdout_auc" in versions
    assert "talktrack-capability: champion v1 (holdout_spearman" in versions
    assert f"{scorer.metrics['holdout_auc']:.3f}" in versions
    assert "talktrack-customer-scorer v2 rejected: does not beat champion by the gate" in versions
    runs = text_of(tagged(notebook, "runs"))
    assert "capability: one run" in runs
    # a retrain on the same data with the same settings: same parameters, same data fingerprint
    assert "customer-scorer: 0 parameter(s) changed between the two latest runs; training data unchanged" in runs

    heatmap, radar = tagged(notebook, "heatmap"), tagged(notebook, "radar")
    assert len(png_sizes(heatmap)) == 1 and len(png_sizes(radar)) == 1
    assert "shortfall(s)" in text_of(heatmap)
    assert "estimate ± sd against the team mean" in text_of(radar)

    calibration = tagged(notebook, "calibration")
    (width, height), = png_sizes(calibration)
    assert width > 1.5 * height                       # the reliability curve beside the score histogram
    shown = text_of(calibration)
    # the champion loaded from the registry scores the unchanged holdout exactly as at training time
    auc = scorer.metrics["holdout_auc"]
    assert f"holdout_auc: now {auc:.4f}, logged at training {auc:.4f}" in shown
    assert f"on {int(scorer.split.holdout.sum())} holdout deals" in shown

    reasons = text_of(tagged(notebook, "reasons"))
    assert reasons.count("p_win") == 3 and ("+ " in reasons or "− " in reasons)


def test_each_section_skips_itself_on_a_workspace_without_models(tmp_path):
    from talktrack.core.catalog import open_catalog
    from talktrack.core.workspace import Workspace

    workspace = Workspace.at(tmp_path / "empty").ensure()
    open_catalog(workspace.catalog_url).dispose()
    notebook = run_notebook(workspace.root, tmp_path)
    for tag in ("versions", "runs", "heatmap", "radar", "calibration", "reasons"):
        assert "skipped: " in text_of(tagged(notebook, tag)), tag
    assert all(png_sizes(cell) == [] for cell in notebook.cells if cell.cell_type == "code")
