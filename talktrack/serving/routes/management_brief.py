"""``GET /v1/management/brief`` and ``POST /v1/management/brief/answers``: the manager's daily brief.

The brief is team data: a manager key gets its own team's (asking for another team is a 403), a
director or admin every team's or the one named (``team``) or a manager's (``manager``). JSON by
default; ``format=markdown`` gives the e-mail-ready text of :mod:`talktrack.pipelines.management.brief_export`.

Answers to "which customer surprised you today?" come from the rep (a rep key answers for itself), or
from a manager, coach or admin for a rep they reach; the text is typed (``text``) or a voice note's
transcript (``voice_note_job_id``: a finished ``POST /v1/crm/voice-notes`` job the caller may read).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from talktrack.core.catalog.schema import Job
from talktrack.core.clock import utcnow
from talktrack.pipelines.management import brief as daily
from talktrack.pipelines.management import surprises
from talktrack.pipelines.management.brief_export import brief_markdown
from talktrack.pipelines.semantic.moments import moment_embedder
from talktrack.serving import jobs
from talktrack.serving.access import Access, may_read_job
from talktrack.serving.auth import Allowed
from talktrack.serving.errors import ApiError, NotReady
from talktrack.serving.keys import Caller
from talktrack.serving.routes.capability import estimates
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.routes.params import ID_PATTERN
from talktrack.serving.state import Service

router = APIRouter(prefix="/v1/management/brief", tags=["management"])
BriefReader = Allowed("admin", "director", "manager")
Answerer = Allowed("admin", "coach", "manager", "rep")


class SurpriseAnswerIn(BaseModel):
    text: str | None = Field(None, min_length=1, max_length=2000, description="The answer, typed.")
    voice_note_job_id: str | None = Field(None, min_length=1, max_length=32, pattern=ID_PATTERN,
                                          description="Or: a finished voice-note job whose transcript is the answer.")
    rep_id: str | None = Field(None, min_length=1, max_length=64, pattern=ID_PATTERN,
                               description="Who answers (a rep key: itself, the default).")
    customer_id: str | None = Field(None, min_length=1, max_length=64, pattern=ID_PATTERN)
    answered_on: date | None = Field(None, description="The day it speaks of (default: today, UTC).")
    channel: Literal["api", "workbench"] = "api"


@router.get("", summary="The daily brief: lead pool, stages over their timers, capability shortfalls, surprises",
            response_model=None, responses={200: {"content": {"text/markdown": {}}}})
def brief_view(
    caller: BriefReader,
    svc: ServiceDep,
    team: str | None = Query(None, min_length=1, max_length=64, pattern=ID_PATTERN,
                             description="Only this team; a manager key is pinned to its own."),
    manager: str | None = Query(None, min_length=1, max_length=64, pattern=ID_PATTERN,
                                description="Only the teams this manager leads (teams' manager_id)."),
    as_of: date | None = Query(None, description="The day of the brief (YYYY-MM-DD; default: today, UTC)."),
    output: Literal["json", "markdown"] = Query("json", alias="format", description="json, or markdown for e-mail."),
) -> dict | PlainTextResponse:
    teams = _teams(svc, caller, team, manager)
    day = as_of or utcnow().date()
    briefs = [_brief(svc, t, day) for t in teams]
    if output == "markdown":
        return PlainTextResponse("\n".join(brief_markdown(b) for b in briefs), media_type="text/markdown; charset=utf-8")
    return {"as_of": day.isoformat(), "briefs": briefs}


@router.post("/answers", status_code=201, summary="A rep's answer to 'which customer surprised you today?'")
def post_answer(caller: Answerer, svc: ServiceDep, body: SurpriseAnswerIn) -> dict:
    if (body.text is None) == (body.voice_note_job_id is None):
        raise ApiError(422, "send either `text` or `voice_note_job_id`, not both or none")
    access = Access(svc.catalog, caller)
    rep = access.pin_rep(body.rep_id)
    if rep is None:
        raise ApiError(422, "body.rep_id: name the rep who answers")
    access.rep(rep, write=True, field="body.rep_id")
    if body.customer_id is not None:
        access.customer(body.customer_id, field="body.customer_id")
    text, channel = (body.text, body.channel) if body.text is not None else (_voice_note(svc, caller, body.voice_note_job_id), "voice_note")
    try:
        return surprises.record_answer(svc.catalog, svc.settings, rep, text, actor=f"key:{caller.name or caller.role}",
                                       channel=channel, answered_on=body.answered_on, customer=body.customer_id)
    except surprises.AnswerError as exc:
        raise ApiError(422, str(exc)) from None


def _teams(svc: Service, caller: Caller, team: str | None, manager: str | None) -> list[str]:
    access = Access(svc.catalog, caller)
    pinned = access.team_filter(team)
    try:
        led = [row["team"] for row in daily.manager_teams(svc.catalog, manager)]
    except daily.BriefError as exc:
        raise ApiError(404, str(exc), code="manager_not_found") from None
    chosen = [t for t in led if pinned is None or t == pinned]
    if manager is not None and pinned is not None and not chosen:
        raise ApiError(403, f"manager {manager!r} does not lead team {pinned!r}")
    return chosen


def _brief(svc: Service, team: str, day: date) -> dict:
    embedder = moment_embedder(svc.settings, svc.workspace)
    known = svc.shared("brief.known_examples", lambda: surprises.known_examples(svc.settings, embedder))
    try:
        frame = estimates(svc)
    except NotReady:
        frame = None   # the capability check says it cannot be made; the other checks still stand
    return daily.daily_brief(svc.catalog, svc.settings, team=team, as_of=day, estimates=frame, embedder=embedder,
                             known=known)


def _voice_note(svc: Service, caller: Caller, job_id: str) -> str:
    with svc.catalog.session() as session:
        job = session.scalar(select(Job).where(Job.external_id == job_id))
        if job is None or job.kind != jobs.VOICE_NOTE_JOB:
            raise ApiError(422, f"body.voice_note_job_id: no voice-note job {job_id!r}")
        if not may_read_job(caller, (job.payload or {}).get("creator") or {}):
            raise ApiError(403, f"voice-note job {job_id!r} was submitted by another role or scope")
        if job.status != "done" or not (job.result or {}).get("transcript"):
            raise ApiError(409, f"voice-note job {job_id!r} is {job.status}: answer once it is done", code="not_ready")
        return job.result["transcript"]
