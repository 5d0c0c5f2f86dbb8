"""What the call routes read from the catalog: a call's summary, the filtered list, its detail,
transcript and moments, each as the JSON the API answers.

The routes in :mod:`talktrack.serving.routes.calls` stay thin: they check who may read what
(:class:`~talktrack.serving.access.Access`) and hand the checked ids here. :func:`visible_call`
is the one place a single call is read, and it asks the access policy first, so no query of
this module runs for a call the caller may not read. Error texts pass through
:func:`~talktrack.serving.disclosure.public_text`, so no server path leaves the service.

Example::

    row = visible_call(svc.catalog, caller, "CALL-000001")   # 404 unknown, 403 out of reach
    require_content(row)                                      # 409 while it is being transcribed
    answer = transcript(svc.catalog, row)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Customer, Deal, Job, Moment, Rep, Speaker, Team, Utterance
from talktrack.pipelines.ingest import sink
from talktrack.serving.access import Access
from talktrack.serving.disclosure import public_text
from talktrack.serving.errors import NotReady
from talktrack.serving.keys import Caller

_RepT, _TeamT, _DealT, _CustomerT = aliased(Rep), aliased(Team), aliased(Deal), aliased(Customer)
# A summary row: (Call, rep id, team id, deal id, customer id), the ids external.
SUMMARY_COLUMNS = (Call, _RepT.external_id, _TeamT.external_id, _DealT.external_id, _CustomerT.external_id)


@dataclass(frozen=True)
class CallFilter:
    """What ``GET /v1/calls`` narrows the list by (None: no filter); rep and team already pinned by access."""

    rep: str | None = None
    team: str | None = None
    deal: str | None = None
    status: str | None = None
    stage: str | None = None
    language: str | None = None
    has_audio: bool | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def summary_query():
    """The summary columns of every call, its rep, team, deal and customer joined by their external ids."""
    return (select(*SUMMARY_COLUMNS)
            .outerjoin(_RepT, Call.rep_id == _RepT.id).outerjoin(_TeamT, _RepT.team_id == _TeamT.id)
            .outerjoin(_DealT, Call.deal_id == _DealT.id).outerjoin(_CustomerT, Call.customer_id == _CustomerT.id))


def summary(row) -> dict:
    """One summary row as the API shows a call in lists and at the top of its detail."""
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


def visible_call(catalog: Catalog, caller: Caller, call_id: str):
    """The call's summary row, when it exists (404) and the caller may read it (403)."""
    Access(catalog, caller).call(call_id)
    with catalog.session() as session:
        return session.execute(summary_query().where(Call.external_id == call_id)).one()


def require_content(row) -> None:
    """409 while a call has no transcript yet (being transcribed, or failed)."""
    call = row[0]
    if call.status in ("pending", "processing"):
        raise NotReady(f"call {call.external_id!r} is still being transcribed (status {call.status}); "
                       "follow its job and retry when it is done")
    if call.status == "failed":
        raise NotReady(f"call {call.external_id!r} failed: {public_text(call.error)}", code="call_failed")


def list_calls(catalog: Catalog, filters: CallFilter, *, limit: int, offset: int) -> tuple[int, list[dict]]:
    """(how many calls pass ``filters``, the summaries of ``limit`` of them from ``offset``, by call pk)."""
    conditions = call_conditions(filters)
    with catalog.session() as session:
        total = session.scalar(select(func.count(Call.id)).where(*conditions))
        rows = session.execute(summary_query().where(*conditions).order_by(Call.id).limit(limit).offset(offset)).all()
    return total, [summary(row) for row in rows]


