"""The management part of a world: contracts, collections, leads, spend, visits and field entries
(built after the deals are settled), and their truth (``truth.json`` ``management``).

The truth is computed from the generated records under the embedded default policy
(``management`` in ``talktrack/configs/default.yaml``), independently of the platform's own
metrics, so an evaluation can demand exact agreement.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from talktrack.core.config.management import ManagementSettings
from talktrack.evaluation.world import activity, contracts
from talktrack.evaluation.world.records import (
    Collection, Contract, Customer, Deal, FieldEntry, Lead, Rep, Spend, Team, Visit,
)
from talktrack.evaluation.world.spec import WorldSpec

GAMING_RULE = {"visits_rise": 0.4, "needs_fall": 0.15,
               "confirmed_needs": "deals of the team entering needs_diagnosis in the month (stage_events)",
               "months": "complete calendar months, each against the month before"}


@lru_cache(maxsize=1)
def default_policy() -> ManagementSettings:
    """The embedded default ``management`` settings (what the truth is computed under); parsed once,
    as reading the whole default.yaml costs about half a second."""
    text = resources.files("talktrack.configs").joinpath("default.yaml").read_text(encoding="utf-8")
    return ManagementSettings.model_validate(yaml.safe_load(text).get("management") or {})


@dataclass(frozen=True)
class ManagementRecords:
    contracts: list[Contract]
    collections: list[Collection]
    leads: list[Lead]
    spend: list[Spend]
    visits: list[Visit]
    field_entries: list[FieldEntry]
    concentrated_region: str
    concentrated_customers: tuple[str, ...]
    gamed: tuple[tuple[str, str], ...]
    gaming_team: str


def make_management(spec: WorldSpec, teams: list[Team], reps: list[Rep], customers: list[Customer],
                    deals: list[Deal]) -> ManagementRecords:
    book = contracts.make_revenue(spec, teams, reps, customers, deals, default_policy().exchange_rates)
    leads = activity.make_leads(spec, teams, reps, deals)
    visits = activity.make_visits(spec, teams, reps, customers, deals)
    return ManagementRecords(
        book.contracts, book.collections, leads, activity.make_spend(spec, teams, reps, leads), visits.visits,
        activity.make_field_entries(spec, teams, reps, deals, book.contracts), book.concentrated_region,
        book.concentrated_customers, visits.gamed, visits.gaming_team)


def management_truth(spec: WorldSpec, teams: list[Team], reps: list[Rep], deals: list[Deal],
                     records: ManagementRecords) -> dict:
    policy = default_policy()
    team_of = {r.rep_id: r.team_id for r in reps}
    region_of = {t.team_id: t.region for t in teams}
    facts = [_contract_facts(c, policy, team_of, region_of) for c in records.contracts]
    return {
        "policy": policy.model_dump(mode="json"),
        "product_lines": dict(contracts.PRODUCT_LINES),
        "contracts": {f["contract_id"]: f | {"collected": 0.0} for f in facts}
        | _collected(records.collections, facts),
        "healthy_value": _healthy_value(facts),
        "excluded": _excluded(facts),
        "concentration": {
            "planted_region": records.concentrated_region,
            "planted_customers": list(records.concentrated_customers),
            "windows": [[str(a), str(b)] for a, b in contracts.windows(spec)],
            "region": {region: _concentration(spec, facts, "region", region, policy) for region in region_of.values()},
            "team": {team: _concentration(spec, facts, "team", team, policy) for team in region_of},
        },
        "gaming": _gaming(spec, teams, reps, deals, records),
        "field_entries": _field_truth(records, deals, team_of),
        "leads": _lead_truth(records.leads, team_of),
        "marketing_spend": _spend_truth(records.spend),
    }


def _contract_facts(c: Contract, policy: ManagementSettings, team_of: dict, region_of: dict) -> dict:
    rule = policy.healthy_contract
    reasons = [reason for reason, bad in (
        ("currency", c.currency not in policy.exchange_rates),
        ("payment_terms", c.payment_terms_days > rule.max_payment_terms_days),
        ("discount", c.discount_pct > rule.max_discount_pct),
        ("contract_type", c.contract_type not in rule.contract_types)) if bad]
    team = team_of[c.rep_id]
    return {"contract_id": c.contract_id, "value": c.amount * policy.exchange_rates.get(c.currency, 0.0),
            "healthy": not reasons, "reasons": reasons, "kind": "renewal" if c.renewal_of else "new",
            "customer_id": c.customer_id, "rep": c.rep_id, "team": team, "region": region_of[team],
            "product_line": c.product_line, "month": activity.month_key(c.signed_at), "signed_at": str(c.signed_at)}


def _collected(collections: list[Collection], facts: list[dict]) -> dict:
    by_id = {f["contract_id"]: f for f in facts}
    paid: dict[str, float] = defaultdict(float)
    for payment in collections:
        paid[payment.contract_id] += payment.amount
    return {cid: by_id[cid] | {"collected": amount} for cid, amount in paid.items()}


def _healthy_value(facts: list[dict]) -> dict:
    """dimension -> key -> month -> healthy value (reporting currency)."""
    table: dict = {}
    for dimension in ("team", "region", "rep", "product_line"):
        cells: dict = defaultdict(lambda: defaultdict(float))
        for f in facts:
            if f["healthy"]:
                cells[f[dimension]][f["month"]] += f["value"]
        table[dimension] = {key: dict(sorted(months.items())) for key, months in sorted(cells.items())}
    return table


def _excluded(facts: list[dict]) -> dict:
    reasons: dict = defaultdict(lambda: {"count": 0, "value": 0.0})
    for f in facts:
        for reason in f["reasons"]:
            reasons[reason]["count"] += 1
            reasons[reason]["value"] += f["value"]
    dropped = [f for f in facts if not f["healthy"]]
    return {"count": len(dropped), "value": sum(f["value"] for f in dropped), "by_reason": dict(reasons)}


def _concentration(spec: WorldSpec, facts: list[dict], dimension: str, key: str, policy: ManagementSettings) -> dict:
    """Trailing-year revenue of one region/team: renewal/new split, top-N share, new business YoY, flags."""
    (cur_a, cur_b), (prev_a, prev_b) = contracts.windows(spec)
    mine = [f for f in facts if f[dimension] == key and "currency" not in f["reasons"]]
    current = [f for f in mine if str(cur_a) <= f["signed_at"] < str(cur_b)]
    previous = [f for f in mine if str(prev_a) <= f["signed_at"] < str(prev_b)]
    total = sum(f["value"] for f in current)
    renewal = sum(f["value"] for f in current if f["kind"] == "renewal")
    new, new_before = total - renewal, sum(f["value"] for f in previous if f["kind"] == "new")
    per_customer = Counter()
    for f in current:
        per_customer[f["customer_id"]] += f["value"]
    limits = policy.concentration
    top = sorted(per_customer.items(), key=lambda item: (-item[1], item[0]))[:limits.top_customers]
    top_share = sum(v for _, v in top) / total if total else 0.0
    renewal_share = renewal / total if total else 0.0
    change = (new - new_before) / new_before if new_before else None
    flags = [name for name, hit in (("top_customers", top_share > limits.max_top_share),
                                    ("renewals", renewal_share > limits.max_renewal_share),
                                    ("new_business_drop", change is not None and -change > limits.max_new_business_drop))
             if hit]
    return {"total": total, "renewal": renewal, "new": new, "new_previous_year": new_before,
            "top_customers": [{"customer_id": c, "value": v} for c, v in top], "top_share": top_share,
            "renewal_share": renewal_share, "new_yoy_change": change, "flags": flags}


def _gaming(spec: WorldSpec, teams: list[Team], reps: list[Rep], deals: list[Deal], records: ManagementRecords) -> dict:
    team_of = {r.rep_id: r.team_id for r in reps}
    needs = activity.confirmed_needs(spec, reps, deals)
    visits, hand = Counter(), Counter()
    for v in records.visits:
        key = (team_of[v.rep_id], activity.month_key(v.visited_on))
        visits[key] += 1
        hand[key] += v.logged == "hand"
    months = activity.complete_months(spec)
    table = {t.team_id: {m: {"visits": visits[(t.team_id, m)], "visits_by_hand": hand[(t.team_id, m)],
                             "confirmed_needs": needs[(t.team_id, m)], "gamed": (t.team_id, m) in records.gamed}
                         for m in spec.periods()} for t in teams}
    region = {t.team_id: t.region for t in teams}
    return {"rule": GAMING_RULE, "complete_months": months, "gaming_team": records.gaming_team,
            "planted": [{"team_id": t, "region": region[t], "month": m} for t, m in records.gamed],
            "team_months": table}


def _field_truth(records: ManagementRecords, deals: list[Deal], team_of: dict) -> dict:
    """team -> entity.field -> month -> {hand, captured}."""
    when = {("deal", d.deal_id): (d.rep_id, activity.month_key(d.created_at)) for d in deals}
    when |= {("contract", c.contract_id): (c.rep_id, activity.month_key(c.signed_at)) for c in records.contracts}
    table: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(lambda: {"hand": 0, "captured": 0})))
    for e in records.field_entries:
        rep, month = when[(e.entity, e.record_id)]
        table[team_of[rep]][f"{e.entity}.{e.field}"][month][e.entry] += 1
    return {team: {field: dict(sorted(months.items())) for field, months in sorted(fields.items())}
            for team, fields in sorted(table.items())}


def _lead_truth(leads: list[Lead], team_of: dict) -> dict:
    table: dict = defaultdict(lambda: defaultdict(lambda: {"valid": 0, "invalid": 0}))
    for lead in leads:
        table[team_of[lead.rep_id]][activity.month_key(lead.created_at)][lead.status] += 1
    return {team: dict(sorted(months.items())) for team, months in sorted(table.items())}


def _spend_truth(spend: list[Spend]) -> dict:
    totals: dict = defaultdict(lambda: defaultdict(float))
    for row in spend:
        totals[row.source][row.currency] += row.amount
    return {source: dict(values) for source, values in sorted(totals.items())}
