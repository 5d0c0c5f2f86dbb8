"""Calls: upload a recording (202 + a job), list and read calls, their transcript, moments, SOP and audio.

An upload is streamed to the workspace and claimed for its call by :mod:`talktrack.serving.uploads`
(who may upload what, and why an upload never takes a call over or hides its last good
transcript); the job worker (:mod:`talktrack.serving.jobs`) transcribes it in the background and
``GET /v1/jobs/{id}`` follows it.

Who sees what is the access policy's (:mod:`talktrack.serving.access`): admin, coach and the CRM
every call; a manager the calls of their team's reps; a rep their own. Calls imported without
audio (CRM transcripts) have a transcript, moments and an SOP check too; only ``/audio`` needs a
recording (404 otherwise).

The routes only check and compose: what they read of the catalog is
:mod:`talktrack.serving.call_queries`, Range requests and WAV clips are :mod:`talktrack.serving.media`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, File, Form, Header, Query, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response

from talktrack.core.catalog.schema import CALL_STATUSES
from talktrack.pipelines.ingest.manifest import AUDIO_SUFFIXES, IngestItem
from talktrack.pipelines.semantic.sop import SopNotFoundError, check_call
from talktrack.serving import call_queries, jobs, media, uploads
from talktrack.serving.access import Access
from talktrack.serving.auth import Allowed
from talktrack.serving.call_queries import CallFilter, require_content, visible_call
from talktrack.serving.errors import ApiError, NotReady
from talktrack.serving.quotas import UploadQuota
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.routes.params import ID_PATTERN
from talktrack.serving.state import Service
from talktrack.serving.uploads import UploadLimitRoute

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
    call_type: str | None = Form(None, max_length=32, pattern=ID_PATTERN,
                                 description="phone_call (two parties), meeting, ...: caps the speaker count."),
    stage: str | None = Form(None, max_length=32, description="The sales stage the call was in."),
) -> JSONResponse:
    access = Access(svc.catalog, caller)
    known_types = svc.settings.models.diarizer.expected_speakers
    if call_type is not None and call_type not in known_types:
        known = ", ".join(sorted(known_types))
        raise ApiError(422, f"call_type {call_type!r} is not a known kind of call (known: {known})")
    form = IngestItem(Path(), call_id, rep_id, deal_id, customer_id, language, num_speakers, call_type)
    item = uploads.claim(svc, access, form, stage)
    path, content_hash = uploads.save_upload(svc, file, svc.workspace.audio_dir)
    duplicate = uploads.existing(svc, access, content_hash, call_id)
    if duplicate is not None:
        return JSONResponse(duplicate, status_code=200)
    registered, call_pk = uploads.register(svc, access, item, path, content_hash, stage)
    if not registered.needs_work:
        return JSONResponse(uploads.accepted(registered.call_id, None, "transcribed", duplicate=True), status_code=200)
    payload = {"audio_path": str(path), "call_id": registered.call_id, "language": language or registered.language,
               "num_speakers": num_speakers, "call_type": call_type, "attempt": registered.attempt,
               "team": registered.team}
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
    filters = CallFilter(rep=rep, team=team, deal=deal, status=status, stage=stage, language=language,
                         has_audio=has_audio)
    total, calls = call_queries.list_calls(svc.catalog, filters, limit=limit, offset=offset)
    return {"total": total, "limit": limit, "offset": offset, "filters": filters.to_dict(), "calls": calls}


@router.get("/{call_id}", summary="A call: status, error, metadata, speakers and its latest job")
def get_call(caller: StatusReader, svc: ServiceDep, call_id: str = CallIdPath) -> dict:
    return call_queries.call_detail(svc.catalog, visible_call(svc.catalog, caller, call_id))


@router.get("/{call_id}/transcript", summary="The call's utterances: speaker, role, times, text and words")
def get_transcript(caller: Reader, svc: ServiceDep, call_id: str = CallIdPath) -> dict:
    row = visible_call(svc.catalog, caller, call_id)
    require_content(row)
    return call_queries.transcript(svc.catalog, row)


@router.get("/{call_id}/moments", summary="The call's objections, rep moves and key questions, in order")
def get_moments(
    caller: Reader,
    svc: ServiceDep,
    call_id: str = CallIdPath,
    kind: Literal["objection", "move", "key_question"] | None = Query(None),
) -> dict:
    row = visible_call(svc.catalog, caller, call_id)
    require_content(row)
    return call_queries.moments(svc.catalog, row, kind)


@router.get("/{call_id}/sop", summary="The call checked against its stage's SOP: covered and missing steps")
def get_sop(
    caller: Reader,
    svc: ServiceDep,
    call_id: str = CallIdPath,
    stage: str | None = Query(None, max_length=32, description="Check against this stage instead of the call's."),
) -> dict:
    require_content(visible_call(svc.catalog, caller, call_id))
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
    row = visible_call(svc.catalog, caller, call_id)
    path = Path(row[0].audio_path) if row[0].audio_path else None
    if path is None or not path.is_file():
        raise ApiError(404, f"call {call_id!r} has no recording (imported from a transcript, or its file is gone)")
    if start is None and end is None:
        return media.file_response(path, range_header, f"{call_id}{path.suffix}")
    clip = media.clip_wav(path, start or 0.0, end, max_clip_s=svc.settings.serving.max_clip_s)
    return media.bytes_response(clip, "audio/wav", range_header,
                                f"{call_id}-{start or 0:g}-{end if end is not None else 'end'}.wav")
