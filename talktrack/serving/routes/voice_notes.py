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

from talktrack.serving import jobs
from talktrack.serving.access import Access
from talktrack.serving.auth import Allowed
from talktrack.serving.errors import ApiError
from talktrack.serving.routes.calls import job_worker
from talktrack.serving.quotas import charge
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.routes.params import ID_PATTERN
from talktrack.serving.uploads import UploadLimitRoute, save_upload

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
    deal_id: str | None = Form(None, max_length=64, pattern=ID_PATTERN,
                               description="The deal the note is about."),
    reference_date: date | None = Form(None, description="The day the note was taken (resolves 'next Tuesday')."),
    language: str | None = Form(None, max_length=8, pattern=r"^(?:[a-z]{2,3}|mixed)$"),
) -> JSONResponse:
    has_file = file is not None and bool(file.filename)
    if has_file == bool(text and text.strip()):
        raise ApiError(422, "send either `file` (a recording of the note) or `text` (a typed note), not both or none")
    if deal_id is not None:
        Access(svc.catalog, caller).deal(deal_id, write=True, field="form.deal_id")
    if not has_file:
        result = jobs.voice_note_result(svc, text.strip(), reference_date, deal_id)
        return JSONResponse({"status": "done", "job_id": None, "result": result}, status_code=200)
    charge(svc, caller, "uploads")  # a recording costs a transcription; a typed note does not count
    path, _ = save_upload(svc, file, svc.workspace.audio_dir / "voice-notes")
    payload = {"audio_path": str(path), "deal_id": deal_id, "language": language,
               "reference_date": reference_date.isoformat() if reference_date else None}
    job_id = job_worker(svc).submit(jobs.VOICE_NOTE_JOB, payload, call_pk=None, creator=caller)
    return JSONResponse({"status": "queued", "job_id": job_id, "status_url": f"/v1/jobs/{job_id}"},
                        status_code=202)
