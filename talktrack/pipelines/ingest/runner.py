"""``talktrack ingest``: many recordings through the speech stages on Ray, into the catalog.

For each recording the driver hashes the file, registers its call (skipping one that
is already transcribed), and chains decode → (diarize ∥ transcribe) → assemble on the
stage actors, with a bounded number of files in flight. Each finished file is written
to the catalog in its own transaction as soon as it is done, so killing the run loses
at most the files in flight, and re-running picks them up again (they are still
``processing`` or ``failed``) without duplicating anything (calls are keyed by audio hash).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from talktrack.core.catalog import Catalog
from talktrack.core.config import Settings
from talktrack.core.files import file_sha256
from talktrack.pipelines.ingest import sink
from talktrack.pipelines.ingest.manifest import IngestItem, ManifestProblem, discover
from talktrack.pipelines.ingest.ray_runtime import RayResources, start_ray


@dataclass(frozen=True)
class FileResult:
    path: str
    call_id: str | None
    status: str  # "done" | "skipped" | "failed"
    reason: str | None = None
    duration_s: float = 0.0
    seconds: float = 0.0


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    manifest_problems: list[ManifestProblem] = field(default_factory=list)
    resources: RayResources | None = None
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for result in self.results if result.status == status)

    @property
    def audio_hours(self) -> float:
        return sum(r.duration_s for r in self.results if r.status == "done") / 3600

    def to_dict(self) -> dict:
        return {
            "done": self.count("done"),
            "skipped": self.count("skipped"),
            "failed": self.count("failed"),
            "audio_hours": round(self.audio_hours, 4),
            "seconds": round(self.seconds, 2),
            "resources": vars(self.resources) if self.resources else None,
            "files": [vars(result) for result in self.results],
            "manifest_problems": [vars(problem) for problem in self.manifest_problems],
        }


ProgressHook = Callable[[IngestReport, int], None]


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


def ingest(
    source: Path,
    catalog: Catalog,
    settings: Settings,
    out_dir: Path,
    *,
    options=None,
    address: str | None = None,
    voiceprints: Mapping[str, np.ndarray] | None = None,
    progress: ProgressHook | None = None,
) -> IngestReport:
    """Process every recording of ``source`` (a folder or a manifest CSV); see the module doc."""
    from talktrack.pipelines.speech.process import SpeechOptions

    started = time.perf_counter()
    items, problems = discover(source)
    report = IngestReport(manifest_problems=problems)
    todo = _register_all(catalog, items, report, progress)
    todo = _refuse_unsupported_languages(catalog, settings, todo, report)
    if todo:
        report.resources = start_ray(settings.ray, address=address)
        plan = StagePlan.for_resources(report.resources, settings)
        _Dispatcher(catalog, settings, plan, out_dir, options or SpeechOptions(), voiceprints).run(
            todo, report, lambda: progress(report, len(items)) if progress else None
        )
    report.seconds = time.perf_counter() - started
    return report


def _register_all(
    catalog: Catalog, items: list[IngestItem], report: IngestReport, progress: ProgressHook | None
) -> list[sink.Registered]:
    todo = []
    for item in items:
        try:
            registered = sink.register(catalog, item, file_sha256(item.path))
        except (OSError, LookupError, sink.RegistrationConflict) as exc:
            report.results.append(FileResult(str(item.path), item.call_id, "failed", _reason(exc)))
            continue
        if registered.needs_work:
            todo.append(registered)
        else:
            report.results.append(FileResult(str(item.path), registered.call_id, "skipped", "already transcribed"))
    if progress:
        progress(report, len(items))
    return todo


def _refuse_unsupported_languages(
    catalog: Catalog, settings: Settings, todo: list[sink.Registered], report: IngestReport
) -> list[sink.Registered]:
    """An English-only model (``*.en``) would turn a Mandarin call into confident nonsense: refuse it."""
    model = settings.models.transcriber.model
    if not model.endswith(".en"):
        return todo
    kept = []
    for registered in todo:
        language = registered.item.language or registered.language
        if language and language != "en":
            reason = (
                f"language {language!r}: the transcriber model {model!r} is English-only; set "
                "models.transcriber.model to a local multilingual faster-whisper model directory"
            )
            sink.store_failure(catalog, registered.call_id, reason, registered.attempt)
            report.results.append(FileResult(str(registered.item.path), registered.call_id, "failed", reason))
        else:
            kept.append(registered)
    return kept


class _Dispatcher:
    """Keeps the stage actors busy with a bounded number of files in flight."""

    def __init__(self, catalog, settings, plan: StagePlan, out_dir: Path, options, voiceprints) -> None:
        from talktrack.pipelines.ingest import stages

        self.catalog, self.settings, self.plan = catalog, settings, plan
        self.out_dir, self.options, self.voiceprints = str(out_dir), options, voiceprints
        diarize = stages.stage_actor(stages.DiarizeStage, num_cpus=0.5, num_gpus=plan.diarizer_gpus)
        transcribe = stages.stage_actor(stages.TranscribeStage, num_cpus=1.0, num_gpus=plan.transcriber_gpus)
        assemble = stages.stage_actor(stages.AssembleStage, num_cpus=0.25, num_gpus=0)
        self.diarizers = [diarize.remote(settings, plan.device) for _ in range(plan.diarizers)]
        self.transcribers = [transcribe.remote(settings, plan.device) for _ in range(plan.transcribers)]
        self.assemblers = [assemble.remote(settings, "cpu") for _ in range(plan.assemblers)]
        self.decode = stages.decode_stage.options(num_cpus=0.25)
        self.max_in_flight = 2 * max(plan.transcribers, plan.diarizers) + 1
        self._turn = 0

    def run(self, todo: list[sink.Registered], report: IngestReport, tick: Callable[[], None]) -> None:
        import ray

        pending: dict = {}
        queue = list(todo)
        while queue or pending:
            while queue and len(pending) < self.max_in_flight:
                registered = queue.pop(0)
                pending[self._submit(registered)] = (registered, time.perf_counter())
            done, _ = ray.wait(list(pending), num_returns=1)
            registered, began = pending.pop(done[0])
            report.results.append(self._finish(done[0], registered, time.perf_counter() - began))
            tick()

    def _submit(self, registered: sink.Registered):
        self._turn += 1
        pick = lambda actors: actors[self._turn % len(actors)]  # noqa: E731 - round robin
        audio = self.decode.remote(str(registered.item.path), self.settings.audio.max_duration_s)
        options = self._options_for(registered.item)
        diarization = pick(self.diarizers).__call__.remote(audio, options)
        transcriptions = pick(self.transcribers).__call__.remote(audio, options)
        return pick(self.assemblers).__call__.remote(
            audio, diarization, transcriptions, options, registered.call_id, self.out_dir, self.voiceprints
        )

    def _options_for(self, item: IngestItem):
        from dataclasses import replace

        changes = {}
        if item.num_speakers:
            changes["num_speakers"] = item.num_speakers
        if item.language:
            changes["language"] = item.language
        return replace(self.options, **changes) if changes else self.options

    def _finish(self, ref, registered: sink.Registered, seconds: float) -> FileResult:
        import ray

        path = str(registered.item.path)
        try:
            transcript, json_path = ray.get(ref)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
            reason = _reason(exc)
            sink.store_failure(self.catalog, registered.call_id, reason, registered.attempt)
            return FileResult(path, registered.call_id, "failed", reason, seconds=seconds)
        sink.store_result(self.catalog, registered.call_id, transcript, Path(json_path), registered.attempt)
        return FileResult(path, registered.call_id, "done", duration_s=transcript.duration_s or 0.0, seconds=seconds)


def _reason(exc: BaseException) -> str:
    """The root cause of a (possibly Ray-wrapped) error, as one line without Ray's traceback."""
    cause: BaseException = exc
    while isinstance(getattr(cause, "cause", None), BaseException):  # Ray wraps a task error per hop
        cause = cause.cause
    lines = [line.strip() for line in str(cause).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(cause).__name__
