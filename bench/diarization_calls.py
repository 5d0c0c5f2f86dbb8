"""The speaker-count rule of the combined diarizer, chosen on train material, reported on test.

Material (scored at collar 0.25, overlap included, as everywhere in this project):

- the call-40 mixtures of :mod:`talktrack.evaluation.call_mixtures` (real speech, exact truth,
  cross-talk 0–30 %, gain 0–12 dB, noise, G.711 / GSM, 8 / 16 kHz): ``train`` chooses, ``test``
  reports; each diarized as an unknown recording (the configured 1–6 speakers) and as what it is,
  a two-party phone call (``expected_speakers.phone_call``: at most 2);
- the ami_debug clips: ``train`` chooses, development + test reports (meetings: no cap);
- call 40's own mix, whole (245 s; it shares audio with both splits, so it chooses nothing).

Both backends run once per file and bound; their turns and each speaker's CAM++ pieces are kept in
the cache folder, so every rule — "more speakers wins" (before) and the verification of
:mod:`talktrack.models.diarization.verification` over a small grid (after) — is scored from them.
The grid point with the lowest mean of (train-mixture DER, AMI-train DER) wins; ties go to the
more conservative point (fewer merges). Nothing on test chooses anything.

    .venv/bin/python bench/diarization_calls.py                 # ~15 min on 2 busy cores, first run
    .venv/bin/python bench/diarization_calls.py --cache /tmp/x  # the backends' outputs reused

Writes ``bench/results/diarization_calls.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pickle
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from talktrack.core.config import load_settings  # noqa: E402
from talktrack.evaluation.call_mixtures import build_call_mixtures  # noqa: E402
from talktrack.evaluation.diarization import read_rttm, read_uem, score  # noqa: E402
from talktrack.models.audio import decode_audio  # noqa: E402
from talktrack.models.diarization import ResemblyzerDiarizer, SegmentationDiarizer  # noqa: E402
from talktrack.models.diarization.base import Diarization, SpeakerBounds, Turn  # noqa: E402
from talktrack.models.diarization.campplus import campplus_encoder  # noqa: E402
from talktrack.models.diarization.options import (  # noqa: E402
    resemblyzer_params,
    segmentation_params,
    speaker_bounds,
    verification_options,
)
from talktrack.models.diarization.verification import merge_plan, relabel, speaker_pieces  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
TARGET = "collar_0.25"
CONDITIONS = ((0.25, False),)
GRID = {
    "split_distance": [0.0, 0.2, 0.3, 0.4, 0.5, 0.6],
    "minor_share": [0.0, 0.05, 0.1, 0.15],
    "minor_distance": [0.5, 0.7, 0.9],
}


# --- material ------------------------------------------------------------------------------------

def ami_files(split: str) -> list[dict[str, Any]]:
    ami = DATA / "ami_debug"
    names = {"train": ("train",), "devtest": ("development", "test")}[split]
    out = []
    for name in names:
        refs, uems = read_rttm(ami / f"debug.{name}.rttm"), read_uem(ami / f"debug.{name}.uem")
        for uri in sorted(refs):
            path = ami / f"{uri}.wav"
            if path.is_file():
                out.append({"id": uri, "path": path, "reference": refs[uri], "uem": uems.get(uri),
                            "conditions": {"source": "ami"}})
    return out


def mixture_files(cache: Path, split: str) -> list[dict[str, Any]]:
    return [{"id": m.id, "path": m.path, "reference": m.reference, "uem": None, "conditions": m.conditions}
            for m in build_call_mixtures(cache, split)]


def call40_file() -> list[dict[str, Any]]:
    stem = DATA / "calls_en_telephone" / "Auto_Repairs_40_UTC"
    ref = read_rttm(stem.with_suffix(".rttm"))["Auto_Repairs_40_UTC"]
    return [{"id": "Auto_Repairs_40_UTC_mix", "path": stem.parent / f"{stem.name}_mix.wav", "reference": ref,
             "uem": None, "conditions": {"source": "call40_mix"}}]


# --- the backends, once per file and bound ---------------------------------------------------------

class Runs:
    """Both backends' turns and their speakers' CAM++ pieces per (file, maximum), cached on disk."""

    def __init__(self, cache: Path, settings) -> None:
        self.folder = cache / "diarization_calls_runs"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.window = ResemblyzerDiarizer(resemblyzer_params(settings))
        self.segmentation = SegmentationDiarizer(segmentation_params(settings))
        self.verify = verification_options(settings)
        self.settings = settings

    def get(self, item: dict[str, Any], maximum: int) -> dict[str, Any]:
        """With a lower maximum, the backends are rerun only when the configured one let either find
        more speakers than that: below it, their clustering is the same (it caps a count, nothing else)."""
        path = self.folder / f"{item['id']}.max{maximum}.pkl"
        if path.is_file():
            return pickle.loads(path.read_bytes())
        if maximum < self.settings.max_speakers:
            unbounded = self.get(item, self.settings.max_speakers)
            if max(len(unbounded[name].speakers) for name in ("window", "segmentation")) <= maximum:
                return unbounded
        audio = decode_audio(item["path"])
        bounds = speaker_bounds(self.settings, maximum=maximum)
        record: dict[str, Any] = {"duration_s": audio.duration_s}
        for name, backend in (("window", self.window), ("segmentation", self.segmentation)):
            started = time.perf_counter()
            result = backend.diarize(audio, bounds)
            record[f"{name}_s"] = time.perf_counter() - started
            record[name] = result
            started = time.perf_counter()
            record[f"{name}_pieces"] = speaker_pieces(audio.mono, result, campplus_encoder(), self.verify)
            record[f"{name}_verify_s"] = time.perf_counter() - started
        path.write_bytes(pickle.dumps(record))
        return record


# --- the rules -----------------------------------------------------------------------------------

def rule_more(record: dict[str, Any], maximum: int, options=None) -> Diarization:
    """Before: the result with more speakers wins; a tie keeps the window result."""
    window, segmentation = record["window"], record["segmentation"]
    return segmentation if len(segmentation.speakers) > len(window.speakers) else window


def rule_verified(record: dict[str, Any], maximum: int, options) -> Diarization:
    """After: each result's split verified, then the one with more verified speakers (tie: window)."""
    verified = {}
    for name in ("window", "segmentation"):
        mapping = merge_plan(record[f"{name}_pieces"], options, maximum=maximum)
        verified[name] = relabel(record[name], mapping)
    window, segmentation = verified["window"], verified["segmentation"]
    return segmentation if len(segmentation.speakers) > len(window.speakers) else window


