"""The anomaly breaker: rules over monthly team/region metrics that catch activity padded to look busy.

A team that logs 50 % more customer visits in a month in which fewer of its deals reached a confirmed
need is more likely filling in the CRM than selling; its travel claims for the next month deserve a
second look before they are paid. The rules are data (``management.anomalies`` in the settings, see
:mod:`talktrack.core.config.anomalies`); this module computes the metrics, evaluates the rules and
keeps the audit cases.

Metrics, per team (the team of the rep who did it) and calendar month; a region's are its teams' sums:

- ``visits``: customer visits logged (``visits.visited_on`` in the month);
- ``visits_by_hand``: those of them typed by hand (``logged = hand``), not captured by a system;
- ``confirmed_needs``: deals entering ``confirmed_needs_stage`` (default ``needs_diagnosis``) in the
  month (one per stage event; the deal's rep decides the team);
- ``calls``: calls started in the month;
- ``new_leads`` / ``invalid_leads``: leads created in the month (of them, those with status invalid);
- ``deals_created``: deals created in the month.

**Month-over-month change** = (this month − the month before) ÷ the month before. Only *covered*
months are judged: months that lie wholly between the first day any of these metrics has data and
``as_of`` (the first month also when the data starts by its 4th day: the first visit of a history
often falls on the 2nd), and whose month before is covered too (a month cut by the start or by today
would look like a rise or a fall).

When a rule fires on a scope and month, :func:`run_rules` opens a case (once per rule, scope and month:
rerunning is idempotent): the scope's ``freeze`` (travel reimbursement) is ``frozen`` for the next
month, and the evidence holds both months' metric values and the deals and visits behind them. A
director (or admin), or the manager of the case's team, closes it with a note, either confirming the
freeze or lifting it; every transition is a row of ``anomaly_case_events``.

Example::

    opened = run_rules(catalog, settings, as_of=date(2026, 12, 7), actor="cli:alice")
    close_case(catalog, opened[0]["id"], actor="director", note="checked the visit photos", outcome="lifted")
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Deal, Rep, StageEvent, Team
from talktrack.core.catalog.schema.anomalies import AnomalyCase, AnomalyCaseEvent
from talktrack.core.catalog.schema.revenue import Lead, Visit
from talktrack.core.clock import utcnow
from talktrack.core.config import Settings
from talktrack.core.config.anomalies import ANOMALY_METRICS, AnomalyCondition, AnomalyRule, AnomalySettings

CLOSE_OUTCOMES = ("confirmed", "lifted")  # the freeze stands / the case was a false alarm
# Data starting on the 2nd-4th of a month (a holiday, a weekend, a quiet first day) still covers it: the
# missing days undercount it by 10 % at most, less than any rule's threshold should be.
START_GRACE_DAYS = 3
MAX_EVIDENCE_IDS = 500  # per list; a case's evidence stays a readable record, not a table dump

LINEAGE: dict[str, tuple[str, ...]] = {
    "anomaly_cases": ("visits.visited_on", "visits.logged", "visits.rep_id", "stage_events.stage",
                      "stage_events.entered_at", "deals.rep_id", "calls.started_at", "calls.rep_id",
                      "leads.created_at", "leads.status", "leads.rep_id", "deals.created_at", "reps.team_id",
                      "teams.region"),
}


class CaseNotFound(LookupError):
    pass


class CaseError(ValueError):
    """A transition that is not allowed (closing a closed case, an unknown outcome, an empty note)."""


@dataclass
class MonthlyMetrics:
    """(scope key, month) -> metric -> value, and -> metric -> the ids behind it (deals, visits, ...)."""

    values: dict
    ids: dict
    covered: list[str]  # months wholly inside the data and as_of, in order
    teams: dict  # team external id -> region


def month_key(day: date | datetime) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:])
    return f"{year - 1:04d}-12" if mon == 1 else f"{year:04d}-{mon - 1:02d}"


def next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:])
    return f"{year + 1:04d}-01" if mon == 12 else f"{year:04d}-{mon + 1:02d}"


def _month_range(first: date, as_of: date) -> list[str]:
    """Months inside [first, as_of]; the first month counts when the data starts within its first days."""
    months, month = [], month_key(first) if first.day <= 1 + START_GRACE_DAYS else next_month(month_key(first))
    while True:
        year, mon = int(month[:4]), int(month[5:])
        if date(year, mon, calendar.monthrange(year, mon)[1]) > as_of:
            return months
        months.append(month)
        month = next_month(month)


def monthly_metrics(catalog: Catalog, settings: Settings, *, as_of: date) -> MonthlyMetrics:
    """Every metric per team and month up to ``as_of`` (with the ids behind the evidence metrics)."""
    stage = settings.management.anomalies.confirmed_needs_stage
    end = datetime.combine(as_of, datetime.max.time())
    team_of_rep = (select(Rep.id.label("rep"), Team.external_id.label("team"))
                   .join(Team, Team.id == Rep.team_id).subquery())
    sources = {
        "visits": select(team_of_rep.c.team, Visit.visited_on, Visit.external_id, Visit.logged)
        .join(team_of_rep, team_of_rep.c.rep == Visit.rep_id).where(Visit.visited_on <= as_of),
        "confirmed_needs": select(team_of_rep.c.team, StageEvent.entered_at, Deal.external_id, StageEvent.stage)
        .join(Deal, Deal.id == StageEvent.deal_id).join(team_of_rep, team_of_rep.c.rep == Deal.rep_id)
        .where(StageEvent.entered_at <= end),
        "calls": select(team_of_rep.c.team, Call.started_at, Call.external_id, Call.external_id)
        .join(team_of_rep, team_of_rep.c.rep == Call.rep_id).where(Call.started_at <= end),
        "new_leads": select(team_of_rep.c.team, Lead.created_at, Lead.external_id, Lead.status)
        .join(team_of_rep, team_of_rep.c.rep == Lead.rep_id).where(Lead.created_at <= end),
        "deals_created": select(team_of_rep.c.team, Deal.created_at, Deal.external_id, Deal.external_id)
        .join(team_of_rep, team_of_rep.c.rep == Deal.rep_id).where(Deal.created_at <= end),
    }
    values: dict = defaultdict(lambda: dict.fromkeys(ANOMALY_METRICS, 0))
    ids: dict = defaultdict(lambda: defaultdict(list))
    first: date | None = None
    with catalog.session() as session:
        teams = dict(session.execute(select(Team.external_id, Team.region)).all())
        for source, query in sources.items():
            for team, when, external_id, extra in session.execute(query):
                if when is None:
                    continue
                day = when.date() if isinstance(when, datetime) else when
                first = day if first is None or day < first else first
                if source == "confirmed_needs" and extra != stage:
                    continue
                cell, trail = values[(team, month_key(day))], ids[(team, month_key(day))]
                cell[source] += 1
                trail[source].append(external_id)
                if source == "visits" and extra == "hand":
                    cell["visits_by_hand"] += 1
                if source == "new_leads" and extra == "invalid":
                    cell["invalid_leads"] += 1
    covered = _month_range(first, as_of) if first else []
    return MonthlyMetrics(values, ids, covered, teams)


def scoped(metrics: MonthlyMetrics, scope: str) -> tuple[dict, dict]:
    """The metrics per team, or summed per region (a team without a region is its own region)."""
    if scope == "team":
        return metrics.values, metrics.ids
    values: dict = defaultdict(lambda: dict.fromkeys(ANOMALY_METRICS, 0))
    ids: dict = defaultdict(lambda: defaultdict(list))
    for (team, month), cell in metrics.values.items():
        region = metrics.teams.get(team) or team
        for name, value in cell.items():
            values[(region, month)][name] += value
        for name, trail in metrics.ids[(team, month)].items():
            ids[(region, month)][name].extend(trail)
    return values, ids


def change(current: float, previous: float) -> float | None:
    return (current - previous) / previous if previous else None


def holds(condition: AnomalyCondition, current: float, previous: float) -> bool:
    """Whether one condition holds for a metric's value this month and the month before."""
    if condition.min_value is not None and current < condition.min_value:
        return False
    if condition.max_value is not None and current > condition.max_value:
        return False
    if condition.min_change is None and condition.max_change is None:
        return True
    if previous < condition.min_previous:
        return False
    delta = change(current, previous)
    return not ((condition.min_change is not None and delta < condition.min_change)
                or (condition.max_change is not None and delta > condition.max_change))


