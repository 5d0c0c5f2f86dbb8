"""The deals a caller may see, filtered and paginated, each with its current stage's clock.

A rep sees only their own deals, a manager only their team's (asking for another team is a 403);
admin, coach and the CRM see all. The listing lives in :mod:`talktrack.pipelines.deals`.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from talktrack.pipelines import deals as deal_list
from talktrack.pipelines import stage_timers
from talktrack.serving.access import Access
from talktrack.serving.auth import Allowed
from talktrack.serving.errors import ApiError
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.state import Service

router = APIRouter(prefix="/v1/deals", tags=["deals"])
Reader = Allowed("admin", "coach", "manager", "rep", "crm")


@router.get("", summary="Deals, filtered and paginated (a rep: own deals; a manager: the team's)")
def list_deals(
    caller: Reader,
    svc: ServiceDep,
    team: str | None = Query(None, min_length=1, max_length=64, description="Only this team (external id)."),
    rep: str | None = Query(None, min_length=1, max_length=64, description="Only this rep (external id)."),
    status: Literal["open", "won", "lost"] | None = Query(None, description="Only deals of this status now."),
    stage: str | None = Query(None, min_length=1, max_length=32, description="Only deals in this stage now."),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> dict:
    access = Access(svc.catalog, caller)
    filters = deal_list.DealFilter(team=access.pin_team(team), rep=access.pin_rep(rep), status=status,
                                   stage=stage)
    check_filters(svc, filters)
    total, deals = deal_list.list_deals(svc.catalog, svc.settings, filters, limit=limit, offset=offset)
    return {"total": total, "limit": limit, "offset": offset,
            "filters": {"team": filters.team, "rep": filters.rep, "status": status, "stage": stage},
            "deals": deals}


def check_filters(svc: Service, filters: deal_list.DealFilter) -> None:
    """422 for a stage that is not one of the configured stages; 404 for an unknown team or rep, so a
    typo is not mistaken for "no deals"."""
    stages = [s.key for s in svc.settings.stages]
    if filters.stage is not None and filters.stage not in stages:
        raise ApiError(422, f"query.stage: {filters.stage!r} is not a known stage; "
                            f"known: {', '.join(stages)}")
    if filters.team is not None and not stage_timers.team_exists(svc.catalog, filters.team):
        raise ApiError(404, f"unknown team {filters.team!r}", code="team_not_found")
    if filters.rep is not None and not deal_list.rep_exists(svc.catalog, filters.rep):
        raise ApiError(404, f"unknown rep {filters.rep!r}", code="rep_not_found")
