"""Background jobs of the service: uploaded calls to transcribe, field voice notes to read.

A job is a row of the catalog table ``jobs`` (queued → running → done | failed), so nothing
accepted with a 202 lives only in memory. One :class:`JobWorker` thread per app takes the
oldest queued job, claims it with a conditional UPDATE (two processes never run the same
job), runs it and records its result or the reason it failed; one bad job never stops it.

A call job is :func:`~talktrack.pipelines.ingest.call.process_call` (the one way a recording becomes a
transcript, its files and the catalog's call), then the call's moments and its deal's cached score.

Restart safety: while a job runs, its worker stamps ``heartbeat_at`` every quarter of
``serving.job_lease_s``. On start, and then every lease while idle, a worker re-queues the jobs
left ``running`` by a process that is gone (a crash, a kill, a shutdown that did not wait for a
long job): a process of this host that no longer exists at once, any other when its stamp is
older than the lease — so several hosts on one catalog never take each other's live jobs, and a
dead host's job is finished by another. Re-running is harmless:
a call is keyed by its audio's SHA-256 and storing a result replaces its transcript,
and moments are replaced per call, so a retried job never duplicates a call or a moment.
A job interrupted ``serving.max_job_attempts`` times is failed instead of retried forever.

Time limit: a job still running after ``serving.job_time_limit_s`` is failed with that reason and
the worker goes on to the next, and records the call's attempt as failed. Python cannot kill a thread,
so the job is told to stop (it checks between pipeline steps, and before it stores anything) and its
late result is discarded.

    >>> worker = JobWorker(service)                                       # doctest: +SKIP
    >>> worker.start()                          # re-queues orphans, then works in the background
    >>> job_id = worker.submit("call", {"audio_path": ..., "call_id": "CALL-1"}, call_pk=7, creator=caller)
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from talktrack.core.clock import utcnow
from talktrack.core.catalog.schema import Call, Deal, Job
from talktrack.models.audio import decode_audio
from talktrack.pipelines.ingest.call import (
    CallRecording,
    UnsupportedLanguage,
    failure_reason,
    process_call,
    record_failure,
    refuse_unsupported_language,
)
from talktrack.pipelines.semantic.moments import (
    detector_stamp,
    field_notes,
    label_calls,
    load_detector,
)
from talktrack.pipelines.speech.pii import redact_text
from talktrack.pipelines.speech.process import SpeechOptions, SpeechPipeline
from talktrack.serving.scoring_cache import invalidate_deal_features

log = logging.getLogger("talktrack.jobs")
CALL_JOB, VOICE_NOTE_JOB = "call", "voice_note"
JOB_KINDS = (CALL_JOB, VOICE_NOTE_JOB)
SHUTDOWN_WAIT_S = 10.0


class JobFailed(Exception):
    """A job that cannot be done; the message is the reason recorded on the job (and its call)."""


class JobGivenUp(JobFailed):
    """The worker gave up on a job from outside it (time limit, too many interrupted attempts): the
    job never reached its own bookkeeping, so the worker records the call's attempt as failed."""


class JobContext:
    """What a running job checks: whether it was given up on (past its time limit)."""

    def __init__(self, limit_s: float) -> None:
        self.limit_s = limit_s
        self.deadline = time.monotonic() + limit_s
        self.cancelled = threading.Event()

    def check(self, *_ignored) -> None:
        """Raise :class:`JobFailed` once the job is past its limit (usable as a pipeline hook)."""
        if self.cancelled.is_set() or time.monotonic() > self.deadline:
            self.cancelled.set()
            raise JobFailed(time_limit_reason(self.limit_s))


def time_limit_reason(limit_s: float) -> str:
    return (f"took longer than serving.job_time_limit_s ({limit_s:g} s); send a shorter recording "
            "or raise the limit")


def new_job_id() -> str:
    """32 hex characters: unguessable, so a job id leaks nothing about other jobs."""
    return uuid.uuid4().hex


