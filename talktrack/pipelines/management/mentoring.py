"""Mentoring points (带教积分): a senior rep replays a recorded call with a mentee, annotates its key points,
and earns points once the mentee's manager confirms the session.

The life of a session, each step a row of ``mentoring_events`` (who, when, what)::

    create (mentor, mentee, call) -> annotate ... -> submit -> confirm | reject (with a note)
                                                                 |
                                         ledger entry "earned" (points, capped per month)
                                                                 |
                                           reversal (a new entry, negative points, with a note)

The rules are ``management.mentoring`` (:mod:`talktrack.core.config.mentoring`): only a senior person
may mentor (tenure and role on the day the session is created), never themself; the call must be of a
rep of the mentor's team (when ``call_of_mentor_team``); a session needs ``min_annotations`` key points
before it is submitted; a confirmed session earns ``points_per_session`` in the month it is confirmed,
less whatever would take the mentor past ``monthly_cap`` that month (a capped session is still recorded,
with 0 points, so the work is visible). A reversal is booked in the month it is made: the month already
exported to HR stays as it was paid, and the next export carries the correction.

Who may do what is the caller's concern (routes and CLI check the role and team first): the functions
here check the rules of the session itself.

Example::

    s = create_session(catalog, settings, call_id="CALL-000012", mentor_id="REP-007", mentee_id="REP-031",
                       actor="rep:REP-007")
    for at_s, note in ((12.5, "asks for the budget owner"), (48.0, "lets the silence work"), (95.0, "next step")):
        add_annotation(catalog, settings, s["id"], at_s=at_s, note=note, actor="rep:REP-007")
    submit_session(catalog, settings, s["id"], actor="rep:REP-007")
    review_session(catalog, settings, s["id"], decision="confirm", note="", actor="manager:TEAM-01")
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Rep, Team
from talktrack.core.catalog.schema.mentoring import (
    MentoringAnnotation, MentoringEvent, MentoringPoints, MentoringSession,
)
from talktrack.core.clock import utcnow
from talktrack.core.config import Settings

DECISIONS = ("confirm", "reject")


class MentoringNotFound(LookupError):
    """No such session, ledger entry, call or rep."""


class MentoringError(ValueError):
    """A step the rules refuse; ``code`` names which rule (for the API's error code)."""

    def __init__(self, message: str, code: str = "mentoring_rule") -> None:
        super().__init__(message)
        self.code = code


def month_of(moment: datetime | date) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def tenure_months(hired: date, on: date) -> int:
    """Whole months from ``hired`` to ``on`` (a month counts once its day of the month is reached)."""
    months = (on.year - hired.year) * 12 + on.month - hired.month
    return months - (on.day < hired.day)


def senior_reason(settings: Settings, role: str, hired: date | None, on: date) -> str | None:
    """Why this person may not mentor (None: they may)."""
    rule = settings.management.mentoring.senior
    if role not in rule.roles:
        return f"role {role!r} may not mentor (management.mentoring.senior.roles: {', '.join(rule.roles)})"
    if hired is None:
        return "no hiring date in the CRM, so the tenure cannot be shown"
    months = tenure_months(hired, on)
    if months < rule.min_tenure_months:
        return (f"{months} months of tenure, under the {rule.min_tenure_months} a mentor needs "
                f"(management.mentoring.senior.min_tenure_months)")
    return None


def _rep(session, external_id: str, what: str) -> Rep:
    rep = session.scalar(select(Rep).where(Rep.external_id == external_id))
    if rep is None:
        raise MentoringNotFound(f"{what} {external_id!r} is not in the catalog")
    return rep


def _audit(session, actor: str, action: str, now: datetime, *, session_id: int | None = None,
           export_id: str | None = None, **detail) -> None:
    session.add(MentoringEvent(session_id=session_id, export_id=export_id, action=action, actor=actor, at=now,
                               detail=detail))


def create_session(catalog: Catalog, settings: Settings, *, call_id: str, mentor_id: str, mentee_id: str,
                   actor: str, today: date | None = None) -> dict:
    """Open a session on a recorded call; refuses self-mentoring, a mentor who is not senior, and a call
    outside the mentor's team (when the rules ask for it)."""
    rules = settings.management.mentoring
    now = utcnow()
    today = today or now.date()
    if mentor_id == mentee_id:
        raise MentoringError(f"{mentor_id} cannot mentor themself", code="self_mentoring")
    with catalog.session() as session:
        mentor, mentee = _rep(session, mentor_id, "mentor"), _rep(session, mentee_id, "mentee")
        call = session.scalar(select(Call).where(Call.external_id == call_id))
        if call is None:
            raise MentoringNotFound(f"call {call_id!r} is not in the catalog")
        reason = senior_reason(settings, mentor.role, mentor.hired_at, today)
        if reason:
            raise MentoringError(f"{mentor_id} is not a senior rep: {reason}", code="not_senior")
        call_team = session.scalar(select(Rep.team_id).where(Rep.id == call.rep_id)) if call.rep_id else None
        if rules.call_of_mentor_team and call_team != mentor.team_id:
            raise MentoringError(f"call {call_id} is not of a rep of {mentor_id}'s team "
                                 "(management.mentoring.call_of_mentor_team)", code="call_not_of_team")
        row = MentoringSession(call_id=call.id, mentor_id=mentor.id, mentee_id=mentee.id, status="open",
                               created_at=now, created_by=actor)
        session.add(row)
        session.flush()
        _audit(session, actor, "created", now, session_id=row.id, call=call_id, mentor=mentor_id, mentee=mentee_id)
        return _session_dict(session, row)


def _locked(session, session_id: int) -> MentoringSession:
    row = session.get(MentoringSession, session_id, with_for_update=True)
    if row is None:
        raise MentoringNotFound(f"mentoring session {session_id} does not exist")
    return row


def add_annotation(catalog: Catalog, settings: Settings, session_id: int, *, at_s: float, note: str,
                   actor: str) -> dict:
    """A key point at ``at_s`` seconds into the call; only while the session is open."""
    rules = settings.management.mentoring
    note = (note or "").strip()
    if not note:
        raise MentoringError("a key point needs a note saying what to hear there", code="empty_note")
    if len(note) > rules.max_note_chars:
        raise MentoringError(f"a note has at most {rules.max_note_chars} characters, not {len(note)}", code="long_note")
    now = utcnow()
    with catalog.session() as session:
        row = _locked(session, session_id)
        if row.status != "open":
            raise MentoringError(f"mentoring session {session_id} is {row.status}: key points are added while it is "
                                 "open", code="session_not_open")
        duration = session.scalar(select(Call.duration_s).where(Call.id == row.call_id))
        if at_s < 0 or (duration is not None and at_s > duration):
            bound = f"0 to {duration:.1f} s" if duration is not None else "at least 0 s"
            raise MentoringError(f"at_s {at_s:g} is outside the call ({bound})", code="outside_call")
        session.add(MentoringAnnotation(session_id=row.id, at_s=float(at_s), note=note, created_at=now,
                                        created_by=actor))
        _audit(session, actor, "annotated", now, session_id=row.id, at_s=float(at_s), note=note)
        return _session_dict(session, row)


def submit_session(catalog: Catalog, settings: Settings, session_id: int, *, actor: str) -> dict:
    """The mentor is done: the session goes to the mentee's manager (needs ``min_annotations`` key points)."""
    needed = settings.management.mentoring.min_annotations
    now = utcnow()
    with catalog.session() as session:
        row = _locked(session, session_id)
        if row.status != "open":
            raise MentoringError(f"mentoring session {session_id} is already {row.status}", code="session_not_open")
        count = session.scalar(select(func.count()).where(MentoringAnnotation.session_id == row.id))
        if count < needed:
            raise MentoringError(f"mentoring session {session_id} has {count} key points; it needs {needed} "
                                 "(management.mentoring.min_annotations)", code="too_few_annotations")
        row.status, row.submitted_at = "submitted", now
        _audit(session, actor, "submitted", now, session_id=row.id, annotations=count)
        return _session_dict(session, row)


def review_session(catalog: Catalog, settings: Settings, session_id: int, *, decision: str, note: str,
                   actor: str) -> dict:
    """The mentee's manager confirms (points are earned now) or rejects (a note says why) a submitted session."""
    if decision not in DECISIONS:
        raise MentoringError(f"decision {decision!r} is not one of: {', '.join(DECISIONS)}", code="bad_decision")
    note = (note or "").strip()
    if decision == "reject" and not note:
        raise MentoringError("rejecting a session needs a note saying why", code="empty_note")
    now = utcnow()
    with catalog.session() as session:
        row = _locked(session, session_id)
        if row.status != "submitted":
            raise MentoringError(f"mentoring session {session_id} is {row.status}: only a submitted session is "
                                 "confirmed or rejected", code="session_not_submitted")
        row.status = "confirmed" if decision == "confirm" else "rejected"
        row.reviewed_at, row.reviewed_by, row.review_note = now, actor, note or None
        _audit(session, actor, row.status, now, session_id=row.id, note=note or None)
        if decision == "confirm":
            _earn(session, settings, row, actor, now)
        return _session_dict(session, row)


def _earn(session, settings: Settings, row: MentoringSession, actor: str, now: datetime) -> None:
    rules = settings.management.mentoring
    month = month_of(now)
    earned = session.scalar(select(func.coalesce(func.sum(MentoringPoints.points), 0)).where(
        MentoringPoints.rep_id == row.mentor_id, MentoringPoints.month == month,
        MentoringPoints.kind == "earned")) or 0
    points = max(0, min(rules.points_per_session, rules.monthly_cap - earned))
    note = None if points == rules.points_per_session else \
        f"monthly cap {rules.monthly_cap}: {earned} already earned in {month}, {points} of {rules.points_per_session}"
    entry = MentoringPoints(session_id=row.id, rep_id=row.mentor_id, month=month, kind="earned", points=points,
                            at=now, actor=actor, note=note)
    session.add(entry)
    session.flush()
    _audit(session, actor, "earned", now, session_id=row.id, entry=entry.id, points=points, month=month, capped=note)


def reverse_entry(catalog: Catalog, settings: Settings, entry_id: int, *, note: str, actor: str) -> dict:
    """Undo an earned entry with a new, negative one booked this month (the original stays as it was)."""
    note = (note or "").strip()
    if not note:
        raise MentoringError("a reversal needs a note saying why", code="empty_note")
    now = utcnow()
    with catalog.session() as session:
        entry = session.get(MentoringPoints, entry_id, with_for_update=True)
        if entry is None:
            raise MentoringNotFound(f"ledger entry {entry_id} does not exist")
        if entry.kind != "earned":
            raise MentoringError(f"ledger entry {entry_id} is itself a reversal", code="not_reversible")
        done = session.scalar(select(MentoringPoints.id).where(MentoringPoints.reverses_id == entry.id))
        if done is not None:
            raise MentoringError(f"ledger entry {entry_id} was already reversed by entry {done}", code="already_reversed")
        reversal = MentoringPoints(session_id=entry.session_id, rep_id=entry.rep_id, month=month_of(now),
                                   kind="reversal", points=-entry.points, reverses_id=entry.id, at=now, actor=actor,
                                   note=note)
        session.add(reversal)
        session.flush()
        _audit(session, actor, "reversed", now, session_id=entry.session_id, entry=reversal.id, reverses=entry.id,
               points=-entry.points, month=reversal.month, note=note)
        return _entry_dicts(session, [reversal])[0]


# -- reading ----------------------------------------------------------------------------------------
def session_owner(catalog: Catalog, session_id: int) -> dict:
    """The session's people and teams, for the role check before a step (``MentoringNotFound`` if none)."""
    with catalog.session() as session:
        row = session.get(MentoringSession, session_id)
        if row is None:
            raise MentoringNotFound(f"mentoring session {session_id} does not exist")
        people = _people(session, {row.mentor_id, row.mentee_id})
        return {"id": row.id, "status": row.status, "mentor": people[row.mentor_id][0],
                "mentor_team": people[row.mentor_id][2], "mentee": people[row.mentee_id][0],
                "mentee_team": people[row.mentee_id][2]}


def entry_owner(catalog: Catalog, entry_id: int) -> dict:
    with catalog.session() as session:
        entry = session.get(MentoringPoints, entry_id)
        if entry is None:
            raise MentoringNotFound(f"ledger entry {entry_id} does not exist")
        rep, _, team = _people(session, {entry.rep_id})[entry.rep_id]
        return {"id": entry.id, "rep": rep, "team": team, "session": entry.session_id}


def get_session(catalog: Catalog, session_id: int) -> dict:
    with catalog.session() as session:
        row = session.get(MentoringSession, session_id)
        if row is None:
            raise MentoringNotFound(f"mentoring session {session_id} does not exist")
        return _session_dict(session, row, events=True)


def list_sessions(catalog: Catalog, *, status: str | None = None, team: str | None = None, rep: str | None = None,
                  call: str | None = None, limit: int = 200) -> list[dict]:
    """Sessions, newest first. ``team``: the mentor's or the mentee's is that team; ``rep``: mentor or mentee."""
    mentor, mentee = aliased(Rep), aliased(Rep)
    query = (select(MentoringSession).join(mentor, mentor.id == MentoringSession.mentor_id)
             .join(mentee, mentee.id == MentoringSession.mentee_id)
             .order_by(MentoringSession.id.desc()).limit(limit))
    if status is not None:
        query = query.where(MentoringSession.status == status)
    if team is not None:
        team_pk = select(Team.id).where(Team.external_id == team).scalar_subquery()
        query = query.where((mentor.team_id == team_pk) | (mentee.team_id == team_pk))
    if rep is not None:
        query = query.where((mentor.external_id == rep) | (mentee.external_id == rep))
    if call is not None:
        query = query.where(MentoringSession.call_id == select(Call.id).where(Call.external_id == call)
                            .scalar_subquery())
    with catalog.session() as session:
        return [_session_dict(session, row) for row in session.execute(query).scalars()]


def ledger(catalog: Catalog, *, month: str | None = None, rep: str | None = None, team: str | None = None) -> dict:
    """Ledger entries (oldest first) and the totals per rep: earned, reversed, net, confirmed sessions."""
    query = select(MentoringPoints).join(Rep, Rep.id == MentoringPoints.rep_id).order_by(MentoringPoints.id)
    if month is not None:
        query = query.where(MentoringPoints.month == month)
    if rep is not None:
        query = query.where(Rep.external_id == rep)
    if team is not None:
        query = query.where(Rep.team_id == select(Team.id).where(Team.external_id == team).scalar_subquery())
    with catalog.session() as session:
        entries = _entry_dicts(session, session.execute(query).scalars().all())
    totals: dict = defaultdict(lambda: {"earned": 0, "reversed": 0, "net": 0, "sessions": 0})
    for entry in entries:
        cell = totals[(entry["rep_id"], entry["rep_name"], entry["team"])]
        cell["earned" if entry["kind"] == "earned" else "reversed"] += entry["points"]
        cell["net"] += entry["points"]
        cell["sessions"] += entry["kind"] == "earned"
    reps = [{"rep_id": r, "rep_name": n, "team": t, **cell} for (r, n, t), cell in sorted(totals.items())]
    return {"month": month, "rep": rep, "team": team, "reps": reps, "entries": entries,
            "total_points": sum(e["points"] for e in entries)}


def _people(session, rep_pks: set[int]) -> dict[int, tuple[str, str, str | None]]:
    rows = session.execute(select(Rep.id, Rep.external_id, Rep.name, Team.external_id)
                           .outerjoin(Team, Team.id == Rep.team_id).where(Rep.id.in_(rep_pks))).all()
    return {pk: (ext, name, team) for pk, ext, name, team in rows}


def _stamp(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _session_dict(session, row: MentoringSession, events: bool = False) -> dict:
    people = _people(session, {row.mentor_id, row.mentee_id})
    call = session.execute(select(Call.external_id, Call.duration_s).where(Call.id == row.call_id)).one()
    notes = session.execute(select(MentoringAnnotation).where(MentoringAnnotation.session_id == row.id)
                            .order_by(MentoringAnnotation.at_s, MentoringAnnotation.id)).scalars().all()
    entries = session.execute(select(MentoringPoints).where(MentoringPoints.session_id == row.id)
                              .order_by(MentoringPoints.id)).scalars().all()
    out = {"id": row.id, "status": row.status, "call_id": call[0], "call_duration_s": call[1],
           "mentor": {"rep_id": people[row.mentor_id][0], "name": people[row.mentor_id][1],
                      "team": people[row.mentor_id][2]},
           "mentee": {"rep_id": people[row.mentee_id][0], "name": people[row.mentee_id][1],
                      "team": people[row.mentee_id][2]},
           "created_at": _stamp(row.created_at), "created_by": row.created_by,
           "submitted_at": _stamp(row.submitted_at), "reviewed_at": _stamp(row.reviewed_at),
           "reviewed_by": row.reviewed_by, "review_note": row.review_note,
           "annotations": [{"id": a.id, "at_s": a.at_s, "note": a.note, "created_at": _stamp(a.created_at),
                            "created_by": a.created_by} for a in notes],
           "points": sum(e.points for e in entries)}
    if events:
        trail = session.execute(select(MentoringEvent).where(MentoringEvent.session_id == row.id)
                                .order_by(MentoringEvent.id)).scalars().all()
        out["events"] = [{"action": e.action, "actor": e.actor, "at": _stamp(e.at), "detail": e.detail} for e in trail]
    return out


def _entry_dicts(session, entries: list[MentoringPoints]) -> list[dict]:
    people = _people(session, {e.rep_id for e in entries}) if entries else {}
    return [{"id": e.id, "session_id": e.session_id, "rep_id": people[e.rep_id][0], "rep_name": people[e.rep_id][1],
             "team": people[e.rep_id][2], "month": e.month, "kind": e.kind, "points": e.points,
             "reverses": e.reverses_id, "at": _stamp(e.at), "actor": e.actor, "note": e.note} for e in entries]
