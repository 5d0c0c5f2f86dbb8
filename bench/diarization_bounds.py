"""How far could overlap handling take the embedded diarizer on ami_debug? Bounds with oracle parts.

The AMI target (DER ≤ 0.35 at collar 0.25 on development + test, speaker count found
automatically) is not met by the resemblyzer pipeline (0.459). This script measures
what each missing part would be worth by replacing it with the reference:

- ``shipped``: the pipeline as configured (speaker count found automatically);
- ``true_count``: the true number of speakers given to the clustering;
- ``oracle_overlap``: a perfect overlap detector: in every frame where the reference has
  two or more speakers, the second-best scoring cluster is added (the usual heuristic of
  overlap-aware resegmentation), with the count found automatically;
- ``true_count+oracle_overlap``: both;
- ``oracle_speech+true_count+oracle_overlap``: also the reference's speech regions in place of
  silero-vad (windows embedded from them);
- ``best_single_label``: no diarizer at all: every reference speech frame labelled with one of
  its true speakers (the floor of any output with one speaker per frame).

    .venv/bin/python bench/diarization_bounds.py     # ~1 min on 2 cores

Writes ``bench/results/diarization_bounds.json``. Nothing here is tuned: the parameters are
the configured defaults (chosen on the train clips by ``bench/diarization_sweep.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from diarization_sweep import DEFAULT_DATA, REPO, TARGET, Corpus  # noqa: E402

from talktrack.evaluation.diarization import score  # noqa: E402
from talktrack.models.diarization.base import Diarization, Turn, label_by_first_appearance  # noqa: E402
from talktrack.models.diarization.clustering import cluster_embeddings, recentre  # noqa: E402
from talktrack.models.diarization.embedding import embed_windows  # noqa: E402
from talktrack.models.diarization.resegmentation import frame_scores, frames_to_spans, resegment  # noqa: E402
from talktrack.core.config import DiarizerSettings  # noqa: E402
from talktrack.models.diarization.options import resemblyzer_params  # noqa: E402
from talktrack.models.diarization.resemblyzer_backend import (  # noqa: E402
    ResemblyzerParams,
    embed_speech,
    peak_normalize,
)

VARIANTS = (
    "shipped", "true_count", "oracle_overlap", "true_count+oracle_overlap",
    "oracle_speech+true_count+oracle_overlap", "best_single_label",
)


def reference_counts(turns: list[Turn], n_frames: int, step: float) -> np.ndarray:
    """Active reference speakers per frame."""
    counts = np.zeros(n_frames, dtype=int)
    for turn in turns:
        counts[int(round(turn.start / step)) : int(round(turn.end / step))] += 1
    return counts


def reference_regions(turns: list[Turn], step: float, n_frames: int) -> list[tuple[float, float]]:
    """The union of the reference turns, as speech regions."""
    active = reference_counts(turns, n_frames, step) > 0
    edges = np.flatnonzero(np.diff(np.r_[0, active.astype(int), 0]))
    return [(a * step, b * step) for a, b in zip(edges[::2], edges[1::2])]


def diarize_with(regions, windows, duration_s: float, params: ResemblyzerParams, *,
                 num_speakers: int | None, overlap: np.ndarray | None) -> Diarization:
    """The pipeline's clustering + resegmentation, plus the second-best cluster in ``overlap`` frames."""
    step = params.resegmentation.step_s
    if len(windows) == 0:
        return Diarization([], "resemblyzer")
    windows = replace(windows, embeddings=recentre(windows.embeddings))
    labels = cluster_embeddings(windows.embeddings, windows.weights_s, params.clustering,
                                num_speakers=num_speakers, min_speakers=1, max_speakers=6)
    frames = resegment(regions, windows, labels, duration_s, params.resegmentation)
    spans = frames_to_spans(frames, step)
    count = int(labels.max()) + 1
    if overlap is not None and count > 1:
        scores = frame_scores(windows, labels, count, len(frames), step)
        scores[np.arange(len(frames)), np.clip(frames, 0, None)] = -np.inf
        second = np.where((frames >= 0) & overlap[: len(frames)], scores.argmax(axis=1), -1)
        spans += frames_to_spans(second, step)
    return Diarization(label_by_first_appearance(spans), "resemblyzer")


def best_single_label(turns: list[Turn], n_frames: int, step: float) -> Diarization:
    """Each reference speech frame labelled with the first-listed of its true speakers."""
    names = sorted({t.speaker for t in turns})
    owner = np.full(n_frames, -1)
    for turn in sorted(turns, key=lambda t: (t.start, t.end)):
        a, b = int(round(turn.start / step)), int(round(turn.end / step))
        free = owner[a:b] < 0
        owner[a:b][free] = names.index(turn.speaker)
    spans = frames_to_spans(owner, step)
    return Diarization([Turn(a, b, names[k]) for a, b, k in spans], "oracle")


def evaluate(corpus: Corpus, params: ResemblyzerParams) -> dict[str, Any]:
    step = params.resegmentation.step_s
    hypotheses: dict[str, dict[str, Diarization]] = {name: {} for name in VARIANTS}
    for uri, audio in corpus.audio.items():
        reference = corpus.references[uri]
        n_frames = int(np.ceil(audio.duration_s / step))
        overlap = reference_counts(reference, n_frames, step) > 1
        true_count = len({t.speaker for t in reference})
        regions, windows = embed_speech(audio, params)
        oracle_regions = reference_regions(reference, step, n_frames)
        oracle_windows = embed_windows(peak_normalize(audio.mono, params.peak_dbfs), oracle_regions, params.embedding)
        runs = {
            "shipped": (regions, windows, None, None),
            "true_count": (regions, windows, true_count, None),
            "oracle_overlap": (regions, windows, None, overlap),
            "true_count+oracle_overlap": (regions, windows, true_count, overlap),
            "oracle_speech+true_count+oracle_overlap": (oracle_regions, oracle_windows, true_count, overlap),
        }
        for name, (r, w, count, ovl) in runs.items():
            hypotheses[name][uri] = diarize_with(r, w, audio.duration_s, params, num_speakers=count, overlap=ovl)
        hypotheses["best_single_label"][uri] = best_single_label(reference, n_frames, step)
    durations = {uri: audio.duration_s for uri, audio in corpus.audio.items()}
    out: dict[str, Any] = {}
    for name, hyps in hypotheses.items():
        result = score(corpus.references, hyps, corpus.uems, durations, conditions=((0.25, False), (0.25, True)))
        out[name] = {
            "overall": result["overall"],
            "files": {uri: {"der": entry[TARGET]["der"], "speakers_found": len(hyps[uri].speakers)}
                      for uri, entry in result["files"].items()},
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "diarization_bounds.json")
    args = parser.parse_args(argv)
    params = resemblyzer_params(DiarizerSettings())
    output = {"params": params.as_params(), "condition": TARGET, "variants": VARIANTS}
    for split, corpus in (("train", Corpus(args.data, "train")),
                          ("dev_test", Corpus(args.data, "development").merged(Corpus(args.data, "test")))):
        output[split] = evaluate(corpus, params)
        for name in VARIANTS:
            overall = output[split][name]["overall"]
            print(f"{split:9s} {name:42s} DER {overall[TARGET]['der']:.3f} "
                  f"(no overlap {overall[TARGET + '_no_overlap']['der']:.3f})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(output, indent=2), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
