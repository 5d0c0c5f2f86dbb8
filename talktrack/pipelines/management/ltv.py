"""New-customer LTV/CAC per lead source, team and region: what a new customer brings over its
lifetime against what it cost to win, instead of the number of new customers.

The unit is a **lead**: leads created in the ``window_months`` months up to ``as_of``. A lead whose
deal was won with a (non-renewal) contract signed by ``as_of`` is an *acquisition*.

- **Marketing cost**: a source's spend in a month (``marketing_spend``, in the reporting currency) is
  split equally over that source's leads of that month; a team (region) carries its leads' shares.
  A month's spend with no lead of the source is the source's alone (it shows in the source's row, in
  no team's).
- **Sales cost** = ``sales_hour_cost`` × hours spent on every deal of the group's leads, won or not:
  its calls (``duration_s``), its visits × ``visit_hours`` (a visit by the deal's rep to the deal's
  customer while the deal was open; with several such deals, the one created last) and its days open
  (created to closed, or to ``as_of``) × ``stage_day_hours``.
- **CAC** = (marketing + sales cost) ÷ acquisitions.
- **LTV** of an acquisition = contract value × gross margin of its product line × (1 + p + … + p^(H-1)),
  p = the renewal chance of its region (:mod:`renewal`), H = ``horizon_terms``.
- **LTV/CAC** = Σ LTV ÷ (marketing + sales cost), with an ``interval`` drawn from the renewal posterior.

Example::

    report = ltv_cac_report(catalog, settings, as_of=date(2026, 12, 7))
    [(row["key"], row["ltv_cac"]) for row in report["by"]["source"]]
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Contract, Deal, Lead, MarketingSpend, ProductLine, Rep, Team, Visit
from talktrack.core.config import Settings
from talktrack.pipelines.management.renewal import RenewalHistory, expected_contracts, fit_renewals, fit_rows
from talktrack.pipelines.management.revenue import NO_KEY

GROUPS = ("source", "team", "region")


class LtvCacDataError(ValueError):
    """Imported data the figures cannot use (an amount without an exchange rate, a contract without a margin)."""

LINEAGE: dict[str, tuple[str, ...]] = {
    "ltv_cac": ("leads.source", "leads.created_at", "leads.rep_id", "leads.deal_id", "marketing_spend.amount",
                "marketing_spend.month", "marketing_spend.source", "calls.duration_s", "visits.visited_on",
                "deals.created_at", "deals.closed_at", "contracts.amount", "contracts.currency",
                "contracts.renewal_of", "contracts.signed_at", "product_lines.gross_margin", "reps.team_id",
                "teams.region"),
}


@dataclass(frozen=True)
class LeadFact:
    lead_id: str
    source: str
    month: str
    team: str
    region: str
    deal_id: str  # "" when the lead made no deal


@dataclass
class DealCost:
    deal_id: str
    rep: int  # catalog keys, as visits carry them
    customer: int
    opened: datetime
    closed: datetime  # closed_at, or the end of as_of for an open deal
    call_hours: float = 0.0
    visits: int = 0


def window_months(as_of: date, months: int) -> list[str]:
    """The ``months`` calendar months ending with as_of's, oldest first (``YYYY-MM``)."""
    index = as_of.year * 12 + as_of.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - months + 1, index + 1)]


def ltv_cac_report(catalog: Catalog, settings: Settings, *, as_of: date, team: str | None = None) -> dict:
    """LTV/CAC of one scope (all teams, or one team's leads) as of a day, with the renewal model behind it."""
    policy, rules = settings.management, settings.management.ltv_cac
    months = window_months(as_of, rules.window_months)
    end = datetime.combine(as_of + timedelta(days=1), time())
    leads = _load_leads(catalog, months, end)
    marketing = _marketing_per_lead(catalog, leads, months, policy.exchange_rates)
    if team is not None:
        leads = [lead for lead in leads if lead.team == team]
    deals = _load_deal_costs(catalog, {lead.deal_id for lead in leads if lead.deal_id}, end)
    acquisitions = _load_acquisitions(catalog, set(deals), as_of, policy.exchange_rates)
    fits = fit_renewals(_load_history(catalog, as_of), as_of=as_of, term_days=rules.renewal_term_days,
                        regions={a["region"] for a in acquisitions.values()})
    rng = np.random.default_rng(rules.seed)
    draws = {region: expected_contracts(fit.draws(rng, rules.draws), rules.horizon_terms)
             for region, fit in fits.items()}
    point = {region: float(expected_contracts(fit.p, rules.horizon_terms)) for region, fit in fits.items()}
    cells = _cells(leads, marketing, deals, acquisitions, rules)
    if team is None:
        for source, amount in marketing.get("", {}).items():
            cells["source"][source]["marketing"] += amount
    return {
        "as_of": as_of.isoformat(), "scope": {"team": team}, "currency": policy.reporting_currency,
        "window": [months[0], months[-1]], "settings": rules.model_dump(mode="json"),
        "renewal_model": fit_rows(fits, rules.interval),
        "by": {group: [_row(key, cell, point, draws, rules.interval) for key, cell in sorted(cells[group].items())]
               for group in GROUPS},
        "total": _row("all", _total(cells["source"]), point, draws, rules.interval),
    }


