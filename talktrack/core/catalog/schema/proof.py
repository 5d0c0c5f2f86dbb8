"""What backs a deal's progress: the quotes and proposals TalkTrack watermarked, and the stage-gate
check of each stage change (accepted with verified evidence, accepted unverified, or refused)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from talktrack.core.catalog.schema.base import Base

GATE_STATUSES = ("verified", "unverified", "refused")


class IssuedQuote(Base):
    """A quote or proposal PDF stamped for a deal: its watermark id and the fingerprints of what was issued.

    ``fingerprints``: per page ``[text sha256, drawing sha256]`` of the stamped file, which a
    verification compares with the file it is given.
    """

    __tablename__ = "issued_quotes"
    __table_args__ = (UniqueConstraint("deal_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quote_id: Mapped[str] = mapped_column(String(32), unique=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(String(300))
    source_sha256: Mapped[str] = mapped_column(String(64))
    stamped_sha256: Mapped[str] = mapped_column(String(64), index=True)
    page_count: Mapped[int] = mapped_column(Integer)
    fingerprints: Mapped[list] = mapped_column(JSON)
    issued_by: Mapped[str | None] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(DateTime)


class StageGateCheck(Base):
    """The gate check of one stage change: ``status`` verified | unverified | refused, and what was missing.

    ``missing``: ``[{"stage", "evidence_kind", "reason"}]``; ``source``: api | import. A refused
    change has no stage event; the others point at the event they checked.
    """

    __tablename__ = "stage_gate_checks"
    __table_args__ = (UniqueConstraint("deal_id", "to_stage", "entered_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    stage_event_id: Mapped[int | None] = mapped_column(ForeignKey("stage_events.id", ondelete="SET NULL"))
    from_stage: Mapped[str | None] = mapped_column(String(32))
    to_stage: Mapped[str] = mapped_column(String(32))
    entered_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), index=True)
    missing: Mapped[list] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(16))
    checked_at: Mapped[datetime] = mapped_column(DateTime)