def evaluate(items, records, rule, maximum: int, options) -> dict[str, Any]:
    references, hypotheses, uems, durations = {}, {}, {}, {}
    for item in items:
        record = records[item["id"]]
        references[item["id"]] = item["reference"]
        hypotheses[item["id"]] = rule(record, maximum, options)
        if item["uem"]:
            uems[item["id"]] = item["uem"]
        durations[item["id"]] = record["duration_s"]
    scores = score(references, hypotheses, uems, durations, conditions=CONDITIONS)
    files = []
    for item in items:
        true_count = len({t.speaker for t in item["reference"]})
        found = len(hypotheses[item["id"]].speakers)
        files.append({"id": item["id"], "der": scores["files"][item["id"]][TARGET]["der"],
                      "speakers_reference": true_count, "speakers_found": found, **item["conditions"]})
    right = sum(f["speakers_reference"] == f["speakers_found"] for f in files)
    return {"der": scores["overall"][TARGET]["der"], "components": scores["overall"][TARGET],
            "count_right": round(right / len(files), 4), "files": files}


def by_condition(files: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean DER and count accuracy per value of each condition (the mixtures' factors)."""
    out: dict[str, Any] = {}
    factors = ("crosstalk_target", "gain_db", "snr_db", "codec", "sample_rate", "source")
    for factor in factors:
        groups: dict[str, list[dict[str, Any]]] = {}
        for f in files:
            groups.setdefault(str(f.get(factor)), []).append(f)
        out[factor] = {value: {"files": len(g), "mean_der": round(float(np.mean([f["der"] for f in g])), 4),
                               "count_right": round(sum(f["speakers_found"] == f["speakers_reference"]
                                                        for f in g) / len(g), 4)}
                       for value, g in sorted(groups.items())}
    return out


def grid_points(base):
    keys = list(GRID)
    for values in itertools.product(*(GRID[k] for k in keys)):
        yield replace(base, **dict(zip(keys, values)))


def main() -> None:
    import torch

    torch.set_num_threads(1)  # as the speech pipeline diarizes (models.threads.torch_threads(1))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/talktrack-diarization-calls"))
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "diarization_calls.json")
    parser.add_argument("--no-tune", action="store_true", help="score the configured options only")
    args = parser.parse_args()
    settings = load_settings().models.diarizer
    runs = Runs(args.cache, settings)
    phone = settings.expected_speakers.get("phone_call") or settings.max_speakers
    sets = {
        "mixtures_train": (mixture_files(args.cache, "train"), (settings.max_speakers, phone)),
        "ami_train": (ami_files("train"), (settings.max_speakers,)),
        "mixtures_test": (mixture_files(args.cache, "test"), (settings.max_speakers, phone)),
        "ami_devtest": (ami_files("devtest"), (settings.max_speakers,)),
        "call40_mix": (call40_file(), (settings.max_speakers, phone)),
    }
    records: dict[tuple[str, int], dict[str, Any]] = {}
    for name, (items, maxima) in sets.items():
        for maximum in maxima:
            for item in items:
                records.setdefault((name, maximum), {})[item["id"]] = runs.get(item, maximum)
                print(".", end="", file=sys.stderr, flush=True)
            print(f"{name} max {maximum}: {len(items)} files diarized", file=sys.stderr, flush=True)

    configured = runs.verify
    chosen, table = configured, []
    if not args.no_tune:
        chosen, table = tune(sets, records, configured, settings.max_speakers, phone)
    result = {"chosen_on": "mixtures_train + ami_train (mean DER, collar 0.25)",
              "configured": configured.as_params(), "chosen": chosen.as_params(), "grid_top": table[:10],
              "sets": {}}
    for name, (items, maxima) in sets.items():
        for maximum in maxima:
            label = f"{name}" + (" (phone call: at most %d)" % maximum if maximum != settings.max_speakers else "")
            before = evaluate(items, records[(name, maximum)], rule_more, maximum, chosen)
            after = evaluate(items, records[(name, maximum)], rule_verified, maximum, chosen)
            result["sets"][label] = {
                "max_speakers": maximum,
                "before_more_speakers_wins": _summary(before),
                "after_verified": _summary(after),
                "after_by_condition": by_condition(after["files"]) if name.startswith("mixtures") else None,
                "before_by_condition": by_condition(before["files"]) if name.startswith("mixtures") else None,
                "files_after": after["files"],
                "files_before": [{"id": f["id"], "der": f["der"], "speakers_found": f["speakers_found"]}
                                 for f in before["files"]],
            }
            print(f"{label}: DER {before['der']:.4f} -> {after['der']:.4f}, count right "
                  f"{before['count_right']:.3f} -> {after['count_right']:.3f}", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    record = {"benchmark": "diarization_calls", "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "machine": {"cpus": os.cpu_count()}, **result}
    args.out.write_text(json.dumps(record, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)


def tune(sets, records, base, default_max: int, phone: int):
    """Grid over the verification options on mixtures_train (both bounds) and ami_train."""
    table = []
    for options in grid_points(base):
        mix = np.mean([evaluate(sets["mixtures_train"][0], records[("mixtures_train", m)], rule_verified, m,
                                options)["der"] for m in (default_max, phone)])
        ami = evaluate(sets["ami_train"][0], records[("ami_train", default_max)], rule_verified, default_max,
                       options)["der"]
        conservative = (-options.split_distance, -options.minor_share, -options.minor_distance)
        table.append(((mix + ami) / 2, conservative, options, mix, ami))
    table.sort(key=lambda row: (round(row[0], 4), row[1]))
    rows = [{"objective": round(obj, 4), "mixtures_train_der": round(mix, 4), "ami_train_der": round(ami, 4),
             **options.as_params()} for obj, _, options, mix, ami in table]
    return table[0][2], rows


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    return {"der": result["der"], "count_right": result["count_right"], "components": result["components"]}


if __name__ == "__main__":
    main()
