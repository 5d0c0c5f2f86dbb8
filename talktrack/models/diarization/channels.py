"""Dialer recordings: one party per channel, so the channels *are* the diarization.

A call recorder that writes the agent on the left and the customer on the right
gives a better diarization than any clustering. Such a file is recognised by its
per-frame (32 ms) channel levels:

- the level envelopes of the two channels are not correlated (below
  ``max_envelope_correlation``): in a stereo *room* recording, or the same signal on
  both channels, every voice raises both channels together;
- in most active frames (``min_dominant_share``) one channel is louder than the
  other by ``dominance_db`` or more, and each channel is the louder one for at
  least ``min_channel_s`` seconds (two parties, not one).

Each channel is then run through the VAD; a frame counts for a channel only when
that channel is not ``dominance_db`` quieter than the other, which drops the
far-end echo that leaks into the near-end channel while keeping real overlap.
SPEAKER_00 is channel 0 (left), SPEAKER_01 channel 1, whoever speaks first.

:func:`channel_layout` is the one place that decides mix or split: the channel-aware diarizer
and the speech pipeline (whose diarize and transcribe steps may run apart, on different Ray
actors) both ask it, so they always agree.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from talktrack.models.audio import DecodedAudio
from talktrack.models.diarization.base import Diarization, Turn, speaker_label
from talktrack.models.vad import VadOptions, speech_regions

FRAME = 512  # 32 ms at 16 kHz, silero-vad's frame
_FLOOR_DB = -100.0


@dataclass(frozen=True)
class ChannelOptions:
    """Thresholds that recognise a two-party (dialer) stereo file; see the module docstring.
    Values from ``models.diarizer.params.channels`` (``options.channel_options``)."""

    max_envelope_correlation: float
    dominance_db: float
    min_dominant_share: float
    min_channel_s: float
    active_above_floor_db: float

    def as_params(self, prefix: str = "channels") -> dict[str, float | int | str]:
        return {f"{prefix}__{k}": v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class ChannelEvidence:
    """What the detector measured, for logs and for tests."""

    envelope_correlation: float
    dominant_share: float
    channel_dominant_s: tuple[float, float]
    active_s: float

    def is_two_party(self, options: ChannelOptions) -> bool:
        return (
            self.envelope_correlation <= options.max_envelope_correlation
            and self.dominant_share >= options.min_dominant_share
            and min(self.channel_dominant_s) >= options.min_channel_s
        )


def channel_evidence(samples: np.ndarray, options: ChannelOptions) -> ChannelEvidence | None:
    """Measure a (2, n) signal; None when it is not stereo or has no active frame."""
    if samples.ndim != 2 or samples.shape[0] != 2:
        return None
    levels = frame_levels_db(samples)  # shape (2, frames)
    loudest = levels.max(axis=0)
    if loudest.size == 0:
        return None
    active = loudest > max(np.percentile(loudest, 10) + options.active_above_floor_db, -60.0)
    if active.sum() < 3:
        return None
    difference = levels[0, active] - levels[1, active]
    frame_s = FRAME / 16000
    return ChannelEvidence(
        envelope_correlation=_correlation(levels[0, active], levels[1, active]),
        dominant_share=float(np.mean(np.abs(difference) >= options.dominance_db)),
        channel_dominant_s=(
            float(np.sum(difference >= options.dominance_db) * frame_s),
            float(np.sum(difference <= -options.dominance_db) * frame_s),
        ),
        active_s=float(active.sum() * frame_s),
    )


ChannelMode = Literal["auto", "mix", "split"]


@dataclass(frozen=True)
class ChannelLayout:
    """How the channels of one recording are used, and the measurement behind it."""

    mode: Literal["mix", "split"]
    reason: str
    envelope_correlation: float | None = None


def channel_layout(audio: DecodedAudio, mode: ChannelMode, detector: ChannelOptions | None) -> ChannelLayout:
    """Split a two-channel recording when its channels carry different parties (see the module docstring).

    ``mode``: "auto" measures, "mix"/"split" force either (a one-channel file is always mixed).
    ``detector=None``: detection is off (``models.diarizer.params.channels.detect``), "auto" mixes.
    """
    if audio.samples.shape[0] < 2:
        return ChannelLayout("mix", "one channel")
    if mode in ("mix", "split"):
        return ChannelLayout(mode, "requested")
    if detector is None:
        return ChannelLayout("mix", "channel detection is off (models.diarizer.params.channels.detect)")
    evidence = channel_evidence(audio.samples, detector)
    if evidence is None:
        return ChannelLayout("mix", "no active frames to compare")
    measured = round(evidence.envelope_correlation, 4)
    if evidence.is_two_party(detector):
        return ChannelLayout("split", "one party per channel", measured)
    return ChannelLayout("mix", "channels carry the same voices", measured)


def diarize_channels(audio: DecodedAudio, options: ChannelOptions, vad: VadOptions) -> Diarization:
    """SPEAKER_00 = channel 0, SPEAKER_01 = channel 1; overlapping turns where both talk."""
    started = time.perf_counter()
    levels = frame_levels_db(audio.samples)
    turns: list[Turn] = []
    for channel in (0, 1):
        own = _frames_of(speech_regions(audio.samples[channel], vad), levels.shape[1])
        not_echo = levels[channel] >= levels[1 - channel] - options.dominance_db
        for start, end in _runs(own & not_echo, vad):
            turns.append(Turn(round(start, 3), round(end, 3), speaker_label(channel)))
    turns.sort(key=lambda turn: (turn.start, turn.end))
    params = {**options.as_params(), **vad.as_params()}
    return Diarization(turns, "channels", params, {"channels": time.perf_counter() - started})


def frame_levels_db(samples: np.ndarray) -> np.ndarray:
    """Mean power per 32 ms frame and channel, in dBFS; shape (channels, frames)."""
    frames = samples.shape[1] // FRAME
    power = np.square(samples[:, : frames * FRAME].reshape(samples.shape[0], frames, FRAME), dtype=np.float64)
    return np.maximum(10 * np.log10(power.mean(axis=2) + 1e-12), _FLOOR_DB)


def _frames_of(regions_s: list[tuple[float, float]], n_frames: int) -> np.ndarray:
    mask = np.zeros(n_frames, dtype=bool)
    frame_s = FRAME / 16000
    for start, end in regions_s:
        mask[int(start / frame_s) : int(np.ceil(end / frame_s))] = True
    return mask


def _runs(mask: np.ndarray, vad: VadOptions) -> list[tuple[float, float]]:
    """Runs of True frames as seconds, gaps below the VAD's minimum silence closed, short runs dropped."""
    frame_s = FRAME / 16000
    bounds = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]))
    runs: list[list[float]] = []
    for a, b in zip(bounds[::2], bounds[1::2]):
        start, end = a * frame_s, b * frame_s
        if runs and start - runs[-1][1] < vad.min_silence_duration_ms / 1000:
            runs[-1][1] = end
        else:
            runs.append([start, end])
    return [(s, e) for s, e in runs if e - s >= vad.min_speech_duration_ms / 1000]


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() < 1e-9 or b.std() < 1e-9:
        return 1.0  # a constant channel carries no second party
    return float(np.corrcoef(a, b)[0, 1])
