"""``POST /v1/management/sandbox``: "move 20 % of the reps from product line A to B" — next quarter's gross
margin, customer churn and margin per seller, baseline vs scenario, each with its interval.

Scope: a director (and an admin) may move any seller; a manager only their own team's, and the figures
are then their team's (asking for another team is a 403). The answer is
:func:`talktrack.pipelines.management.sandbox.run_sandbox`'s.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import Field

from talktrack.core.clock import utcnow
from talktrack.pipelines.management.sandbox import run_sandbox
from talktrack.pipelines.management.sandbox_history import SandboxError, Scenario
from talktrack.serving.access import Access
from talktrack.serving.auth import Allowed
from talktrack.serving.errors import ApiError
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.routes.params import ID_PATTERN

router = APIRouter(prefix="/v1/management", tags=["management"])
SandboxUser = Allowed("admin", "director", "manager")
MAX_DRAWS = 5000  # a request's own draw count is bounded: the simulation runs inside the request


class SandboxRequest(Scenario):
    team: str | None = Field(None, min_length=1, max_length=64, pattern=ID_PATTERN,
                             description="Only this team's reps (external id); a manager key is pinned to its own.")
    as_of: date | None = Field(None, description="The day the history ends (default today, UTC); the quarter follows.")
    draws: int | None = Field(None, ge=50, le=MAX_DRAWS, description="Monte Carlo draws (default: the settings').")


@router.post("/sandbox", summary="What if reps move between product lines: next quarter, baseline vs scenario")
def sandbox(caller: SandboxUser, svc: ServiceDep, request: SandboxRequest) -> dict:
    team = Access(svc.catalog, caller).team_filter(request.team)
    scenario = Scenario.model_validate(request.model_dump(exclude={"team", "as_of", "draws"}))
    try:
        return run_sandbox(svc.catalog, svc.settings, scenario, as_of=request.as_of or utcnow().date(), team=team,
                           draws=request.draws)
    except SandboxError as exc:  # an unknown product line, no sellers in scope: the request's, not ours
        raise ApiError(422, str(exc), "invalid_scenario") from exc
