"""How each CRM entity maps onto the catalog: its row model, table, key and columns.

``to_columns`` turns a validated row into the column values of its table, resolving
external ids to catalog ids and checking configured keys; it raises
:class:`RowError` with a reason a person can act on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from talktrack.core.catalog.schema import (
    Base,
    Call,
    Course,
    Customer,
    Deal,
    EvidenceDocument,
    Rep,
    StageEvent,
    SurveyScore,
    Team,
    TRANSCRIBED_FROM_AUDIO,
)
from talktrack.core.config import Settings
from talktrack.core.files import file_sha256
from talktrack.pipelines.crm_import import rows

TEXT_EVIDENCE_SUFFIXES = (".txt", ".md", ".markdown")


class RowError(ValueError):
    """A row that cannot be imported, and why."""


@dataclass
class ImportContext:
    """What converting a row needs: settings, the source directory and id lookups."""

    settings: Settings
    source_dir: Path
    session: Session
    _ids: dict[type[Base], dict[str, int]] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)  # ids of this file's rows so far (a renewal names one)
    _deal_customers: dict[int, int] | None = None
    _transcribed: set[str] | None = None

    def ids(self, table: type[Base]) -> dict[str, int]:
        if table not in self._ids:
            pairs = self.session.execute(select(table.external_id, table.id))
            self._ids[table] = {external_id: id_ for external_id, id_ in pairs}
        return self._ids[table]

    # Read once per file, not once per row: a query per call row (and the autoflush of every
    # pending row before it) made the calls file the import's slowest. A file does not change
    # either: deals come from an earlier file, and a call's status is insert-only here.
    def deal_customer(self, deal_id: int) -> int | None:
        if self._deal_customers is None:
            self._deal_customers = dict(self.session.execute(select(Deal.id, Deal.customer_id)).all())
        return self._deal_customers.get(deal_id)

    def transcribed_from_audio(self, call_id: str) -> bool:
        """Whether the speech pipeline wrote this call's transcript (the import keeps it then)."""
        if self._transcribed is None:
            self._transcribed = set(self.session.scalars(
                select(Call.external_id).where(Call.status == TRANSCRIBED_FROM_AUDIO)))
        return call_id in self._transcribed

    def ref(self, table: type[Base], external_id: str, column: str) -> int:
        try:
            return self.ids(table)[external_id]
        except KeyError:
            raise RowError(f"unknown {column} {external_id!r} (not in this import nor the catalog)") from None

    def allowed(self, value: str | None, accepted: tuple[str, ...], column: str) -> None:
        if value is not None and value not in accepted:
            raise RowError(f"{column} {value!r} is not one of: {', '.join(accepted)}")

    def resolve_path(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.source_dir / path).resolve()


@dataclass(frozen=True)
class Entity:
    """One importable entity: file stem, row model, table, key columns and converter."""

    name: str
    row_model: type[rows.Row]
    table: type[Base]
    key_columns: tuple[str, ...]
    to_columns: Callable[[Any, ImportContext], dict[str, Any]]
    # Columns written on insert only (state that later stages own, e.g. a call's status).
    insert_only: tuple[str, ...] = ()

    @property
    def id_field(self) -> str | None:
        fields = list(self.row_model.model_fields)
        return next((name for name in fields if name.endswith("_id")), fields[0] if fields else None)


def _team(row: rows.TeamRow, ctx: ImportContext) -> dict[str, Any]:
    return {
        "external_id": row.team_id,
        "name": row.name,
        "region": row.region,
        "manager_external_id": row.manager_id,
    }


def _rep(row: rows.RepRow, ctx: ImportContext) -> dict[str, Any]:
    return {
        "external_id": row.rep_id,
        "name": row.name,
        "email": row.email,
        "team_id": ctx.ref(Team, row.team_id, "team_id"),
        "role": row.role,
        "language": row.language,
        "hired_at": row.hired_at,
    }


def _customer(row: rows.CustomerRow, ctx: ImportContext) -> dict[str, Any]:
    columns = row.model_dump(exclude={"customer_id"})
    return {"external_id": row.customer_id, **columns}


def _deal(row: rows.DealRow, ctx: ImportContext) -> dict[str, Any]:
    ctx.allowed(row.stage, ctx.settings.stage_keys, "stage")
    ctx.allowed(row.progress_level, ctx.settings.progress_level_keys, "progress_level")
    columns = row.model_dump(exclude={"deal_id", "customer_id", "rep_id"})
    return {
        "external_id": row.deal_id,
        "customer_id": ctx.ref(Customer, row.customer_id, "customer_id"),
        "rep_id": ctx.ref(Rep, row.rep_id, "rep_id"),
        **columns,
    }


def _stage_event(row: rows.StageEventRow, ctx: ImportContext) -> dict[str, Any]:
    ctx.allowed(row.stage, ctx.settings.stage_keys, "stage")
    return {
        "deal_id": ctx.ref(Deal, row.deal_id, "deal_id"),
        "stage": row.stage,
        "entered_at": row.entered_at,
    }


