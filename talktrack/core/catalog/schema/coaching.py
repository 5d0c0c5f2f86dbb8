"""What coaching is built from and what it records: mined talk tracks with their review trail, mining
runs, and virtual-customer drills with their turns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from talktrack.core.catalog.schema.base import Base

TRACK_STATUSES = ("proposed", "approved", "rejected", "edited")


class TalkTrack(Base):
    """A mined (objection type -> ordered moves) answer with its evidence and its review state.

    ``key`` identifies the pattern across re-mining, so a coach's review survives it:
    re-mining refreshes ``stats`` and ``exemplars`` and never touches ``status``.
    """

    __tablename__ = "talk_tracks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    objection_type: Mapped[str] = mapped_column(String(32), index=True)
    moves: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="proposed", index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # found by the latest mining run
    stats: Mapped[dict | None] = mapped_column(JSON)
    wording: Mapped[list | None] = mapped_column(JSON)  # semantic clusters of how reps phrased it
    exemplars: Mapped[list | None] = mapped_column(JSON)
    script: Mapped[str | None] = mapped_column(Text)  # a coach's edited wording
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    first_mined_at: Mapped[datetime] = mapped_column(DateTime)
    mined_at: Mapped[datetime] = mapped_column(DateTime)

    reviews: Mapped[list[TalkTrackReview]] = relationship(
        back_populates="track", cascade="all, delete-orphan", order_by="TalkTrackReview.at"
    )


class TalkTrackReview(Base):
    """The audit trail of a talk track: every review action, who, when, and what changed."""

    __tablename__ = "talk_track_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("talk_tracks.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)
    changes: Mapped[dict | None] = mapped_column(JSON)

    track: Mapped[TalkTrack] = relationship(back_populates="reviews")


class MiningRun(Base):
    """One ``talktrack mine``: its parameters and what it found."""

    __tablename__ = "mining_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    params: Mapped[dict | None] = mapped_column(JSON)
    summary: Mapped[dict | None] = mapped_column(JSON)


class Drill(Base):
    """A virtual-customer practice session of one rep; ``external_id`` is unguessable."""

    __tablename__ = "drills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(32), unique=True)
    rep_external_id: Mapped[str | None] = mapped_column(String(64), index=True)
    team_external_id: Mapped[str | None] = mapped_column(String(64), index=True)
    objection_type: Mapped[str] = mapped_column(String(32))
    persona: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="active")
    opening: Mapped[dict | None] = mapped_column(JSON)
    state: Mapped[dict | None] = mapped_column(JSON)
    summary: Mapped[dict | None] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)

    turns: Mapped[list[DrillTurn]] = relationship(
        back_populates="drill", cascade="all, delete-orphan", order_by="DrillTurn.seq"
    )


class DrillTurn(Base):
    """One rep answer in a drill, its score and breakdown, and the customer's reply."""

    __tablename__ = "drill_turns"
    __table_args__ = (UniqueConstraint("drill_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    rep_text: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float)
    breakdown: Mapped[dict | None] = mapped_column(JSON)
    answers: Mapped[list | None] = mapped_column(JSON)
    reaction: Mapped[str | None] = mapped_column(String(16))
    customer_line: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    drill: Mapped[Drill] = relationship(back_populates="turns")
