"""``GET /v1/management/revenue``: healthy contract value, renewal vs new business and concentration.

Scope: a director (and an admin) sees every team, a manager their own team only (asking for another
is a 403). The figures are :func:`talktrack.pipelines.management.revenue.revenue_report`'s, and
``GET /v1/management/ltv-cac``'s are :func:`talktrack.pipelines.management.ltv.ltv_cac_report`'s.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query

from talktrack.core.clock import utcnow
from talktrack.pipelines.management.ltv import LtvCacDataError, ltv_cac_report
from talktrack.pipelines.management.revenue import revenue_report
from talktrack.serving.access import Access
from talktrack.serving.auth import Allowed
from talktrack.serving.errors import ApiError
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.routes.params import ID_PATTERN

router = APIRouter(prefix="/v1/management", tags=["management"])
RevenueReader = Allowed("admin", "director", "manager")


@router.get("/revenue", summary="Healthy contract value, renewal vs new business, concentration and flags")
def revenue(
    caller: RevenueReader,
    svc: ServiceDep,
    team: str | None = Query(None, min_length=1, max_length=64, pattern=ID_PATTERN,
                             description="Only this team (external id); a manager key is pinned to its own."),
    as_of: date | None = Query(None, description="The day the figures are as of (YYYY-MM-DD; default today, UTC)."),
) -> dict:
    team = Access(svc.catalog, caller).team_filter(team)
    return revenue_report(svc.catalog, svc.settings, as_of=as_of or utcnow().date(), team=team)


@router.get("/ltv-cac", summary="New-customer LTV/CAC per lead source, team and region, with the renewal model")
def ltv_cac(
    caller: RevenueReader,
    svc: ServiceDep,
    team: str | None = Query(None, min_length=1, max_length=64, pattern=ID_PATTERN,
                             description="Only this team's leads (external id); a manager key is pinned to its own."),
    as_of: date | None = Query(None, description="The day the figures are as of (YYYY-MM-DD; default today, UTC)."),
) -> dict:
    team = Access(svc.catalog, caller).team_filter(team)
    try:
        return ltv_cac_report(svc.catalog, svc.settings, as_of=as_of or utcnow().date(), team=team)
    except LtvCacDataError as exc:  # the imported data, not the request: 409 with what to fix
        raise ApiError(409, str(exc), "unusable_data") from exc
