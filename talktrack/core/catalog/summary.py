"""Counts of what a catalog holds, for ``talktrack status`` and the demo's report."""

from __future__ import annotations

from sqlalchemy import func, select

from talktrack.core.catalog.schema import (
    Call,
    Course,
    Customer,
    Deal,
    EvidenceDocument,
    Rep,
    Speaker,
    StageEvent,
    SurveyScore,
    Team,
    Utterance,
)
from talktrack.core.catalog.store import Catalog

COUNTED = {
    "teams": Team,
    "reps": Rep,
    "customers": Customer,
    "deals": Deal,
    "stage_events": StageEvent,
    "calls": Call,
    "speakers": Speaker,
    "utterances": Utterance,
    "evidence": EvidenceDocument,
    "surveys": SurveyScore,
    "courses": Course,
}


def summarize(catalog: Catalog) -> dict[str, dict[str, int]]:
    """``{"entities": {...}, "calls_by_status": {...}, "deals_by_status": {...}, "deals_by_stage": {...}}``."""
    with catalog.session() as session:
        entities = {name: session.scalar(select(func.count()).select_from(table)) for name, table in COUNTED.items()}
        return {
            "entities": entities,
            "calls_by_status": _grouped(session, Call.status),
            "deals_by_status": _grouped(session, Deal.status),
            "deals_by_stage": _grouped(session, Deal.stage),
        }


def _grouped(session, column) -> dict[str, int]:
    rows = session.execute(select(column, func.count()).group_by(column).order_by(column))
    return {str(key): count for key, count in rows}


def list_calls(catalog: Catalog, *, state: str | None = None) -> list[dict[str, object]]:
    """Every call (or those in ``state``) ordered by state then id, with its error if any."""
    query = select(Call).order_by(Call.status, Call.external_id)
    if state:
        query = query.where(Call.status == state)
    with catalog.session() as session:
        return [
            {
                "call_id": call.external_id,
                "status": call.status,
                "duration_s": call.duration_s,
                "audio_path": call.audio_path,
                "error": call.error,
                "updated_at": call.updated_at,
            }
            for call in session.scalars(query)
        ]
