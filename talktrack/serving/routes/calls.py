"""Calls: upload a recording (202 + a job), list and read calls, their transcript, moments, SOP and audio.

An upload is streamed to the workspace and claimed for its call by :mod:`talktrack.serving.uploads`
(who may upload what, and why an upload never takes a call over or hides its last good
transcript); the job worker (:mod:`talktrack.serving.jobs`) transcribes it in the background and
``GET /v1/jobs/{id}`` follows it.

Who sees what is the access policy's (:mod:`talktrack.serving.access`): admin, coach and the CRM
every call; a manager the calls of their team's reps; a rep their own. Calls imported without
audio (CRM transcripts) have a transcript, moments and an SOP check too; only ``/audio`` needs a
recording (404 otherwise).
"""

from __future__ import annotations

import io
import mimetypes
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, File, Form, Header, Query, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from talktrack.core.catalog.schema import CALL_STATUSES, Call, Customer, Deal, Job, Moment, Rep, Speaker, Team, Utterance
from talktrack.pipelines.ingest import sink
from talktrack.pipelines.ingest.manifest import AUDIO_SUFFIXES, IngestItem
from talktrack.pipelines.semantic.sop import SopNotFoundError, check_call
from talktrack.serving import jobs, uploads
from talktrack.serving.access import Access
from talktrack.serving.auth import Allowed
from talktrack.serving.disclosure import public_text
from talktrack.serving.errors import ApiError, NotReady
from talktrack.serving.keys import Caller
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.quotas import UploadQuota
from talktrack.serving.state import Service
from talktrack.serving.uploads import UploadLimitRoute

CHUNK = uploads.CHUNK
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
LANGUAGE_PATTERN = r"^(?:[a-z]{2,3}|mixed)$"

router = APIRouter(prefix="/v1/calls", tags=["calls"], route_class=UploadLimitRoute)
Uploader = Allowed("admin", "coach", "manager", "rep", "crm")
StatusReader = Allowed("admin", "coach", "manager", "rep", "crm")
Reader = Allowed("admin", "coach", "manager", "rep")
CallIdPath = PathParam(min_length=1, max_length=64, pattern=ID_PATTERN, description="The call's external id.")


def on_startup(service: Service) -> None:
    """Start the app's job worker (it re-queues jobs a stopped process left running)."""
    worker = service.shared("jobs.worker", lambda: jobs.JobWorker(service))
    worker.start()


def on_shutdown(service: Service) -> None:
    worker = service.shared("jobs.worker", lambda: None)
    if worker is not None:
        worker.stop()


def job_worker(svc: Service) -> jobs.JobWorker:
    worker = svc.shared("jobs.worker", lambda: None)
    if worker is None:
        raise NotReady("the job worker is not running (the service is starting or stopping); retry shortly")
    return worker


_RepT, _TeamT, _DealT, _CustomerT = aliased(Rep), aliased(Team), aliased(Deal), aliased(Customer)
SUMMARY_COLUMNS = (Call, _RepT.external_id, _TeamT.external_id, _DealT.external_id, _CustomerT.external_id)


def _summary_query():
    return (select(*SUMMARY_COLUMNS)
            .outerjoin(_RepT, Call.rep_id == _RepT.id).outerjoin(_TeamT, _RepT.team_id == _TeamT.id)
            .outerjoin(_DealT, Call.deal_id == _DealT.id).outerjoin(_CustomerT, Call.customer_id == _CustomerT.id))


def summary(row) -> dict:
    call, rep_id, team_id, deal_id, customer_id = row
    return {
        "call_id": call.external_id, "status": call.status, "error": public_text(call.error),
        "rep_id": rep_id, "team_id": team_id, "deal_id": deal_id, "customer_id": customer_id,
        "language": call.language, "stage": call.stage, "channel": call.channel,
        "started_at": call.started_at.isoformat() if call.started_at else None,
        "duration_s": call.duration_s, "has_audio": bool(call.audio_path),
        "moments_model": call.moments_model,
        "updated_at": call.updated_at.isoformat() if call.updated_at else None,
    }


def visible_call(svc: Service, caller: Caller, call_id: str):
    """The call's summary row, when it exists (404) and the caller may read it (403)."""
    Access(svc.catalog, caller).call(call_id)
    with svc.catalog.session() as session:
        return session.execute(_summary_query().where(Call.external_id == call_id)).one()


