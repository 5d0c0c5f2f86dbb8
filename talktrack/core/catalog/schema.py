"""The catalog's tables (SQLAlchemy 2 declarative mapping).

Every entity that comes from a CRM carries its ``external_id`` (unique), which is
what imports upsert on; integer primary keys are internal. Times are stored as
naive UTC datetimes. Changing a table here needs an Alembic revision under
``migrations/versions`` (a test compares the two).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CALL_STATUSES = ("pending", "processing", "transcribed", "imported", "failed")
# A call transcribed from its recording: its transcript outranks one imported from a CRM.
TRANSCRIBED_FROM_AUDIO = "transcribed"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(100))
    manager_external_id: Mapped[str | None] = mapped_column(String(64))

    reps: Mapped[list[Rep]] = relationship(back_populates="team")


class Rep(Base):
    __tablename__ = "reps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="rep")
    language: Mapped[str] = mapped_column(String(8), default="en")
    hired_at: Mapped[date | None] = mapped_column(Date)

    team: Mapped[Team] = relationship(back_populates="reps")


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    industry: Mapped[str | None] = mapped_column(String(100))
    employees: Mapped[int | None] = mapped_column(Integer)
    purchase_frequency: Mapped[float | None] = mapped_column(Float)
    open_positions: Mapped[int | None] = mapped_column(Integer)
    sentiment: Mapped[float | None] = mapped_column(Float)
    region: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[date | None] = mapped_column(Date)


class Deal(Base):
    __tablename__ = "deals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id"), index=True)
    title: Mapped[str | None] = mapped_column(String(300))
    amount: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    stage: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(8), default="open", index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    progress_level: Mapped[str | None] = mapped_column(String(32))
    payment_terms_days: Mapped[int | None] = mapped_column(Integer)
    discount_pct: Mapped[float | None] = mapped_column(Float)
    standard_contract: Mapped[bool] = mapped_column(Boolean, default=True)

    customer: Mapped[Customer] = relationship()
    rep: Mapped[Rep] = relationship()
    stage_events: Mapped[list[StageEvent]] = relationship(
        back_populates="deal", order_by="StageEvent.entered_at"
    )


class StageEvent(Base):
    __tablename__ = "stage_events"
    __table_args__ = (UniqueConstraint("deal_id", "stage", "entered_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    entered_at: Mapped[datetime] = mapped_column(DateTime)

    deal: Mapped[Deal] = relationship(back_populates="stage_events")


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    duration_s: Mapped[float | None] = mapped_column(Float)
    language: Mapped[str] = mapped_column(String(8), default="en")
    channel: Mapped[str] = mapped_column(String(16), default="phone")
    stage: Mapped[str | None] = mapped_column(String(32))
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


class EvidenceDocument(Base):
    __tablename__ = "evidence_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    progress_level: Mapped[str | None] = mapped_column(String(32))
    submitted_at: Mapped[datetime] = mapped_column(DateTime)
    title: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str | None] = mapped_column(Text)
    path: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))


class SurveyScore(Base):
    __tablename__ = "survey_scores"
    __table_args__ = (UniqueConstraint("rep_id", "period", "dimension", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    dimension: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    respondents: Mapped[int] = mapped_column(Integer, default=1)


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    dimension: Mapped[str] = mapped_column(String(32), index=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    duration_h: Mapped[float | None] = mapped_column(Float)
    url: Mapped[str | None] = mapped_column(Text)


class ImportRun(Base):
    """One ``talktrack import``: where from, when, and the counts per entity."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    summary: Mapped[dict | None] = mapped_column(JSON)


class ApiKey(Base):
    """An API key of the service: only its hash is stored; the prefix finds it and names it in lists.

    ``rep_external_id``/``team_external_id`` scope what a rep or manager key may read.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    rep_external_id: Mapped[str | None] = mapped_column(String(64))
    team_external_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


JOB_STATUSES = ("queued", "running", "done", "failed")


class Job(Base):
    """Background work the service accepted (202): an uploaded call to transcribe, a voice note.

    Jobs live in the catalog, so a restarted service picks up what was queued or running.
    """

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"), index=True)
    payload: Mapped[dict | None] = mapped_column(JSON)
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Stamped by the worker while the job runs; a running job without a recent one is an orphan.
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)


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
