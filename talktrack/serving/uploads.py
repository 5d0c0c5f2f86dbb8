"""Uploaded recordings: streamed to the workspace under their hash, and claimed for a call without taking one over.

An upload is copied to ``workspace/audio/<sha256><suffix>`` while its bytes are counted and
hashed (413 past ``serving.max_upload_mb``, 415 for what is not audio, 422 when empty).

Who may upload what (the rule of :func:`claim`):

- Every id in the form goes through the access policy first: the rep (a rep key: only itself; a
  manager key: its team's reps), the deal and the customer must be within the caller's *write*
  reach (403 otherwise; 422 for an id not in the catalog), and the customer must be the deal's.
- A call's rep, deal, customer and stage are set once. An upload that names an existing call
  (``call_id``) is a new attempt at that call by a caller who may change it, with metadata that
  agrees with it (409 naming the field otherwise); it never re-assigns the call.
- A recording that is already a call is that call: a duplicate answer (200) when the caller may
  read it and it is transcribed or on its way, a retry when it failed, and 409 ``recording_exists``
  (without naming the call) when the caller may not read it.
- The CRM key reaches every call and deal: it may upload the recording of any call, e.g. one it
  imported without audio, under the same set-once rule.

A re-upload that fails leaves the call's earlier transcript, moments and recording readable; each
attempt is kept (``GET /v1/calls/{id}`` lists them) — see :mod:`talktrack.pipelines.ingest.sink`.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import replace
from pathlib import Path

from fastapi import Request, UploadFile
from fastapi.responses import Response
from fastapi.routing import APIRoute
from sqlalchemy import select

from talktrack.core.catalog.schema import Call, CallAttempt, Customer, Deal, Job, Rep, Team
from talktrack.pipelines.ingest import sink
from talktrack.pipelines.ingest.manifest import AUDIO_SUFFIXES, IngestItem
from talktrack.serving.access import Access, Owner, may_read
from talktrack.serving.errors import ApiError
from talktrack.serving.state import Service

MB = 1024 * 1024
CHUNK = MB
MULTIPART_SLACK = 64 * 1024  # form fields and part headers around the file in a multipart body


class UploadLimitRoute(APIRoute):
    """Refuses a POST whose declared ``Content-Length`` is past the upload limit before reading it.

    A body without a length (chunked) is still counted while it is copied (:func:`save_upload`)."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            if request.method == "POST":
                limit = upload_limit_bytes(request.app.state.service)
                declared = request.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit + MULTIPART_SLACK:
                    raise too_large(request.app.state.service)
            return await handler(request)

        return limited


def upload_limit_bytes(svc: Service) -> int:
    return int(svc.settings.serving.max_upload_mb * MB)


def too_large(svc: Service) -> ApiError:
    limit = svc.settings.serving.max_upload_mb
    return ApiError(413, f"the upload is larger than serving.max_upload_mb ({limit:g} MB); "
                         "send a shorter or compressed recording (e.g. MP3, Opus)")


def check_audio_type(svc: Service, upload: UploadFile) -> str:
    """The upload's suffix, when its name and content type say audio (415 otherwise)."""
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in AUDIO_SUFFIXES:
        raise ApiError(415, f"file {upload.filename!r}: not an audio file name; accepted suffixes: "
                            f"{', '.join(AUDIO_SUFFIXES)}")
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    accepted = svc.settings.serving.upload_content_types
    if content_type and not any(content_type == t or (t.endswith("/") and content_type.startswith(t))
                                for t in accepted):
        raise ApiError(415, f"content type {content_type!r} is not audio; accepted: {', '.join(accepted)}")
    return suffix


def save_upload(svc: Service, upload: UploadFile, folder: Path) -> tuple[Path, str]:
    """Copy the upload to ``folder/<sha256><suffix>`` counting its bytes; returns (path, sha256).

    413 past the limit (nothing is kept), 415 for a non-audio name/type, 422 for an empty file."""
    suffix = check_audio_type(svc, upload)
    limit = upload_limit_bytes(svc)
    folder.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".upload-", suffix=suffix, delete=False) as out:
        partial = Path(out.name)
        try:
            while chunk := upload.file.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise too_large(svc)
                digest.update(chunk)
                out.write(chunk)
        except BaseException:
            out.close()
            partial.unlink(missing_ok=True)
            raise
    if size == 0:
        partial.unlink(missing_ok=True)
        raise ApiError(422, f"file {upload.filename!r} is empty")
    content_hash = digest.hexdigest()
    final = folder / f"{content_hash}{suffix}"
    partial.replace(final)
    return final, content_hash