def evaluate_rules(metrics: MonthlyMetrics, rules: AnomalySettings) -> list[dict]:
    """Every (rule, scope key, month) that fires, with its evidence; nothing is written."""
    fired = []
    zero = dict.fromkeys(ANOMALY_METRICS, 0)
    judged = [m for m in metrics.covered if previous_month(m) in metrics.covered]
    for rule in rules.rules:
        values, ids = scoped(metrics, rule.scope)
        keys = sorted({key for key, _ in values} | ({t for t in metrics.teams} if rule.scope == "team" else set()))
        for key in keys:
            for month in judged:
                now, before = values.get((key, month), zero), values.get((key, previous_month(month)), zero)
                if all(holds(c, now[c.metric], before[c.metric]) for c in rule.when):
                    fired.append(_finding(rule, key, month, now, before, ids))
    return fired


def _finding(rule: AnomalyRule, key: str, month: str, now: dict, before: dict, ids: dict) -> dict:
    named = sorted({c.metric for c in rule.when})
    trail = lambda m, name: sorted(ids.get((key, m), {}).get(name, []))[:MAX_EVIDENCE_IDS]  # noqa: E731
    behind = {name: {"month": trail(month, name), "previous_month": trail(previous_month(month), name)}
              for name in named if name in ("visits", "confirmed_needs", "calls", "new_leads", "deals_created")}
    if "visits_by_hand" in named and "visits" not in behind:
        behind["visits"] = {"month": trail(month, "visits"), "previous_month": trail(previous_month(month), "visits")}
    return {"rule": rule.key, "rule_name": {"en": rule.name_en, "zh": rule.name_zh}, "scope": rule.scope, "key": key,
            "month": month, "previous_month": previous_month(month),
            "conditions": [c.model_dump(mode="json", exclude_none=True) for c in rule.when],
            "metrics": {name: {"month": now[name], "previous_month": before[name],
                               "change": change(now[name], before[name])} for name in named},
            "all_metrics": {"month": dict(now), "previous_month": dict(before)},
            "behind": behind}


