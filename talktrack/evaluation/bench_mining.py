"""Mining at scale: a 10k-call world through moment detection and talk-track mining.

The baseline in the same run is a plain read of every utterance row from the catalog (the
I/O any analysis of the corpus pays), so the ratios say what detection and mining cost on
top of reading the data, whatever the machine's speed that day.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import select

from talktrack.core.catalog import open_catalog
from talktrack.core.catalog.schema import Utterance
from talktrack.core.config import Settings
from talktrack.core.workspace import Workspace
from talktrack.evaluation.world import WorldSpec, generate_world
from talktrack.evaluation.world.labels import labels_from_new_world
from talktrack.pipelines.crm_import import import_directory
from talktrack.pipelines.mining import mine_talk_tracks
from talktrack.pipelines.semantic.moments import detect_calls, train_detector

LABELS_SEED_OFFSET = 1000
LABELS_WORLD = {"reps": 12, "customers": 120, "deals": 300, "calls": 900, "audio": 0}


def run_mining_bench(workdir: Path, settings: Settings, *, calls: int = 10_000, seed: int = 3,
                     progress=None) -> dict:
    """Generate, import, train the detector on another seed's labels, detect, mine; time each."""
    workdir = Path(workdir)
    deals = max(10, calls // 3)
    spec = WorldSpec(seed=seed, reps=max(12, deals // 50), customers=max(10, deals * 2 // 5), deals=deals,
                     calls=calls, audio=0)
    timings: dict[str, float] = {}

    def timed(name, action):
        started = time.perf_counter()
        result = action()
        timings[name] = round(time.perf_counter() - started, 2)
        return result

    world = workdir / "world"
    timed("generate_world", lambda: generate_world(spec, world))
    workspace = Workspace.at(workdir / "workspace").ensure()
    settings = settings.model_copy(update={"workspace": workspace.root})
    catalog = open_catalog(workspace.catalog_url)
    timed("import", lambda: import_directory(catalog, settings, world, progress=progress))
    labels = labels_from_new_world(workdir / "labels-world", seed + LABELS_SEED_OFFSET, LABELS_WORLD)
    detector = timed("train_detector", lambda: train_detector(catalog, settings, workspace, labels_file=labels))
    timed("read_utterances_baseline", lambda: _read_all_utterances(catalog))
    detected = timed("detect_moments", lambda: detect_calls(catalog, settings, workspace, progress=progress,
                                                            detector=detector))
    report = timed("mine", lambda: mine_talk_tracks(catalog, settings, workspace))
    baseline = timings["read_utterances_baseline"]
    return {
        "calls": calls, "deals": deals, "seed": seed, "timings_s": timings,
        "moments": detected.moments, "episodes": report["episodes"],
        "tracks": [t["key"] for block in report["objection_types"] for t in block["tracks"]],
        "mine_vs_read_ratio": round(timings["mine"] / baseline, 2) if baseline else None,
        "detect_vs_read_ratio": round(timings["detect_moments"] / baseline, 2) if baseline else None,
        "target": {"mine_10k_calls_s_max": 300, "met": timings["mine"] <= 300},
    }


def _read_all_utterances(catalog) -> int:
    with catalog.session() as session:
        return sum(1 for _ in session.execute(select(Utterance.id, Utterance.call_id, Utterance.seq, Utterance.role,
                                                     Utterance.start_s, Utterance.end_s, Utterance.text)))


def write(out_path: Path, figures: dict) -> None:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
