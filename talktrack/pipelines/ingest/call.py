"""One recording → transcript → files → catalog: the one way a call is processed.

:func:`process_call` is what every entry point runs for a recording:

- ``talktrack transcribe`` (:func:`transcribe_files`): files only, no catalog;
- ``talktrack ingest`` (:mod:`.runner`): the hub's steps spread over Ray stage actors
  (:class:`~talktrack.pipelines.ingest.stages.RaySpeech`), several calls at once;
- the service's job worker (``serving/jobs.py``): an uploaded call, its hook checking the job's
  time limit between steps.

The steps are the same everywhere: refuse a language the transcriber cannot read, run the speech
hub (``speech.process``), write ``<call_id>.json/.rttm/.srt`` (the RTTM from the diarization turns
the transcript carries), then, given a catalog, store the result as the call's attempt
(:func:`.sink.store_result`). When a step fails with a catalog given, the attempt is recorded as
failed with a one-line reason (:func:`.sink.store_failure`: a call that already has a transcript
keeps it) and the error is raised on, unchanged, for the caller to report.

    >>> recording = CallRecording(Path("call.wav"), "CALL-1", SpeechOptions(num_speakers=2))  # doctest: +SKIP
    >>> result = process_call(SpeechPipeline(settings), recording, workspace.transcripts_dir, catalog=catalog)
    >>> sorted(result.files), result.transcript.turns[0].speaker
    (['json', 'rttm', 'srt'], 'SPEAKER_00')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from talktrack.core.config import Settings
from talktrack.core.progress import Progress
from talktrack.core.records import Transcript
from talktrack.models.language_routing import UnreadableLanguage, check_language
from talktrack.models.transcription import ModelUnavailableError
from talktrack.pipelines.speech.outputs import write_outputs
from talktrack.pipelines.speech.process import Hook, SpeechOptions, SpeechPipeline

if TYPE_CHECKING:  # the catalog (SQLAlchemy, ~0.5 s to import) only when a call is stored; `transcribe` is not
    from talktrack.core.catalog import Catalog


class UnsupportedLanguage(ValueError):
    """The call's language is one the configured transcriber cannot read; the message says what to set."""


class Speech(Protocol):
    """What :func:`process_call` runs a recording through: :class:`SpeechPipeline` in process, or
    ``RaySpeech`` over stage actors (same arguments, same transcript)."""

    settings: Settings

    def process(
        self, source: str | Path, options: SpeechOptions, *, call_id: str | None = None,
        voiceprints: Mapping[str, np.ndarray] | None = None, hook: Hook | None = None,
    ) -> Transcript: ...  # fmt: skip


@dataclass(frozen=True)
class CallRecording:
    """One recording to process as one call.

    language: the call's language as known before processing (a manifest, the upload form, the
        catalog), checked against the transcriber; None: ``options.language``.
    attempt: the processing attempt :func:`.sink.register` opened (None: no catalog, or no attempt).
    """

    path: Path
    call_id: str
    options: SpeechOptions
    language: str | None = None
    attempt: int | None = None


@dataclass(frozen=True)
class CallResult:
    """A processed call: its transcript (diarization turns included) and the files written."""

    call_id: str
    transcript: Transcript
    files: dict[str, Path]


def process_call(
    speech: Speech,
    recording: CallRecording,
    out_dir: str | Path,
    *,
    catalog: Catalog | None = None,
    voiceprints: Mapping[str, np.ndarray] | None = None,
    hook: Hook | None = None,
) -> CallResult:
    """Process one recording into ``out_dir`` (and ``catalog`` when given); see the module docstring.

    ``hook(step, artifact)`` is called after each of the hub's steps and once more after the files
    are written (step ``"outputs"``), so a hook that raises stops the call before it stores anything.
    """
    hook = hook or _no_hook
    try:
        refuse_unsupported_language(speech.settings, recording.language or recording.options.language)
        transcript = speech.process(
            recording.path, recording.options, call_id=recording.call_id, voiceprints=voiceprints, hook=hook
        )
        files = write_outputs(transcript, out_dir, recording.call_id)
        hook("outputs", files)
        if catalog is not None:
            from talktrack.pipelines.ingest import sink

            sink.store_result(catalog, recording.call_id, transcript, files["json"], recording.attempt)
    except Exception as exc:
        if catalog is not None:
            record_failure(catalog, recording.call_id, recording.attempt, failure_reason(exc))
        raise
    return CallResult(recording.call_id, transcript, files)