def _load_leads(catalog: Catalog, months: list[str], end: datetime) -> list[LeadFact]:
    first = datetime.strptime(months[0], "%Y-%m")
    query = (select(Lead.external_id, Lead.source, Lead.created_at, Team.external_id, Team.region, Deal.external_id)
             .outerjoin(Rep, Rep.id == Lead.rep_id).outerjoin(Team, Team.id == Rep.team_id)
             .outerjoin(Deal, Deal.id == Lead.deal_id)
             .where(Lead.created_at >= first, Lead.created_at < end).order_by(Lead.created_at, Lead.external_id))
    with catalog.session() as session:
        rows = session.execute(query).all()
    facts, seen = [], set()
    for lead_id, source, created, team, region, deal in rows:
        deal = deal if deal and deal not in seen else ""  # a deal's first lead brought it
        seen.add(deal)
        facts.append(LeadFact(lead_id, source, created.strftime("%Y-%m"), team or NO_KEY, region or NO_KEY, deal))
    return facts


def _marketing_per_lead(catalog: Catalog, leads: list[LeadFact], months: list[str],
                        rates: dict[str, float]) -> dict[str, dict[str, float]]:
    """lead id -> {source: share}, and "" -> {source: spend of months in which it brought no lead}."""
    with catalog.session() as session:
        rows = session.execute(select(MarketingSpend.source, MarketingSpend.month, MarketingSpend.amount,
                                      MarketingSpend.currency).where(MarketingSpend.month.in_(months))).all()
    spend: dict[tuple[str, str], float] = defaultdict(float)
    for source, month, amount, currency in rows:
        if currency not in rates:
            raise LtvCacDataError(f"marketing spend of {source} in {month} is in {currency}, which has no "
                             f"management.exchange_rates entry ({', '.join(sorted(rates))})")
        spend[(source, month)] += amount * rates[currency]
    per_cell: dict[tuple[str, str], list[str]] = defaultdict(list)
    for lead in leads:
        per_cell[(lead.source, lead.month)].append(lead.lead_id)
    shares: dict[str, dict[str, float]] = {"": defaultdict(float)}
    for (source, month), amount in spend.items():
        ids = per_cell.get((source, month))
        if not ids:
            shares[""][source] += amount
        for lead_id in ids or ():
            shares[lead_id] = {source: amount / len(ids)}
    return shares


def _load_deal_costs(catalog: Catalog, deal_ids: set[str], end: datetime) -> dict[str, DealCost]:
    """The deals' open spans, call hours and visits (each visit to one deal at most)."""
    with catalog.session() as session:
        rows = session.execute(select(Deal.external_id, Deal.rep_id, Deal.customer_id, Deal.created_at,
                                      Deal.closed_at).where(Deal.external_id.in_(deal_ids))).all()
        deals = {d: DealCost(d, rep, customer, opened, min(closed or end, end))
                 for d, rep, customer, opened, closed in rows}
        internal = {rep_deal[0]: rep_deal[1] for rep_deal in session.execute(
            select(Deal.id, Deal.external_id).where(Deal.external_id.in_(deal_ids))).all()}
        for deal_pk, seconds in session.execute(
                select(Call.deal_id, func.sum(Call.duration_s)).where(Call.deal_id.in_(list(internal)), Call.started_at < end)
                .group_by(Call.deal_id)).all():
            deals[internal[deal_pk]].call_hours = (seconds or 0.0) / 3600
        visits = session.execute(select(Visit.rep_id, Visit.customer_id, Visit.visited_on)
                                 .where(Visit.visited_on < end.date())).all()
    open_of: dict[tuple[int, int], list[DealCost]] = defaultdict(list)
    for deal in sorted(deals.values(), key=lambda d: (d.opened, d.deal_id), reverse=True):
        open_of[(deal.rep, deal.customer)].append(deal)
    for rep, customer, day in visits:
        match = next((d for d in open_of.get((rep, customer), ()) if d.opened.date() <= day <= d.closed.date()), None)
        if match is not None:
            match.visits += 1
    return deals


