"""``/v1/mentoring``: mentoring sessions on recorded calls, their key points, the manager's review, the
points ledger and its reversals (the rules: :mod:`talktrack.pipelines.management.mentoring`).

Who may do what, beyond the role of each route:

- **start** a session: a rep key as the mentor (``mentor_id`` is its own rep) on a call it can read; a
  manager on a call of its team for a mentor and mentee of its team; an admin anywhere;
- **annotate** and **submit**: the session's mentor (a rep key of that rep) or an admin;
- **confirm / reject**: the manager of the mentee's team (a manager key of that team) or an admin: a
  mentor's own manager reviewing a session with another team's mentee would be marking their own homework;
- **read** sessions: a rep those they mentor or are mentored in, a manager those of its team (as mentor's
  or mentee's), a director, coach and admin all;
- **ledger**: a rep its own entries, a manager its team's, a director and admin all; **reverse** an entry:
  the manager of the mentor's team or an admin, with a note.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from talktrack.pipelines.management import mentoring
from talktrack.pipelines.management.mentoring import MentoringError, MentoringNotFound
from talktrack.serving.access import Access
from talktrack.serving.auth import Allowed
from talktrack.serving.errors import ApiError
from talktrack.serving.keys import Caller
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.routes.params import ID_PATTERN, NUMBER_PATTERN

router = APIRouter(prefix="/v1/mentoring", tags=["mentoring"])
Starter = Allowed("admin", "manager", "rep")
Mentor = Allowed("admin", "rep")
Reviewer = Allowed("admin", "manager")
Reader = Allowed("admin", "coach", "director", "manager", "rep")
LedgerReader = Allowed("admin", "director", "manager", "rep")
STATE_CODES = {"session_not_open", "session_not_submitted", "too_few_annotations", "already_reversed",
               "not_reversible"}
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
SessionId = Path(min_length=1, max_length=18, pattern=NUMBER_PATTERN, description="The session's number.")


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN, description="The recorded call replayed.")
    mentee_id: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN, description="The rep being mentored.")
    mentor_id: str | None = Field(None, min_length=1, max_length=64, pattern=ID_PATTERN,
                                  description="The senior rep (a rep key: itself, the default).")


class AnnotationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at_s: float = Field(ge=0, le=86_400, description="Seconds into the call.")
    note: str = Field(min_length=1, max_length=20_000, description="What to hear there, and why it matters.")


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["confirm", "reject"]
    note: str = Field("", max_length=4000, description="Why (needed to reject).")


class ReverseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=4000, description="Why the points are taken back.")


def _actor(caller: Caller) -> str:
    return f"{caller.role}:{caller.actor}"


def _rule_error(exc: MentoringError) -> ApiError:
    return ApiError(409 if exc.code in STATE_CODES else 422, str(exc), code=exc.code)


def _owner(svc, session_id: str) -> dict:
    try:
        return mentoring.session_owner(svc.catalog, int(session_id))
    except MentoringNotFound as exc:
        raise ApiError(404, str(exc), code="session_not_found") from None


def _may_read(caller: Caller, owner: dict) -> bool:
    if caller.role == "rep":
        return caller.rep in (owner["mentor"], owner["mentee"])
    if caller.role == "manager":
        return caller.team in (owner["mentor_team"], owner["mentee_team"])
    return True


@router.post("/sessions", status_code=201, summary="Start a mentoring session on a recorded call")
def start(caller: Starter, svc: ServiceDep, body: SessionIn) -> dict:
    access = Access(svc.catalog, caller)
    mentor = body.mentor_id or caller.rep
    if caller.role == "rep" and mentor != caller.rep:
        raise ApiError(403, f"a rep key mentors as its own rep ({caller.rep}), not {mentor!r}")
    access.call(body.call_id, field="body.call_id")
    if mentor is None:
        raise ApiError(422, "body.mentor_id: name the senior rep who mentors")
    if caller.role == "manager":
        access.rep(mentor, write=True, field="body.mentor_id")
        access.rep(body.mentee_id, write=True, field="body.mentee_id")
    try:
        return mentoring.create_session(svc.catalog, svc.settings, call_id=body.call_id, mentor_id=mentor,
                                        mentee_id=body.mentee_id, actor=_actor(caller))
    except MentoringNotFound as exc:
        raise ApiError(422, f"body: {exc}") from None
    except MentoringError as exc:
        raise _rule_error(exc) from None


def _as_mentor(caller: Caller, owner: dict) -> None:
    if caller.role == "rep" and caller.rep != owner["mentor"]:
        raise ApiError(403, f"only the session's mentor adds key points to or submits session {owner['id']}")


@router.post("/sessions/{session_id}/annotations", status_code=201, summary="Add a timestamped key point")
def annotate(caller: Mentor, svc: ServiceDep, body: AnnotationIn, session_id: str = SessionId) -> dict:
    _as_mentor(caller, _owner(svc, session_id))
    try:
        return mentoring.add_annotation(svc.catalog, svc.settings, int(session_id), at_s=body.at_s, note=body.note,
                                        actor=_actor(caller))
    except MentoringError as exc:
        raise _rule_error(exc) from None


@router.post("/sessions/{session_id}/submit", summary="Send the session to the mentee's manager")
def submit(caller: Mentor, svc: ServiceDep, session_id: str = SessionId) -> dict:
    _as_mentor(caller, _owner(svc, session_id))
    try:
        return mentoring.submit_session(svc.catalog, svc.settings, int(session_id), actor=_actor(caller))
    except MentoringError as exc:
        raise _rule_error(exc) from None


@router.post("/sessions/{session_id}/review", summary="Confirm (points are earned) or reject a submitted session")
def review(caller: Reviewer, svc: ServiceDep, body: ReviewIn, session_id: str = SessionId) -> dict:
    owner = _owner(svc, session_id)
    if caller.role == "manager" and caller.team != owner["mentee_team"]:
        raise ApiError(403, f"session {owner['id']} is reviewed by the manager of the mentee's team, not by "
                            f"{caller.team}'s")
    try:
        return mentoring.review_session(svc.catalog, svc.settings, int(session_id), decision=body.decision,
                                        note=body.note, actor=_actor(caller))
    except MentoringError as exc:
        raise _rule_error(exc) from None


@router.get("/sessions", summary="Mentoring sessions in reach, newest first")
def sessions(
    caller: Reader,
    svc: ServiceDep,
    status: Literal["open", "submitted", "confirmed", "rejected"] | None = Query(None),
    team: str | None = Query(None, min_length=1, max_length=64, pattern=ID_PATTERN,
                             description="Mentor's or mentee's team; a manager key is pinned to its own."),
    rep: str | None = Query(None, min_length=1, max_length=64, pattern=ID_PATTERN,
                            description="Mentor or mentee; a rep key is pinned to itself."),
    call_id: str | None = Query(None, min_length=1, max_length=64, pattern=ID_PATTERN),
) -> dict:
    access = Access(svc.catalog, caller)
    team = access.team_filter(team) if caller.role != "rep" else None
    if caller.role == "rep":
        if rep is not None and rep != caller.rep:
            raise ApiError(403, f"a rep key sees only its own sessions ({caller.rep}), not {rep!r}")
        rep = caller.rep
    found = mentoring.list_sessions(svc.catalog, status=status, team=team, rep=rep, call=call_id)
    return {"scope": {"team": team, "rep": rep}, "rules": svc.settings.management.mentoring.model_dump(
        mode="json", exclude={"webhook"}), "sessions": found}


@router.get("/sessions/{session_id}", summary="One session: its key points, points and audit trail")
def session_view(caller: Reader, svc: ServiceDep, session_id: str = SessionId) -> dict:
    owner = _owner(svc, session_id)
    if not _may_read(caller, owner):
        raise ApiError(403, f"a {caller.role} key may not read mentoring session {owner['id']}")
    return mentoring.get_session(svc.catalog, int(session_id))


@router.get("/ledger", summary="The points ledger per rep, team and month, with its entries")
def ledger_view(
    caller: LedgerReader,
    svc: ServiceDep,
    rep: str | None = Query(None, min_length=1, max_length=64, pattern=ID_PATTERN),
    team: str | None = Query(None, min_length=1, max_length=64, pattern=ID_PATTERN),
    month: str | None = Query(None, pattern=MONTH_PATTERN, description="YYYY-MM (default: every month)."),
) -> dict:
    access = Access(svc.catalog, caller)
    rep = access.pin_rep(rep)
    team = access.team_filter(team) if caller.role != "rep" else None
    return mentoring.ledger(svc.catalog, month=month, rep=rep, team=team)


@router.post("/ledger/{entry_id}/reverse", status_code=201, summary="Reverse a ledger entry (a new, negative entry)")
def reverse(caller: Reviewer, svc: ServiceDep, body: ReverseIn,
            entry_id: str = Path(min_length=1, max_length=18, pattern=NUMBER_PATTERN,
                                 description="The ledger entry's number.")) -> dict:
    try:
        owner = mentoring.entry_owner(svc.catalog, int(entry_id))
    except MentoringNotFound as exc:
        raise ApiError(404, str(exc), code="entry_not_found") from None
    if caller.role == "manager" and caller.team != owner["team"]:
        raise ApiError(403, f"ledger entry {owner['id']} is of another team's rep: its manager reverses it")
    try:
        return mentoring.reverse_entry(svc.catalog, svc.settings, int(entry_id), note=body.note, actor=_actor(caller))
    except MentoringError as exc:
        raise _rule_error(exc) from None
