"""The Ray stages of ingest: callable actors that hold one model each, loaded once.

decode     a remote task on CPU (PyAV), its result shared through the object store
diarize    ``DiarizeStage`` actors (GPU share when there is one)
transcribe ``TranscribeStage`` actors (GPU share when there is one)
assemble   ``AssembleStage`` actors on CPU: align, roles, PII

Diarize and transcribe both read the decoded audio and run at the same time on
different actors; assemble waits for both. :class:`RaySpeech` chains them for one recording
behind the speech hub's own ``process`` contract, so :func:`~talktrack.pipelines.ingest.call.process_call`
runs on it as on an in-process :class:`SpeechPipeline` (the files and the catalog are written
by the driver). Every stage raises on a bad file; the driver turns that into a per-file failure
and goes on.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import ray

from talktrack.core.config import Settings
from talktrack.core.records import Transcript
from talktrack.models.audio import DecodedAudio, decode_audio
from talktrack.models.diarization import Diarization
from talktrack.models.transcription import Transcription
from talktrack.pipelines.ingest.ray_runtime import RayResources
from talktrack.pipelines.speech.process import Hook, SpeechOptions, SpeechPipeline


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
        call_id: str | None,
        voiceprints: Mapping[str, np.ndarray] | None,
    ) -> Transcript:
        return self.pipeline.assemble(
            audio, diarization, transcriptions, options, call_id=call_id, voiceprints=voiceprints
        )


def stage_actor(cls: type, *, num_cpus: float, num_gpus: float):
    """The Ray actor class of a stage with its resource request."""
    return ray.remote(num_cpus=num_cpus, num_gpus=num_gpus, max_restarts=1)(cls)


@dataclass(frozen=True)
class StagePlan:
    """How many actors of each stage, and their CPU/GPU shares, for the resources at hand."""

    diarizers: int
    transcribers: int
    assemblers: int
    device: str
    diarizer_gpus: float
    transcriber_gpus: float

    @classmethod
    def for_resources(cls, resources: RayResources, settings: Settings) -> StagePlan:
        ray_settings = settings.ray
        if resources.has_gpu:
            per, share = ray_settings.num_gpus_per_transcriber, ray_settings.num_gpus_per_diarizer
            diarizers = ray_settings.diarizers or max(1, int(resources.gpus))
            free = max(resources.gpus - diarizers * share, per)
            transcribers = ray_settings.transcribers or max(1, int(free // per))
            transcribers = min(transcribers, max(1, int(resources.cpus) - diarizers))
            return cls(diarizers, transcribers, 1, "cuda", share, per)
        transcribers = ray_settings.transcribers or max(1, int(resources.cpus // 2))
        diarizers = ray_settings.diarizers or max(1, transcribers // 2)
        return cls(diarizers, transcribers, 1, "cpu", 0.0, 0.0)

    @property
    def max_in_flight(self) -> int:
        """Recordings worked on at once: enough to keep every actor busy, few enough to bound memory."""
        return 2 * max(self.transcribers, self.diarizers) + 1


class RaySpeech:
    """The speech hub over stage actors: ``process`` decodes, diarizes ∥ transcribes and assembles one
    recording on them and waits for its transcript. Safe to call from several driver threads at once
    (actors are picked round robin)."""

    def __init__(self, settings: Settings, plan: StagePlan) -> None:
        self.settings = settings
        diarize = stage_actor(DiarizeStage, num_cpus=0.5, num_gpus=plan.diarizer_gpus)
        transcribe = stage_actor(TranscribeStage, num_cpus=1.0, num_gpus=plan.transcriber_gpus)
        assemble = stage_actor(AssembleStage, num_cpus=0.25, num_gpus=0)
        self.diarizers = [diarize.remote(settings, plan.device) for _ in range(plan.diarizers)]
        self.transcribers = [transcribe.remote(settings, plan.device) for _ in range(plan.transcribers)]
        self.assemblers = [assemble.remote(settings, "cpu") for _ in range(plan.assemblers)]
        self.decode = decode_stage.options(num_cpus=0.25)
        self._turns = itertools.count(1)
        self._lock = threading.Lock()

    def process(
        self,
        source: str | Path,
        options: SpeechOptions,
        *,
        call_id: str | None = None,
        voiceprints: Mapping[str, np.ndarray] | None = None,
        hook: Hook | None = None,
    ) -> Transcript:
        with self._lock:
            turn = next(self._turns)
        pick = lambda actors: actors[turn % len(actors)]  # noqa: E731 - round robin
        audio = self.decode.remote(str(source), self.settings.audio.max_duration_s)
        diarization = pick(self.diarizers).__call__.remote(audio, options)
        transcriptions = pick(self.transcribers).__call__.remote(audio, options)
        transcript = ray.get(pick(self.assemblers).__call__.remote(
            audio, diarization, transcriptions, options, call_id, voiceprints))
        if hook is not None:
            hook("transcript", transcript)
        return transcript
