"""The speaker count on two-party phone calls: the combined diarizer's rule before and after, scored.

Material (DER at collar 0.25, overlap scored, as everywhere in this project):

- the call-40 mixtures of :mod:`.call_mixtures` (real speech, exact truth, cross-talk, gain,
  noise, G.711 / GSM, 8 / 16 kHz), each diarized as an unknown recording (the configured 1–6
  speakers) and as what it is, a two-party phone call (``expected_speakers.phone_call``);
- the ami_debug clips (meetings: no call type, no cap);
- call 40's own mix, whole.

Both backends run once per file and bound (:class:`Runs`, cached on disk), and each rule is scored
from their outputs: "more speakers wins" (before) and the CombinedDiarizer's verification (after,
:func:`rule_verified`, the same steps as :class:`~talktrack.models.diarization.CombinedDiarizer`).
``bench/diarization_calls.py`` chooses the verification's parameters on the train parts;
``talktrack bench diarization-calls`` reports the configured ones.

    >>> result = bench_call_mixtures(load_settings().models.diarizer, Path("../shared/data"),
    ...                              Path("/tmp/tt-calls"))                    # doctest: +SKIP
    >>> result["sets"]["mixtures_test (phone call: at most 2)"]["after_verified"]  # doctest: +SKIP
    {'der': 0.05, 'count_right': 1.0, 'speech_s': 1043.2}
"""

from __future__ import annotations

import functools
import pickle
import time
from pathlib import Path
from typing import Any

import numpy as np

from talktrack.evaluation.call_mixtures import build_call_mixtures
from talktrack.evaluation.diarization import read_rttm, read_uem, score
from talktrack.models.audio import decode_audio
from talktrack.models.diarization import ResemblyzerDiarizer, SegmentationDiarizer
from talktrack.models.diarization.base import Diarization
from talktrack.models.diarization.campplus import campplus_encoder
from talktrack.models.diarization.combined_backend import NEVER, choose
from talktrack.models.diarization.options import (
    resemblyzer_params,
    segmentation_params,
    speaker_bounds,
    verification_options,
)
from talktrack.models.diarization.verification import merge_plan, relabel, speaker_pieces, split_holds

TARGET = "collar_0.25"
CONDITIONS = ((0.25, False),)


def ami_files(data: Path, split: str) -> list[dict[str, Any]]:
    ami = data / "ami_debug"
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


def mixture_files(data: Path, cache: Path, split: str) -> list[dict[str, Any]]:
    return [{"id": m.id, "path": m.path, "reference": m.reference, "uem": None, "conditions": m.conditions}
            for m in build_call_mixtures(cache, split, data=data)]


def one_party_files(data: Path, cache: Path, split: str, count: int = 8) -> list[dict[str, Any]]:
    """One clean channel of each of the first ``count`` call-40 mixtures of ``split`` (the agent's for
    the first half, the caller's for the rest): a phone call where one party alone is heard (a
    voicemail, a dead line) — what a forced split to the call type's count must not split."""
    out = []
    for index, m in enumerate(build_call_mixtures(cache, split, data=data)[:count]):
        party = "agent" if index < count // 2 else "caller"
        out.append({"id": f"{m.id}.{party}", "path": m.channel_paths[party], "uem": None,
                    "reference": [t for t in m.reference if t.speaker == party],
                    "conditions": {"source": "one_party", "sample_rate": m.conditions["sample_rate"]}})
    return out


def call40_file(data: Path) -> list[dict[str, Any]]:
    stem = data / "calls_en_telephone" / "Auto_Repairs_40_UTC"
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

    def forced(self, item: dict[str, Any], num: int) -> dict[str, Any]:
        """The segmentation backend asked for ``num`` speakers (the call type's count) and its CAM++
        pieces, as :meth:`CombinedDiarizer.expected_split` makes them; computed when a rule first asks."""
        path = self.folder / f"{item['id']}.segnum{num}.pkl"
        if path.is_file():
            return pickle.loads(path.read_bytes())
        audio = decode_audio(item["path"])
        result = self.segmentation.diarize(audio, speaker_bounds(self.settings, num=num))
        record = {"segmentation": result,
                  "segmentation_pieces": speaker_pieces(audio.mono, result, campplus_encoder(), self.verify)}
        path.write_bytes(pickle.dumps(record))
        return record


# --- the rules -----------------------------------------------------------------------------------

def rule_more(record: dict[str, Any], maximum: int, options=None) -> Diarization:
    """Before: the result with more speakers wins; a tie keeps the window result."""
    window, segmentation = record["window"], record["segmentation"]
    return segmentation if len(segmentation.speakers) > len(window.speakers) else window


def rule_verified(record: dict[str, Any], maximum: int, options) -> Diarization:
    """After (as ``CombinedDiarizer``): each result's split verified, then the one with more verified
    speakers (tie: window); with an expected count (``record["forced"]``: a phone call, ``maximum``
    its count) and fewer found, the segmentation backend's forced split when it holds."""
    verified = {}
    for name in ("window", "segmentation"):
        mapping = merge_plan(record[f"{name}_pieces"], options, maximum=maximum)
        verified[name] = relabel(record[name], mapping)
    forced = record.get("forced")  # present when the call type (and so the expected count) is known
    tie = options.tie_keeps_expected if forced is not None else options.tie_keeps
    chosen = choose(verified["window"], verified["segmentation"], tie)
    if forced is not None and len(chosen.speakers) < maximum and options.expected_distance < NEVER:
        split = forced()  # the segmentation backend's split into the expected count, computed once per file
        if split_holds(split["segmentation_pieces"], options):
            chosen = split["segmentation"]
    return chosen