def run_rules(catalog: Catalog, settings: Settings, *, as_of: date, actor: str) -> list[dict]:
    """Evaluate the rules and open a case for each new finding; returns the cases opened now."""
    rules = settings.management.anomalies
    findings = evaluate_rules(monthly_metrics(catalog, settings, as_of=as_of), rules)
    opened = []
    now = utcnow()
    with catalog.session() as session:
        existing = set(session.execute(select(AnomalyCase.rule_key, AnomalyCase.scope, AnomalyCase.scope_key,
                                              AnomalyCase.month)).all())
        for finding in findings:
            if (finding["rule"], finding["scope"], finding["key"], finding["month"]) in existing:
                continue
            case = AnomalyCase(rule_key=finding["rule"], scope=finding["scope"], scope_key=finding["key"],
                               month=finding["month"], frozen_month=next_month(finding["month"]), freeze="frozen",
                               status="open", evidence=finding, opened_at=now, opened_by=actor)
            session.add(case)
            session.flush()
            session.add(AnomalyCaseEvent(case_id=case.id, action="opened", actor=actor, at=now,
                                         detail={"as_of": as_of.isoformat(), "freeze": rules.freeze,
                                                 "frozen_month": case.frozen_month}))
            opened.append(case)
        session.commit()
        return [_case_dict(case, [], rules.freeze) for case in opened]


def list_cases(catalog: Catalog, settings: Settings, *, team: str | None = None, status: str | None = None,
               with_events: bool = True) -> list[dict]:
    """Cases, newest month first; ``team``: only that team's cases and those of its region."""
    query = select(AnomalyCase).order_by(AnomalyCase.month.desc(), AnomalyCase.id)
    if status is not None:
        query = query.where(AnomalyCase.status == status)
    with catalog.session() as session:
        if team is not None:
            region = session.execute(select(Team.region).where(Team.external_id == team)).scalar_one_or_none()
            query = query.where(((AnomalyCase.scope == "team") & (AnomalyCase.scope_key == team))
                                | ((AnomalyCase.scope == "region") & (AnomalyCase.scope_key == (region or team))))
        cases = session.execute(query).scalars().all()
        events: dict = defaultdict(list)
        if with_events and cases:
            for event in session.execute(select(AnomalyCaseEvent).where(
                    AnomalyCaseEvent.case_id.in_([c.id for c in cases])).order_by(AnomalyCaseEvent.id)).scalars():
                events[event.case_id].append(event)
        return [_case_dict(c, events[c.id], settings.management.anomalies.freeze) for c in cases]


