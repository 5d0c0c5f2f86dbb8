"""One deal, for the workbench's deal page: ``GET /v1/deals/{deal_id}`` (who, what, how much, where it
stands) and ``GET /v1/deals/{deal_id}/stage-gates`` (what leaving its stage owes, with the evidence
present, verified or missing, and how each earlier stage change fared at its gate).

Scope as for every deal route (:class:`~talktrack.serving.access.Access`): a rep reads their own deals,
a manager the team's, the others every deal (404 unknown, 403 out of reach). A director may read both:
the deal page is where a director follows a key account. The work is in :mod:`talktrack.pipelines.deals`
and :mod:`talktrack.pipelines.deal_gate`.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi import Path as PathParam

from talktrack.pipelines import deal_gate, stage_timers
from talktrack.pipelines import deals as deal_list
from talktrack.serving.access import Access
from talktrack.serving.auth import Allowed
from talktrack.serving.errors import ApiError
from talktrack.serving.routes.crm import gate_verdicts
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.routes.params import ID_PATTERN

router = APIRouter(prefix="/v1/deals", tags=["deals"])
Reader = Allowed("admin", "coach", "crm", "director", "manager", "rep")
DealId = PathParam(min_length=1, max_length=64, pattern=ID_PATTERN, description="The deal's external (CRM) id.")


@router.get("/{deal_id}", summary="One deal: customer, rep, amount, stage and its clock")
def deal(caller: Reader, svc: ServiceDep, deal_id: str = DealId) -> dict:
    Access(svc.catalog, caller).deal(deal_id)
    _, found = deal_list.list_deals(svc.catalog, svc.settings, deal_list.DealFilter(deal=deal_id), limit=1)
    if not found:   # removed between the check and the read
        raise ApiError(404, f"deal {deal_id!r} is not in the catalog", code="deal_not_found")
    return found[0]


@router.get("/{deal_id}/stage-gates",
            summary="A deal's stage gate: what leaving its stage requires (evidence present/verified/missing), "
                    "and each stage change's check")
def stage_gates(caller: Reader, svc: ServiceDep, deal_id: str = DealId) -> dict:
    Access(svc.catalog, caller).deal(deal_id)
    try:
        return deal_gate.deal_gate(svc.catalog, svc.settings, deal_id, gate_verdicts(svc))
    except stage_timers.DealNotFound as exc:
        raise ApiError(404, str(exc), code="deal_not_found") from None