# --- claiming a call -----------------------------------------------------------------------------
def claim(svc: Service, access: Access, form: IngestItem, stage: str | None) -> IngestItem:
    """The upload's metadata (``form``, without a path yet), every id checked against the caller's write
    reach (403) and the catalog (422), the customer against the deal's, and a named existing call
    against the set-once rule (409); returns it with the rep and customer the deal implies."""
    caller = access.caller
    if stage is not None and stage not in svc.settings.stage_keys:
        raise ApiError(422, f"form.stage: {stage!r} is not a stage; use one of {', '.join(svc.settings.stage_keys)}")
    existing_call = form.call_id is not None and _call_exists(svc, form.call_id)
    if existing_call:
        access.call(form.call_id, write=True)
        _check_stage(svc, form.call_id, stage)
    rep_id = access.pin_rep(form.rep_id)
    customer_id = form.customer_id
    if rep_id is not None:
        access.rep(rep_id, write=True, field="form.rep_id")
    if form.deal_id is not None:
        access.deal(form.deal_id, write=True, field="form.deal_id")
        deal_rep, deal_customer = _deal_parties(svc, form.deal_id)
        if customer_id is not None and customer_id != deal_customer:
            raise ApiError(422, f"form.customer_id: {customer_id!r} is not the customer of deal {form.deal_id!r}")
        rep_id, customer_id = rep_id or deal_rep, customer_id or deal_customer
    elif customer_id is not None:
        access.customer(customer_id, write=True, field="form.customer_id")
    if rep_id is None and caller.role == "manager" and not existing_call:
        raise ApiError(422, "form.rep_id: a manager key uploads calls of its team's reps; name the rep")
    return replace(form, rep_id=rep_id, customer_id=customer_id)


def existing(svc: Service, access: Access, content_hash: str, call_id: str | None) -> dict | None:
    """The answer for a recording that is already a call (None: register it).

    A duplicate (transcribed, or a job on its way) answers with that call when the caller may read
    it; a recording of a call the caller may not read is a 409 that does not name the call."""
    with svc.catalog.session() as session:
        row = session.execute(_owner_by_hash(content_hash)).first()
        if row is None:
            return None
        call_pk, found_id, status, rep, team = row
        job = session.execute(select(Job.external_id, Job.status).where(Job.call_id == call_pk)
                              .order_by(Job.id.desc()).limit(1)).first()
    if not may_read(access.caller, Owner.of("call", found_id, rep, team)):
        raise ApiError(409, "this recording is already in the catalog as a call this key may not read; "
                            "it cannot be uploaded again under another owner", code="recording_exists")
    if call_id is not None and call_id != found_id:
        raise ApiError(409, f"this recording is already call {found_id!r}, not {call_id!r}", code="recording_exists")
    in_flight = job is not None and job[1] in ("queued", "running")
    if status != sink.TRANSCRIBED_FROM_AUDIO and not in_flight:
        return None  # failed (or interrupted before its job was queued): a retry
    return accepted(found_id, job[0] if job else None, job[1] if in_flight else status, duplicate=True)


def register(svc: Service, access: Access, item: IngestItem, path: Path, content_hash: str,
             stage: str | None) -> tuple[sink.Registered, int]:
    """Register the upload as an attempt at its call (409 on a set-once conflict); (registered, call pk)."""
    item = replace(item, path=path)
    try:
        registered = sink.register(svc.catalog, item, content_hash, source="upload", created_by=access.caller.actor)
    except sink.RegistrationConflict as exc:
        raise ApiError(409, str(exc), code="call_conflict") from None
    except LookupError as exc:
        raise ApiError(422, str(exc)) from None
    with svc.catalog.session() as session:
        call = session.scalar(select(Call).where(Call.external_id == registered.call_id))
        if stage and call.stage is None:
            call.stage = stage
        return registered, call.id


def accepted(call_id: str, job_id: str | None, status: str, *, duplicate: bool) -> dict:
    return {"call_id": call_id, "job_id": job_id, "status": status, "duplicate": duplicate,
            "status_url": f"/v1/jobs/{job_id}" if job_id else None, "call_url": f"/v1/calls/{call_id}"}


def _owner_by_hash(content_hash: str):
    """(call pk, call id, status, rep, team) of the call holding this recording, or processing it now."""
    in_flight = select(CallAttempt.call_id).where(CallAttempt.content_hash == content_hash,
                                                  CallAttempt.status == sink.IN_PROGRESS)
    return (select(Call.id, Call.external_id, Call.status, Rep.external_id, Team.external_id)
            .outerjoin(Rep, Rep.id == Call.rep_id).outerjoin(Team, Team.id == Rep.team_id)
            .where((Call.content_hash == content_hash) | Call.id.in_(in_flight)).limit(1))


def _deal_parties(svc: Service, deal_id: str) -> tuple[str | None, str | None]:
    with svc.catalog.session() as session:
        row = session.execute(select(Rep.external_id, Customer.external_id).select_from(Deal)
                              .outerjoin(Rep, Rep.id == Deal.rep_id).outerjoin(Customer, Customer.id == Deal.customer_id)
                              .where(Deal.external_id == deal_id)).first()
    return (row[0], row[1]) if row else (None, None)


def _call_exists(svc: Service, call_id: str) -> bool:
    with svc.catalog.session() as session:
        return session.scalar(select(Call.id).where(Call.external_id == call_id)) is not None


def _check_stage(svc: Service, call_id: str, stage: str | None) -> None:
    if stage is None:
        return
    with svc.catalog.session() as session:
        current = session.scalar(select(Call.stage).where(Call.external_id == call_id))
    if current is not None and current != stage:
        raise ApiError(409, f"form.stage: call {call_id!r} is in stage {current!r}; a call's stage is set once",
                       code="call_conflict")
