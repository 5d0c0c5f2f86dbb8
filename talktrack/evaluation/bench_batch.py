"""A batch of recordings with a share of bad ones through ``ingest``: nothing lost, every failure explained.

The good files are short clips cut from real recordings at different gains (so each
is a distinct recording to the content hash); the bad ones are corrupt, empty,
unsupported or silent. The check: every good file is transcribed, every bad one is
reported with a reason, and the run does not crash.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from talktrack.core.catalog import open_catalog
from talktrack.core.config import Settings
from talktrack.models.audio import decode_audio

BAD_KINDS = ("corrupt", "empty", "unsupported", "silent", "truncated")


def make_batch(folder: Path, sources: Sequence[Path], *, files: int = 200, bad_share: float = 0.1, seed: int = 0) -> dict:
    """Write ``files`` recordings into ``folder``; return which are bad and how."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    clips = [decode_audio(path).mono for path in sources]
    bad_count = int(round(files * bad_share))
    bad = {}
    for index in range(files):
        path = folder / f"rec{index:04d}.wav"
        if index % max(files // max(bad_count, 1), 1) == 0 and len(bad) < bad_count:
            kind = BAD_KINDS[len(bad) % len(BAD_KINDS)]
            bad[path.name] = kind
            _write_bad(path, kind, rng)
        else:
            _write_clip(path, clips[index % len(clips)], rng)
    return {"folder": str(folder), "files": files, "bad": bad}


def _write_clip(path: Path, samples: np.ndarray, rng: np.random.Generator) -> None:
    length = min(samples.shape[0], int(rng.uniform(3.0, 6.0) * 16000))
    start = int(rng.integers(0, samples.shape[0] - length + 1))
    gain = float(rng.uniform(0.3, 1.0))
    sf.write(path, samples[start : start + length] * gain, 16000, subtype="PCM_16")


def _write_bad(path: Path, kind: str, rng: np.random.Generator) -> None:
    if kind == "corrupt":
        path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + rng.bytes(2000))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "unsupported":
        path.write_text("Subject: meeting notes\n\nNot a recording.\n", encoding="utf-8")
    elif kind == "silent":
        sf.write(path, np.zeros(48000, dtype="float32"), 16000, subtype="PCM_16")
    else:  # a header promising audio that is not there
        sf.write(path, rng.normal(0, 0.1, 32000).astype("float32"), 16000, subtype="PCM_16")
        path.write_bytes(path.read_bytes()[:60])


def bench_batch(workdir: Path, sources: Sequence[Path], settings: Settings, *, files: int = 200) -> dict[str, Any]:
    """Ingest a generated batch into a fresh catalog and check the outcome against what was planted."""
    from talktrack.pipelines.ingest.runner import ingest

    batch = make_batch(workdir / "recordings", sources, files=files)
    catalog = open_catalog(f"sqlite:///{workdir / 'catalog.db'}")
    started = time.perf_counter()
    report = ingest(Path(batch["folder"]), catalog, settings, workdir / "transcripts")
    seconds = time.perf_counter() - started
    status = {os.path.basename(r.path): r for r in report.results}
    failed = {name for name, r in status.items() if r.status == "failed"}
    planted = set(batch["bad"])
    return {
        "files": files,
        "planted_bad": dict(Counter(batch["bad"].values())),
        "done": report.count("done"),
        "failed": report.count("failed"),
        "all_good_done": report.count("done") == files - len(planted),
        "every_bad_reported": failed == planted and all(status[name].reason for name in planted),
        "reasons": {batch["bad"][name]: status[name].reason for name in sorted(planted) if name in status},
        "audio_hours": round(report.audio_hours, 4),
        "seconds": round(seconds, 1),
        "files_per_minute": round(60 * report.count("done") / seconds, 1),
        "real_time_factor": round(seconds / max(report.audio_hours * 3600, 1e-9), 4),
        "resources": vars(report.resources) if report.resources else None,
    }
