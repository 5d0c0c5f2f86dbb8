"""Diarization error rate of a diarizer on a folder of audio with RTTM references.

DER = (missed speech + false alarm + speaker confusion) / total reference speech,
computed with pyannote.metrics at collar 0 and 0.25 s, with overlapped speech
scored and with it skipped (``skip_overlap``); per file and accumulated over all
files (the "overall" DER weighs files by their speech, as pyannote.metrics does).
Scored regions come from the UEM when given, else the whole file.

    >>> result = evaluate_diarization("ami_debug", "ami_debug/debug.test.rttm",
    ...                               "ami_debug/debug.test.uem", diarizer=diarizer)  # doctest: +SKIP
    >>> result["overall"]["collar_0.25"]["der"]                                        # doctest: +SKIP
    0.41

The result is plain JSON: per-file and overall DER with its components, speaker
counts found vs reference, the diarizer's parameters and timings.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from talktrack.models.audio import AudioError, decode_audio
from talktrack.models.diarization.base import Diarization, Diarizer, SpeakerBounds, Turn

COLLARS_S = (0.0, 0.25)
CONDITIONS = tuple((collar, skip_overlap) for collar in COLLARS_S for skip_overlap in (False, True))
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus")


def evaluate_diarization(
    audio_dir: str | Path,
    rttm_path: str | Path,
    uem_path: str | Path | None = None,
    *,
    diarizer: Diarizer,
    bounds: SpeakerBounds,
) -> dict[str, Any]:
    """Diarize every file the RTTM names (``{uri}.wav`` etc. in ``audio_dir``) and score it.

    ``bounds``: the speaker count asked for (``models.diarization.options.speaker_bounds``).

    Files the RTTM names but ``audio_dir`` lacks, or that do not decode, are listed
    under ``"skipped"`` with the reason, not scored.
    """
    audio_dir = Path(audio_dir)
    references = read_rttm(rttm_path)
    uems = read_uem(uem_path) if uem_path is not None else {}
    files, skipped, hypotheses, durations = [], [], {}, {}
    for uri in sorted(references):
        path = find_audio(audio_dir, uri)
        if path is None:
            skipped.append({"uri": uri, "reason": f"no audio file {uri}.* in {audio_dir}"})
            continue
        try:
            audio = decode_audio(path)
        except AudioError as exc:
            skipped.append({"uri": uri, "reason": str(exc)})
            continue
        started = time.perf_counter()
        result = diarizer.diarize(audio, bounds)
        elapsed = time.perf_counter() - started
        hypotheses[uri], durations[uri] = result, audio.duration_s
        files.append(_file_entry(uri, path, audio.duration_s, elapsed, references[uri], result))
    scores = score(references, hypotheses, uems, durations)
    for entry in files:
        entry["der"] = scores["files"][entry["uri"]]
    audio_s = sum(durations.values())
    seconds = sum(entry["elapsed_s"] for entry in files)
    first = next(iter(hypotheses.values()), None)
    return {
        "audio_dir": str(audio_dir),
        "rttm": str(rttm_path),
        "uem": None if uem_path is None else str(uem_path),
        "num_speakers": bounds.num,
        "min_speakers": bounds.minimum,
        "max_speakers": bounds.maximum,
        "backends": sorted({h.backend for h in hypotheses.values()}),
        "params": {} if first is None else dict(first.params),
        "files": files,
        "overall": scores["overall"],
        "timings": {
            "audio_s": round(audio_s, 3),
            "elapsed_s": round(seconds, 3),
            "real_time_factor": round(seconds / audio_s, 5) if audio_s else None,
            "steps_s": _sum_timings(h.timings for h in hypotheses.values()),
        },
        "skipped": skipped,
    }


def score(
    references: Mapping[str, list[Turn]],
    hypotheses: Mapping[str, Diarization],
    uems: Mapping[str, list[tuple[float, float]]],
    durations_s: Mapping[str, float],
    *,
    conditions: tuple[tuple[float, bool], ...] = CONDITIONS,
) -> dict[str, Any]:
    """DER per file and overall for each (collar_s, skip_overlap) condition; see the module docstring."""
    from pyannote.core import Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    metrics = {
        _condition(collar, skip): DiarizationErrorRate(collar=collar, skip_overlap=skip)
        for collar, skip in conditions
    }
    per_file: dict[str, dict[str, Any]] = {}
    for uri, hypothesis in hypotheses.items():
        reference = Diarization(list(references[uri]), "reference").to_annotation(uri)
        regions = uems.get(uri) or [(0.0, durations_s[uri])]
        uem = Timeline([Segment(start, end) for start, end in regions], uri=uri)
        per_file[uri] = {
            name: _components(metric(reference, hypothesis.to_annotation(uri), uem=uem, detailed=True))
            for name, metric in metrics.items()
        }
    overall = {name: _components(metric.accumulated_) for name, metric in metrics.items()}
    return {"files": per_file, "overall": overall}


def read_rttm(path: str | Path) -> dict[str, list[Turn]]:
    """Reference turns by file id from an RTTM file (UTF-8: ids and labels may be non-ASCII).

    Only ``SPEAKER`` lines count; fields: type, uri, channel, onset, duration, …, name (8th).
    """
    turns: dict[str, list[Turn]] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0] != "SPEAKER":
            continue
        if len(fields) < 8:
            raise ValueError(f"{path}:{number}: an RTTM SPEAKER line has 8+ fields, got {len(fields)}")
        uri, onset, duration, speaker = _nfc(fields[1]), float(fields[3]), float(fields[4]), _nfc(fields[7])
        turns.setdefault(uri, []).append(Turn(onset, onset + duration, speaker))
    for uri in turns:
        turns[uri].sort(key=lambda turn: (turn.start, turn.end))
    return turns


def read_uem(path: str | Path) -> dict[str, list[tuple[float, float]]]:
    """Scored regions by file id from a UEM file: ``uri channel start end`` per line."""
    regions: dict[str, list[tuple[float, float]]] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith(";"):
            continue
        if len(fields) < 4:
            raise ValueError(f"{path}:{number}: a UEM line is 'uri channel start end', got {len(fields)} fields")
        regions.setdefault(_nfc(fields[0]), []).append((float(fields[2]), float(fields[3])))
    return regions


def find_audio(audio_dir: Path, uri: str) -> Path | None:
    """``audio_dir/{uri}{suffix}`` for a known audio suffix, matching the id in any Unicode normal form."""
    for form in dict.fromkeys((uri, unicodedata.normalize("NFC", uri), unicodedata.normalize("NFD", uri))):
        for suffix in AUDIO_SUFFIXES:
            candidate = audio_dir / f"{form}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def render_dialogue(
    lines: list[tuple[str, str]],
    voices: Mapping[str, tuple[str, ...]],
    out_path: str | Path,
    *,
    pause_s: tuple[float, float] = (0.3, 0.7),
    noise_dbfs: float = -60.0,
    seed: int = 0,
) -> list[Turn]:
    """Speak ``(speaker, text)`` lines with espeak-ng, one voice per speaker; write a 16 kHz WAV.

    ``voices`` maps a speaker to espeak-ng arguments, e.g. ``("-v", "en-us", "-p", "40")``.
    Pauses between lines are drawn from ``pause_s`` and a little white noise keeps the
    file from being digitally silent; both follow ``seed``. Returns the reference turns
    (each line's audible extent), which :func:`score` can use as a reference.
    """
    import shutil
    import subprocess
    import tempfile

    import numpy as np
    import soundfile

    if shutil.which("espeak-ng") is None:
        raise RuntimeError("render_dialogue needs espeak-ng (apt-get install espeak-ng)")
    rng = np.random.default_rng(seed)
    pieces, turns, cursor = [np.zeros(8000, dtype=np.float32)], [], 0.5
    with tempfile.TemporaryDirectory() as tmp:
        for index, (speaker, text) in enumerate(lines):
            wav = Path(tmp) / f"{index}.wav"
            command = ["espeak-ng", *voices[speaker], "-w", str(wav), text]
            subprocess.run(command, check=True, capture_output=True)
            speech = _trim_silence(decode_audio(wav).mono)
            pause = np.zeros(int(rng.uniform(*pause_s) * 16000), dtype=np.float32)
            pieces += [speech, pause]
            turns.append(Turn(round(cursor, 3), round(cursor + speech.size / 16000, 3), speaker))
            cursor += (speech.size + pause.size) / 16000
    signal = np.concatenate(pieces)
    signal += rng.normal(0, 10 ** (noise_dbfs / 20), signal.size).astype(np.float32)
    soundfile.write(str(out_path), np.clip(signal, -1, 1), 16000, subtype="PCM_16")
    return turns


def _trim_silence(signal: Any, threshold_dbfs: float = -45.0) -> Any:
    import numpy as np

    loud = np.flatnonzero(np.abs(signal) > 10 ** (threshold_dbfs / 20))
    return signal[loud[0] : loud[-1] + 1] if loud.size else signal[:0]


def _file_entry(
    uri: str, path: Path, duration_s: float, elapsed_s: float, reference: list[Turn], result: Diarization
) -> dict[str, Any]:
    return {
        "uri": uri,
        "audio": str(path),
        "duration_s": round(duration_s, 3),
        "backend": result.backend,
        "speakers_reference": len({turn.speaker for turn in reference}),
        "speakers_found": len(result.speakers),
        "elapsed_s": round(elapsed_s, 4),
        "real_time_factor": round(elapsed_s / duration_s, 5) if duration_s else None,
        "timings": {k: round(v, 4) for k, v in result.timings.items()},
    }


def _components(detail: Mapping[str, float]) -> dict[str, float]:
    total = float(detail["total"])

    def rate(value: float) -> float:
        return round(float(value) / total, 4) if total else 0.0

    errors = detail["missed detection"] + detail["false alarm"] + detail["confusion"]
    return {
        "der": rate(errors),
        "miss": rate(detail["missed detection"]),
        "false_alarm": rate(detail["false alarm"]),
        "confusion": rate(detail["confusion"]),
        "total_s": round(total, 3),
    }


def _condition(collar: float, skip_overlap: bool) -> str:
    return f"collar_{collar:g}" + ("_no_overlap" if skip_overlap else "")


def _sum_timings(timings: Any) -> dict[str, float]:
    totals: dict[str, float] = {}
    for entry in timings:
        for step, seconds in entry.items():
            totals[step] = round(totals.get(step, 0.0) + seconds, 4)
    return totals


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
