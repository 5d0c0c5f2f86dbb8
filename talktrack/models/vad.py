"""Voice activity: where in a 16 kHz mono signal someone speaks, with silero-vad.

A leaf: imports nothing of ours. The model is the ONNX file shipped inside the
``silero-vad`` package (never a hub), run through the package's batched
"sequence" front-end: one ONNX call per ~16 s block instead of a Python loop
over 32 ms frames, with the same per-frame probabilities.

    >>> speech_regions(audio.mono, vad_options(settings.models.diarizer))   # doctest: +SKIP
    [(0.29, 2.62), (3.3, 10.59)]
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

SAMPLE_RATE = 16000
FRAME_SAMPLES = 512  # silero-vad's frame at 16 kHz: 32 ms


@dataclass(frozen=True)
class VadOptions:
    """silero-vad's post-processing, with its own names and units (faster-whisper's habit).

    threshold: a 32 ms frame with speech probability above it is speech.
    neg_threshold: once in speech, frames stay speech until the probability drops below this
        (hysteresis: onset at ``threshold``, offset here); None: silero's own ``threshold - 0.15``.
    min_speech_duration_ms: shorter speech regions are dropped.
    min_silence_duration_ms: a pause must last this long to split two regions.
    speech_pad_ms: each region is widened by this much on both sides.

    No field has a default here: the values come from the settings
    (``models.diarizer.params.vad``, built by ``talktrack.models.diarization.options.vad_options``).
    """

    threshold: float
    min_speech_duration_ms: int
    min_silence_duration_ms: int
    speech_pad_ms: int
    neg_threshold: float | None

    def as_params(self, prefix: str = "vad") -> dict[str, float | int | str]:
        """Flat ``vad__threshold``-style keys, for logging next to a result."""
        return {f"{prefix}__{key}": ("none" if value is None else value) for key, value in asdict(self).items()}


def speech_regions(mono16k: np.ndarray, options: VadOptions) -> list[tuple[float, float]]:
    """Speech regions of a 16 kHz mono float32 signal, in seconds, sorted and disjoint."""
    if mono16k.size == 0:
        return []
    probabilities = speech_probabilities(mono16k)
    stamps = _import_silero().get_speech_timestamps_from_probs(
        probabilities.tolist(),
        sampling_rate=SAMPLE_RATE,
        threshold=options.threshold,
        min_speech_duration_ms=options.min_speech_duration_ms,
        min_silence_duration_ms=options.min_silence_duration_ms,
        speech_pad_ms=options.speech_pad_ms,
        neg_threshold=options.neg_threshold,
        audio_length_samples=int(mono16k.size),
    )
    return [(stamp["start"] / SAMPLE_RATE, stamp["end"] / SAMPLE_RATE) for stamp in stamps]


def speech_probabilities(mono16k: np.ndarray) -> np.ndarray:
    """Speech probability per 32 ms frame; shape (ceil(n / 512),)."""
    signal = np.ascontiguousarray(mono16k, dtype=np.float32).reshape(-1)
    if signal.size == 0:
        return np.zeros(0, dtype=np.float32)
    model = get_vad_model()
    with _MODEL_LOCK:  # the ONNX session is shared; calls are short
        return np.asarray(model.audio_forward(signal, sampling_rate=SAMPLE_RATE), dtype=np.float32)


_MODEL: Any = None
_MODEL_LOCK = threading.Lock()


def get_vad_model() -> Any:
    """The silero-vad sequence ONNX model, loaded once per process on first use."""
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is None:
            _MODEL = _load_model()
        return _MODEL


def _load_model() -> Any:
    return _import_silero().load_silero_vad(sequence=True, sampling_rate=SAMPLE_RATE)


def _import_silero() -> Any:
    """The ``silero_vad`` package, imported without its side effect on torch's thread count."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is a core dependency
        raise ImportError("silero-vad needs torch: pip install torch==2.13.0") from exc
    threads = torch.get_num_threads()
    try:
        import silero_vad
    except ImportError as exc:
        raise ImportError("voice activity detection needs silero-vad: pip install silero-vad==6.2.3") from exc
    finally:
        # silero_vad/model.py calls torch.set_num_threads(1) at import; undo it for everyone else.
        torch.set_num_threads(threads)
    return silero_vad
