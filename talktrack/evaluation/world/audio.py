"""Render generated calls to 16 kHz mono speech with espeak-ng, one voice per speaker.

Each utterance is synthesised on its own, trimmed of espeak's leading/trailing
silence, resampled 22.05 -> 16 kHz (polyphase, deterministic) and laid on a timeline
with 0.2-1.0 s pauses and, sometimes, a 0.2-0.5 s overlap when the speaker changes.
The utterance times written to the transcript and RTTM are the real sample positions.
espeak-ng of one version is deterministic, so the same seed gives the same bytes.
"""

from __future__ import annotations

import math

import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from talktrack.core.progress import Progress
from talktrack.evaluation.world.records import Call
from talktrack.evaluation.world.spec import child_rng

STEP_AUDIO = 70
SAMPLE_RATE_HZ = 16000
ESPEAK_RATE_HZ = 22050
PAUSE_S = (0.2, 1.0)
OVERLAP_S = (0.2, 0.5)
OVERLAP_SHARE = 0.15
SILENCE_LEVEL = 1e-3
PEAK = 0.9
ESPEAK_MISSING = "espeak-ng is needed to render audio: apt-get install espeak-ng (or run without --audio)"

# (voice, pitch 0-99, words per minute) per speaker slot and language; distinct per call.
# Neighbouring slots differ in sex and pitch: en-us vs en-gb+f3 at similar pitch embedded 0.87
# alike in resemblyzer and merged into one speaker, which real callers rarely are.
VOICES = {
    "en": (("en-us", 35, 160), ("en-us+f2", 75, 150), ("en-gb-x-rp", 50, 170), ("en-gb+f4", 85, 155)),
    # cmn-latn-pinyin: plain "cmn" reads the tone digits of its own pinyin in English ("zhe four"), which
    # Whisper base heard as English digits (CER 1.36 on four sentences; 0.41-0.75 with these, zh given)
    "zh": (("cmn-latn-pinyin", 35, 170), ("cmn-latn-pinyin+f2", 75, 160), ("cmn-latn-pinyin+m3", 50, 175),
           ("cmn-latn-pinyin+f4", 85, 165)),
}


class EspeakMissingError(RuntimeError):
    """espeak-ng is not on PATH but audio was asked for."""


@dataclass(frozen=True)
class Voice:
    name: str
    pitch: int
    speed_wpm: int


def require_espeak() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise EspeakMissingError(ESPEAK_MISSING)
    return path


def choose_calls(calls: list[Call], count: int) -> list[Call]:
    """The ``count`` shortest calls, alternating languages when there are several."""
    by_language: dict[str, list[Call]] = {}
    for call in sorted(calls, key=lambda c: (c.duration_s, c.call_id)):
        by_language.setdefault(call.language, []).append(call)
    queues = [by_language[lang] for lang in sorted(by_language)]
    chosen: list[Call] = []
    while len(chosen) < count and any(queues):
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(queue.pop(0))
    return sorted(chosen, key=lambda c: c.call_id)


def voices_for(call: Call) -> dict[str, Voice]:
    """A distinct voice per speaker of the call; which voice goes to whom depends on the call."""
    table = VOICES[call.language]
    offset = int(call.call_id.rsplit("-", 1)[-1]) % len(table)
    speakers = [entry["speaker"] for entry in call.speakers]
    return {speaker: Voice(*table[(offset + i) % len(table)]) for i, speaker in enumerate(speakers)}


def speakable(text: str) -> str:
    """What espeak is given: the transcript text with the repetition dash ('we- we') and
    dashes turned into pauses; the transcript itself keeps the text as written."""
    return text.replace("- ", ", ").replace("—", ", ")


