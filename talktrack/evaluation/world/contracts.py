"""Contracts, product lines and collections: the revenue a director reads.

Three kinds of contract: one per won deal (its terms are the deal's), contracts of the year
before the world (no deal; they give the year-over-year comparison a base), and renewals of
those during the world. One region is planted as *concentrated*: its last-year revenue is mostly
big renewals of (about) three customers while its new business falls against the year before;
every other region's new business is drawn within -6 %..+9 % of the year before (give or take half
a contract) and its renewals are spread over the customers that happen to renew. Amounts are whole currency units, so sums of
them are exact in any order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from talktrack.evaluation.world.deals import PAYMENT_TERMS
from talktrack.evaluation.world.lexicon import lexicon
from talktrack.evaluation.world.records import Collection, Contract, Customer, Deal, Rep, Team
from talktrack.evaluation.world.spec import WorldSpec, child_rng

STEP_HISTORY, STEP_RENEWALS, STEP_CONCENTRATION, STEP_COLLECTIONS = 80, 81, 82, 83
# (key, gross margin); index i is lexicon(language).PRODUCTS[i] in both languages.
PRODUCT_LINES = (("order_hub", 0.62), ("insight_analytics", 0.74), ("field_service", 0.48),
                 ("smart_inventory", 0.55))
DISCOUNTS = ((0, 0.45), (5, 0.2), (10, 0.15), (15, 0.1), (20, 0.06), (25, 0.04))
RENEWAL_SHARE = 0.25  # of last year's contracts outside the planted region that renew
CONCENTRATED_CUSTOMERS = 3


@dataclass(frozen=True)
class RevenueBook:
    contracts: list[Contract]
    collections: list[Collection]
    concentrated_region: str
    concentrated_customers: tuple[str, ...]


def year_before(day: date, years: int = 1) -> date:
    """The same day ``years`` years earlier (28 February for a 29th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def windows(spec: WorldSpec) -> tuple[tuple[date, date], tuple[date, date]]:
    """(current, previous) year as [first, end) day ranges: the twelve months up to the world's end."""
    end = spec.end
    return (year_before(end), end), (year_before(end, 2), year_before(end))


def currency_of(language: str) -> str:
    return "USD" if language == "en" else "CNY"


def grain(currency: str) -> int:
    """Round amounts to hundreds of dollars and thousands of yuan, as the deals are."""
    return -2 if currency == "USD" else -3


def product_line_of(deal: Deal, customer: Customer) -> str:
    return PRODUCT_LINES[lexicon(customer.language).PRODUCTS.index(deal.product)][0]


def make_revenue(spec: WorldSpec, teams: list[Team], reps: list[Rep], customers: list[Customer],
                 deals: list[Deal], rates: dict[str, float]) -> RevenueBook:
    """Every contract and payment of the world, the planted concentrated region included."""
    by_id = {c.customer_id: c for c in customers}
    won = [_deal_contract(d, by_id[d.customer_id]) for d in deals if d.status == "won" and d.closed_at]
    book = _Regions(spec, teams, reps, customers, rates)
    planted = book.regions[int(child_rng(spec.seed, STEP_CONCENTRATION).integers(len(book.regions)))]
    history, renewals, chosen = [], [], ()
    for index, region in enumerate(book.regions):
        rng = child_rng(spec.seed, STEP_HISTORY, index)
        current_new = sum(book.value(c) for c in won if book.region_of(c.rep_id) == region
                          and book.current[0] <= c.signed_at < book.current[1])
        if region == planted:
            target = current_new / (1 - rng.uniform(0.35, 0.5)) if current_new else book.typical(region) * 6
        else:
            target = current_new * rng.uniform(0.92, 1.06)
        made = book.history(rng, region, target, len(history))
        history += made
        if region == planted:
            chosen, extra, planted_renewals = book.concentrate(rng, region, current_new, len(history))
            history += extra
            renewals += planted_renewals
        else:
            renewals += book.renew(child_rng(spec.seed, STEP_RENEWALS, index), made)
    renewals = [_renumbered(c, f"CON-R{i + 1:05d}") for i, c in enumerate(renewals)]
    contracts = sorted(won + history + renewals, key=lambda c: (c.signed_at, c.contract_id))
    return RevenueBook(contracts, make_collections(spec, contracts), planted, chosen)


def _renumbered(contract: Contract, contract_id: str) -> Contract:
    contract.contract_id = contract_id
    return contract


def _deal_contract(deal: Deal, customer: Customer) -> Contract:
    return Contract(f"CON-{deal.deal_id.removeprefix('DEAL-')}", deal.deal_id, deal.customer_id, deal.rep_id,
                    deal.amount, deal.currency, deal.discount_pct, deal.payment_terms_days,
                    "standard" if deal.standard_contract else "non_standard", product_line_of(deal, customer), "",
                    deal.closed_at.date())


class _Regions:
    """Who sells in which region (the region of the rep's team), and contract drawing per region."""

    def __init__(self, spec: WorldSpec, teams: list[Team], reps: list[Rep], customers: list[Customer],
                 rates: dict[str, float]) -> None:
        self.spec, self.rates, self.customers = spec, rates, customers
        team_region = {t.team_id: t.region for t in teams}
        self.rep_region = {r.rep_id: team_region[r.team_id] for r in reps}
        self.regions = list(dict.fromkeys(t.region for t in teams))
        self.sellers = {region: [r for r in reps if self.rep_region[r.rep_id] == region and r.role == "rep"]
                        or [r for r in reps if self.rep_region[r.rep_id] == region] for region in self.regions}
        self.current, self.previous = windows(spec)

    def region_of(self, rep_id: str) -> str:
        return self.rep_region[rep_id]

    def value(self, contract: Contract) -> float:
        return contract.amount * self.rates[contract.currency]

    def accounts(self, region: str) -> list[Customer]:
        own = [c for c in self.customers if self.rep_region.get(c.account_rep_id) == region]
        return own or self.customers

    def typical(self, region: str) -> float:
        accounts = self.accounts(region)
        return float(np.mean([c.budget_value * self.rates[currency_of(c.language)] for c in accounts])) * 1.3

    def draw(self, rng: np.random.Generator, region: str, contract_id: str, customer: Customer,
             first: date, last: date, amount: float | None = None, healthy: bool = False) -> Contract:
        """One contract signed in [first, last) (not before the customer existed)."""
        sellers = self.sellers[region]
        rep = customer.account_rep_id if self.rep_region.get(customer.account_rep_id) == region \
            else sellers[int(rng.integers(len(sellers)))].rep_id
        currency = currency_of(customer.language)
        amount = customer.budget_value * rng.uniform(1.05, 1.6) if amount is None else amount
        days = max(1, (last - first).days)
        signed = max(first + timedelta(days=int(rng.integers(days))), min(customer.created_at, last - timedelta(1)))
        terms = [t for t, _ in PAYMENT_TERMS]
        term = int(rng.choice(terms, p=[s for _, s in PAYMENT_TERMS])) if not healthy else int(rng.choice((30, 60)))
        discount = float(rng.choice([d for d, _ in DISCOUNTS], p=[s for _, s in DISCOUNTS])) if not healthy \
            else float(rng.choice((0, 5)))
        standard = healthy or rng.random() < 0.85
        line = PRODUCT_LINES[int(rng.integers(len(PRODUCT_LINES)))][0]
        return Contract(contract_id, "", customer.customer_id, rep, float(round(amount, grain(currency))), currency,
                        discount, term, "standard" if standard else "non_standard", line, "", signed)

    def history(self, rng: np.random.Generator, region: str, target: float, offset: int) -> list[Contract]:
        """Contracts of the year before, signed in the region until their value is as close to ``target``
        as whole contracts get (the last one drawn is kept only when that is closer)."""
        accounts, made, total = self.accounts(region), [], 0.0
        while total < target:
            customer = accounts[int(rng.integers(len(accounts)))]
            contract = self.draw(rng, region, f"CON-H{offset + len(made) + 1:05d}", customer, *self.previous)
            if made and total + self.value(contract) - target > target - total:
                break
            made.append(contract)
            total += self.value(contract)
        return made

    def renew(self, rng: np.random.Generator, history: list[Contract]) -> list[Contract]:
        """About RENEWAL_SHARE of last year's contracts renew a year later at 0.9-1.2x their amount."""
        renewals = []
        for old in history:
            if rng.random() >= RENEWAL_SHARE:
                continue
            signed = min(old.signed_at + timedelta(days=365 + int(rng.integers(0, 20))), self.spec.end - timedelta(1))
            amount = float(round(old.amount * rng.uniform(0.9, 1.2), grain(old.currency)))
            renewals.append(Contract("", "", old.customer_id, old.rep_id, amount, old.currency, old.discount_pct,
                                     old.payment_terms_days, old.contract_type, old.product_line, old.contract_id,
                                     signed))
        return renewals

    def concentrate(self, rng: np.random.Generator, region: str, current_new: float,
                    offset: int) -> tuple[tuple[str, ...], list[Contract], list[Contract]]:
        """The planted concentration: the region's biggest accounts renew last year's contract for
        about 80-86 % of the region's revenue this year (new business being the rest)."""
        accounts = sorted(self.accounts(region), key=lambda c: (-c.budget_value, c.customer_id))
        chosen = accounts[:CONCENTRATED_CUSTOMERS]
        share = rng.uniform(0.80, 0.86)
        total = current_new * share / (1 - share) if current_new else self.typical(region) * 9
        weights = np.array([0.4, 0.35, 0.25][:len(chosen)])
        weights = weights / weights.sum()
        history, renewals = [], []
        for customer, weight in zip(chosen, weights, strict=True):
            first, end = self.previous[0], self.previous[1] - timedelta(days=30)
            old = self.draw(rng, region, f"CON-H{offset + len(history) + 1:05d}", customer, first, end, healthy=True)
            history.append(old)
            currency = old.currency
            amount = float(round(total * weight / self.rates[currency], grain(currency)))
            signed = min(old.signed_at + timedelta(days=365 + int(rng.integers(0, 20))), self.spec.end - timedelta(1))
            renewals.append(Contract("", "", old.customer_id, old.rep_id, amount, currency, old.discount_pct,
                                     old.payment_terms_days, "standard", old.product_line, old.contract_id, signed))
        return tuple(c.customer_id for c in chosen), history, renewals


def make_collections(spec: WorldSpec, contracts: list[Contract]) -> list[Collection]:
    """Payments received before the world's end: one instalment at terms <= 60 days, else two;
    12 % of customers pay 20-120 days late and 3 % never pay."""
    payments = []
    for index, contract in enumerate(contracts):
        rng = child_rng(spec.seed, STEP_COLLECTIONS, index)
        behaviour = rng.random()
        if behaviour < 0.03:
            continue
        delay = int(rng.integers(20, 121)) if behaviour < 0.15 else int(rng.integers(-5, 11))
        parts = 1 if contract.payment_terms_days <= 60 else 2
        share = float(round(contract.amount / parts, grain(contract.currency)))
        for part in range(parts):
            amount = share if part < parts - 1 else contract.amount - share * (parts - 1)
            due = contract.signed_at + timedelta(days=round(contract.payment_terms_days * (part + 1) / parts))
            received = max(contract.signed_at, due + timedelta(days=delay))
            if received < spec.end:
                payments.append((received, contract.contract_id, amount, contract.currency))
    payments.sort()
    return [Collection(f"COL-{i + 1:06d}", cid, day, amount, currency)
            for i, (day, cid, amount, currency) in enumerate(payments)]
