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
(the multilingual model's load and one encoder pass), and with the kind of call given too
(``--call-type phone_call``).
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


# `talktrack transcribe` as a user runs it, then with what a manifest or the CRM knows: the language
# (no language ID: the multilingual model is not loaded), and also the kind of call (a two-party phone
# call: the combined diarizer skips a backend that cannot change its answer).
COLD_VARIANTS = {
    "talktrack_transcribe": [],
    "language_given": ["--language", "en"],
    "known_call": ["--language", "en", "--call-type", "phone_call"],
}


def bench_cold_start(path: Path, settings: Settings, *, repeats: int = 3, baseline: Path | None = None) -> dict[str, Any]:
    """Whole-process seconds, ``talktrack transcribe`` (each of :data:`COLD_VARIANTS`) vs a bare
    faster-whisper script, alternately (after one untimed round, so all read their files from the page
    cache); medians of wall and CPU seconds and their ratios to the bare script's, and the load average
    before and after (the wall ratio on a shared machine says as much about the others as about us).

    ``baseline``: a checkout of an earlier commit (``git worktree add``) whose ``talktrack transcribe``
    is timed in the same rounds (``before_*``, the first and last variant), so a change is judged
    against the code it replaced under the same load.
    """
    transcriber = settings.models.transcriber
    model_path = resolve_model(transcriber.model).path
    bare_command = [sys.executable, "-c", BARE_SCRIPT, str(path), model_path, str(transcriber.beam_size)]
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="talktrack-cold-") as folder:
        ours = [sys.executable, "-m", "talktrack", "--workspace", f"{folder}/ws", "transcribe", str(path),
                "--out", f"{folder}/out"]
        commands = {"bare": (bare_command, None),
                    **{name: ([*ours, *extra], None) for name, extra in COLD_VARIANTS.items()}}
        if baseline is not None:
            for name in ("talktrack_transcribe", "known_call"):
                commands[f"before_{name}"] = ([*ours, *COLD_VARIANTS[name]], str(baseline))
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for run in range(repeats + 1):
            for name, (command, pythonpath) in commands.items():
                seconds = _process_seconds(command, pythonpath)
                if run:
                    runs[name].append(seconds)
    wall = {name: statistics.median(s[0] for s in kept) for name, kept in runs.items()}
    cpu = {name: statistics.median(s[1] for s in kept) for name, kept in runs.items()}
    figures: dict[str, Any] = {
        "file": path.name,
        "duration_s": round(decode_audio(path).duration_s, 2),
        "bare_s": round(wall["bare"], 3),
        "bare_cpu_s": round(cpu["bare"], 3),
        "target_ratio": 2.0,
    }
    for name in (name for name in runs if name != "bare"):
        figures[f"{name}_s"] = round(wall[name], 3)
        figures[f"{name}_cpu_s"] = round(cpu[name], 3)
        figures[f"{name}_ratio"] = round(wall[name] / wall["bare"], 3)
        figures[f"{name}_cpu_ratio"] = round(cpu[name] / cpu["bare"], 3)
    figures["ratio"] = figures["talktrack_transcribe_ratio"]
    figures["cpu_ratio"] = figures["talktrack_transcribe_cpu_ratio"]
    figures["variants"] = {name: " ".join(extra) for name, extra in COLD_VARIANTS.items()}
    if baseline is not None:
        figures["baseline"] = str(baseline)
    figures["runs_s"] = {name: [round(s[0], 3) for s in kept] for name, kept in runs.items()}
    figures["runs_cpu_s"] = {name: [round(s[1], 3) for s in kept] for name, kept in runs.items()}
    figures["load_average_1m"] = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    figures["repeats"] = repeats
    return figures


def _process_seconds(command: list[str], pythonpath: str | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of one whole process; CPU (user + system) says how much work it was when
    other processes share the cores and the wall time says more about them than about the command."""
    env = {**os.environ, "PYTHONPATH": pythonpath} if pythonpath else None
    before = _children_cpu()
    started = time.perf_counter()
    # from inside the other checkout: `python -m` puts the working directory ahead of PYTHONPATH
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=pythonpath)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} ... failed ({done.returncode}): {done.stderr[-500:]}")
    return time.perf_counter() - started, _children_cpu() - before


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
