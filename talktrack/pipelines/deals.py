"""Lists of deals as a manager or a rep reads them: who, what, how much, and how long in the current stage.

The stage clock of each deal (days in its current stage, the stage's threshold) comes from
:func:`talktrack.pipelines.stage_timers.current_stages`, so a list and a deal's own timeline
(``GET /v1/crm/deals/{id}/stages``) always agree.

Example::

    total, deals = list_deals(catalog, settings, DealFilter(team="TEAM-01", status="open"), limit=20)
    deals[0]["days_in_stage"], deals[0]["threshold_days"]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Customer, Deal, Rep, Team
from talktrack.core.clock import utcnow
from talktrack.pipelines import stage_timers

STATUSES = ("open", "won", "lost")


@dataclass(frozen=True)
class DealFilter:
    """Which deals to list; None leaves a field unfiltered. Ids are external (CRM) ids."""

    team: str | None = None
    rep: str | None = None
    status: str | None = None
    stage: str | None = None
    deal: str | None = None


def list_deals(catalog: Catalog, settings, filters: DealFilter, limit: int = 50, offset: int = 0,
               as_of: datetime | None = None) -> tuple[int, list[dict]]:
    """``(how many deals match, one page of them in id order)``, each with its stage clock as of ``as_of``."""
    as_of = stage_timers.as_naive_utc(as_of) if as_of else utcnow()
    query = _filtered(_deal_query(), filters)
    with catalog.session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.execute(query.order_by(Deal.id).limit(limit).offset(offset)).all()
    states = [(row.Deal.id, row.Deal.status, row.Deal.closed_at) for row in rows]
    clocks = stage_timers.current_stages(catalog, settings, states, as_of)
    return total, [_deal_dict(row, clocks[row.Deal.id]) for row in rows]


def rep_exists(catalog: Catalog, rep: str) -> bool:
    with catalog.session() as session:
        return session.scalar(select(Rep.id).where(Rep.external_id == rep)) is not None


def _deal_query():
    return (select(Deal, Customer.external_id.label("customer"), Customer.name.label("customer_name"),
                   Rep.external_id.label("rep"), Team.external_id.label("team"))
            .join(Rep, Rep.id == Deal.rep_id).outerjoin(Team, Team.id == Rep.team_id)
            .outerjoin(Customer, Customer.id == Deal.customer_id))


def _filtered(query, filters: DealFilter):
    for column, value in ((Team.external_id, filters.team), (Rep.external_id, filters.rep),
                          (Deal.status, filters.status), (Deal.stage, filters.stage),
                          (Deal.external_id, filters.deal)):
        if value is not None:
            query = query.where(column == value)
    return query


def _deal_dict(row, current: stage_timers.StageSpan | None) -> dict:
    deal = row.Deal
    return {
        "deal_id": deal.external_id, "title": deal.title, "customer": row.customer,
        "customer_name": row.customer_name, "rep": row.rep, "team": row.team, "amount": deal.amount,
        "currency": deal.currency, "stage": deal.stage, "status": deal.status,
        "created_at": _iso(deal.created_at), "closed_at": _iso(deal.closed_at),
        "progress_level": deal.progress_level,
        "days_in_stage": current.days if current else None,
        "threshold_days": current.threshold_days if current else None,
        "over_threshold": bool(current and deal.status == "open" and current.over_threshold),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
