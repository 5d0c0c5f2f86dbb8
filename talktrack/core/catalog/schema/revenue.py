"""What a director's figures are made of: product lines with their margin, contracts and the
payments received on them, marketing spend, leads, customer visits, and how each CRM field was
filled (typed by hand or captured). All come from the CRM import, keyed by their CRM ids.

A renewal names the contract it renews by CRM id (``renewal_of``), not by foreign key: the
renewed contract may come later in the same file, or predate the CRM history altogether.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from talktrack.core.catalog.schema.base import Base


class ProductLine(Base):
    __tablename__ = "product_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[str | None] = mapped_column(String(200))
    name_zh: Mapped[str | None] = mapped_column(String(200))
    gross_margin: Mapped[float | None] = mapped_column(Float)


class Contract(Base):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id"), index=True)
    amount: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3))
    discount_pct: Mapped[float] = mapped_column(Float, default=0.0)
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    contract_type: Mapped[str] = mapped_column(String(16))
    product_line_id: Mapped[int | None] = mapped_column(ForeignKey("product_lines.id"), index=True)
    renewal_of: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[date] = mapped_column(Date, index=True)


class Collection(Base):
    __tablename__ = "collections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[date] = mapped_column(Date)
    amount: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3))


class MarketingSpend(Base):
    __tablename__ = "marketing_spend"
    __table_args__ = (UniqueConstraint("source", "month", "currency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))
    amount: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3))


class Lead(Base):
    __tablename__ = "leads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(8))
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"))


class Visit(Base):
    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    visited_on: Mapped[date] = mapped_column(Date, index=True)
    logged: Mapped[str] = mapped_column(String(8))


class FieldEntry(Base):
    """How one CRM field of one record was filled: typed by hand, or captured (and from where)."""

    __tablename__ = "field_entries"
    __table_args__ = (UniqueConstraint("entity", "record_external_id", "field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(16))
    record_external_id: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(64))
    entry: Mapped[str] = mapped_column(String(8))
    captured_from: Mapped[str | None] = mapped_column(String(16))
