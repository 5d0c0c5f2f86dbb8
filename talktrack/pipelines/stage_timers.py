"""Stage timers: how long a deal has sat in each sales stage, and alerts for stages run past their threshold.

Every stage change of a deal is a :class:`~talktrack.core.catalog.schema.StageEvent` (stage, entered at).
A stage lasts from its event to the next one; the current stage runs until the deal closes or until
``as_of``. Each stage has ``threshold_days`` in ``settings.stages``; an open deal whose current stage
has run longer than that is an alert for the rep's direct manager (``Team.manager_external_id``).

Everything is computed *as of* a time: only the events entered by then count, and a deal closed
after it was still open then, so yesterday's alert list can be reproduced today.

The same clocks serve lists (:func:`current_stages`: the current stage of many deals at once), and
the stage events give the funnel (:func:`stage_funnel`: how many deals reached each stage).

Times are naive UTC, like the catalog's columns.

Example::

    record_stage_event(catalog, settings, "DEAL-00042", "negotiation")   # entered now
    deal_timeline(catalog, settings, "DEAL-00042").to_dict()["current"]["days_in_stage"]
    stage_alerts(catalog, settings, as_of=datetime(2025, 3, 1), team="TEAM-01")
    stage_funnel(catalog, settings, team="TEAM-01", since=datetime(2025, 1, 1))["stages"][1]["conversion"]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Deal, Rep, StageEvent, Team
from talktrack.core.clock import utcnow

OUTCOMES = ("won", "lost")
SECONDS_PER_DAY = 86400.0
# A CRM clock may run a little ahead of ours; an event further in the future is a mistake.
FUTURE_TOLERANCE = timedelta(days=1)


class DealNotFound(LookupError):
    """No deal with that external id."""


class StageEventError(ValueError):
    """A stage event that is malformed on its own (unknown stage, impossible time or outcome)."""


class StageConflict(ValueError):
    """A stage event that contradicts the deal's recorded history (earlier than its last event, a closed deal)."""


def as_naive_utc(value: datetime) -> datetime:
    """The catalog's form of a time: naive UTC (an aware time is converted, a naive one taken as UTC)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def stage_thresholds(settings) -> dict[str, float]:
    """``{stage key: threshold_days}`` from ``settings.stages``."""
    return {stage.key: float(stage.threshold_days) for stage in settings.stages}


# -- timelines (pure) ------------------------------------------------------------------------------
@dataclass(frozen=True)
class StageSpan:
    """One stay in a stage: from ``entered_at`` to ``left_at`` (None: the current stage)."""

    stage: str
    entered_at: datetime
    left_at: datetime | None
    days: float
    threshold_days: float | None

    @property
    def days_over(self) -> float:
        """Days past the threshold (0 when within it or without one)."""
        if self.threshold_days is None:
            return 0.0
        return max(0.0, round(self.days - self.threshold_days, 2))

    @property
    def over_threshold(self) -> bool:
        return self.threshold_days is not None and self.days > self.threshold_days

    def to_dict(self) -> dict:
        return {"stage": self.stage, "entered_at": _iso(self.entered_at), "left_at": _iso(self.left_at),
                "days": self.days, "threshold_days": self.threshold_days,
                "over_threshold": self.over_threshold, "days_over": self.days_over}


def stage_spans(events: list[tuple[str, datetime]], end: datetime, thresholds: dict[str, float]) -> list[StageSpan]:
    """Consecutive stays from time-ordered ``(stage, entered_at)`` events; the last one lasts until ``end``.

    >>> spans = stage_spans([("lead", datetime(2025, 1, 1)), ("qualification", datetime(2025, 1, 4))],
    ...                     datetime(2025, 1, 20), {"lead": 7, "qualification": 10})
    >>> [(s.stage, s.days, s.over_threshold) for s in spans]
    [('lead', 3.0, False), ('qualification', 16.0, True)]
    """
    spans = []
    for i, (stage, entered) in enumerate(events):
        left = events[i + 1][1] if i + 1 < len(events) else None
        until = left if left is not None else max(end, entered)
        days = round((until - entered).total_seconds() / SECONDS_PER_DAY, 2)
        spans.append(StageSpan(stage, entered, left, days, thresholds.get(stage)))
    return spans


# -- deals in the catalog ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DealOwner:
    """Who a deal belongs to: its rep, the rep's team and the team's manager (external ids)."""

    deal_id: str
    rep: str
    team: str | None
    manager: str | None


@dataclass(frozen=True)
class DealTimeline:
    """A deal's stage history as of ``as_of``, with the current stage's timer."""

    owner: DealOwner
    status: str  # as of ``as_of``: open, won or lost
    closed_at: datetime | None
    as_of: datetime
    spans: list[StageSpan]

    @property
    def current(self) -> StageSpan | None:
        return self.spans[-1] if self.spans else None

    @property
    def timer_running(self) -> bool:
        """The current stage's clock still runs: the deal is open."""
        return self.status == "open" and self.current is not None

    def to_dict(self) -> dict:
        current = self.current
        return {
            "deal_id": self.owner.deal_id, "rep": self.owner.rep, "team": self.owner.team,
            "manager": self.owner.manager, "status": self.status, "closed_at": _iso(self.closed_at),
            "as_of": _iso(self.as_of), "stage": current.stage if current else None,
            "history": [span.to_dict() for span in self.spans],
            "days_per_stage": _days_per_stage(self.spans),
            "current": None if current is None else {
                "stage": current.stage, "entered_at": _iso(current.entered_at), "days_in_stage": current.days,
                "threshold_days": current.threshold_days, "over_threshold": current.over_threshold,
                "days_over": current.days_over, "running": self.timer_running,
            },
        }


