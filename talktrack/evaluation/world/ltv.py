"""The LTV/CAC truth of a world (``truth.json`` ``management.ltv_cac``): the generator's own renewal
probabilities and the acquisition costs of its records, under the embedded default
``management.ltv_cac`` settings.

Costs are computed from the generated leads, spend, deals, calls and visits by the definitions of
``talktrack/pipelines/management/ltv.py`` (re-implemented here, not imported, so a slip on either side
shows as a mismatch). Lifetime value uses the probability with which the *generator* renews a
contract of the region (``contracts.RENEWAL_SHARE``; in the planted concentrated region only its big
accounts renew, a fixed share of its contracts of the year before), where the platform has to fit
it from the contracts it sees: that estimate is what the evaluation grades.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from talktrack.evaluation.world import contracts
from talktrack.evaluation.world.management import ManagementRecords, default_policy
from talktrack.evaluation.world.records import Call, Deal, Rep, Team
from talktrack.evaluation.world.spec import WorldSpec

GROUPS = ("source", "team", "region")


def ltv_cac_truth(spec: WorldSpec, teams: list[Team], reps: list[Rep], deals: list[Deal], calls: list[Call],
                  records: ManagementRecords) -> dict:
    policy = default_policy()
    rules, rates = policy.ltv_cac, policy.exchange_rates
    as_of = spec.end - timedelta(days=1)
    end = datetime.combine(spec.end, time())
    months = _months(as_of, rules.window_months)
    team_of = {r.rep_id: r.team_id for r in reps}
    region_of = {t.team_id: t.region for t in teams}
    leads = [lead for lead in sorted(records.leads, key=lambda lead: (lead.created_at, lead.lead_id))
             if lead.created_at.strftime("%Y-%m") in months and lead.created_at < end]
    p_true = true_renewal_probability(records, team_of, region_of)
    deal_by_id = {d.deal_id: d for d in deals}
    hours = _deal_hours(leads, deal_by_id, calls, records, end, rules)
    won = _acquisitions(records, set(hours), as_of, rates, team_of, region_of)
    share, unattributed = _lead_spend(leads, records, months, rates)
    expected = {region: sum(p ** k for k in range(rules.horizon_terms)) for region, p in p_true.items()}
    cells = {group: defaultdict(lambda: {"leads": 0, "deals": 0, "acquisitions": 0, "marketing": 0.0,
                                         "sales_hours": 0.0, "ltv": 0.0}) for group in GROUPS}
    for lead in leads:
        team = team_of.get(lead.rep_id, "(none)")
        keys = {"source": lead.source, "team": team, "region": region_of.get(team, "(none)")}
        for group, key in keys.items():
            cell = cells[group][key]
            cell["leads"] += 1
            cell["marketing"] += share.get(lead.lead_id, 0.0)
            if lead.deal_id in hours:
                cell["deals"] += 1
                cell["sales_hours"] += hours[lead.deal_id]
            if lead.deal_id in won:
                value, margin, region = won[lead.deal_id]
                cell["acquisitions"] += 1
                cell["ltv"] += value * margin * expected[region]
    for source, amount in unattributed.items():
        cells["source"][source]["marketing"] += amount
    return {"as_of": as_of.isoformat(), "window": [months[0], months[-1]], "settings": rules.model_dump(mode="json"),
            "renewal_probability": p_true, "expected_contracts": expected,
            "by": {group: {key: _finish(cell, rules.sales_hour_cost) for key, cell in sorted(cells[group].items())}
                   for group in GROUPS}}


def true_renewal_probability(records: ManagementRecords, team_of: dict, region_of: dict) -> dict[str, float]:
    """Region -> the generator's renewal probability of a contract there."""
    p = {region: contracts.RENEWAL_SHARE for region in region_of.values()}
    renewed = {c.renewal_of for c in records.contracts if c.renewal_of}
    planted = [c for c in records.contracts if not c.deal_id and not c.renewal_of
               and region_of[team_of[c.rep_id]] == records.concentrated_region]
    if planted:
        p[records.concentrated_region] = sum(c.contract_id in renewed for c in planted) / len(planted)
    return dict(sorted(p.items()))


def _months(as_of: date, count: int) -> list[str]:
    last = as_of.year * 12 + as_of.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(last - count + 1, last + 1)]


def _deal_hours(leads, deal_by_id: dict[str, Deal], calls: list[Call], records: ManagementRecords,
                end: datetime, rules) -> dict[str, float]:
    """deal id -> sales hours (calls, visits, days open), for the deals the window's leads brought."""
    ids = {lead.deal_id for lead in leads if lead.deal_id}
    spans = {d: (deal_by_id[d].created_at, min(deal_by_id[d].closed_at or end, end)) for d in ids}
    call_s: dict[str, float] = defaultdict(float)
    for call in calls:
        if call.deal_id in ids and call.started_at < end:
            call_s[call.deal_id] += call.duration_s
    pair: dict[tuple[str, str], list[str]] = defaultdict(list)
    for d in ids:
        pair[(deal_by_id[d].rep_id, deal_by_id[d].customer_id)].append(d)
    visits: dict[str, int] = defaultdict(int)
    for visit in records.visits:
        if visit.visited_on >= end.date():
            continue
        open_deals = [d for d in pair.get((visit.rep_id, visit.customer_id), ())
                      if spans[d][0].date() <= visit.visited_on <= spans[d][1].date()]
        if open_deals:
            visits[max(open_deals, key=lambda d: (spans[d][0], d))] += 1
    return {d: call_s[d] / 3600 + visits[d] * rules.visit_hours
            + max(0.0, (spans[d][1] - spans[d][0]).total_seconds() / 86400) * rules.stage_day_hours for d in ids}


def _acquisitions(records: ManagementRecords, deal_ids: set[str], as_of: date, rates: dict, team_of: dict,
                  region_of: dict) -> dict[str, tuple[float, float, str]]:
    margins = dict(contracts.PRODUCT_LINES)
    return {c.deal_id: (c.amount * rates[c.currency], margins[c.product_line], region_of[team_of[c.rep_id]])
            for c in records.contracts if c.deal_id in deal_ids and not c.renewal_of and c.signed_at <= as_of}


def _lead_spend(leads, records: ManagementRecords, months: list[str], rates: dict) -> tuple[dict, dict]:
    """lead id -> its equal share of its source's spend that month; source -> spend of months without leads."""
    spend: dict[tuple[str, str], float] = defaultdict(float)
    for row in records.spend:
        if row.month in months:
            spend[(row.source, row.month)] += row.amount * rates[row.currency]
    cell_leads: dict[tuple[str, str], list[str]] = defaultdict(list)
    for lead in leads:
        cell_leads[(lead.source, lead.created_at.strftime("%Y-%m"))].append(lead.lead_id)
    share, unattributed = {}, defaultdict(float)
    for key, amount in spend.items():
        for lead_id in cell_leads.get(key, ()):
            share[lead_id] = amount / len(cell_leads[key])
        if not cell_leads.get(key):
            unattributed[key[0]] += amount
    return share, dict(unattributed)


def _finish(cell: dict, hour_cost: float) -> dict:
    cost = cell["marketing"] + cell["sales_hours"] * hour_cost
    return cell | {"sales_cost": cell["sales_hours"] * hour_cost, "cost": cost,
                   "cac": cost / cell["acquisitions"] if cell["acquisitions"] else None,
                   "ltv_cac": cell["ltv"] / cost if cost else None}
