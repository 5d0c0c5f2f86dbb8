"""Mining at scale: a generated world of N calls through moment detection and talk-track mining.

The baseline in the same run is a plain read of every utterance row from the catalog (the
I/O any analysis of the corpus pays), so the ratios say what detection and mining cost on
top of reading the data, whatever the machine's speed that day.

Each phase records wall seconds, CPU seconds of this process (all its threads), its own peak
resident memory (the kernel's high-water mark, reset before the phase) and the load average
when it ended: on a shared machine the wall time alone says little.
"""

from __future__ import annotations

import os
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
TARGET_S = {10_000: 300, 100_000: 600}  # detection + mining: the targets at these sizes


class PhaseClock:
    """Times named phases: wall and CPU seconds, peak RSS in MB, 1-minute load average at the end."""

    def __init__(self) -> None:
        self.phases: dict[str, dict] = {}

    def __call__(self, name: str, action):
        _reset_peak_rss()
        wall, cpu = time.perf_counter(), time.process_time()
        result = action()
        self.phases[name] = {"wall_s": round(time.perf_counter() - wall, 2),
                             "cpu_s": round(time.process_time() - cpu, 2),
                             "peak_rss_mb": _peak_rss_mb(), "load_avg_1m": round(os.getloadavg()[0], 2)}
        return result

    def wall(self, name: str) -> float:
        return self.phases[name]["wall_s"]


def run_mining_bench(workdir: Path, settings: Settings, *, calls: int = 10_000, seed: int = 3,
                     progress=None) -> dict:
    """Generate, import, train the detector on another seed's labels, detect, mine; time each.
    The workspace's catalog stays in ``workdir`` (the catalog bench reads a kept one)."""
    workdir = Path(workdir)
    deals = max(10, calls // 3)
    spec = WorldSpec(seed=seed, reps=max(12, deals // 50), customers=max(10, deals * 2 // 5), deals=deals,
                     calls=calls, audio=0)
    clock = PhaseClock()
    world = workdir / "world"
    clock("generate_world", lambda: generate_world(spec, world))
    workspace = Workspace.at(workdir / "workspace").ensure()
    settings = settings.model_copy(update={"workspace": workspace.root})
    catalog = open_catalog(workspace.catalog_url)
    clock("import", lambda: import_directory(catalog, settings, world, progress=progress))
    labels = labels_from_new_world(workdir / "labels-world", seed + LABELS_SEED_OFFSET, LABELS_WORLD)
    detector = clock("train_detector", lambda: train_detector(catalog, settings, workspace, labels_file=labels))
    utterances = clock("read_utterances_baseline", lambda: _read_all_utterances(catalog))
    detected = clock("detect_moments", lambda: detect_calls(catalog, settings, workspace, progress=progress,
                                                            detector=detector))
    report = clock("mine", lambda: mine_talk_tracks(catalog, settings, workspace))
    return summarise(clock, calls=calls, deals=deals, reps=spec.reps, seed=seed, utterances=utterances,
                     moments=detected.moments, report=report)


def summarise(clock: PhaseClock, *, calls: int, deals: int, reps: int, seed: int, utterances: int, moments: int,
              report: dict) -> dict:
    """The JSON record: per-phase figures, throughputs, ratios to the read baseline, the target."""
    baseline = clock.wall("read_utterances_baseline")
    work_s = clock.wall("detect_moments") + clock.wall("mine")
    target = TARGET_S.get(calls, TARGET_S[10_000] * calls / 10_000)
    return {
        "calls": calls, "deals": deals, "reps": reps, "seed": seed, "utterances": utterances,
        "timings_s": {name: phase["wall_s"] for name, phase in clock.phases.items()},
        "phases": clock.phases,
        "moments": moments, "episodes": report["episodes"],
        "tracks": [t["key"] for block in report["objection_types"] for t in block["tracks"]],
        "calls_per_s": {"detect_moments": round(calls / max(clock.wall("detect_moments"), 1e-9), 1),
                        "mine": round(calls / max(clock.wall("mine"), 1e-9), 1),
                        "detect_and_mine": round(calls / max(work_s, 1e-9), 1)},
        "mine_vs_read_ratio": round(clock.wall("mine") / baseline, 2) if baseline else None,
        "detect_vs_read_ratio": round(clock.wall("detect_moments") / baseline, 2) if baseline else None,
        "target": {"detect_and_mine_s_max": target, "detect_and_mine_s": round(work_s, 2), "met": work_s <= target},
    }


def _read_all_utterances(catalog) -> int:
    with catalog.session() as session:
        return sum(1 for _ in session.execute(select(Utterance.id, Utterance.call_id, Utterance.seq, Utterance.role,
                                                     Utterance.start_s, Utterance.end_s, Utterance.text)))


def _reset_peak_rss() -> None:
    """Linux: writing 5 to clear_refs resets the VmHWM high-water mark, so each phase reports its own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None