def deal_owner(catalog: Catalog, deal_id: str) -> DealOwner:
    """The rep, team and manager of a deal; :class:`DealNotFound` for an unknown id."""
    with catalog.session() as session:
        row = session.execute(_owner_query().where(Deal.external_id == deal_id)).first()
    if row is None:
        raise DealNotFound(f"deal {deal_id!r} is not in the catalog")
    return DealOwner(*row)


def deal_timeline(catalog: Catalog, settings, deal_id: str, as_of: datetime | None = None) -> DealTimeline:
    """The deal's stays per stage as of ``as_of`` (default now), closed deals' clocks stopped at close."""
    as_of = as_naive_utc(as_of) if as_of else utcnow()
    owner = deal_owner(catalog, deal_id)
    with catalog.session() as session:
        deal = session.execute(select(Deal.id, Deal.status, Deal.closed_at).where(Deal.external_id == deal_id)).one()
        events = _events(session, [deal.id], as_of).get(deal.id, [])
    return _timeline(owner, deal.status, deal.closed_at, events, as_of, stage_thresholds(settings))


def stage_alerts(catalog: Catalog, settings, as_of: datetime | None = None, team: str | None = None) -> list[dict]:
    """Open deals (as of ``as_of``) whose current stage has run past its threshold, most overdue first.

    ``team``: only that team's deals (external id); an unknown team simply has none (see
    :func:`team_exists` to tell the two apart).
    """
    as_of = as_naive_utc(as_of) if as_of else utcnow()
    thresholds = stage_thresholds(settings)
    query = _owner_query().add_columns(Deal.id, Deal.status, Deal.closed_at).where(Deal.created_at <= as_of)
    if team is not None:
        query = query.where(Team.external_id == team)
    with catalog.session() as session:
        rows = session.execute(query).all()
        rows = [r for r in rows if _open_at(r.status, r.closed_at, as_of)]
        events = _events(session, [r.id for r in rows], as_of)
    alerts = []
    for row in rows:
        owner = DealOwner(row.deal_id, row.rep, row.team, row.manager)
        timeline = _timeline(owner, row.status, row.closed_at, events.get(row.id, []), as_of, thresholds)
        if timeline.timer_running and timeline.current.over_threshold:
            alerts.append(_alert(timeline))
    return sorted(alerts, key=lambda a: (-a["days_over"], a["deal_id"]))


def current_stages(catalog: Catalog, settings, deals: list[tuple[int, str, datetime | None]],
                   as_of: datetime | None = None) -> dict[int, StageSpan | None]:
    """The current stage's stay of each deal, given as ``(deal pk, status, closed_at)``: one query for all.

    A closed deal's clock stopped at its close; a deal without stage events maps to None. This is
    what a list of deals shows next to each deal ("9 days in negotiation, threshold 14").
    """
    as_of = as_naive_utc(as_of) if as_of else utcnow()
    thresholds = stage_thresholds(settings)
    with catalog.session() as session:
        events = _events(session, [pk for pk, _, _ in deals], as_of)
    current = {}
    for pk, status, closed_at in deals:
        spans = stage_spans(events.get(pk, []), _clock_end(status, closed_at, as_of), thresholds)
        current[pk] = spans[-1] if spans else None
    return current