def require_content(row) -> None:
    """409 while a call has no transcript yet (being transcribed, or failed)."""
    call = row[0]
    if call.status in ("pending", "processing"):
        raise NotReady(f"call {call.external_id!r} is still being transcribed (status {call.status}); "
                       "follow its job and retry when it is done")
    if call.status == "failed":
        raise NotReady(f"call {call.external_id!r} failed: {public_text(call.error)}", code="call_failed")


# --- upload --------------------------------------------------------------------------------------
@router.post("", status_code=202, summary="Upload a call recording; transcribed in the background")
def upload_call(
    caller: Uploader,
    _quota: UploadQuota,
    svc: ServiceDep,
    file: UploadFile = File(description=f"The recording ({', '.join(AUDIO_SUFFIXES)})."),
    call_id: str | None = Form(None, max_length=64, pattern=ID_PATTERN, description="Your id for the call."),
    rep_id: str | None = Form(None, max_length=64, pattern=ID_PATTERN, description="The rep's external id."),
    deal_id: str | None = Form(None, max_length=64, pattern=ID_PATTERN, description="The deal's external id."),
    customer_id: str | None = Form(None, max_length=64, pattern=ID_PATTERN, description="The customer's external id."),
    language: str | None = Form(None, max_length=8, pattern=LANGUAGE_PATTERN, description="en, zh, ..."),
    num_speakers: int | None = Form(None, ge=1, le=20, description="Speakers on the call, when known."),
    stage: str | None = Form(None, max_length=32, description="The sales stage the call was in."),
) -> JSONResponse:
    access = Access(svc.catalog, caller)
    form = IngestItem(Path(), call_id, rep_id, deal_id, customer_id, language, num_speakers)
    item = uploads.claim(svc, access, form, stage)
    path, content_hash = uploads.save_upload(svc, file, svc.workspace.audio_dir)
    duplicate = uploads.existing(svc, access, content_hash, call_id)
    if duplicate is not None:
        return JSONResponse(duplicate, status_code=200)
    registered, call_pk = uploads.register(svc, access, item, path, content_hash, stage)
    if not registered.needs_work:
        return JSONResponse(uploads.accepted(registered.call_id, None, "transcribed", duplicate=True), status_code=200)
    payload = {"audio_path": str(path), "call_id": registered.call_id, "language": language,
               "num_speakers": num_speakers, "attempt": registered.attempt}
    job_id = job_worker(svc).submit(jobs.CALL_JOB, payload, call_pk=call_pk, creator=caller)
    return JSONResponse(uploads.accepted(registered.call_id, job_id, "queued", duplicate=False), status_code=202)