def worker_token() -> str:
    """Who runs a job, recorded on it: ``host:pid:worker``, so a restart can tell orphans from live
    work (one process may hold several apps, each with its worker)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# the workers running in this process now (their tokens): the others of this process are gone
_LIVE_WORKERS: set[str] = set()


# --- shared models --------------------------------------------------------------------------------
class MomentModel:
    """The workspace's moment detector, reloaded when ``talktrack moments train`` saves a new one.

    ``trained`` says whether one was trained (calls are labelled only then); ``get`` returns it, or
    the zero-shot detector (taxonomy examples only) that field notes fall back to.
    """

    def __init__(self, settings, workspace) -> None:
        self.settings, self.workspace = settings, workspace
        self.lock = threading.Lock()  # the embedder is shared by request threads and the worker
        self._detector = None
        self._stamp: float | None = None

    @property
    def trained(self) -> bool:
        return detector_stamp(self.workspace) is not None

    def get(self):
        stamp = detector_stamp(self.workspace)
        if self._detector is None or stamp != self._stamp:
            self._detector, self._stamp = load_detector(self.settings, self.workspace), stamp
        return self._detector


def speech_pipeline(service) -> SpeechPipeline:
    """The service's speech pipeline; its models load on the first job, once."""
    return service.shared("jobs.speech", lambda: SpeechPipeline(service.settings))


def moment_model(service) -> MomentModel:
    return service.shared("jobs.moments", lambda: MomentModel(service.settings, service.workspace))


def read_field_notes(service, text: str, reference_date: date | None) -> dict:
    """Objections, decision-chain roles and the next action of a typed or transcribed note."""
    model = moment_model(service)
    with model.lock:
        notes = field_notes(service.settings, service.workspace, text, reference_date, detector=model.get())
    return notes.to_dict()


