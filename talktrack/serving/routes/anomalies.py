"""``GET /v1/management/anomalies`` and ``POST /v1/management/anomalies/cases/{id}/close``: the anomaly
breaker's cases (rules fired on a team's or region's monthly metrics) and closing one with a note.

Reading: a director (and an admin) sees every case, a manager their team's and their region's (asking
for another team is a 403). Closing: a director or admin closes any case; a manager only a case on
their own team (a region's case spans teams, so it is a director's). Rules are run by
``talktrack management anomalies --run`` (or a scheduler), not by a read. The cases are
:mod:`talktrack.pipelines.management.anomalies`'.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from talktrack.core.clock import utcnow
from talktrack.pipelines.management.anomalies import (
    CaseError, CaseNotFound, case_owner, close_case, frozen_scopes, list_cases, month_key,
)
from talktrack.serving.access import Access
from talktrack.serving.auth import Allowed
from talktrack.serving.errors import ApiError
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.routes.params import ID_PATTERN, NUMBER_PATTERN

router = APIRouter(prefix="/v1/management/anomalies", tags=["management"])
CaseReader = Allowed("admin", "director", "manager")
CaseCloser = Allowed("admin", "director", "manager")


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=4000, description="What was checked, and what was found.")
    outcome: Literal["confirmed", "lifted"] = Field(
        "confirmed", description="confirmed: the freeze stands; lifted: a false alarm, the freeze ends.")


@router.get("", summary="Anomaly cases (rules fired on monthly metrics), their evidence, freezes and audit trail")
def anomalies(
    caller: CaseReader,
    svc: ServiceDep,
    team: str | None = Query(None, min_length=1, max_length=64, pattern=ID_PATTERN,
                             description="Only this team's (and its region's) cases; a manager key is pinned to its own."),
    status: Literal["open", "closed"] | None = Query(None, description="Only open or only closed cases."),
    month: str | None = Query(None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                              description="The month whose freezes to list (YYYY-MM; default this month, UTC)."),
) -> dict:
    team = Access(svc.catalog, caller).team_filter(team)
    month = month or month_key(utcnow())
    cases = list_cases(svc.catalog, svc.settings, team=team, status=status)
    keys = {(c["scope"], c["key"]) for c in cases}
    frozen = [f for f in frozen_scopes(svc.catalog, svc.settings, month) if team is None or (f["scope"], f["key"]) in keys]
    return {"scope": {"team": team}, "rules": [r.model_dump(mode="json") for r in svc.settings.management.anomalies.rules],
            "frozen": {"month": month, "scopes": frozen}, "cases": cases}


@router.post("/cases/{case_id}/close", summary="Close an anomaly case with a note (confirm or lift the freeze)")
def close(caller: CaseCloser, svc: ServiceDep, body: CloseIn,
          case_id: str = Path(min_length=1, max_length=18, pattern=NUMBER_PATTERN,
                              description="The case's number.")) -> dict:
    number = int(case_id)  # an ASCII-digit pattern first: "²" or 20 digits is a 422, never a 500
    try:
        owner = case_owner(svc.catalog, number)
    except CaseNotFound as exc:
        raise ApiError(404, str(exc), code="case_not_found") from None
    if caller.role == "manager" and not (owner["scope"] == "team" and owner["key"] == caller.team):
        raise ApiError(403, f"a manager key closes only its own team's cases ({caller.team}); case {number} is "
                            f"{'a region' if owner['scope'] == 'region' else 'another team'}'s: a director closes it")
    try:
        return close_case(svc.catalog, svc.settings, number, actor=f"{caller.role}:{caller.actor}",
                          note=body.note, outcome=body.outcome)
    except CaseError as exc:
        raise ApiError(409, str(exc), code="case_closed") from None
