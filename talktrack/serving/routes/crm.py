"""CRM stage changes and stage-timer alerts.

The CRM posts each stage change of a deal (``POST /v1/crm/deals/{deal_id}/stage-events``); the
history with days per stage and the current stage's timer are at ``GET .../stages``; ``GET
/v1/crm/alerts`` lists open deals whose stage ran past its threshold, with the manager to tell;
``GET /v1/crm/funnel`` counts how far a window's deals got, stage by stage. Each stage change is
checked by its stage gate (:mod:`talktrack.pipelines.stage_gates`); ``GET /v1/crm/stage-gates`` lists
the changes accepted without verified evidence. The clocks live in :mod:`talktrack.pipelines.stage_timers`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from talktrack.pipelines import stage_gates, stage_timers
from talktrack.serving.access import Access
from talktrack.serving.auth import Allowed
from talktrack.serving.errors import ApiError
from talktrack.serving.routes.compliance import evidence as evidence_checks
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.routes.params import ID_PATTERN
from talktrack.serving.scoring_cache import invalidate_deal_features

router = APIRouter(prefix="/v1/crm", tags=["CRM"])
Writer = Allowed("admin", "crm")
HistoryReader = Allowed("admin", "coach", "crm", "manager", "rep")
AlertReader = Allowed("admin", "coach", "crm", "manager")
DealId = Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="The deal's external (CRM) id.")


class StageEventIn(BaseModel):
    """A stage change: the stage entered and when (default: now); ``outcome`` closes the deal."""

    model_config = ConfigDict(extra="forbid")
    stage: str = Field(min_length=1, max_length=32, description="A stage key, e.g. negotiation.")
    entered_at: datetime | None = Field(None, description="When the stage was entered (ISO; UTC when no offset).")
    outcome: Literal["won", "lost"] | None = Field(
        None, description="Close the deal: won (on the last stage) or lost (on this stage)."
    )


@router.post("/deals/{deal_id}/stage-events",
             summary="Record a deal's stage change (idempotent), checked by its stage gate")
def post_stage_event(body: StageEventIn, caller: Writer, svc: ServiceDep, deal_id: str = DealId) -> dict:
    """The deal's history after the event; ``created`` is false for a retry of a recorded event; ``gate``:
    verified, or unverified with what is missing. With ``stage_gates.enforce`` a change without its
    verified evidence is refused (409, ``stage_gate``) and not recorded."""
    Access(svc.catalog, caller).deal(deal_id, write=True)
    try:
        timeline, created, gate = stage_gates.record_gated_stage_event(
            svc.catalog, svc.settings, deal_id, body.stage, _utc(body.entered_at, "body.entered_at"), body.outcome,
            verdicts=gate_verdicts(svc))
    except stage_timers.DealNotFound as exc:
        raise ApiError(404, str(exc), code="deal_not_found") from None
    except stage_timers.StageEventError as exc:
        raise ApiError(422, f"body: {exc}") from None
    except stage_timers.StageConflict as exc:
        raise ApiError(409, str(exc), code="stage_conflict") from None
    except stage_gates.GateRefused as exc:
        raise ApiError(409, str(exc), code="stage_gate") from None
    if created:  # the deal's stage features changed: its next score is built afresh
        invalidate_deal_features(svc, [deal_id])
    return timeline.to_dict() | {"created": created, "gate": gate.to_dict()}


def gate_verdicts(svc) -> stage_gates.Verdicts:
    """The service's evidence verifier, opened only when a change owes evidence that exists."""
    def verdicts(rows):
        if not rows:
            return {}
        return evidence_checks(svc).run(lambda verifier: stage_gates.verifier_verdicts(verifier)(rows))
    return verdicts


@router.get("/stage-gates", summary="Stage changes accepted without verified evidence (or refused): the manager's list")
def stage_gate_list(
    caller: AlertReader,
    svc: ServiceDep,
    status: Literal["unverified", "refused", "verified"] = Query("unverified", description="Which checks."),
    team: str | None = Query(None, min_length=1, max_length=64, description="Only this team (external id)."),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> dict:
    team = Access(svc.catalog, caller).team_filter(team)
    total, checks = stage_gates.gate_checks(svc.catalog, status=status, team=team, limit=limit, offset=offset)
    return {"status": status, "team": team, "total": total, "limit": limit, "offset": offset,
            "enforce": svc.settings.stage_gates.enforce, "checks": checks}


@router.get("/deals/{deal_id}/stages", summary="A deal's stage history, days per stage and current timer")
def deal_stages(
    caller: HistoryReader,
    svc: ServiceDep,
    deal_id: str = DealId,
    as_of: datetime | None = Query(None, description="Compute as of this time (ISO; default now)."),
) -> dict:
    Access(svc.catalog, caller).deal(deal_id)
    return stage_timers.deal_timeline(svc.catalog, svc.settings, deal_id, _utc(as_of, "query.as_of")).to_dict()


@router.get("/alerts", summary="Open deals whose current stage ran past its threshold")
def alerts(
    caller: AlertReader,
    svc: ServiceDep,
    as_of: datetime | None = Query(None, description="Alerts as of this time (ISO; default now)."),
    team: str | None = Query(None, min_length=1, max_length=64, description="Only this team (external id)."),
) -> dict:
    team = Access(svc.catalog, caller).team_filter(team)
    when = _utc(as_of, "query.as_of") or stage_timers.utcnow()
    found = stage_timers.stage_alerts(svc.catalog, svc.settings, when, team)
    return {"as_of": when.isoformat(timespec="seconds"), "team": team, "count": len(found), "alerts": found}


@router.get("/funnel", summary="The stage funnel of a window's deals, with the conversion between stages")
def funnel(
    caller: AlertReader,
    svc: ServiceDep,
    team: str | None = Query(None, min_length=1, max_length=64, description="Only this team (external id)."),
    since: datetime | None = Query(None, description="Deals created at or after this time (ISO; default all)."),
    until: datetime | None = Query(None, description="Deals created before this time (ISO; default: all)."),
) -> dict:
    team = Access(svc.catalog, caller).team_filter(team)
    since, until = _utc(since, "query.since"), _utc(until, "query.until")
    if since is not None and until is not None and since >= until:
        raise ApiError(422, f"query.until ({until.isoformat()}) must be after query.since "
                            f"({since.isoformat()})")
    return stage_timers.stage_funnel(svc.catalog, svc.settings, team, since, until)


def _utc(value: datetime | None, field: str) -> datetime | None:
    """A request time in the catalog's form (naive UTC); 422 for one that cannot be (year 1 at +14:00)."""
    if value is None:
        return None
    try:
        return stage_timers.as_naive_utc(value)
    except (OverflowError, ValueError):
        raise ApiError(422, f"{field}: {value.isoformat()} cannot be expressed in UTC (years 1-9999)") from None