def stage_funnel(catalog: Catalog, settings, team: str | None = None, since: datetime | None = None,
                 until: datetime | None = None) -> dict:
    """How far the deals created in ``[since, until)`` got, stage by stage, with the conversion between.

    A deal counts for every stage up to the furthest one its stage events reached (a deal that
    jumped a stage passed it all the same). Per stage: ``reached``, ``conversion`` from the previous
    stage (None for the first, or when no deal reached the previous one) and ``furthest``: the
    deals whose furthest stage this is, by status now (so ``lost`` there is where deals were lost).
    ``team``: only that team's deals (external id).
    """
    order = [stage.key for stage in settings.stages]
    query = select(Deal.id, Deal.status).join(Rep, Rep.id == Deal.rep_id).outerjoin(Team, Team.id == Rep.team_id)
    if team is not None:
        query = query.where(Team.external_id == team)
    if since is not None:
        query = query.where(Deal.created_at >= since)
    if until is not None:
        query = query.where(Deal.created_at < until)
    with catalog.session() as session:
        deals = session.execute(query).all()
        events = _events(session, [d.id for d in deals], datetime.max)
    furthest = [(_furthest_stage(events.get(d.id, []), order), d.status) for d in deals]
    return {"team": team, "since": _iso(since), "until": _iso(until), "deals": len(deals),
            "outcomes": {status: [s for _, s in furthest].count(status) for status in ("open", *OUTCOMES)},
            "without_stages": sum(1 for index, _ in furthest if index < 0),
            "stages": funnel_rows(furthest, order)}


def funnel_rows(furthest: list[tuple[int, str]], order: list[str]) -> list[dict]:
    """Funnel rows from each deal's ``(index of its furthest stage in order, status)``; -1: no stage.

    >>> rows = funnel_rows([(0, "lost"), (1, "open"), (2, "won"), (2, "lost")], ["lead", "demo", "won"])
    >>> [(r["stage"], r["reached"], r["conversion"], r["furthest"]["lost"]) for r in rows]
    [('lead', 4, None, 1), ('demo', 3, 0.75, 0), ('won', 2, 0.6667, 1)]
    """
    rows, previous = [], None
    for k, stage in enumerate(order):
        reached = sum(1 for index, _ in furthest if index >= k)
        ended_here = [status for index, status in furthest if index == k]
        rows.append({"stage": stage, "reached": reached,
                     "conversion": round(reached / previous, 4) if previous else None,
                     "furthest": {status: ended_here.count(status) for status in ("open", *OUTCOMES)}})
        previous = reached
    return rows


def team_exists(catalog: Catalog, team: str) -> bool:
    with catalog.session() as session:
        return session.scalar(select(Team.id).where(Team.external_id == team)) is not None


# -- writing a stage event ----------------------------------------------------------------------------
def record_stage_event(catalog: Catalog, settings, deal_id: str, stage: str, entered_at: datetime | None = None,
                       outcome: str | None = None) -> tuple[DealTimeline, bool]:
    """Append a stage change to a deal and move ``Deal.stage``; returns (the timeline now, whether it was new).

    Posting an event already recorded (same deal, stage and time) changes nothing, so a CRM may
    retry. ``outcome`` (won/lost) closes the deal at ``entered_at``: won only on the last stage;
    lost either on a new stage or on the current one (a close without a move).
    """
    entered_at = as_naive_utc(entered_at) if entered_at else utcnow()
    check_event(settings, stage, entered_at, outcome)
    deal_owner(catalog, deal_id)  # DealNotFound (-> 404) before anything is written
    try:
        with catalog.session() as session:
            deal = session.scalars(select(Deal).where(Deal.external_id == deal_id)).one()
            created = _apply_event(session, deal, stage, entered_at, outcome)
    except IntegrityError:  # the same event posted concurrently: the other request recorded it
        created = False
    timeline = deal_timeline(catalog, settings, deal_id, as_of=max(utcnow(), entered_at))
    return timeline, created


def check_event(settings, stage: str, entered_at: datetime, outcome: str | None) -> None:
    """:class:`StageEventError` for an event malformed on its own (unknown stage, a time in the future, ...)."""
    keys = [s.key for s in settings.stages]
    if stage not in keys:
        raise StageEventError(f"stage {stage!r} is not a known stage; known: {', '.join(keys)}")
    if entered_at > utcnow() + FUTURE_TOLERANCE:
        raise StageEventError(f"entered_at {_iso(entered_at)} is in the future; send the time the stage was entered")
    if outcome is not None and outcome not in OUTCOMES:
        raise StageEventError(f"outcome {outcome!r}: expected one of {', '.join(OUTCOMES)}")
    if outcome == "won" and stage != keys[-1]:
        raise StageEventError(f"a won deal enters the last stage ({keys[-1]}), not {stage!r}")


