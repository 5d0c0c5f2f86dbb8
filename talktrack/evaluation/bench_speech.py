"""Speed of the speech pipeline against bare faster-whisper on the same files, in one run.

Machines are noisy, so the target is a ratio measured side by side: for each file the
bare baseline (faster-whisper alone, the same model, word timestamps and VAD, as a
user of faster-whisper would call it) and the whole pipeline (decode, diarize,
transcribe, align, roles, PII) run alternately, ``repeats`` times after a warm-up,
and the medians are compared.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from talktrack.core.config import Settings
from talktrack.models.audio import decode_audio
from talktrack.models.transcription import load_whisper, resolve_device, resolve_model
from talktrack.pipelines.speech.process import SpeechOptions, SpeechPipeline


def bare_faster_whisper(path: Path, settings: Settings) -> float:
    """Seconds for faster-whisper alone to decode the file and produce timed words."""
    transcriber = settings.models.transcriber
    device, compute_type = resolve_device(transcriber)
    model = load_whisper(resolve_model(transcriber.model).path, device, compute_type, transcriber.cpu_threads)
    started = time.perf_counter()
    segments, _ = model.transcribe(
        str(path),
        beam_size=transcriber.beam_size,
        word_timestamps=True,
        vad_filter=True,
        condition_on_previous_text=transcriber.condition_on_previous_text,
    )
    for _segment in segments:
        pass
    return time.perf_counter() - started


def full_pipeline(path: Path, pipeline: SpeechPipeline) -> float:
    started = time.perf_counter()
    pipeline.process(path, SpeechOptions())
    return time.perf_counter() - started


def bench_speed(paths: Sequence[Path], settings: Settings, *, repeats: int = 3) -> dict[str, Any]:
    """Per file and overall: median seconds of both, the pipeline/bare ratio, and real-time factors."""
    pipeline = SpeechPipeline(settings)
    pipeline.load()
    rows = []
    for path in paths:
        duration = decode_audio(path).duration_s
        bare_faster_whisper(path, settings), full_pipeline(path, pipeline)  # warm-up: caches, numba, ONNX
        bare, full = [], []
        for _ in range(repeats):
            bare.append(bare_faster_whisper(path, settings))
            full.append(full_pipeline(path, pipeline))
        rows.append(_row(path, duration, bare, full))
    audio = sum(row["duration_s"] for row in rows)
    bare_total = sum(row["bare_s"] for row in rows)
    full_total = sum(row["pipeline_s"] for row in rows)
    return {
        "files": rows,
        "overall": {
            "audio_s": round(audio, 2),
            "bare_s": round(bare_total, 3),
            "pipeline_s": round(full_total, 3),
            "pipeline_over_bare": round(full_total / bare_total, 3),
            "pipeline_rtf": round(full_total / audio, 4),
            "bare_rtf": round(bare_total / audio, 4),
        },
        "repeats": repeats,
        "model": settings.models.transcriber.model,
        "device": resolve_device(settings.models.transcriber),
    }


def _row(path: Path, duration: float, bare: list[float], full: list[float]) -> dict[str, Any]:
    bare_s, full_s = statistics.median(bare), statistics.median(full)
    return {
        "file": path.name,
        "duration_s": round(duration, 2),
        "bare_s": round(bare_s, 3),
        "pipeline_s": round(full_s, 3),
        "pipeline_over_bare": round(full_s / bare_s, 3),
        "pipeline_rtf": round(full_s / duration, 4),
        "bare_runs_s": [round(x, 3) for x in bare],
        "pipeline_runs_s": [round(x, 3) for x in full],
    }
