"""How the revenue files map onto the catalog (see :mod:`.entities` for the contract of an entity).

They are imported after the CRM entities they refer to (deals, customers, reps), in the order
of :data:`REVENUE_ENTITIES`: a collection names a contract, a contract a product line.
"""

from __future__ import annotations

from typing import Any

from talktrack.core.catalog.schema import (
    Collection,
    Contract,
    Customer,
    Deal,
    FieldEntry,
    Lead,
    MarketingSpend,
    ProductLine,
    Rep,
    Visit,
)
from talktrack.pipelines.crm_import import revenue_rows as rows
from talktrack.pipelines.crm_import.entities import BY_EXTERNAL_ID, Entity, ImportContext, RowError


def _optional(ctx: ImportContext, table, external_id: str | None, column: str) -> int | None:
    return ctx.ref(table, external_id, column) if external_id else None


def _product_line(row: rows.ProductLineRow, ctx: ImportContext) -> dict[str, Any]:
    return {"external_id": row.product_line, **row.model_dump(exclude={"product_line"})}


def _contract(row: rows.ContractRow, ctx: ImportContext) -> dict[str, Any]:
    deal_id = _optional(ctx, Deal, row.deal_id, "deal_id")
    customer_id = ctx.ref(Customer, row.customer_id, "customer_id")
    if deal_id is not None and ctx.session.get(Deal, deal_id).customer_id != customer_id:
        raise RowError(f"customer_id {row.customer_id!r} is not the customer of deal {row.deal_id!r}")
    if row.renewal_of and row.renewal_of not in ctx.ids(Contract) and row.renewal_of not in ctx.written:
        raise RowError(f"renewal_of {row.renewal_of!r}: no such contract earlier in this file nor in the catalog")
    ctx.written.add(row.contract_id)
    return {
        "external_id": row.contract_id,
        "deal_id": deal_id,
        "customer_id": customer_id,
        "rep_id": ctx.ref(Rep, row.rep_id, "rep_id"),
        "product_line_id": _optional(ctx, ProductLine, row.product_line, "product_line"),
        **row.model_dump(include={"amount", "currency", "discount_pct", "payment_terms_days", "contract_type",
                                  "renewal_of", "signed_at"}),
    }


def _collection(row: rows.CollectionRow, ctx: ImportContext) -> dict[str, Any]:
    return {"external_id": row.collection_id, "contract_id": ctx.ref(Contract, row.contract_id, "contract_id"),
            **row.model_dump(include={"received_at", "amount", "currency"})}


def _spend(row: rows.MarketingSpendRow, ctx: ImportContext) -> dict[str, Any]:
    return row.model_dump()


def _lead(row: rows.LeadRow, ctx: ImportContext) -> dict[str, Any]:
    return {
        "external_id": row.lead_id,
        "source": row.source,
        "created_at": row.created_at,
        "status": row.status,
        "rep_id": _optional(ctx, Rep, row.rep_id, "rep_id"),
        "customer_id": _optional(ctx, Customer, row.customer_id, "customer_id"),
        "deal_id": _optional(ctx, Deal, row.deal_id, "deal_id"),
    }


def _visit(row: rows.VisitRow, ctx: ImportContext) -> dict[str, Any]:
    return {
        "external_id": row.visit_id,
        "rep_id": ctx.ref(Rep, row.rep_id, "rep_id"),
        "customer_id": _optional(ctx, Customer, row.customer_id, "customer_id"),
        "visited_on": row.visited_on,
        "logged": row.logged,
    }


def _field_entry(row: rows.FieldEntryRow, ctx: ImportContext) -> dict[str, Any]:
    ctx.ref({"deal": Deal, "contract": Contract}[row.entity], row.record_id, f"{row.entity} record_id")
    return {"entity": row.entity, "record_external_id": row.record_id, "field": row.field, "entry": row.entry,
            "captured_from": row.captured_from}


REVENUE_ENTITIES: tuple[Entity, ...] = (
    Entity("product_lines", rows.ProductLineRow, ProductLine, BY_EXTERNAL_ID, _product_line),
    Entity("contracts", rows.ContractRow, Contract, BY_EXTERNAL_ID, _contract),
    Entity("collections", rows.CollectionRow, Collection, BY_EXTERNAL_ID, _collection),
    Entity("marketing_spend", rows.MarketingSpendRow, MarketingSpend, ("source", "month", "currency"), _spend),
    Entity("leads", rows.LeadRow, Lead, BY_EXTERNAL_ID, _lead),
    Entity("visits", rows.VisitRow, Visit, BY_EXTERNAL_ID, _visit),
    Entity("field_entries", rows.FieldEntryRow, FieldEntry, ("entity", "record_external_id", "field"), _field_entry),
)