_SCORES: dict[tuple, dict[str, float]] = {}


def file_score(item: dict[str, Any], hypothesis: Diarization, duration_s: float) -> dict[str, float]:
    """DER components of one file at collar 0.25, memoised: most grid points give the same turns."""
    key = (item["id"], tuple((t.start, t.end, t.speaker) for t in hypothesis.turns))
    if key not in _SCORES:
        uems = {item["id"]: item["uem"]} if item["uem"] else {}
        result = score({item["id"]: item["reference"]}, {item["id"]: hypothesis}, uems,
                       {item["id"]: duration_s}, conditions=CONDITIONS)
        _SCORES[key] = result["files"][item["id"]][TARGET]
    return _SCORES[key]


def evaluate(items, records, rule, maximum: int, options) -> dict[str, Any]:
    files, errors, total = [], 0.0, 0.0
    for item in items:
        record = records[item["id"]]
        hypothesis = rule(record, maximum, options)
        components = file_score(item, hypothesis, record["duration_s"])
        errors += components["der"] * components["total_s"]
        total += components["total_s"]
        files.append({"id": item["id"], "der": components["der"],
                      "speakers_reference": len({t.speaker for t in item["reference"]}),
                      "speakers_found": len(hypothesis.speakers), **item["conditions"]})
    right = sum(f["speakers_reference"] == f["speakers_found"] for f in files)
    return {"der": round(errors / total, 4) if total else 0.0, "total_s": round(total, 2),
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


def material(data: Path, cache: Path, max_speakers: int, phone: int) -> dict[str, tuple[list, tuple[int, ...]]]:
    """Each set's files and the maxima it is diarized with (phone: the call type's count)."""
    both = (max_speakers, phone) if phone != max_speakers else (max_speakers,)
    return {
        "mixtures_train": (mixture_files(data, cache, "train"), both),
        "ami_train": (ami_files(data, "train"), (max_speakers,)),
        "mixtures_test": (mixture_files(data, cache, "test"), both),
        "ami_devtest": (ami_files(data, "devtest"), (max_speakers,)),
        "one_party_train": (one_party_files(data, cache, "train"), (phone,)),
        "one_party_test": (one_party_files(data, cache, "test"), (phone,)),
        "call40_mix": (call40_file(data), both),
    }


def run_backends(sets, runs: Runs, max_speakers: int, phone: int, progress=None) -> dict:
    """Every set's records per maximum; a phone-call record also carries the forced split."""
    records: dict[tuple[str, int], dict[str, Any]] = {}
    for name, (items, maxima) in sets.items():
        for maximum in maxima:
            for item in items:
                record = runs.get(item, maximum)
                if maximum == phone and phone != max_speakers:
                    record = {**record, "forced": functools.cache(functools.partial(runs.forced, item, phone))}
                records.setdefault((name, maximum), {})[item["id"]] = record
                if progress:
                    progress(name, item["id"])
    return records


def report(sets, records, options, max_speakers: int) -> dict[str, Any]:
    """Before and after per set and maximum, with the mixtures' figures per condition."""
    out = {}
    for name, (items, maxima) in sets.items():
        for maximum in maxima:
            label = name + (f" (phone call: at most {maximum})" if maximum != max_speakers else "")
            before = evaluate(items, records[(name, maximum)], rule_more, maximum, options)
            after = evaluate(items, records[(name, maximum)], rule_verified, maximum, options)
            mixtures = name.startswith("mixtures")
            out[label] = {
                "max_speakers": maximum,
                "before_more_speakers_wins": _summary(before),
                "after_verified": _summary(after),
                "after_by_condition": by_condition(after["files"]) if mixtures else None,
                "before_by_condition": by_condition(before["files"]) if mixtures else None,
                "files_after": after["files"],
                "files_before": [{"id": f["id"], "der": f["der"], "speakers_found": f["speakers_found"]}
                                 for f in before["files"]],
            }
    return out


def bench_call_mixtures(settings, data: Path, cache: Path, progress=None) -> dict[str, Any]:
    """The configured rule against "more speakers wins" on every set (see the module docstring)."""
    import torch

    torch.set_num_threads(1)  # as the speech pipeline diarizes (models.threads.torch_threads(1))
    phone = settings.expected_speakers.get("phone_call", settings.max_speakers)
    sets = material(data, cache, settings.max_speakers, phone)
    records = run_backends(sets, Runs(cache, settings), settings.max_speakers, phone, progress)
    options = verification_options(settings)
    return {"options": options.as_params(), "sets": report(sets, records, options, settings.max_speakers)}


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    return {"der": result["der"], "count_right": result["count_right"], "speech_s": result["total_s"]}