def _load_acquisitions(catalog: Catalog, deal_ids: set[str], as_of: date, rates: dict[str, float]) -> dict:
    """deal id -> its new-business contract: value (reporting currency), gross margin, region."""
    query = (select(Deal.external_id, Contract.amount, Contract.currency, ProductLine.gross_margin, Team.region,
                    Contract.external_id)
             .join(Deal, Deal.id == Contract.deal_id).join(Rep, Rep.id == Contract.rep_id)
             .outerjoin(Team, Team.id == Rep.team_id).outerjoin(ProductLine, ProductLine.id == Contract.product_line_id)
             .where(Deal.external_id.in_(deal_ids), Contract.signed_at <= as_of,
                    func.coalesce(Contract.renewal_of, "") == "").order_by(Contract.signed_at, Contract.external_id))
    with catalog.session() as session:
        rows = session.execute(query).all()
    found: dict = {}
    for deal, amount, currency, margin, region, contract_id in rows:
        if currency not in rates:
            raise LtvCacDataError(f"contract {contract_id} is in {currency}, which has no management.exchange_rates entry")
        if margin is None:
            raise LtvCacDataError(f"contract {contract_id} has no product line with a gross margin: LTV needs one")
        cell = found.setdefault(deal, {"value": 0.0, "margin_value": 0.0, "region": region or NO_KEY})
        cell["value"] += amount * rates[currency]
        cell["margin_value"] += amount * rates[currency] * margin
    return found


def _load_history(catalog: Catalog, as_of: date) -> list[RenewalHistory]:
    renewal_team = aliased(Team)
    query = (select(Contract.external_id, renewal_team.region, Contract.signed_at, Contract.renewal_of)
             .join(Rep, Rep.id == Contract.rep_id).outerjoin(renewal_team, renewal_team.id == Rep.team_id)
             .where(Contract.signed_at <= as_of))
    with catalog.session() as session:
        return [RenewalHistory(c, region or NO_KEY, signed, renewal_of or "")
                for c, region, signed, renewal_of in session.execute(query).all()]


def _empty_cell() -> dict:
    return {"leads": 0, "deals": 0, "acquisitions": 0, "marketing": 0.0, "call_hours": 0.0, "visits": 0,
            "open_days": 0.0, "sales_hours": 0.0, "contract_value": 0.0, "margin_by_region": defaultdict(float)}


def _cells(leads: list[LeadFact], marketing: dict, deals: dict[str, DealCost], acquisitions: dict, rules) -> dict:
    cells = {group: defaultdict(_empty_cell) for group in GROUPS}
    for lead in leads:
        deal = deals.get(lead.deal_id)
        won = acquisitions.get(lead.deal_id)
        for group in GROUPS:
            cell = cells[group][getattr(lead, group)]
            cell["leads"] += 1
            cell["marketing"] += marketing.get(lead.lead_id, {}).get(lead.source, 0.0)
            if deal is not None:
                days = max(0.0, (deal.closed - deal.opened).total_seconds() / 86400)
                cell["deals"] += 1
                cell["call_hours"] += deal.call_hours
                cell["visits"] += deal.visits
                cell["open_days"] += days
                cell["sales_hours"] += deal.call_hours + deal.visits * rules.visit_hours + days * rules.stage_day_hours
            if won is not None:
                cell["acquisitions"] += 1
                cell["contract_value"] += won["value"]
                cell["margin_by_region"][won["region"]] += won["margin_value"]
    for group in GROUPS:
        for cell in cells[group].values():
            cell["sales_cost"] = cell["sales_hours"] * rules.sales_hour_cost
    return cells


def _total(cells: dict) -> dict:
    total = _empty_cell() | {"sales_cost": 0.0}
    for cell in cells.values():
        for name, value in cell.items():
            if name == "margin_by_region":
                for region, amount in value.items():
                    total[name][region] += amount
            else:
                total[name] += value
    return total


def _row(key: str, cell: dict, point: dict, draws: dict, interval: float) -> dict:
    cost = cell["marketing"] + cell["sales_cost"]
    ltv = sum(amount * point[region] for region, amount in cell["margin_by_region"].items())
    ltv_draws = sum((amount * draws[region] for region, amount in cell["margin_by_region"].items()),
                    np.zeros(1))
    tail = (1 - interval) / 2
    low, high = (float(q) for q in np.quantile(ltv_draws, [tail, 1 - tail]))
    row = {k: v for k, v in cell.items() if k != "margin_by_region"}
    ratio = (lambda value: value / cost if cost else None)  # noqa: E731
    return row | {"key": key, "cost": cost, "cac": cost / cell["acquisitions"] if cell["acquisitions"] else None,
                  "ltv": ltv, "ltv_low": low, "ltv_high": high, "ltv_cac": ratio(ltv),
                  "ltv_cac_low": ratio(low), "ltv_cac_high": ratio(high)}
