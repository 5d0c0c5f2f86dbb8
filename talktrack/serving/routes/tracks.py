"""Talk tracks: list, detail with exemplars and audit trail, and review (coach/admin only)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from talktrack.pipelines.mining import get_track, list_tracks, review_track
from talktrack.serving.access import Access
from talktrack.serving.auth import Allowed
from talktrack.serving.disclosure import redact_calls
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.routes.params import TrackRef

router = APIRouter(prefix="/v1/tracks", tags=["talk tracks"])
Reader = Allowed("admin", "coach", "manager", "rep")
Reviewer = Allowed("admin", "coach")


class Review(BaseModel):
    """A review decision; ``edit`` needs ``script`` (the new wording)."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["approve", "reject", "edit", "reopen"]
    note: str | None = Field(None, max_length=4000)
    script: str | None = Field(None, max_length=20000)


@router.get("", summary="Mined talk tracks")
def tracks(
    caller: Reader,
    svc: ServiceDep,
    status: str | None = Query(None, max_length=32, description="e.g. pending, approved, rejected."),
    objection_type: str | None = Query(None, max_length=64),
) -> dict:
    found = list_tracks(svc.catalog, status=status, objection_type=objection_type)
    return {"tracks": redact_calls(Access(svc.catalog, caller), found)}


@router.get("/{track_id}", summary="One talk track with exemplars and its review trail")
def track(track_id: TrackRef, caller: Reader, svc: ServiceDep) -> dict:
    return redact_calls(Access(svc.catalog, caller), get_track(svc.catalog, track_id))


@router.post("/{track_id}/review", summary="Approve, reject, edit or reopen a talk track")
def review(
    track_id: TrackRef,
    body: Review,
    caller: Reviewer,
    svc: ServiceDep,
) -> dict:
    reviewed = review_track(svc.catalog, track_id, body.action, actor=caller.actor, note=body.note, script=body.script)
    return redact_calls(Access(svc.catalog, caller), reviewed)
