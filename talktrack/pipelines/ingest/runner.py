"""``talktrack ingest``: many recordings through the speech stages on Ray, into the catalog.

For each recording the driver hashes the file, registers its call (skipping one that
is already transcribed), and runs :func:`~talktrack.pipelines.ingest.call.process_call` on it over
the stage actors (decode → (diarize ∥ transcribe) → assemble, :class:`.stages.RaySpeech`), with a
bounded number of files in flight (one driver thread each). Each finished file is written
to the catalog in its own transaction as soon as it is done, so killing the run loses
at most the files in flight, and re-running picks them up again (they are still
``processing`` or ``failed``) without duplicating anything (calls are keyed by audio hash).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from talktrack.core.catalog import Catalog
from talktrack.core.config import Settings
from talktrack.core.files import file_sha256
from talktrack.pipelines.ingest import sink
from talktrack.pipelines.ingest.call import CallRecording, failure_reason, process_call
from talktrack.pipelines.ingest.manifest import IngestItem, ManifestProblem, discover
from talktrack.pipelines.ingest.ray_runtime import RayResources, start_ray
from talktrack.pipelines.speech.process import SpeechOptions


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


def ingest(
    source: Path,
    catalog: Catalog,
    settings: Settings,
    out_dir: Path,
    *,
    options: SpeechOptions | None = None,
    address: str | None = None,
    voiceprints: Mapping[str, np.ndarray] | None = None,
    progress: ProgressHook | None = None,
) -> IngestReport:
    """Process every recording of ``source`` (a folder or a manifest CSV); see the module doc."""
    started = time.perf_counter()
    items, problems = discover(source)
    report = IngestReport(manifest_problems=problems)
    todo = _register_all(catalog, items, report, progress)
    if todo:
        from talktrack.pipelines.ingest.stages import RaySpeech, StagePlan

        report.resources = start_ray(settings.ray, address=address)
        plan = StagePlan.for_resources(report.resources, settings)
        speech = RaySpeech(settings, plan)
        tick = lambda: progress(report, len(items)) if progress else None  # noqa: E731
        with ThreadPoolExecutor(max_workers=plan.max_in_flight, thread_name_prefix="ingest") as pool:
            calls = [pool.submit(_process, speech, catalog, _recording(r, options or SpeechOptions()), out_dir,
                                 voiceprints) for r in todo]
            for done in as_completed(calls):
                report.results.append(done.result())
                tick()
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
            report.results.append(FileResult(str(item.path), item.call_id, "failed", failure_reason(exc)))
            continue
        if registered.needs_work:
            todo.append(registered)
        else:
            report.results.append(FileResult(str(item.path), registered.call_id, "skipped", "already transcribed"))
    if progress:
        progress(report, len(items))
    return todo


def _recording(registered: sink.Registered, options: SpeechOptions) -> CallRecording:
    """The call to process, with the manifest's speaker count and language (else the catalog's, e.g. from
    the CRM) over the run's options: a known language skips detection and picks the model."""
    item = registered.item
    changes = {}
    if item.num_speakers:
        changes["num_speakers"] = item.num_speakers
    if item.call_type:
        changes["call_type"] = item.call_type
    if item.language or registered.language:
        changes["language"] = item.language or registered.language
    if registered.team:
        changes["team"] = registered.team
    return CallRecording(item.path, registered.call_id, replace(options, **changes) if changes else options,
                         language=item.language or registered.language, attempt=registered.attempt)


def _process(speech, catalog: Catalog, recording: CallRecording, out_dir: Path, voiceprints) -> FileResult:
    """One call through :func:`process_call` on the stage actors; a failure is this file's, the batch goes on."""
    began = time.perf_counter()
    path = str(recording.path)
    try:
        result = process_call(speech, recording, out_dir, catalog=catalog, voiceprints=voiceprints)
    except Exception as exc:  # noqa: BLE001 - recorded on the call's attempt by process_call
        return FileResult(path, recording.call_id, "failed", failure_reason(exc), seconds=time.perf_counter() - began)
    return FileResult(path, recording.call_id, "done", duration_s=result.transcript.duration_s or 0.0,
                      seconds=time.perf_counter() - began)
