"""Reps' answers to the daily brief's question "which customer surprised you today?".

Kept as written (or as transcribed from a voice note), with the day it speaks of, so a week's
answers can be clustered again whenever the known topics change; ``channel`` says how it came in.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from talktrack.core.catalog.schema.base import Base

ANSWER_CHANNELS = ("api", "workbench", "voice_note", "import")


class SurpriseAnswer(Base):
    __tablename__ = "surprise_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id"), index=True)
    answered_on: Mapped[date] = mapped_column(Date, index=True)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(200))