def synthesize(espeak: str, text: str, voice: Voice) -> np.ndarray:
    """One utterance as float32 samples at 16 kHz, trimmed of leading/trailing silence."""
    import soundfile as sf  # audio libraries load only when audio is asked for
    from scipy.signal import resample_poly

    with tempfile.TemporaryDirectory(prefix="talktrack-espeak-") as folder:
        wav = Path(folder) / "u.wav"
        command = [espeak, "-v", voice.name, "-p", str(voice.pitch), "-s", str(voice.speed_wpm), "-w", str(wav),
                   "--stdin"]
        subprocess.run(command, input=speakable(text).encode("utf-8"), check=True, capture_output=True)
        samples, rate = sf.read(wav, dtype="float32")
    if rate != ESPEAK_RATE_HZ:
        raise RuntimeError(f"espeak-ng wrote {rate} Hz, expected {ESPEAK_RATE_HZ} Hz")
    step = math.gcd(SAMPLE_RATE_HZ, ESPEAK_RATE_HZ)
    return _trim(resample_poly(samples, SAMPLE_RATE_HZ // step, ESPEAK_RATE_HZ // step).astype(np.float32))


def _trim(samples: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(samples) > SILENCE_LEVEL)
    if loud.size == 0:
        return samples[:SAMPLE_RATE_HZ // 10]
    return samples[loud[0]:loud[-1] + 1]


def lay_out(segments: list[np.ndarray], speakers: list[str], rng: np.random.Generator) -> list[int]:
    """Start sample of each segment: a pause after the previous one, or a slight overlap
    when the speaker changes (never before the previous segment's start)."""
    starts, cursor, previous_start = [], int(rng.uniform(0.3, 0.8) * SAMPLE_RATE_HZ), 0
    for index, segment in enumerate(segments):
        if index:
            changed = speakers[index] != speakers[index - 1]
            if changed and rng.random() < OVERLAP_SHARE:
                start = cursor - int(rng.uniform(*OVERLAP_S) * SAMPLE_RATE_HZ)
            else:
                start = cursor + int(rng.uniform(*PAUSE_S) * SAMPLE_RATE_HZ)
            start = max(start, previous_start + 1)
        else:
            start = cursor
        starts.append(start)
        previous_start, cursor = start, max(cursor, start + len(segment))
    return starts


def mix(segments: list[np.ndarray], starts: list[int], tail_s: float) -> np.ndarray:
    """Sum the segments on one timeline and peak-normalise. shape: (samples,)"""
    total = max(s + len(seg) for s, seg in zip(starts, segments, strict=True)) + int(tail_s * SAMPLE_RATE_HZ)
    signal = np.zeros(total, dtype=np.float64)
    for start, segment in zip(starts, segments, strict=True):
        signal[start:start + len(segment)] += segment
    peak = float(np.max(np.abs(signal))) or 1.0
    return signal * (PEAK / peak)


def render_call_audio(call: Call, out_dir: Path, seed: int, call_index: int, espeak: str) -> None:
    """Write audio/<call_id>.wav/.rttm/.txt and put the real times into the call."""
    voices = voices_for(call)
    texts = [(u.speaker, u.text) for u in call.utterances]
    with ThreadPoolExecutor(max_workers=4) as pool:  # espeak runs as a process; order is kept by map
        segments = list(pool.map(lambda item: synthesize(espeak, item[1], voices[item[0]]), texts))
    rng = child_rng(seed, STEP_AUDIO, call_index)
    starts = lay_out(segments, [speaker for speaker, _ in texts], rng)
    signal = mix(segments, starts, tail_s=float(rng.uniform(0.3, 0.8)))
    for utterance, start, segment in zip(call.utterances, starts, segments, strict=True):
        utterance.start = round(start / SAMPLE_RATE_HZ, 3)
        utterance.end = round((start + len(segment)) / SAMPLE_RATE_HZ, 3)
    call.duration_s = round(len(signal) / SAMPLE_RATE_HZ, 3)
    call.audio_path = f"audio/{call.call_id}.wav"
    _write_files(call, out_dir, signal)


def _write_files(call: Call, out_dir: Path, signal: np.ndarray) -> None:
    import soundfile as sf

    folder = out_dir / "audio"
    folder.mkdir(parents=True, exist_ok=True)
    pcm = np.round(signal * 32767.0).astype(np.int16)
    sf.write(folder / f"{call.call_id}.wav", pcm, SAMPLE_RATE_HZ, subtype="PCM_16", format="WAV")
    rttm = "".join(f"SPEAKER {call.call_id} 1 {u.start:.3f} {u.end - u.start:.3f} <NA> <NA> {u.speaker} <NA> <NA>\n"
                   for u in call.utterances)
    (folder / f"{call.call_id}.rttm").write_text(rttm, encoding="utf-8")
    reference = "".join(f"{u.speaker}\t{u.text}\n" for u in call.utterances)
    (folder / f"{call.call_id}.txt").write_text(reference, encoding="utf-8")


def render_audio(calls: list[Call], count: int, out_dir: Path, seed: int,
                 progress: Progress | None = None) -> list[Call]:
    """Render the ``count`` calls picked by :func:`choose_calls`; returns them."""
    espeak = require_espeak()
    chosen = choose_calls(calls, count)
    index_of = {call.call_id: index for index, call in enumerate(calls)}
    for done, call in enumerate(chosen, start=1):
        render_call_audio(call, out_dir, seed, index_of[call.call_id], espeak)
        if progress:
            progress("audio", done, len(chosen))
    return chosen
