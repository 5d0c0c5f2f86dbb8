"""Precomputed scorer inputs: one row of conversation features per call, so that scoring a deal
the service has never seen reads its calls' rows instead of re-reading every utterance.

A row is a function of its call's utterances, moments and stage; ``stage``, ``moments_model``
and ``call_updated_at`` record which version of those inputs it was built from (a new
transcript stamps the call's ``updated_at``, a moment detector run its ``moments_model``), so a
reader can tell a row that no longer matches its call and rebuild it
(:mod:`talktrack.models.features.call_rows`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from talktrack.core.catalog.schema.base import Base


class CallFeatureRow(Base):
    """``features``: the call's conversation features (NaN stored as null; null as a whole when
    the call has no utterances); ``answers``: its objections and the moves that answered each
    (null without moments), from which talk-track uses are counted against the current tracks."""

    __tablename__ = "call_feature_rows"

    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    stage: Mapped[str | None] = mapped_column(String(64))
    moments_model: Mapped[str | None] = mapped_column(String(64))
    call_updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    features: Mapped[dict | None] = mapped_column(JSON)
    answers: Mapped[list | None] = mapped_column(JSON)
    built_at: Mapped[datetime] = mapped_column(DateTime)
