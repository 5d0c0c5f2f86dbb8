"""The diarizer's option bundles, built from the settings: the one source of their values.

The option dataclasses (:class:`~talktrack.models.vad.VadOptions`, :class:`.ChannelOptions`,
:class:`.ClusteringOptions`, …) declare no defaults of their own; their values come from
``models.diarizer`` in the validated settings (``configs/default.yaml`` and the pydantic
sections of :mod:`talktrack.core.config`), so a default exists once and cannot drift.

    >>> from talktrack.core.config import DiarizerSettings
    >>> vad_options(DiarizerSettings()).threshold
    0.3
    >>> speaker_bounds(DiarizerSettings(), num=2).as_params()
    {'speakers__num': 2, 'speakers__min': 1, 'speakers__max': 6}
"""

from __future__ import annotations

from talktrack.core.config import DiarizerSettings
from talktrack.models.diarization.base import SpeakerBounds
from talktrack.models.diarization.channels import ChannelOptions
from talktrack.models.diarization.clustering import ClusteringOptions
from talktrack.models.diarization.embedding import EmbeddingOptions
from talktrack.models.diarization.resegmentation import ResegmentationOptions
from talktrack.models.diarization.resemblyzer_backend import ResemblyzerParams
from talktrack.models.diarization.segmentation_backend import SegmentationParams
from talktrack.models.diarization.verification import VerificationOptions
from talktrack.models.vad import VadOptions


def vad_options(settings: DiarizerSettings) -> VadOptions:
    return VadOptions(**settings.params.vad.model_dump())


def channel_options(settings: DiarizerSettings) -> ChannelOptions:
    """The dialer-stereo thresholds (also the echo margin of a forced split)."""
    return ChannelOptions(**settings.params.channels.model_dump(exclude={"detect"}))


def channel_detector(settings: DiarizerSettings) -> ChannelOptions | None:
    """What :func:`.channels.channel_layout` measures with; None when ``params.channels.detect`` is off."""
    return channel_options(settings) if settings.params.channels.detect else None


def resemblyzer_params(settings: DiarizerSettings) -> ResemblyzerParams:
    """The settings' ``params`` section as the window backend's typed option bundles."""
    params = settings.params
    return ResemblyzerParams(
        vad=vad_options(settings),
        embedding=EmbeddingOptions(**params.embedding.model_dump()),
        clustering=ClusteringOptions(**params.clustering.model_dump()),
        resegmentation=ResegmentationOptions(**params.resegmentation.model_dump()),
        peak_dbfs=params.peak_dbfs,
    )


def segmentation_params(settings: DiarizerSettings) -> SegmentationParams:
    section = settings.segmentation
    return SegmentationParams(
        step_s=section.step_s, min_speech_s=section.min_speech_s, max_embed_s=section.max_embed_s,
        clustering=ClusteringOptions(method="agglomerative", center=section.center, threshold=section.threshold,
                                     min_cluster_s=section.min_cluster_s),
    )


def verification_options(settings: DiarizerSettings) -> VerificationOptions:
    """The combined backend's speaker-count check."""
    return VerificationOptions(**settings.verification.model_dump())


def speaker_bounds(
    settings: DiarizerSettings, *, num: int | None = None, minimum: int | None = None, maximum: int | None = None,
    call_type: str | None = None,
) -> SpeakerBounds:
    """A call's speaker bounds: what it asks for, else the configured ``min_speakers``/``max_speakers``.

    ``call_type`` (from the dialer or CRM: ``"phone_call"``) caps the maximum at the configured
    ``expected_speakers`` of that kind of call, which is also the count the diarizer checks for
    when it found fewer; a kind configured as null (``"meeting"``) is known but caps nothing; an
    unknown kind is refused, listing the known ones.
    An explicit ``num`` wins over everything: the user counted the speakers.
    The minimum never exceeds the maximum: asking for "at most 1" must not fail on a configured
    "at least 2".

    >>> speaker_bounds(DiarizerSettings(), call_type="phone_call").maximum
    2
    """
    high, expected = maximum or settings.max_speakers, None
    if call_type is not None:
        if call_type not in settings.expected_speakers:
            known = ", ".join(sorted(settings.expected_speakers)) or "none configured"
            raise ValueError(f"call_type {call_type!r} has no expected_speakers (known: {known})")
        cap = settings.expected_speakers[call_type]
        if cap is not None:
            high = expected = min(high, cap)
    low = min(minimum or settings.min_speakers, high)
    return SpeakerBounds(minimum=low, maximum=high, num=num, expected=expected)
