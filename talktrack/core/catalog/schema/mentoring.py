"""Mentoring points: sessions (a senior rep replays a recorded call with a mentee), their timestamped key
points, the points ledger, the audit trail and the monthly HR exports.

The ledger and the audit trail are append-only: a mistaken award is undone by a *reversal* entry (negative
points, naming the entry it reverses), never by deleting or editing a row, so what HR was paid can always
be reconciled with what the ledger says. Deleting a ledger or audit row through the ORM raises.

A session is ``open`` (the mentor annotates), then ``submitted`` (enough key points, awaiting the
mentee's manager), then ``confirmed`` or ``rejected``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from talktrack.core.catalog.schema.base import Base

SESSION_STATUSES = ("open", "submitted", "confirmed", "rejected")
LEDGER_KINDS = ("earned", "reversal")
EXPORT_STATUSES = ("pending", "delivered", "failed", "csv_only")


class MentoringSession(Base):
    __tablename__ = "mentoring_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("reps.id"), index=True)
    mentee_id: Mapped[int] = mapped_column(ForeignKey("reps.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    review_note: Mapped[str | None] = mapped_column(Text)


class MentoringAnnotation(Base):
    """A key point: a note at ``at_s`` seconds into the call (what to hear there, and why it matters)."""

    __tablename__ = "mentoring_annotations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("mentoring_sessions.id"), index=True)
    at_s: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class MentoringPoints(Base):
    """One ledger entry: points earned by a confirmed session (``points`` may be 0 past the monthly cap),
    or a reversal of an earlier entry (negative points, ``reverses_id`` set), booked in ``month``."""

    __tablename__ = "mentoring_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("mentoring_sessions.id"), index=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id"), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(Integer)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("mentoring_points.id"), unique=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)


class MentoringEvent(Base):
    """The audit trail: who did what to which session, ledger entry or export, and when."""

    __tablename__ = "mentoring_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("mentoring_sessions.id"), index=True)
    export_id: Mapped[str | None] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime)
    detail: Mapped[dict] = mapped_column(JSON)


class MentoringExport(Base):
    """A month's export for HR, keyed by ``export_id`` (the month and a hash of its rows: the same rows
    are the same export, so a retry or a rerun never pays twice). ``payload`` is what is POSTed."""

    __tablename__ = "mentoring_exports"

    export_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)
    url: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)


def _refuse_delete(mapper, connection, target) -> None:
    raise PermissionError(f"{type(target).__tablename__} is append-only: record a reversal instead of deleting "
                          f"row {target.id}")


for _table in (MentoringPoints, MentoringEvent):
    event.listen(_table, "before_delete", _refuse_delete)