def record_failure(catalog: Catalog, call_id: str, attempt: int | None, reason: str) -> None:
    """The call's attempt failed for ``reason`` (also used when it is given up on from outside, e.g. at
    a time limit); the call fails only when it has no earlier transcript."""
    from talktrack.pipelines.ingest import sink

    sink.store_failure(catalog, call_id, reason, attempt)


def refuse_unsupported_language(settings: Settings, language: str | None) -> None:
    """Refuse a language no configured model reads: an English-only model alone would turn a Mandarin
    call into confident nonsense, while with the multilingual model configured Mandarin is routed to it."""
    try:
        check_language(settings.models.transcriber, language)
    except UnreadableLanguage as exc:
        raise UnsupportedLanguage(str(exc)) from None


def failure_reason(exc: BaseException) -> str:
    """The root cause of a (possibly Ray-wrapped) error as one line a person can act on: its last
    non-empty line, else its type."""
    cause: BaseException = exc
    while isinstance(getattr(cause, "cause", None), BaseException):  # Ray wraps a task error per hop
        cause = cause.cause
    lines = [line.strip() for line in str(cause).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(cause).__name__


# --- the CLI's batch: files only -------------------------------------------------------------------


@dataclass(frozen=True)
class FileOutcome:
    """What :func:`transcribe_files` did with one input: output paths, or why it failed."""

    path: str
    outputs: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    duration_s: float | None = None
    speakers: int | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def transcribe_files(
    paths: Sequence[str | Path],
    out_dir: str | Path,
    settings: Settings,
    options: SpeechOptions | None = None,
    progress: Progress | None = None,
    *,
    pipeline: SpeechPipeline | None = None,
    voiceprints: Mapping[str, np.ndarray] | None = None,
) -> list[FileOutcome]:
    """Transcribe each file to ``<stem>.json/.rttm/.srt`` in ``out_dir``; a bad file is reported, not fatal.

    ``progress(step, done, total)`` is called after each file (step ``"transcribe"``). Two
    inputs with the same stem get ``stem``, ``stem-2``. A missing model stops the run
    (every file would fail the same way).
    """
    pipeline = pipeline or SpeechPipeline(settings)
    options = options or SpeechOptions()
    outcomes, stems = [], set()
    for done, path in enumerate(paths, start=1):
        recording = CallRecording(Path(path), _unique_stem(Path(path).stem, stems), options)
        outcomes.append(_transcribe_one(pipeline, recording, Path(out_dir), voiceprints))
        if progress:
            progress("transcribe", done, len(paths))
    return outcomes


def _transcribe_one(pipeline: SpeechPipeline, recording: CallRecording, out_dir: Path, voiceprints) -> FileOutcome:
    try:
        result = process_call(pipeline, recording, out_dir, voiceprints=voiceprints)
    except ModelUnavailableError:
        raise
    except Exception as exc:  # noqa: BLE001 - reported per file, the batch goes on
        return FileOutcome(str(recording.path), error=str(exc), error_type=type(exc).__name__)
    transcript = result.transcript
    return FileOutcome(
        str(recording.path),
        outputs={kind: str(p) for kind, p in result.files.items()},
        duration_s=transcript.duration_s,
        speakers=len(transcript.speakers),
        timings=dict(transcript.timings),
    )


def _unique_stem(stem: str, used: set[str]) -> str:
    candidate, n = stem, 1
    while candidate in used:
        n += 1
        candidate = f"{stem}-{n}"
    used.add(candidate)
    return candidate


def _no_hook(step: str, artifact: Any) -> None:
    return None
