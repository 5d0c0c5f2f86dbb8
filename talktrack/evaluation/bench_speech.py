"""Speed of the speech pipeline against bare faster-whisper on the same files, in one run.

Machines are noisy, so the target is a ratio measured side by side: for each file the
bare baseline (faster-whisper alone, the same model, word timestamps and VAD, as a
user of faster-whisper would call it) and the whole pipeline (decode, diarize,
transcribe, align, roles, PII) run alternately, ``repeats`` times after a warm-up,
and the medians are compared.

:func:`bench_cold_start` does the same for whole processes: what a user transcribing one
file waits for, imports and model loads included (``talktrack transcribe`` against a
script that imports faster-whisper, loads the model and prints the text), and the same with the
language given (``--language en``, as a manifest or the CRM gives it), which skips the detection
(the multilingual model's load and one encoder pass).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
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


# What a user of faster-whisper alone would write: import, load, transcribe with word times, print.
BARE_SCRIPT = """
import sys
from faster_whisper import WhisperModel
model = WhisperModel(sys.argv[2], device="cpu", compute_type="int8")
segments, _ = model.transcribe(sys.argv[1], beam_size=int(sys.argv[3]), word_timestamps=True, vad_filter=True,
                               condition_on_previous_text=False)
print(" ".join(segment.text.strip() for segment in segments))
"""


def bench_cold_start(path: Path, settings: Settings, *, repeats: int = 3) -> dict[str, Any]:
    """Whole-process seconds, ``talktrack transcribe`` vs a bare faster-whisper script, alternately (after
    one untimed run of each, so both read their files from the page cache); medians and their ratio."""
    transcriber = settings.models.transcriber
    model_path = resolve_model(transcriber.model).path
    bare_command = [sys.executable, "-c", BARE_SCRIPT, str(path), model_path, str(transcriber.beam_size)]
    bare, full, given = [], [], []
    with tempfile.TemporaryDirectory(prefix="talktrack-cold-") as folder:
        ours = [sys.executable, "-m", "talktrack", "--workspace", f"{folder}/ws", "transcribe", str(path),
                "--out", f"{folder}/out"]
        for run in range(repeats + 1):
            runs = (_process_seconds(bare_command), _process_seconds(ours),
                    _process_seconds([*ours, "--language", "en"]))  # language known (CRM, manifest): no detection
            if run:
                for kept, seconds in zip((bare, full, given), runs):
                    kept.append(seconds)
    bare_s, full_s, given_s = (statistics.median(run[0] for run in runs) for runs in (bare, full, given))
    bare_cpu, full_cpu, given_cpu = (statistics.median(run[1] for run in runs) for runs in (bare, full, given))
    return {
        "file": path.name,
        "duration_s": round(decode_audio(path).duration_s, 2),
        "bare_s": round(bare_s, 3),
        "talktrack_transcribe_s": round(full_s, 3),
        "ratio": round(full_s / bare_s, 3),
        "target_ratio": 2.0,
        "bare_cpu_s": round(bare_cpu, 3),
        "talktrack_cpu_s": round(full_cpu, 3),
        "cpu_ratio": round(full_cpu / bare_cpu, 3),
        "language_given_s": round(given_s, 3),
        "language_given_ratio": round(given_s / bare_s, 3),
        "language_given_cpu_s": round(given_cpu, 3),
        "bare_runs_s": [round(x[0], 3) for x in bare],
        "talktrack_runs_s": [round(x[0], 3) for x in full],
        "language_given_runs_s": [round(x[0], 3) for x in given],
        "load_average_1m": round(os.getloadavg()[0], 2),
        "repeats": repeats,
    }


def _process_seconds(command: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one whole process; CPU (user + system) says how much work it was when
    other processes share the cores and the wall time says more about them than about the command."""
    before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} ... failed ({done.returncode}): {done.stderr[-500:]}")
    return time.perf_counter() - started, _children_cpu() - before


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
