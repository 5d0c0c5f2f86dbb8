"""The embedded default diarizer: silero-vad → resemblyzer windows → clustering → resegmentation.

Everything it needs ships inside PyPI packages (silero-vad's ONNX model,
resemblyzer's ``pretrained.pt``), so it runs offline on a laptop CPU; the voice
encoder runs on CUDA when asked to. Models load on the first :meth:`diarize`, not
at construction.

    >>> settings = load_settings().models.diarizer                  # doctest: +SKIP
    >>> diarizer = ResemblyzerDiarizer(resemblyzer_params(settings))
    >>> result = diarizer.diarize(decode_audio("call.wav"), speaker_bounds(settings, maximum=4))
    >>> result.speakers, result.params["clustering__threshold"]
    (['SPEAKER_00', 'SPEAKER_01'], 1.15)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np

from talktrack.models.audio import DecodedAudio
from talktrack.models.diarization.base import Diarization, SpeakerBounds, Turn, label_by_first_appearance
from talktrack.models.diarization.clustering import ClusteringOptions, cluster_embeddings, recentre
from talktrack.models.diarization.embedding import EmbeddingOptions, Windows, embed_windows
from talktrack.models.diarization.resegmentation import ResegmentationOptions, frames_to_spans, resegment
from talktrack.models.vad import VadOptions, speech_regions


@dataclass(frozen=True)
class ResemblyzerParams:
    """Every tunable parameter of the pipeline, one option bundle per step (values from the settings:
    ``options.resemblyzer_params``).

    peak_dbfs: the mono mix is scaled so its peak sits here before anything else
        (far-field meeting audio often peaks 20–40 dB below full scale); None: as is.
    """

    vad: VadOptions
    embedding: EmbeddingOptions
    clustering: ClusteringOptions
    resegmentation: ResegmentationOptions
    peak_dbfs: float | None

    def as_params(self) -> dict[str, float | int | str]:
        """Flat ``step__name`` keys, e.g. ``vad__threshold``, ``clustering__threshold``."""
        return {
            "input__peak_dbfs": "none" if self.peak_dbfs is None else self.peak_dbfs,
            **self.vad.as_params(),
            **self.embedding.as_params(),
            **self.clustering.as_params(),
            **self.resegmentation.as_params(),
        }


class ResemblyzerDiarizer:
    """Clustering diarizer on resemblyzer speaker embeddings (see the module docstring)."""

    backend = "resemblyzer"

    def __init__(self, params: ResemblyzerParams, *, device: str = "cpu") -> None:
        self.params = params
        self.device = device

    def diarize(self, audio: DecodedAudio, bounds: SpeakerBounds) -> Diarization:
        timings: dict[str, float] = {}
        regions, windows = embed_speech(audio, self.params, device=self.device, timings=timings)
        turns = assign_speakers(regions, windows, audio.duration_s, self.params, bounds, timings=timings)
        timings["total"] = sum(timings.values())
        params = {**self.params.as_params(), **bounds.as_params(), "device": self.device}
        return Diarization(turns, self.backend, params, timings)


def embed_speech(
    audio: DecodedAudio,
    params: ResemblyzerParams,
    *,
    device: str = "cpu",
    timings: dict[str, float] | None = None,
) -> tuple[list[tuple[float, float]], Windows]:
    """Steps 1–2: speech regions of the (peak-normalised) mono mix, and their window embeddings."""
    timings = {} if timings is None else timings
    signal = peak_normalize(audio.mono, params.peak_dbfs)
    with _timed(timings, "vad"):
        regions = speech_regions(signal, params.vad)
    with _timed(timings, "embedding"):
        windows = embed_windows(signal, regions, params.embedding, device=device)
    return regions, windows


def assign_speakers(
    regions: list[tuple[float, float]],
    windows: Windows,
    duration_s: float,
    params: ResemblyzerParams,
    bounds: SpeakerBounds,
    *,
    timings: dict[str, float] | None = None,
) -> list[Turn]:
    """Steps 3–4: cluster the windows, then resegment frame by frame into turns."""
    timings = {} if timings is None else timings
    with _timed(timings, "clustering"):
        if params.clustering.center:
            windows = replace(windows, embeddings=recentre(windows.embeddings))
        labels = cluster_embeddings(
            windows.embeddings,
            windows.weights_s,
            params.clustering,
            num_speakers=bounds.num,
            min_speakers=bounds.minimum,
            max_speakers=bounds.maximum,
        )
    with _timed(timings, "resegmentation"):
        frames = resegment(regions, windows, labels, duration_s, params.resegmentation)
        turns = label_by_first_appearance(frames_to_spans(frames, params.resegmentation.step_s))
    return turns


def peak_normalize(signal: np.ndarray, peak_dbfs: float | None) -> np.ndarray:
    """``signal`` scaled so that its peak is ``peak_dbfs``; unchanged when None or all zero."""
    peak = float(np.max(np.abs(signal))) if signal.size else 0.0
    if peak_dbfs is None or peak <= 0.0:
        return signal
    return (signal * np.float32(10 ** (peak_dbfs / 20) / peak)).astype(np.float32, copy=False)


@contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[step] = timings.get(step, 0.0) + time.perf_counter() - started
