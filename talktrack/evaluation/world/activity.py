"""Leads, marketing spend, customer visits and how each CRM field was filled.

Planted here: one team *games its visit counts*: in up to two complete months in which its
confirmed needs fell (deals entering needs diagnosis, at most 85 % of the month before), it logs
50-80 % more visits than the month before, the extra ones by hand. Every other month's count
moves at most about 17 % against the month before, so the rule "visits +40 % while confirmed
needs -15 %" fires on the planted months only. Each team also has its own habit of typing
fields by hand instead of letting calls, chats, evidence or the system fill them.
"""

from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np

from talktrack.evaluation.world.contracts import currency_of, grain
from talktrack.evaluation.world.deals import business_time
from talktrack.evaluation.world.records import Contract, Customer, Deal, FieldEntry, Lead, Rep, Spend, Team, Visit
from talktrack.evaluation.world.spec import WorldSpec, child_rng

STEP_LEADS, STEP_EXTRA_LEADS, STEP_SPEND, STEP_VISITS, STEP_GAMING, STEP_FIELDS = 84, 85, 86, 87, 88, 89
# (source, share of leads, cost per lead in USD)
LEAD_SOURCES = (("website", 0.3, 40), ("referral", 0.2, 15), ("trade_show", 0.15, 120), ("outbound", 0.2, 25),
                ("partner", 0.15, 60))
VISITS_PER_SELLER_MONTH = 6
VISIT_JITTER = 0.08  # a month's count is base * U(1 - j, 1 + j): at most +17 % month over month
GAMING_RISE = (1.5, 1.8)
NEEDS_STAGE = "needs_diagnosis"
# Share of values typed by hand, per entity field, before the team's own habit multiplies it.
HAND_SHARE = {("deal", "amount"): 0.45, ("deal", "stage"): 0.25, ("deal", "payment_terms_days"): 0.6,
              ("deal", "discount_pct"): 0.55, ("contract", "amount"): 0.3, ("contract", "signed_at"): 0.35,
              ("contract", "payment_terms_days"): 0.5}
CAPTURED_FROM = ("call", "chat", "evidence", "system")


def month_key(moment: date | datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def month_days(spec: WorldSpec, period: str) -> list[date]:
    """The days of ``period`` inside the world."""
    year, month = int(period[:4]), int(period[5:])
    days = (date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1))
    return [d for d in days if spec.start <= d < spec.end]


def complete_months(spec: WorldSpec) -> list[str]:
    """The world's months with every day inside it (the first and last may be cut by ``as_of``)."""
    return [p for p in spec.periods()
            if len(month_days(spec, p)) == calendar.monthrange(int(p[:4]), int(p[5:]))[1]]


def make_leads(spec: WorldSpec, teams: list[Team], reps: list[Rep], deals: list[Deal]) -> list[Lead]:
    """A valid lead behind every deal, plus leads that went nowhere (some invalid: a per-team rate)."""
    drafts = []
    for index, deal in enumerate(deals):
        rng = child_rng(spec.seed, STEP_LEADS, index)
        created = max(deal.created_at - timedelta(minutes=int(rng.integers(1, 14 * 1440))),
                      datetime.combine(spec.start, time()))
        drafts.append((created, _source(rng), "valid", deal.rep_id, deal.customer_id, deal.deal_id))
    per_team_month = max(1.0, len(deals) / (spec.months * len(teams))) * 1.2
    for t, team in enumerate(teams):
        rng = child_rng(spec.seed, STEP_EXTRA_LEADS, t)
        invalid_rate = rng.uniform(0.03, 0.12)
        sellers = _sellers(reps, team)
        for period in spec.periods():
            days = month_days(spec, period)
            for _ in range(int(rng.poisson(per_team_month * len(days) / 30.0))):
                day = datetime.combine(days[int(rng.integers(len(days)))], time())
                status = "invalid" if rng.random() < invalid_rate else "valid"
                rep = sellers[int(rng.integers(len(sellers)))].rep_id
                drafts.append((business_time(rng, day), _source(rng), status, rep, "", ""))
    drafts.sort(key=lambda d: (d[0], d[5], d[3]))
    return [Lead(f"LEAD-{i + 1:06d}", source, created, status, rep, customer, deal)
            for i, (created, source, status, rep, customer, deal) in enumerate(drafts)]


def _source(rng: np.random.Generator) -> str:
    return LEAD_SOURCES[int(rng.choice(len(LEAD_SOURCES), p=[s for _, s, _ in LEAD_SOURCES]))][0]


def _sellers(reps: list[Rep], team: Team) -> list[Rep]:
    return [r for r in reps if r.team_id == team.team_id and r.role == "rep"] or \
        [r for r in reps if r.team_id == team.team_id]


def make_spend(spec: WorldSpec, teams: list[Team], reps: list[Rep], leads: list[Lead]) -> list[Spend]:
    """Spend per source, month and currency: roughly the source's cost per lead times its leads."""
    language = {r.rep_id: r.language for r in reps}
    counts = Counter((l.source, month_key(l.created_at), currency_of(language[l.rep_id])) for l in leads)
    currencies = sorted({currency_of(lang) for lang in spec.languages})
    rows = []
    for m, period in enumerate(spec.periods()):
        for s, (source, _, cost) in enumerate(LEAD_SOURCES):
            for currency in currencies:
                rng = child_rng(spec.seed, STEP_SPEND, m, s, currencies.index(currency))
                usd = (counts[(source, period, currency)] + 1) * cost * rng.uniform(0.8, 1.2)
                amount = round(usd * (7.0 if currency == "CNY" else 1.0), grain(currency))
                rows.append(Spend(source, period, float(amount), currency))
    return rows


