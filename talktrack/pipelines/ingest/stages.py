"""The Ray stages of ingest: callable actors that hold one model each, loaded once.

decode     a remote task on CPU (PyAV), its result shared through the object store
diarize    ``DiarizeStage`` actors (GPU share when there is one)
transcribe ``TranscribeStage`` actors (GPU share when there is one)
assemble   ``AssembleStage`` actors on CPU: align, roles, PII, and the workspace files

Diarize and transcribe both read the decoded audio and run at the same time on
different actors; assemble waits for both. Every stage raises on a bad file; the
driver turns that into a per-file failure and goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import ray

from talktrack.core.config import Settings
from talktrack.core.records import Transcript
from talktrack.models.audio import DecodedAudio, decode_audio
from talktrack.models.diarization import Diarization
from talktrack.models.transcription import Transcription
from talktrack.pipelines.speech.outputs import write_outputs
from talktrack.pipelines.speech.process import SpeechOptions, SpeechPipeline


@ray.remote
def decode_stage(path: str, max_duration_s: float) -> DecodedAudio:
    return decode_audio(path, max_duration_s=max_duration_s)


class _Stage:
    def __init__(self, settings: Settings, device: str) -> None:
        self.pipeline = SpeechPipeline(settings, device=device)


class DiarizeStage(_Stage):
    def __init__(self, settings: Settings, device: str) -> None:
        super().__init__(settings, device)
        _ = self.pipeline.diarizer

    def __call__(self, audio: DecodedAudio, options: SpeechOptions) -> Diarization:
        return self.pipeline.diarize(audio, options)


class TranscribeStage(_Stage):
    def __init__(self, settings: Settings, device: str) -> None:
        super().__init__(settings, device)
        self.pipeline.transcriber.load()

    def __call__(self, audio: DecodedAudio, options: SpeechOptions) -> list[Transcription]:
        return self.pipeline.transcribe(audio, options)


class AssembleStage(_Stage):
    def __call__(
        self,
        audio: DecodedAudio,
        diarization: Diarization,
        transcriptions: list[Transcription],
        options: SpeechOptions,
        call_id: str,
        out_dir: str,
        voiceprints: Mapping[str, np.ndarray] | None,
    ) -> tuple[Transcript, str]:
        transcript = self.pipeline.assemble(
            audio, diarization, transcriptions, options, call_id=call_id, voiceprints=voiceprints
        )
        written = write_outputs(transcript, Path(out_dir), call_id, turns=diarization.turns)
        return transcript, str(written["json"])


def stage_actor(cls: type, *, num_cpus: float, num_gpus: float):
    """The Ray actor class of a stage with its resource request."""
    return ray.remote(num_cpus=num_cpus, num_gpus=num_gpus, max_restarts=1)(cls)