# --- reading -------------------------------------------------------------------------------------
@router.get("", summary="Calls, filtered and paginated (a rep: own calls; a manager: the team's)")
def list_calls(
    caller: StatusReader,
    svc: ServiceDep,
    rep: str | None = Query(None, max_length=64),
    team: str | None = Query(None, max_length=64),
    deal: str | None = Query(None, max_length=64),
    status: Literal[CALL_STATUSES] | None = Query(None),  # type: ignore[valid-type]
    stage: str | None = Query(None, max_length=32),
    language: str | None = Query(None, max_length=8),
    has_audio: bool | None = Query(None, description="Only calls with (true) or without (false) a recording."),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> dict:
    access = Access(svc.catalog, caller)
    rep, team = access.pin_rep(rep), access.pin_team(team)
    if deal is not None:
        access.deal(deal, field="query.deal")
    query = _summary_query()
    for column, value in ((_RepT.external_id, rep), (_TeamT.external_id, team), (_DealT.external_id, deal),
                          (Call.status, status), (Call.stage, stage), (Call.language, language)):
        if value is not None:
            query = query.where(column == value)
    if has_audio is not None:
        query = query.where(Call.audio_path.is_not(None) if has_audio else Call.audio_path.is_(None))
    with svc.catalog.session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.execute(query.order_by(Call.id).limit(limit).offset(offset)).all()
    return {"total": total, "limit": limit, "offset": offset,
            "filters": {"rep": rep, "team": team, "deal": deal, "status": status, "stage": stage,
                        "language": language, "has_audio": has_audio},
            "calls": [summary(row) for row in rows]}


@router.get("/{call_id}", summary="A call: status, error, metadata, speakers and its latest job")
def get_call(caller: StatusReader, svc: ServiceDep, call_id: str = CallIdPath) -> dict:
    row = visible_call(svc, caller, call_id)
    with svc.catalog.session() as session:
        speakers = session.execute(
            select(Speaker.label, Speaker.role, Speaker.role_confidence, Rep.external_id)
            .outerjoin(Rep, Speaker.rep_id == Rep.id).where(Speaker.call_id == row[0].id).order_by(Speaker.label)
        ).all()
        utterances = session.scalar(select(func.count(Utterance.id)).where(Utterance.call_id == row[0].id))
        job = session.execute(select(Job.external_id, Job.status, Job.error).where(Job.call_id == row[0].id)
                              .order_by(Job.id.desc()).limit(1)).first()
    return {
        **summary(row),
        "speakers": [{"speaker": label, "role": role, "role_confidence": confidence, "rep_id": rep}
                     for label, role, confidence, rep in speakers],
        "utterances": utterances,
        "job": {"job_id": job[0], "status": job[1], "error": public_text(job[2]), "status_url": f"/v1/jobs/{job[0]}"}
        if job else None,
        "attempts": [a | {"error": public_text(a["error"])} for a in sink.attempts(svc.catalog, row[0].external_id)],
    }


@router.get("/{call_id}/transcript", summary="The call's utterances: speaker, role, times, text and words")
def get_transcript(caller: Reader, svc: ServiceDep, call_id: str = CallIdPath) -> dict:
    row = visible_call(svc, caller, call_id)
    require_content(row)
    with svc.catalog.session() as session:
        utterances = session.scalars(select(Utterance).where(Utterance.call_id == row[0].id)
                                     .order_by(Utterance.seq)).all()
    call = row[0]
    return {
        "call_id": call.external_id, "status": call.status, "language": call.language,
        "duration_s": call.duration_s,
        "utterances": [{"seq": u.seq, "speaker": u.speaker_label, "role": u.role, "start_s": u.start_s,
                        "end_s": u.end_s, "text": u.text, "language": u.language, "words": u.words or []}
                       for u in utterances],
    }


@router.get("/{call_id}/moments", summary="The call's objections, rep moves and key questions, in order")
def get_moments(
    caller: Reader,
    svc: ServiceDep,
    call_id: str = CallIdPath,
    kind: Literal["objection", "move", "key_question"] | None = Query(None),
) -> dict:
    row = visible_call(svc, caller, call_id)
    require_content(row)
    query = (select(Moment, Utterance.seq, Utterance.speaker_label, Utterance.role, Utterance.start_s, Utterance.end_s)
             .join(Utterance, Moment.utterance_id == Utterance.id).where(Moment.call_id == row[0].id)
             .order_by(Utterance.seq, Moment.sentence, Moment.id))
    if kind is not None:
        query = query.where(Moment.kind == kind)
    with svc.catalog.session() as session:
        rows = session.execute(query).all()
    return {
        "call_id": row[0].external_id, "moments_model": row[0].moments_model,
        "moments": [{"kind": m.kind, "label": m.label, "score": round(m.score, 4), "text": m.text, "seq": seq,
                     "sentence": m.sentence, "speaker": speaker, "role": role, "start_s": start, "end_s": end}
                    for m, seq, speaker, role, start, end in rows],
    }


@router.get("/{call_id}/sop", summary="The call checked against its stage's SOP: covered and missing steps")
def get_sop(
    caller: Reader,
    svc: ServiceDep,
    call_id: str = CallIdPath,
    stage: str | None = Query(None, max_length=32, description="Check against this stage instead of the call's."),
) -> dict:
    row = visible_call(svc, caller, call_id)
    require_content(row)
    try:
        result = check_call(svc.catalog, svc.settings, svc.workspace, call_id, stage=stage)
    except SopNotFoundError as exc:
        raise ApiError(404, str(exc)) from None
    except ValueError as exc:  # no or unknown stage
        raise ApiError(422, f"{exc}; pass ?stage= with one of "
                            f"{', '.join(s.key for s in svc.settings.stages)}") from None
    return result.to_dict()


# --- audio ---------------------------------------------------------------------------------------
@router.get(
    "/{call_id}/audio",
    summary="The recording, or a WAV clip of start..end seconds; supports Range requests",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}, "application/octet-stream": {}}},
               206: {"description": "The requested byte range"}, 416: {"description": "Range not satisfiable"}},
)
def get_audio(
    caller: Reader,
    svc: ServiceDep,
    call_id: str = CallIdPath,
    start: float | None = Query(None, ge=0, le=86400, description="Clip start, seconds."),
    end: float | None = Query(None, ge=0, le=86400, description="Clip end, seconds."),
    range_header: str | None = Header(None, alias="Range", max_length=200),
) -> Response:
    row = visible_call(svc, caller, call_id)
    path = Path(row[0].audio_path) if row[0].audio_path else None
    if path is None or not path.is_file():
        raise ApiError(404, f"call {call_id!r} has no recording (imported from a transcript, or its file is gone)")
    if start is None and end is None:
        size = path.stat().st_size
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return _ranged(range_header, size, media, lambda a, b: _file_bytes(path, a, b), f"{call_id}{path.suffix}")
    clip = _clip_wav(svc, path, start or 0.0, end)
    return _ranged(range_header, len(clip), "audio/wav", lambda a, b: iter([clip[a:b + 1]]),
                   f"{call_id}-{start or 0:g}-{end if end is not None else 'end'}.wav")