# --- the queue and its worker ---------------------------------------------------------------------
class JobWorker:
    """One background thread that runs the queued jobs of one app, one at a time (see module doc)."""

    def __init__(self, service) -> None:
        self.service = service
        self.handlers: dict[str, Callable[[Any, dict, JobContext], dict]] = {
            CALL_JOB: run_call_job, VOICE_NOTE_JOB: run_voice_note}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._given_up: list[threading.Thread] = []  # jobs past their time limit, told to stop, maybe still running
        self.token = worker_token()

    @property
    def catalog(self):
        return self.service.catalog

    def start(self) -> None:
        _LIVE_WORKERS.add(self.token)
        self.requeue_orphans()
        self._thread = threading.Thread(target=self._loop, name="talktrack-jobs", daemon=True)
        self._thread.start()

    def stop(self, wait_s: float = SHUTDOWN_WAIT_S) -> None:
        """Stop taking jobs; a job still running after ``wait_s`` stays ``running`` for the next start.

        Jobs given up at their time limit were told to stop at their next check (at most one
        decoded segment away); they get the same wait, since a process that exits while one of
        them is still inside native code (CTranslate2, torch) is aborted rather than exiting."""
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + wait_s
        for thread in [self._thread, *self._given_up]:
            if thread is not None:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
        _LIVE_WORKERS.discard(self.token)

    def submit(self, kind: str, payload: dict, *, call_pk: int | None, creator) -> str:
        """Queue a job and wake the worker; returns the job's id."""
        if kind not in self.handlers:
            raise ValueError(f"job kind {kind!r}: expected one of {', '.join(self.handlers)}")
        job_id = new_job_id()
        owner = {"key_id": creator.key_id, "role": creator.role, "rep": creator.rep, "team": creator.team}
        with self.catalog.session() as session:
            session.add(Job(external_id=job_id, kind=kind, status="queued", call_id=call_pk,
                            payload={**payload, "creator": owner, "attempts": 0},
                            created_by=creator.actor[:64], created_at=utcnow()))
        self._wake.set()
        return job_id

    @property
    def lease_s(self) -> float:
        return self.service.settings.serving.job_lease_s

    def requeue_orphans(self) -> int:
        """Put back in the queue the ``running`` jobs whose process is gone; returns how many."""
        now = utcnow()
        with self.catalog.session() as session:
            running = session.scalars(select(Job).where(Job.status == "running")).all()
            orphans = [job for job in running if is_orphan(job, now, self.lease_s)]
            for job in orphans:
                job.status, job.started_at, job.heartbeat_at = "queued", None, None
        if orphans:
            log.warning("re-queued %d job(s) left running by a stopped process", len(orphans))
        return len(orphans)

    def _loop(self) -> None:
        poll_s = self.service.settings.serving.job_poll_s
        swept = utcnow()
        while not self._stop.is_set():
            if self.run_next():
                continue
            if (utcnow() - swept).total_seconds() >= self.lease_s:
                self.requeue_orphans()  # another host's worker may have died since
                swept = utcnow()
            self._wake.wait(timeout=poll_s)
            self._wake.clear()

    def run_next(self) -> bool:
        """Claim and run the oldest queued job; False when there was none."""
        claimed = self._claim()
        if claimed is None:
            return False
        job_pk, kind, payload = claimed
        try:
            if payload["attempts"] > self.service.settings.serving.max_job_attempts:
                raise JobGivenUp(f"gave up after {payload['attempts'] - 1} interrupted attempts")
            with self._heartbeat(job_pk):
                result = self._run_limited(kind, payload)
        except Exception as exc:  # noqa: BLE001 - a job's failure is recorded; the worker goes on
            reason = failure_reason(exc)
            if not isinstance(exc, (JobFailed, UnsupportedLanguage)):
                log.exception("job %s (%s) failed", job_pk, kind)
            self._finish(job_pk, "failed", error=reason)
            if payload.get("call_id") and isinstance(exc, JobGivenUp):  # else process_call recorded it
                record_failure(self.catalog, payload["call_id"], payload.get("attempt"), reason)
        else:
            self._finish(job_pk, "done", result=result)
        return True

    def _run_limited(self, kind: str, payload: dict) -> dict:
        """Run the job in a helper thread; past ``serving.job_time_limit_s`` give up on it (see module doc)."""
        context = JobContext(self.service.settings.serving.job_time_limit_s)
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["result"] = self.handlers[kind](self.service, payload, context)
            except BaseException as exc:  # noqa: BLE001 - handed to the worker thread below
                outcome["error"] = exc

        thread = threading.Thread(target=run, name=f"talktrack-job-{kind}", daemon=True)
        thread.start()
        thread.join(context.limit_s)
        if thread.is_alive():
            context.cancelled.set()
            self._given_up = [t for t in self._given_up if t.is_alive()] + [thread]
            log.warning("job (%s) passed its %g s time limit; given up", kind, context.limit_s)
            raise JobGivenUp(time_limit_reason(context.limit_s))
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]

    def _claim(self) -> tuple[int, str, dict] | None:
        """The oldest queued job, marked running by this worker (a conditional UPDATE, so one winner)."""
        while True:
            with self.catalog.session() as session:
                job = session.scalars(select(Job).where(Job.status == "queued").order_by(Job.id).limit(1)).first()
                if job is None:
                    return None
                payload = {**(job.payload or {}), "worker": self.token}
                payload["attempts"] = int(payload.get("attempts") or 0) + 1
                won = session.execute(
                    update(Job).where(Job.id == job.id, Job.status == "queued")
                    .values(status="running", started_at=utcnow(), heartbeat_at=utcnow(), payload=payload)
                ).rowcount
                if won:
                    return job.id, job.kind, payload

    @contextmanager
    def _heartbeat(self, job_pk: int) -> Iterator[None]:
        """Stamp the job every quarter lease while the block runs (from a helper thread)."""
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.lease_s / 4):
                try:
                    with self.catalog.session() as session:
                        session.execute(update(Job).where(Job.id == job_pk, Job.status == "running")
                                        .values(heartbeat_at=utcnow()))
                except Exception:  # noqa: BLE001 - a missed beat is retried; the job goes on
                    log.warning("heartbeat of job %s failed", job_pk, exc_info=True)

        thread = threading.Thread(target=beat, name=f"talktrack-job-{job_pk}-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def _finish(self, job_pk: int, status: str, *, result: dict | None = None, error: str | None = None) -> None:
        with self.catalog.session() as session:
            session.execute(update(Job).where(Job.id == job_pk)
                            .values(status=status, result=result, error=error, finished_at=utcnow()))


def is_orphan(job: Job, now: datetime, lease_s: float) -> bool:
    """Whether a ``running`` job's worker is gone. A worker of this process is gone unless it
    is one of the running ones; of another process of this host, when that process is; any
    other when it has not stamped the job within ``lease_s`` (re-running is idempotent, see
    the module doc)."""
    token = str((job.payload or {}).get("worker") or "")
    host, _, rest = token.partition(":")
    pid = rest.partition(":")[0]
    if host == socket.gethostname() and pid.isdigit():
        if int(pid) == os.getpid():
            return token not in _LIVE_WORKERS
        return not _process_alive(int(pid))
    stamped = job.heartbeat_at or job.started_at
    return stamped is None or now - stamped > timedelta(seconds=lease_s)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- job kinds ------------------------------------------------------------------------------------
def run_call_job(service, payload: dict, context: JobContext) -> dict:
    """Transcribe an uploaded call into the catalog, then label its moments when a detector is trained."""
    language = payload.get("language")
    options = SpeechOptions(num_speakers=payload.get("num_speakers"), call_type=payload.get("call_type"),
                            language=language, team=payload.get("team"))
    recording = CallRecording(Path(payload["audio_path"]), payload["call_id"], options, language=language,
                              attempt=payload.get("attempt"))
    result = process_call(speech_pipeline(service), recording, service.workspace.transcripts_dir,
                          catalog=service.catalog, hook=lambda step, artifact: context.check())
    transcript = result.transcript
    moments = label_call_moments(service, result.call_id)
    forget_deal_scores(service, result.call_id)
    return {
        "call_id": result.call_id,
        "duration_s": transcript.duration_s,
        "language": transcript.language,
        "speakers": [{"speaker": s.speaker, "role": s.role} for s in transcript.speakers],
        "utterances": len(transcript.utterances),
        "moments": moments,
        "real_time_factor": transcript.timings.get("real_time_factor"),
    }


def forget_deal_scores(service, call_id: str) -> None:
    """A new transcript changes its deal's conversation features: the deal's next score is rebuilt."""
    with service.catalog.session() as session:
        deal = session.scalar(
            select(Deal.external_id).join(Call, Call.deal_id == Deal.id).where(Call.external_id == call_id)
        )
    if deal:
        invalidate_deal_features(service, [deal])


def label_call_moments(service, call_id: str) -> int | None:
    """Replace one call's objection and move moments with the trained detector's; None when none is trained.

    The per-call form of ``moments.detect_calls`` (which labels every pending call of the catalog)."""
    model = moment_model(service)
    if not model.trained:
        return None
    with service.catalog.session() as session:
        call_pk = session.scalar(select(Call.id).where(Call.external_id == call_id))
    with model.lock:
        return label_calls(service.catalog, model.get(), [call_pk])


def run_voice_note(service, payload: dict, context: JobContext) -> dict:
    """Transcribe a rep's voice note (one speaker, PII masked) and read it as a field note."""
    settings = service.settings
    language = payload.get("language")
    refuse_unsupported_language(settings, language)
    audio = decode_audio(payload["audio_path"], max_duration_s=settings.serving.max_voice_note_s)
    transcription = speech_pipeline(service).transcriber.transcribe(
        audio.mono, language=language or settings.models.transcriber.language
    )
    context.check()
    text = transcription.text
    if settings.pii.redact:
        text, _ = redact_text(text, settings.pii)
    if not text.strip():
        raise JobFailed("the voice note holds no recognisable speech")
    reference = date.fromisoformat(payload["reference_date"]) if payload.get("reference_date") else None
    return voice_note_result(service, text, reference, payload.get("deal_id"), audio.duration_s)


def voice_note_result(service, text: str, reference_date: date | None, deal_id: str | None,
                      duration_s: float | None = None) -> dict:
    """What a voice note (typed or spoken) answers: its text and what was read from it."""
    notes = read_field_notes(service, text, reference_date)
    return {"deal_id": deal_id, "transcript": text, "duration_s": duration_s, **notes}