def frozen_scopes(catalog: Catalog, settings: Settings, month: str) -> list[dict]:
    """What is frozen for ``month``: open cases (frozen) and closed ones that confirmed the freeze."""
    with catalog.session() as session:
        rows = session.execute(select(AnomalyCase.scope, AnomalyCase.scope_key, AnomalyCase.id, AnomalyCase.freeze)
                               .where(AnomalyCase.frozen_month == month,
                                      AnomalyCase.freeze.in_(("frozen", "confirmed")))
                               .order_by(AnomalyCase.scope_key)).all()
    return [{"scope": s, "key": k, "case_id": i, "freeze": f, "what": settings.management.anomalies.freeze}
            for s, k, i, f in rows]


def case_owner(catalog: Catalog, case_id: int) -> dict:
    """The case's scope, for the role check before a close (``CaseNotFound`` if none)."""
    with catalog.session() as session:
        case = session.get(AnomalyCase, case_id)
        if case is None:
            raise CaseNotFound(f"anomaly case {case_id} does not exist")
        return {"id": case.id, "scope": case.scope, "key": case.scope_key, "status": case.status}


def close_case(catalog: Catalog, settings: Settings, case_id: int, *, actor: str, note: str,
               outcome: str = "confirmed") -> dict:
    """Close an open case with a note: ``confirmed`` keeps the freeze, ``lifted`` ends it. Who may close
    it is the caller's concern (the route and the CLI check the role first)."""
    note = (note or "").strip()
    if not note:
        raise CaseError("closing a case needs a note saying what was checked")
    if outcome not in CLOSE_OUTCOMES:
        raise CaseError(f"outcome {outcome!r} is not one of: {', '.join(CLOSE_OUTCOMES)}")
    now = utcnow()
    with catalog.session() as session:
        case = session.get(AnomalyCase, case_id, with_for_update=True)
        if case is None:
            raise CaseNotFound(f"anomaly case {case_id} does not exist")
        if case.status != "open":
            raise CaseError(f"anomaly case {case_id} is already closed (by {case.closed_by} at "
                            f"{case.closed_at:%Y-%m-%d %H:%M})")
        before = case.freeze
        case.status, case.freeze = "closed", outcome
        case.closed_at, case.closed_by, case.note = now, actor, note
        session.add(AnomalyCaseEvent(case_id=case.id, action="closed", actor=actor, at=now,
                                     detail={"note": note, "outcome": outcome, "freeze": [before, outcome]}))
        session.commit()
    return list_cases_by_id(catalog, settings, case_id)


def list_cases_by_id(catalog: Catalog, settings: Settings, case_id: int) -> dict:
    with catalog.session() as session:
        case = session.get(AnomalyCase, case_id)
        if case is None:
            raise CaseNotFound(f"anomaly case {case_id} does not exist")
        events = session.execute(select(AnomalyCaseEvent).where(AnomalyCaseEvent.case_id == case_id)
                                 .order_by(AnomalyCaseEvent.id)).scalars().all()
        return _case_dict(case, events, settings.management.anomalies.freeze)


def _case_dict(case: AnomalyCase, events: list, freeze_what: str) -> dict:
    stamp = lambda t: t.isoformat(timespec="seconds") if t else None  # noqa: E731
    return {"id": case.id, "rule": case.rule_key, "scope": case.scope, "key": case.scope_key, "month": case.month,
            "status": case.status, "freeze": {"what": freeze_what, "month": case.frozen_month, "state": case.freeze},
            "opened_at": stamp(case.opened_at), "opened_by": case.opened_by, "closed_at": stamp(case.closed_at),
            "closed_by": case.closed_by, "note": case.note, "evidence": case.evidence,
            "events": [{"action": e.action, "actor": e.actor, "at": stamp(e.at), "detail": e.detail} for e in events]}