def _apply_event(session, deal: Deal, stage: str, entered_at: datetime, outcome: str | None) -> bool:
    events = list(session.execute(select(StageEvent.stage, StageEvent.entered_at)
                                  .where(StageEvent.deal_id == deal.id).order_by(StageEvent.entered_at)).all())
    if (stage, entered_at) in {(e.stage, e.entered_at) for e in events}:
        if outcome is not None and deal.status != outcome:
            raise StageConflict(f"deal {deal.external_id}: this event is recorded already, with status "
                                f"{deal.status!r}; post the close as a new event")
        return False
    if deal.status != "open":
        raise StageConflict(f"deal {deal.external_id} is closed ({deal.status} at {_iso(deal.closed_at)}); "
                             "a closed deal takes no more stage events")
    if deal.created_at and entered_at < deal.created_at:
        raise StageEventError(f"entered_at {_iso(entered_at)} is before the deal was created "
                              f"({_iso(deal.created_at)})")
    if events:
        _check_after(deal.external_id, events[-1], stage, entered_at, outcome)
    if not (events and events[-1].stage == stage):
        session.add(StageEvent(deal_id=deal.id, stage=stage, entered_at=entered_at))
        deal.stage = stage
    if outcome is not None:
        deal.status, deal.closed_at = outcome, entered_at
    session.flush()
    return True


def _check_after(deal_id: str, last, stage: str, entered_at: datetime, outcome: str | None) -> None:
    if entered_at <= last.entered_at:
        raise StageConflict(f"deal {deal_id}: entered_at {_iso(entered_at)} is not after its last stage event "
                            f"({last.stage} at {_iso(last.entered_at)}); events are appended in time order")
    if last.stage == stage and outcome != "lost":
        raise StageConflict(f"deal {deal_id} is in stage {stage!r} already (since {_iso(last.entered_at)})")


# -- helpers ---------------------------------------------------------------------------------------
def _owner_query():
    return (select(Deal.external_id.label("deal_id"), Rep.external_id.label("rep"),
                   Team.external_id.label("team"), Team.manager_external_id.label("manager"))
            .join(Rep, Rep.id == Deal.rep_id).outerjoin(Team, Team.id == Rep.team_id))


def _events(session, deal_pks: list[int], as_of: datetime) -> dict[int, list[tuple[str, datetime]]]:
    """Time-ordered (stage, entered_at) per deal pk, only those entered by ``as_of``."""
    out: dict[int, list[tuple[str, datetime]]] = {}
    for begin in range(0, len(deal_pks), 500):
        chunk = deal_pks[begin: begin + 500]
        rows = session.execute(select(StageEvent.deal_id, StageEvent.stage, StageEvent.entered_at)
                               .where(StageEvent.deal_id.in_(chunk), StageEvent.entered_at <= as_of)
                               .order_by(StageEvent.deal_id, StageEvent.entered_at, StageEvent.id)).all()
        for deal_pk, stage, entered in rows:
            out.setdefault(deal_pk, []).append((stage, entered))
    return out


def _open_at(status: str, closed_at: datetime | None, as_of: datetime) -> bool:
    return status == "open" or (closed_at is not None and closed_at > as_of)


def _clock_end(status: str, closed_at: datetime | None, as_of: datetime) -> datetime:
    """Where a deal's stage clock stops: ``as_of`` while it was open then, else its close."""
    return as_of if _open_at(status, closed_at, as_of) else closed_at or as_of


def _furthest_stage(events: list[tuple[str, datetime]], order: list[str]) -> int:
    """Index in ``order`` of the furthest known stage among the events; -1 when there is none."""
    return max((order.index(stage) for stage, _ in events if stage in order), default=-1)


def _timeline(owner: DealOwner, status: str, closed_at: datetime | None, events, as_of: datetime,
              thresholds: dict[str, float]) -> DealTimeline:
    end = _clock_end(status, closed_at, as_of)
    if _open_at(status, closed_at, as_of):
        status, closed_at = "open", None
    return DealTimeline(owner, status, closed_at, as_of, stage_spans(events, end, thresholds))


def _alert(timeline: DealTimeline) -> dict:
    current, owner = timeline.current, timeline.owner
    return {"deal_id": owner.deal_id, "rep": owner.rep, "team": owner.team, "manager": owner.manager,
            "stage": current.stage, "entered_at": _iso(current.entered_at), "days_in_stage": current.days,
            "threshold_days": current.threshold_days, "days_over": current.days_over}


def _days_per_stage(spans: list[StageSpan]) -> dict[str, float]:
    """Total days per stage over the history (a stage entered twice adds up)."""
    totals: dict[str, float] = {}
    for span in spans:
        totals[span.stage] = round(totals.get(span.stage, 0.0) + span.days, 2)
    return totals


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