def _clip_wav(svc: Service, path: Path, start: float, end: float | None) -> bytes:
    """start..end seconds of the recording as 16-bit PCM WAV (at the file's own rate when it can seek)."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
        rate, duration = info.samplerate, info.duration
        samples = None
    except (RuntimeError, sf.LibsndfileError):  # a format libsndfile cannot read (m4a, ...): decode it
        from talktrack.models.audio import AudioError, decode_audio

        try:
            audio = decode_audio(path)
        except AudioError as exc:
            raise ApiError(404, f"call recording cannot be decoded: {exc.reason}") from None
        rate, duration, samples = audio.sample_rate, audio.duration_s, audio.samples.T
    end = duration if end is None else min(end, duration)
    if start >= duration:
        raise ApiError(422, f"query.start: {start:g} s is past the end of the recording ({duration:.3f} s)")
    if end <= start:
        raise ApiError(422, f"query.end: {end:g} s must be after start ({start:g} s)")
    if end - start > svc.settings.serving.max_clip_s:
        raise ApiError(422, f"the clip is {end - start:.1f} s, longer than serving.max_clip_s "
                            f"({svc.settings.serving.max_clip_s:g} s); ask for a shorter span or omit start/end")
    first, last = int(start * rate), int(end * rate)
    if samples is None:
        samples, _ = sf.read(str(path), start=first, stop=last, dtype="float32", always_2d=True)
    else:
        samples = samples[first:last]
    out = io.BytesIO()
    sf.write(out, samples, rate, subtype="PCM_16", format="WAV")
    return out.getvalue()


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte of a single ``Range: bytes=`` request; None for the whole.

    A header that is not a single byte range is ignored (RFC 9110); an unsatisfiable one is 416."""
    match = _RANGE.match((header or "").strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        count = int(last)
        if count == 0:
            raise _unsatisfiable(header, size)
        return max(size - count, 0), size - 1
    first_i, last_i = int(first), (int(last) if last else size - 1)
    if first_i >= size:
        raise _unsatisfiable(header, size)
    if last_i < first_i:
        return None
    return first_i, min(last_i, size - 1)


def _unsatisfiable(header: str, size: int) -> ApiError:
    return ApiError(416, f"range {header!r} is outside the {size} bytes of this audio",
                    code="range_not_satisfiable", headers={"Content-Range": f"bytes */{size}"})


def _ranged(header: str | None, size: int, media: str, read, filename: str) -> Response:
    """200 with the whole body, or 206 with the asked range; Accept-Ranges either way."""
    headers = {"Accept-Ranges": "bytes", "Content-Disposition": f'inline; filename="{filename}"'}
    span = byte_range(header, size)
    if span is None:
        return StreamingResponse(read(0, size - 1), media_type=media,
                                 headers=headers | {"Content-Length": str(size)})
    first, last = span
    headers |= {"Content-Range": f"bytes {first}-{last}/{size}", "Content-Length": str(last - first + 1)}
    return StreamingResponse(read(first, last), status_code=206, media_type=media, headers=headers)


def _file_bytes(path: Path, first: int, last: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(first)
        left = last - first + 1
        while left > 0 and (chunk := handle.read(min(CHUNK, left))):
            left -= len(chunk)
            yield chunk
