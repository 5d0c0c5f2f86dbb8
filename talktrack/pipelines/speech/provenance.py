"""The transcript a run produces, with its provenance: source, options, models and timings.

Everything a later reader needs to know how a transcript was made travels inside it (the
habit of faster-whisper's ``TranscriptionInfo``): the channel layout and why, every option as a
flat ``step__name`` key ready for MLflow, the models and their versions, the seconds per step,
and the diarization turns behind the utterances (so the RTTM can be rebuilt from the JSON).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from talktrack.core.config import Settings
from talktrack.core.records import Transcript, TranscriptSpeaker, TranscriptTurn, TranscriptUtterance
from talktrack.models.audio import DecodedAudio
from talktrack.models.diarization import ChannelLayout, Diarization
from talktrack.models.transcription import Transcription
from talktrack.models.voiceprint import encoder_version
from talktrack.pipelines.speech.roles import SpeakerRole


@dataclass(frozen=True)
class RunRecord:
    """What one run of the hub produced, before it becomes a :class:`Transcript`."""

    audio: DecodedAudio
    layout: ChannelLayout
    diarization: Diarization
    transcriptions: Sequence[Transcription]
    utterances: list[TranscriptUtterance]
    roles: Mapping[str, SpeakerRole]
    redacted: Mapping[str, int]
    timings: Mapping[str, float]


def build_transcript(
    run: RunRecord, settings: Settings, options: Mapping[str, Any], *, redact: bool, call_id: str | None
) -> Transcript:
    """The transcript of ``run``; ``options``: the hub's per-call options as flat keys."""
    diarization = run.diarization
    speakers = sorted(set(diarization.speakers) | {u.speaker for u in run.utterances} | set(run.roles))
    return Transcript(
        call_id=call_id,
        language=_language(run.transcriptions),
        duration_s=round(run.audio.duration_s, 3),
        speakers=[_speaker(s, run.roles.get(s)) for s in speakers],
        utterances=run.utterances,
        turns=[TranscriptTurn(start=t.start, end=t.end, speaker=t.speaker) for t in diarization.turns],
        source=_source(run.audio, run.layout),
        options=_options(settings, options, redact, diarization, run.transcriptions),
        models=_models(settings, diarization, run.transcriptions, run.roles, run.redacted),
        timings=_timings(run.timings, run.audio, diarization, run.transcriptions),
    )


def _options(settings: Settings, options: Mapping[str, Any], redact: bool, diarization, transcriptions) -> dict:
    pii = settings.pii
    return {
        **options,
        **{f"diarization__{k}": _jsonable(v) for k, v in diarization.params.items()},
        **{f"transcription__{k}": v for k, v in _first_options(transcriptions).items()},
        "pii__redact": redact,
        "pii__kinds": list(pii.kinds),
        "pii__mask": pii.mask,
        "pii__spoken_digits": pii.spoken_digits,
        "audio__max_duration_s": settings.audio.max_duration_s,
    }


def _models(settings: Settings, diarization, transcriptions, roles: Mapping[str, SpeakerRole], redacted) -> dict:
    transcriber = transcriptions[0] if transcriptions else None
    models: dict[str, Any] = {
        "transcriber": {
            **(transcriber.model.to_dict() if transcriber else {"name": settings.models.transcriber.model}),
            "device": transcriber.device if transcriber else None,
            "compute_type": transcriber.compute_type if transcriber else None,
        },
        "diarizer": {"backend": diarization.backend},
        "roles": {
            "method": sorted({r.method for r in roles.values()}),
            "scores": {s: r.score for s, r in roles.items()},
        },
        "pii": {"method": "rules", "redacted": dict(redacted)},
    }
    if any(r.method == "voiceprint" for r in roles.values()):
        models["voiceprint"] = {"encoder": encoder_version()}
    return models


def _language(transcriptions: Sequence[Transcription]) -> str:
    if not transcriptions:
        return "en"
    return max(transcriptions, key=lambda t: len(t.words)).language


def _speaker(speaker: str, role: SpeakerRole | None) -> TranscriptSpeaker:
    if role is None:
        return TranscriptSpeaker(speaker=speaker)
    return TranscriptSpeaker(
        speaker=speaker, role=role.role, role_confidence=role.confidence, rep_id=role.rep_id
    )


def _source(audio: DecodedAudio, layout: ChannelLayout) -> dict[str, Any]:
    return {
        "kind": "audio",
        "path": audio.path,
        "codec": audio.codec,
        "source_sample_rate": audio.source_sample_rate,
        "source_channels": audio.source_channels,
        "channel_layout": layout.mode,
        "channel_layout_reason": layout.reason,
        "channel_envelope_correlation": layout.envelope_correlation,
    }


def _first_options(transcriptions: Sequence[Transcription]) -> dict[str, Any]:
    return dict(transcriptions[0].options) if transcriptions else {}


def _timings(
    steps: Mapping[str, float], audio: DecodedAudio, diarization: Diarization, transcriptions
) -> dict[str, float]:
    timings = {**steps, "audio_duration_s": round(audio.duration_s, 3)}
    timings.update({f"diarize__{k}": v for k, v in diarization.timings.items()})
    load_s = sum(t.timings.get("load_s", 0.0) for t in transcriptions)
    if load_s:
        timings["transcriber_load_s"] = round(load_s, 4)
    return timings


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