def _call(row: rows.CallRow, ctx: ImportContext) -> dict[str, Any]:
    ctx.allowed(row.stage, ctx.settings.stage_keys, "stage")
    deal_id = ctx.ref(Deal, row.deal_id, "deal_id") if row.deal_id else None
    customer_id = _call_customer(row, deal_id, ctx)
    audio_path, content_hash = _call_audio(row, ctx)
    columns = {
        "external_id": row.call_id,
        "deal_id": deal_id,
        "rep_id": ctx.ref(Rep, row.rep_id, "rep_id"),
        "customer_id": customer_id,
        "started_at": row.started_at,
        "duration_s": row.duration_s,
        "language": row.language,
        "channel": row.channel,
        "stage": row.stage,
        "audio_path": audio_path,
        "content_hash": content_hash,
        "transcript_path": _call_transcript(row, ctx),
        "status": "pending",
    }
    if ctx.transcribed_from_audio(row.call_id):
        del columns["transcript_path"]  # the speech pipeline's transcript stays
    return columns


def _call_customer(row: rows.CallRow, deal_id: int | None, ctx: ImportContext) -> int | None:
    deal_customer = ctx.deal_customer(deal_id) if deal_id else None
    if row.customer_id is None:
        return deal_customer
    customer_id = ctx.ref(Customer, row.customer_id, "customer_id")
    if deal_customer is not None and customer_id != deal_customer:
        raise RowError(f"customer_id {row.customer_id!r} is not the customer of deal {row.deal_id!r}")
    return customer_id


def _call_audio(row: rows.CallRow, ctx: ImportContext) -> tuple[str | None, str | None]:
    if row.audio_path is None:
        return None, None
    path = ctx.resolve_path(row.audio_path)
    if not path.is_file():
        raise RowError(f"audio_path {row.audio_path!r}: file not found at {path}")
    digest = file_sha256(path)
    twin = ctx.session.scalar(
        select(Call.external_id).where(Call.content_hash == digest, Call.external_id != row.call_id)
    )
    if twin is not None:
        raise RowError(f"audio_path {row.audio_path!r} holds the same recording as call {twin!r}")
    return str(path), digest


def _call_transcript(row: rows.CallRow, ctx: ImportContext) -> str | None:
    if row.transcript_path is not None:
        path = ctx.resolve_path(row.transcript_path)
        if not path.is_file():
            raise RowError(f"transcript_path {row.transcript_path!r}: file not found at {path}")
        return str(path)
    default = ctx.source_dir / "transcripts" / f"{row.call_id}.json"
    return str(default.resolve()) if default.is_file() else None


def _evidence(row: rows.EvidenceRow, ctx: ImportContext) -> dict[str, Any]:
    ctx.allowed(row.kind, tuple(ctx.settings.evidence_kinds), "kind")
    ctx.allowed(row.progress_level, ctx.settings.progress_level_keys, "progress_level")
    text, path, digest = row.text, None, None
    if row.path is not None:
        file = ctx.resolve_path(row.path)
        if not file.is_file():
            raise RowError(f"path {row.path!r}: file not found at {file}")
        path, digest = str(file), file_sha256(file)
        if text is None and file.suffix.lower() in TEXT_EVIDENCE_SUFFIXES:
            text = file.read_text(encoding="utf-8", errors="replace")
    if text is None and path is None:
        raise RowError("evidence needs a text or a path")
    if digest is None:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return {
        "external_id": row.evidence_id,
        "deal_id": ctx.ref(Deal, row.deal_id, "deal_id"),
        "kind": row.kind,
        "progress_level": row.progress_level,
        "submitted_at": row.submitted_at,
        "title": row.title,
        "text": text,
        "path": path,
        "content_hash": digest,
    }


def _survey(row: rows.SurveyRow, ctx: ImportContext) -> dict[str, Any]:
    ctx.allowed(row.dimension, ctx.settings.capability_keys, "dimension")
    return {"rep_id": ctx.ref(Rep, row.rep_id, "rep_id"), **row.model_dump(exclude={"rep_id"})}


def _course(row: rows.CourseRow, ctx: ImportContext) -> dict[str, Any]:
    ctx.allowed(row.dimension, ctx.settings.capability_keys, "dimension")
    return {"external_id": row.course_id, **row.model_dump(exclude={"course_id"})}


BY_EXTERNAL_ID = ("external_id",)

# In dependency order: a file may refer to entities of the files before it.
ENTITIES: tuple[Entity, ...] = (
    Entity("teams", rows.TeamRow, Team, BY_EXTERNAL_ID, _team),
    Entity("reps", rows.RepRow, Rep, BY_EXTERNAL_ID, _rep),
    Entity("customers", rows.CustomerRow, Customer, BY_EXTERNAL_ID, _customer),
    Entity("deals", rows.DealRow, Deal, BY_EXTERNAL_ID, _deal),
    Entity("stage_events", rows.StageEventRow, StageEvent, ("deal_id", "stage", "entered_at"), _stage_event),
    Entity("calls", rows.CallRow, Call, BY_EXTERNAL_ID, _call, insert_only=("status",)),
    Entity("evidence", rows.EvidenceRow, EvidenceDocument, BY_EXTERNAL_ID, _evidence),
    Entity("surveys", rows.SurveyRow, SurveyScore, ("rep_id", "period", "dimension", "source"), _survey),
    Entity("courses", rows.CourseRow, Course, BY_EXTERNAL_ID, _course),
)
