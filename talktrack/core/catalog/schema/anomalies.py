"""The anomaly breaker's record: one audit case per fired rule (scope, month, the evidence, the freeze)
and every transition of it (opened, closed), so a travel-reimbursement freeze can always be traced to
the numbers that caused it and to whoever lifted or confirmed it.

``freeze`` is ``frozen`` while the case is open, ``confirmed`` when a manager closed it finding the
gaming real (the freeze stands), ``lifted`` when closed as a false alarm.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from talktrack.core.catalog.schema.base import Base

CASE_STATUSES = ("open", "closed")
FREEZE_STATES = ("frozen", "confirmed", "lifted")


class AnomalyCase(Base):
    """A rule that fired on one team or region in one month. ``evidence``: the metric values of the month
    and the month before, and the deal/visit ids behind them."""

    __tablename__ = "anomaly_cases"
    __table_args__ = (UniqueConstraint("rule_key", "scope", "scope_key", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_key: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(16))
    scope_key: Mapped[str] = mapped_column(String(100), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    frozen_month: Mapped[str] = mapped_column(String(7))
    freeze: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    evidence: Mapped[dict] = mapped_column(JSON)
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    opened_by: Mapped[str] = mapped_column(String(200))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)


class AnomalyCaseEvent(Base):
    """One transition of a case: who, when, what (``action`` opened | closed) and its details."""

    __tablename__ = "anomaly_case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("anomaly_cases.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime)
    detail: Mapped[dict] = mapped_column(JSON)
