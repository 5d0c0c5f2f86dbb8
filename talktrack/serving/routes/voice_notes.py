"""``POST /v1/crm/voice-notes``: a rep's field note, spoken or typed, read into CRM fields.

A recording (multipart ``file``) is queued as a job (202): the bundled transcriber turns it into
text (one speaker, PII masked), then the field-note reader finds the objections the customer
raised, the decision-chain roles named and the next action with its date; ``GET /v1/jobs/{id}``
has them in ``result``. A typed note (``text``) is read at once (200) into the same fields.
Roles: admin, crm, manager (their team's deals), rep (own deals).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy import select

from talktrack.core.catalog.schema import Deal, Rep, Team
from talktrack.serving import jobs
from talktrack.serving.auth import Allowed
from talktrack.serving.errors import ApiError
from talktrack.serving.keys import Caller
from talktrack.serving.routes.calls import UploadLimitRoute, job_worker, may_see, save_upload
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.state import Service

router = APIRouter(prefix="/v1/crm/voice-notes", tags=["CRM"], route_class=UploadLimitRoute)
NoteTaker = Allowed("admin", "crm", "manager", "rep")
MAX_TEXT_CHARS = 20_000


@router.post(
    "",
    status_code=202,
    summary="A field voice note (202 + job) or typed note (200) read into CRM fields",
    responses={200: {"description": "A typed note, read at once: objections, roles, next action"}},
)
def post_voice_note(
    caller: NoteTaker,
    svc: ServiceDep,
    file: UploadFile | None = File(None, description="The spoken note (audio); or send `text`."),
    text: str | None = Form(None, max_length=MAX_TEXT_CHARS, description="A typed note instead of audio."),
    deal_id: str | None = Form(None, max_length=64, description="The deal the note is about."),
    reference_date: date | None = Form(None, description="The day the note was taken (resolves 'next Tuesday')."),
    language: str | None = Form(None, max_length=8, pattern=r"^(?:[a-z]{2,3}|mixed)$"),
) -> JSONResponse:
    has_file = file is not None and bool(file.filename)
    if has_file == bool(text and text.strip()):
        raise ApiError(422, "send either `file` (a recording of the note) or `text` (a typed note), not both or none")
    _check_deal(svc, caller, deal_id)
    if not has_file:
        result = jobs.voice_note_result(svc, text.strip(), reference_date, deal_id)
        return JSONResponse({"status": "done", "job_id": None, "result": result}, status_code=200)
    path, _ = save_upload(svc, file, svc.workspace.audio_dir / "voice-notes")
    payload = {"audio_path": str(path), "deal_id": deal_id, "language": language,
               "reference_date": reference_date.isoformat() if reference_date else None}
    job_id = job_worker(svc).submit(jobs.VOICE_NOTE_JOB, payload, call_pk=None, creator=caller)
    return JSONResponse({"status": "queued", "job_id": job_id, "status_url": f"/v1/jobs/{job_id}"},
                        status_code=202)


def _check_deal(svc: Service, caller: Caller, deal_id: str | None) -> None:
    """422 for an unknown deal; 403 for a deal of another rep (rep key) or team (manager key)."""
    if deal_id is None:
        return
    with svc.catalog.session() as session:
        owner = session.execute(select(Rep.external_id, Team.external_id).select_from(Deal)
                                .join(Rep, Deal.rep_id == Rep.id).join(Team, Rep.team_id == Team.id)
                                .where(Deal.external_id == deal_id)).first()
    if owner is None:
        raise ApiError(422, f"form.deal_id: deal {deal_id!r} is not in the catalog")
    if not may_see(caller, *owner):
        raise ApiError(403, f"deal {deal_id!r} belongs to rep {owner[0]!r}; a {caller.role} key may not add notes to it")
