"""``GET /v1/management/credibility``: the monthly data-credibility report as JSON, HTML or PDF.

A director (and an admin) reads every team and the whole manager ranking; a manager key is pinned to its
own team (asking for another is a 403), so it sees its own rank line only, never the other managers'.
The report is :mod:`talktrack.pipelines.management.credibility`'s, rendered by ``credibility_render``.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from talktrack.core.clock import utcnow
from talktrack.pipelines.management.credibility import TREND_MONTHS, credibility_report, previous_month
from talktrack.pipelines.management.credibility_render import to_html, to_pdf
from talktrack.serving.access import Access
from talktrack.serving.auth import Allowed
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.routes.params import ID_PATTERN

router = APIRouter(prefix="/v1/management", tags=["management"])
Reader = Allowed("admin", "director", "manager")


@router.get("/credibility", summary="Data credibility per team, field and month: hand vs captured, cross-checks, "
                                    "trend and the managers ranked by data quality",
            response_model=None)
def credibility(
    caller: Reader,
    svc: ServiceDep,
    month: str | None = Query(None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                              description="The report's month (YYYY-MM; default: last month, UTC)."),
    team: str | None = Query(None, min_length=1, max_length=64, pattern=ID_PATTERN,
                             description="Only this team; a manager key is pinned to its own."),
    months: int = Query(TREND_MONTHS, ge=1, le=36, description="Months of trend up to the report's month."),
    format: Literal["json", "html", "pdf"] = Query("json", description="json, html (a page) or pdf (a file)."),
) -> dict | Response:
    team = Access(svc.catalog, caller).team_filter(team)
    month = month or previous_month(utcnow().date())
    report = credibility_report(svc.catalog, svc.settings, month=month, team=team, months=months)
    if format == "html":
        return HTMLResponse(to_html(report))
    if format == "pdf":
        return Response(to_pdf(report), media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="credibility-{month}.pdf"'})
    return report
