"""Calls and what was said in them: processing attempts, speakers, utterances, detected moments, and
the labelled examples the moment model learns from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from talktrack.core.catalog.schema.base import Base
from talktrack.core.catalog.schema.crm import Deal

CALL_STATUSES = ("pending", "processing", "transcribed", "imported", "failed")
# A call transcribed from its recording: its transcript outranks one imported from a CRM.
TRANSCRIBED_FROM_AUDIO = "transcribed"


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    duration_s: Mapped[float | None] = mapped_column(Float)
    language: Mapped[str] = mapped_column(String(8), default="en", index=True)
    channel: Mapped[str] = mapped_column(String(16), default="phone")
    stage: Mapped[str | None] = mapped_column(String(32), index=True)
    audio_path: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    transcript_path: Mapped[str | None] = mapped_column(Text)
    transcript_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The moment model that last labelled this call's utterances (null: not yet detected).
    moments_model: Mapped[str | None] = mapped_column(String(64))

    deal: Mapped[Deal | None] = relationship()
    speakers: Mapped[list[Speaker]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="Speaker.label"
    )
    utterances: Mapped[list[Utterance]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="Utterance.seq"
    )


class CallAttempt(Base):
    """One try at processing a call's recording: which file, by whom, and how it ended.

    A call keeps its last good transcript and recording while a new attempt runs, and when
    that attempt fails; the attempts are its history (``processing`` → ``done`` | ``failed``).
    """

    __tablename__ = "call_attempts"
    __table_args__ = (UniqueConstraint("call_id", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="processing")
    audio_path: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(16), default="ingest")
    created_by: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class Speaker(Base):
    __tablename__ = "speakers"
    __table_args__ = (UniqueConstraint("call_id", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16), default="unknown")
    role_confidence: Mapped[float | None] = mapped_column(Float)
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"))

    call: Mapped[Call] = relationship(back_populates="speakers")


class Utterance(Base):
    __tablename__ = "utterances"
    __table_args__ = (UniqueConstraint("call_id", "seq"), Index("ix_utterances_role", "role"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    speaker_id: Mapped[int | None] = mapped_column(ForeignKey("speakers.id", ondelete="SET NULL"))
    speaker_label: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16), default="unknown")
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="en")
    words: Mapped[list | None] = mapped_column(JSON)

    call: Mapped[Call] = relationship(back_populates="utterances")
    speaker: Mapped[Speaker | None] = relationship()


MOMENT_KINDS = ("objection", "move", "key_question")


class Moment(Base):
    """A detected moment: an objection, a rep move or a key question, in one sentence of an utterance."""

    __tablename__ = "moments"
    __table_args__ = (Index("ix_moments_kind_label", "kind", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    utterance_id: Mapped[int] = mapped_column(ForeignKey("utterances.id", ondelete="CASCADE"), index=True)
    sentence: Mapped[int] = mapped_column(Integer, default=0)  # order of the sentence inside the utterance
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(48))
    score: Mapped[float] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)  # the sentence it was found in


class MomentLabel(Base):
    """A labelled example the moment model learns from: a coach's decision or a generated label."""

    __tablename__ = "moment_labels"
    __table_args__ = (UniqueConstraint("text", "kind", "label", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="en")
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(48))  # "none" marks a negative example
    source: Mapped[str] = mapped_column(String(16), default="coach")  # coach | generated
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