def confirmed_needs(spec: WorldSpec, reps: list[Rep], deals: list[Deal]) -> Counter:
    """(team_id, month) -> deals of the team entering needs diagnosis that month."""
    team = {r.rep_id: r.team_id for r in reps}
    return Counter((team[d.rep_id], month_key(entered)) for d in deals for stage, entered in d.stage_events
                   if stage == NEEDS_STAGE)


@dataclass(frozen=True)
class VisitBook:
    visits: list[Visit]
    gamed: tuple[tuple[str, str], ...]  # (team_id, month)
    gaming_team: str


def make_visits(spec: WorldSpec, teams: list[Team], reps: list[Rep], customers: list[Customer],
                deals: list[Deal]) -> VisitBook:
    needs = confirmed_needs(spec, reps, deals)
    gaming_team = teams[int(child_rng(spec.seed, STEP_GAMING).integers(len(teams)))].team_id
    gamed = _gamed_months(spec, gaming_team, needs)
    visits: list[Visit] = []
    accounts: dict[str, list[Customer]] = {}
    for customer in customers:
        accounts.setdefault(customer.account_rep_id, []).append(customer)
    for t, team in enumerate(teams):
        rng = child_rng(spec.seed, STEP_VISITS, t)
        sellers = _sellers(reps, team)
        captured_share = rng.uniform(0.4, 0.8)
        base, previous = VISITS_PER_SELLER_MONTH * len(sellers), 0
        for period in spec.periods():
            days = month_days(spec, period)
            full = calendar.monthrange(int(period[:4]), int(period[5:]))[1]
            honest = round(base * len(days) / full * rng.uniform(1 - VISIT_JITTER, 1 + VISIT_JITTER))
            total = round(previous * rng.uniform(*GAMING_RISE)) if (team.team_id, period) in gamed else honest
            for n in range(total):
                padded = n >= honest
                visits.append(_visit(rng, len(visits), sellers, accounts, customers, days, captured_share, padded))
            previous = total
    return VisitBook(visits, tuple(sorted(gamed)), gaming_team)


def _gamed_months(spec: WorldSpec, team_id: str, needs: Counter) -> set[tuple[str, str]]:
    """Up to two non-adjacent complete months (after a complete one) whose confirmed needs fell >= 15 %."""
    months = complete_months(spec)
    candidates = [m for prev, m in zip(months, months[1:], strict=False)
                  if _consecutive(prev, m) and needs[(team_id, prev)] >= 1
                  and needs[(team_id, m)] <= 0.85 * needs[(team_id, prev)]]
    rng = child_rng(spec.seed, STEP_GAMING, 1)
    chosen: list[str] = []
    for i in rng.permutation(len(candidates)):
        month = candidates[int(i)]
        if len(chosen) < 2 and all(abs(_index(month) - _index(c)) > 1 for c in chosen):
            chosen.append(month)
    return {(team_id, m) for m in chosen}


def _index(period: str) -> int:
    return int(period[:4]) * 12 + int(period[5:]) - 1


def _consecutive(first: str, second: str) -> bool:
    return _index(second) == _index(first) + 1


def _visit(rng: np.random.Generator, number: int, sellers: list[Rep], accounts: dict[str, list[Customer]],
           customers: list[Customer], days: list[date], captured_share: float, padded: bool) -> Visit:
    """A visit by one of the team's sellers, to one of their accounts (any customer if they hold none)."""
    rep = sellers[int(rng.integers(len(sellers)))]
    own = accounts.get(rep.rep_id) or customers
    weekdays = [d for d in days if d.weekday() < 5] or days
    logged = "hand" if padded or rng.random() >= captured_share else "captured"
    return Visit(f"VIS-{number + 1:06d}", rep.rep_id, own[int(rng.integers(len(own)))].customer_id,
                 weekdays[int(rng.integers(len(weekdays)))], logged, padded)


def make_field_entries(spec: WorldSpec, teams: list[Team], reps: list[Rep], deals: list[Deal],
                       contracts: list[Contract]) -> list[FieldEntry]:
    """Per deal and contract field: typed by hand, or captured (and from where)."""
    team_of = {r.rep_id: r.team_id for r in reps}
    habit = {t.team_id: child_rng(spec.seed, STEP_FIELDS, 0, i).uniform(0.5, 1.5) for i, t in enumerate(teams)}
    records = [("deal", d.deal_id, d.rep_id) for d in deals] + [("contract", c.contract_id, c.rep_id)
                                                                for c in contracts]
    entries = []
    for index, (entity, record_id, rep_id) in enumerate(records):
        rng = child_rng(spec.seed, STEP_FIELDS, 1, index)
        for (kind, field), share in HAND_SHARE.items():
            if kind != entity:
                continue
            p_hand = min(0.98, max(0.02, share * habit[team_of[rep_id]]))
            if rng.random() < p_hand:
                entries.append(FieldEntry(entity, record_id, field, "hand"))
            else:
                entries.append(FieldEntry(entity, record_id, field, "captured",
                                          CAPTURED_FROM[int(rng.integers(len(CAPTURED_FROM)))]))
    return entries