def call_conditions(filters: CallFilter) -> list:
    """The filters as conditions on the calls table alone (external ids through id subqueries), so the
    count reads one index and never joins the rep, team, deal and customer of every matching call
    (at 100k calls, counting half of them with those joins took ~100 ms of CPU on SQLite)."""
    conditions = []
    if filters.rep is not None:
        conditions.append(Call.rep_id.in_(select(Rep.id).where(Rep.external_id == filters.rep)))
    if filters.team is not None:
        conditions.append(Call.rep_id.in_(select(Rep.id).join(Team, Team.id == Rep.team_id)
                                          .where(Team.external_id == filters.team)))
    if filters.deal is not None:
        conditions.append(Call.deal_id.in_(select(Deal.id).where(Deal.external_id == filters.deal)))
    narrow = bool(conditions)  # a rep, team or deal: a few hundred calls at most
    for column, value in ((Call.status, filters.status), (Call.stage, filters.stage),
                          (Call.language, filters.language)):
        if value is not None:
            # With a narrow filter, `column || ''` keeps the planner off this column's index: SQLite
            # plans without statistics and would walk half the calls by language instead.
            conditions.append((column.concat("") if narrow else column) == value)
    if filters.has_audio is not None:
        conditions.append(Call.audio_path.is_not(None) if filters.has_audio else Call.audio_path.is_(None))
    return conditions


def call_detail(catalog: Catalog, row) -> dict:
    """The summary plus the call's speakers, its utterance count, its latest job and its processing attempts."""
    call = row[0]
    with catalog.session() as session:
        speakers = session.execute(
            select(Speaker.label, Speaker.role, Speaker.role_confidence, Rep.external_id)
            .outerjoin(Rep, Speaker.rep_id == Rep.id).where(Speaker.call_id == call.id).order_by(Speaker.label)
        ).all()
        utterances = session.scalar(select(func.count(Utterance.id)).where(Utterance.call_id == call.id))
        job = session.execute(select(Job.external_id, Job.status, Job.error).where(Job.call_id == call.id)
                              .order_by(Job.id.desc()).limit(1)).first()
    return {
        **summary(row),
        "speakers": [{"speaker": label, "role": role, "role_confidence": confidence, "rep_id": rep}
                     for label, role, confidence, rep in speakers],
        "utterances": utterances,
        "job": {"job_id": job[0], "status": job[1], "error": public_text(job[2]), "status_url": f"/v1/jobs/{job[0]}"}
        if job else None,
        "attempts": [a | {"error": public_text(a["error"])} for a in sink.attempts(catalog, call.external_id)],
    }


def transcript(catalog: Catalog, row) -> dict:
    """The call's utterances in order: speaker, role, times, text and words."""
    call = row[0]
    with catalog.session() as session:
        utterances = session.scalars(select(Utterance).where(Utterance.call_id == call.id)
                                     .order_by(Utterance.seq)).all()
    return {
        "call_id": call.external_id, "status": call.status, "language": call.language,
        "duration_s": call.duration_s,
        "utterances": [{"seq": u.seq, "speaker": u.speaker_label, "role": u.role, "start_s": u.start_s,
                        "end_s": u.end_s, "text": u.text, "language": u.language, "words": u.words or []}
                       for u in utterances],
    }


def moments(catalog: Catalog, row, kind: str | None = None) -> dict:
    """The call's moments (only ``kind`` when given), in utterance and sentence order, with their utterance."""
    call = row[0]
    query = (select(Moment, Utterance.seq, Utterance.speaker_label, Utterance.role, Utterance.start_s, Utterance.end_s)
             .join(Utterance, Moment.utterance_id == Utterance.id).where(Moment.call_id == call.id)
             .order_by(Utterance.seq, Moment.sentence, Moment.id))
    if kind is not None:
        query = query.where(Moment.kind == kind)
    with catalog.session() as session:
        rows = session.execute(query).all()
    return {
        "call_id": call.external_id, "moments_model": call.moments_model,
        "moments": [{"kind": m.kind, "label": m.label, "score": round(m.score, 4), "text": m.text, "seq": seq,
                     "sentence": m.sentence, "speaker": speaker, "role": role, "start_s": start, "end_s": end}
                    for m, seq, speaker, role, start, end in rows],
    }
