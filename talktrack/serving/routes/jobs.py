"""``GET /v1/jobs/{job_id}``: where a background job (an uploaded call, a voice note) stands.

A job is readable by an admin, and by keys of its creator's role and scope: the same rep for a
rep key, the same team for a manager key, the same role otherwise (the CRM reads what the CRM
posted). Its id is unguessable; a job of another scope answers 403.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi import Path as PathParam
from sqlalchemy import select

from talktrack.core.catalog.schema import Call, Job
from talktrack.serving.access import may_read_job
from talktrack.serving.auth import Allowed
from talktrack.serving.disclosure import public_text
from talktrack.serving.errors import ApiError
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.routes.params import ID_PATTERN

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
JobReader = Allowed("admin", "coach", "manager", "rep", "ml", "crm")


@router.get("/{job_id}", summary="A job's status, call, error, result and times")
def get_job(
    caller: JobReader, svc: ServiceDep, job_id: str = PathParam(min_length=1, max_length=32, pattern=ID_PATTERN)
) -> dict:
    with svc.catalog.session() as session:
        row = session.execute(select(Job, Call.external_id).outerjoin(Call, Job.call_id == Call.id)
                              .where(Job.external_id == job_id)).first()
    if row is None:
        raise ApiError(404, f"job {job_id!r} does not exist")
    job, call_id = row
    if not may_read_job(caller, (job.payload or {}).get("creator") or {}):
        raise ApiError(403, f"job {job_id!r} was submitted by another role or scope; a {caller.role} key "
                            "may not read it")
    return {
        "job_id": job.external_id, "kind": job.kind, "status": job.status, "call_id": call_id,
        "error": public_text(job.error), "result": job.result, "created_by": job.created_by,
        "attempts": (job.payload or {}).get("attempts", 0),
        "created_at": _iso(job.created_at), "started_at": _iso(job.started_at), "finished_at": _iso(job.finished_at),
        "call_url": f"/v1/calls/{call_id}" if call_id else None,
    }


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None
