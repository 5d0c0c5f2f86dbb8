"""Voiceprints: who is speaking, as a unit vector from resemblyzer's voice encoder.

A rep enrols once from a few recordings of their own voice (:func:`enroll`); at call
time each diarized speaker is embedded (:func:`embed_speech`) and compared by cosine
(:func:`similarity`). Vectors are unit length, so cosine is a dot product.

On disk a voiceprint is two files in one directory: ``<rep_id>.npy`` (float32, shape
``(256,)``) and ``<rep_id>.json`` (rep id, encoder, dimension, whatever the caller adds),
written atomically; where that directory lives in the workspace is the caller's choice.

    >>> print_ = enroll([samples_a, samples_b])                  # doctest: +SKIP
    >>> similarity(print_, embed_speech(call_samples, regions))  # doctest: +SKIP
    0.87
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from talktrack.models.threads import torch_threads

SAMPLE_RATE = 16000
EMBEDDING_DIM = 256
ENCODER = "resemblyzer VoiceEncoder"
_REP_ID = re.compile(r"^[\w][\w.\-@]{0,127}$")


class VoiceprintError(ValueError):
    """A voiceprint that cannot be computed, stored or read; the message says which and why."""


@functools.lru_cache(maxsize=2)
def get_voice_encoder(device: str = "cpu"):
    """resemblyzer's own ``VoiceEncoder`` (loaded once per device): a voiceprint needs its
    ``embed_utterance`` (partial windows averaged), which the diarizer's import-light copy of the
    network (:func:`talktrack.models.diarization.embedding.get_voice_encoder`) does without."""
    with warnings.catch_warnings():  # webrtcvad imports the deprecated pkg_resources (STACK.md)
        warnings.simplefilter("ignore", UserWarning)
        try:
            from resemblyzer import VoiceEncoder
        except ImportError as exc:
            raise VoiceprintError(f"voiceprints need the resemblyzer package: {exc}") from exc
    return VoiceEncoder(device=device, verbose=False).eval()


def encoder_version() -> str:
    from importlib.metadata import version

    return f"{ENCODER} (resemblyzer {version('resemblyzer')})"


def embed_speech(
    samples: np.ndarray,
    regions: Sequence[tuple[float, float]] | None = None,
    *,
    max_speech_s: float = 90.0,
    device: str = "cpu",
) -> np.ndarray:
    """Unit embedding of the speech in ``regions`` (seconds; all of ``samples`` when None).

    The longest regions are kept first up to ``max_speech_s``: long turns carry a cleaner
    voice than back-channel "mm-hm"s, and the cap bounds the cost on hour-long calls.
    """
    speech = _gather(np.asarray(samples, dtype=np.float32).reshape(-1), regions, max_speech_s)
    if speech.size < SAMPLE_RATE // 2 or float(np.max(np.abs(speech))) < 1e-4:
        seconds = speech.size / SAMPLE_RATE
        raise VoiceprintError(f"{seconds:.2f} s of audio, silent or shorter than the 0.5 s of speech needed")
    wav = _preprocess(speech)  # volume-normalised, long silences trimmed
    if wav.shape[0] < SAMPLE_RATE // 2:
        seconds = wav.shape[0] / SAMPLE_RATE
        raise VoiceprintError(f"only {seconds:.2f} s of speech; a voiceprint needs ≥ 0.5 s")
    with torch_threads(1):
        return _unit(get_voice_encoder(device).embed_utterance(wav))




def _preprocess(speech: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():  # webrtcvad imports the deprecated pkg_resources (STACK.md)
        warnings.simplefilter("ignore", UserWarning)
        from resemblyzer import preprocess_wav

    return preprocess_wav(speech, source_sr=SAMPLE_RATE)


def _gather(
    samples: np.ndarray, regions: Sequence[tuple[float, float]] | None, max_speech_s: float
) -> np.ndarray:
    if regions is None:
        return samples[: int(max_speech_s * SAMPLE_RATE)]
    pieces, total = [], 0
    for start, end in sorted(regions, key=lambda r: r[0] - r[1]):  # longest first
        piece = samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        pieces.append(piece)
        total += piece.shape[0]
        if total >= max_speech_s * SAMPLE_RATE:
            break
    return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)


def enroll(audios: Sequence[np.ndarray], *, device: str = "cpu") -> np.ndarray:
    """A rep's voiceprint: the mean of the unit embeddings of each recording, renormalised."""
    if not audios:
        raise VoiceprintError("enrolment needs at least one recording of the rep's voice")
    return _unit(np.mean([embed_speech(audio, device=device) for audio in audios], axis=0))


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity in [-1, 1]."""
    a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def _unit(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0:
        raise VoiceprintError("the voice embedding is zero or not finite")
    return vector / norm


def save_voiceprint(
    directory: str | Path, rep_id: str, embedding: np.ndarray, meta: Mapping[str, Any] | None = None
) -> Path:
    """Write ``<rep_id>.npy`` and ``<rep_id>.json`` into ``directory``; return the .npy path."""
    if not _REP_ID.match(rep_id):
        raise VoiceprintError(
            f"rep id {rep_id!r}: use letters, digits and . - _ @ only (it becomes a file name)"
        )
    vector = _unit(embedding)
    if vector.shape != (EMBEDDING_DIM,):
        raise VoiceprintError(
            f"rep {rep_id}: embedding has shape {vector.shape}, expected ({EMBEDDING_DIM},)"
        )
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    record = {
        **dict(meta or {}),
        "rep_id": rep_id,
        "dim": EMBEDDING_DIM,
        "encoder": encoder_version(),
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    _atomic_write(directory / f"{rep_id}.npy", lambda handle: np.save(handle, vector))
    meta_bytes = json.dumps(record, indent=2).encode()
    _atomic_write(directory / f"{rep_id}.json", lambda handle: handle.write(meta_bytes))
    return directory / f"{rep_id}.npy"


def load_voiceprints(directory: str | Path) -> dict[str, np.ndarray]:
    """Every ``<rep_id>.json`` + ``.npy`` pair in ``directory`` (empty dict when there is none)."""
    directory = Path(directory)
    if not directory.is_dir():
        return {}
    prints: dict[str, np.ndarray] = {}
    for meta_path in sorted(directory.glob("*.json")):
        rep_id, vector = _read_pair(meta_path)
        prints[rep_id] = vector
    return prints


def _read_pair(meta_path: Path) -> tuple[str, np.ndarray]:
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        vector = np.load(meta_path.with_suffix(".npy"), allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise VoiceprintError(f"{meta_path}: not a readable voiceprint ({exc})") from exc
    if vector.shape != (EMBEDDING_DIM,):
        npy = meta_path.with_suffix(".npy")
        raise VoiceprintError(f"{npy}: shape {vector.shape}, expected ({EMBEDDING_DIM},)")
    return str(meta.get("rep_id", meta_path.stem)), _unit(vector)


def _atomic_write(path: Path, write) -> None:
    handle = tempfile.NamedTemporaryFile(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            write(handle)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
