"""Row models of the revenue files: product lines, contracts, collections, marketing spend,
leads, visits and field entries (docs/import-format.md, "Revenue and activity files")."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from talktrack.pipelines.crm_import.rows import ExternalId, Row, Timestamp, _month

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Money = Annotated[float, Field(ge=0)]


class ProductLineRow(Row):
    product_line: ExternalId
    name_en: str | None = None
    name_zh: str | None = None
    gross_margin: float | None = Field(None, ge=0, le=1)


class ContractRow(Row):
    contract_id: ExternalId
    deal_id: ExternalId | None = None
    customer_id: ExternalId
    rep_id: ExternalId
    amount: Money
    currency: Currency
    discount_pct: float = Field(0.0, ge=0, le=100)
    payment_terms_days: int = Field(ge=0)
    contract_type: Literal["standard", "non_standard"]
    product_line: ExternalId | None = None
    renewal_of: ExternalId | None = None
    signed_at: date

    @model_validator(mode="after")
    def _not_its_own_renewal(self) -> ContractRow:
        if self.renewal_of == self.contract_id:
            raise ValueError("renewal_of names the contract itself")
        return self


class CollectionRow(Row):
    collection_id: ExternalId
    contract_id: ExternalId
    received_at: date
    amount: Money
    currency: Currency


class MarketingSpendRow(Row):
    source: ExternalId
    month: Annotated[str, AfterValidator(_month)]
    amount: Money
    currency: Currency


class LeadRow(Row):
    lead_id: ExternalId
    source: ExternalId
    created_at: Timestamp
    status: Literal["valid", "invalid"]
    rep_id: ExternalId | None = None
    customer_id: ExternalId | None = None
    deal_id: ExternalId | None = None


class VisitRow(Row):
    visit_id: ExternalId
    rep_id: ExternalId
    customer_id: ExternalId | None = None
    visited_on: date
    logged: Literal["hand", "captured"]


class FieldEntryRow(Row):
    entity: Literal["deal", "contract"]
    record_id: ExternalId
    field: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
    entry: Literal["hand", "captured"]
    captured_from: Literal["call", "chat", "evidence", "system"] | None = None

    @model_validator(mode="after")
    def _source_only_when_captured(self) -> FieldEntryRow:
        if self.entry == "hand" and self.captured_from is not None:
            raise ValueError("captured_from is for captured values; a value typed by hand has none")
        return self
