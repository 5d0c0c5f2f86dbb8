"""What the decision sandbox is fitted on, read from the catalog, and the scenario it is asked about.

A scenario is validated data (:class:`Scenario`); :func:`resolve_plan` turns it into a concrete
staffing plan — which seller sells which product line next quarter, before and after — by stated
rules, so the same plan can be handed to anything that wants to check the sandbox:

- a seller's **home line** is the product line of most of their contracts signed in the history
  window (ties: the larger value, then the line key); a seller without one takes the line of most
  contracts in scope;
- the reps moved are ``round(move_share x reps of from_line)`` (at least one when the share is above
  zero), chosen at random (seeded) or as the lowest (highest) won margin in the window first;
- ``remove`` reps of ``from_line`` leave (after the move, by the same rule) and ``hire`` new reps
  join ``to_line``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Contract, Deal, ProductLine, Rep, Team

SELECTION_RULES = ("random", "lowest_margin", "highest_margin")


class SandboxError(ValueError):
    """A scenario the catalog cannot answer (an unknown product line, no sellers in scope)."""


class Scenario(BaseModel):
    """"Move 20 % of the reps from product line A to B" (optionally hire or remove reps).

    >>> Scenario(move_share=0.2, from_line="order_hub", to_line="insight_analytics").rule
    'random'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    move_share: float = Field(0.2, ge=0, le=1, description="share of from_line's reps moved to to_line")
    from_line: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    to_line: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    rule: Literal["random", "lowest_margin", "highest_margin"] = Field(
        "random", description="which reps move (and leave): at random, or by won margin in the window")
    hire: int = Field(0, ge=0, le=100, description="new reps joining to_line")
    remove: int = Field(0, ge=0, le=100, description="reps of from_line who leave")
    seed: int = Field(0, ge=0, description="seed of the random choice of reps")

    @model_validator(mode="after")
    def _distinct_lines(self) -> Scenario:
        if self.from_line == self.to_line:
            raise ValueError(f"from_line and to_line are both {self.from_line!r}: moving reps needs two lines")
        return self


@dataclass(frozen=True)
class Seller:
    rep_id: str
    name: str
    team: str
    language: str


@dataclass(frozen=True)
class DealFact:
    rep_id: str
    created_at: datetime
    closed_at: datetime | None
    status: str
    value: float  # reporting currency


@dataclass(frozen=True)
class ContractFact:
    contract_id: str
    rep_id: str
    customer_id: str
    region: str
    line: str
    value: float  # reporting currency
    signed_at: date
    renewal_of: str


@dataclass(frozen=True)
class History:
    """The catalog in scope as of a day: sellers, deals, contracts, margins."""

    as_of: date
    sellers: list[Seller]
    deals: list[DealFact]
    contracts: list[ContractFact]  # every contract of the scope up to as_of (renewal history needs old ones)
    margins: dict[str, float]
    window_start: date

    @property
    def end(self) -> datetime:
        return datetime.combine(self.as_of + timedelta(days=1), time())


def load_history(catalog: Catalog, rates: dict[str, float], *, as_of: date, history_days: int,
                 team: str | None = None) -> History:
    """Read sellers (role ``rep``), their deals and contracts and the product lines' margins."""
    end = datetime.combine(as_of + timedelta(days=1), time())
    with catalog.session() as session:
        query = select(Rep.external_id, Rep.name, Team.external_id, Rep.language).join(Team, Team.id == Rep.team_id)
        query = query.where(Rep.role == "rep")
        if team is not None:
            query = query.where(Team.external_id == team)
        sellers = [Seller(*row) for row in session.execute(query.order_by(Rep.external_id)).all()]
        ids = {s.rep_id for s in sellers}
        deal_rows = session.execute(
            select(Rep.external_id, Deal.created_at, Deal.closed_at, Deal.status, Deal.amount, Deal.currency)
            .join(Rep, Rep.id == Deal.rep_id).where(Deal.created_at < end)).all()
        contract_rows = session.execute(
            select(Contract.external_id, Rep.external_id, Contract.customer_id, Team.region, ProductLine.external_id,
                   Contract.amount, Contract.currency, Contract.signed_at, Contract.renewal_of)
            .join(Rep, Rep.id == Contract.rep_id).join(Team, Team.id == Rep.team_id)
            .outerjoin(ProductLine, ProductLine.id == Contract.product_line_id).where(Contract.signed_at <= as_of)).all()
        margins = {key: margin for key, margin in session.execute(
            select(ProductLine.external_id, ProductLine.gross_margin)).all() if margin is not None}
    if not sellers:
        raise SandboxError(f"no sellers (reps with role 'rep') in scope{f' of team {team}' if team else ''}")
    deals = [DealFact(rep, created, closed if closed and closed < end else None,
                      status if closed and closed < end else "open", _value(amount, currency, rates))
             for rep, created, closed, status, amount, currency in deal_rows if rep in ids]
    contracts = [ContractFact(cid, rep, str(customer), region or "", line, _value(amount, currency, rates), signed,
                              renewal_of or "")
                 for cid, rep, customer, region, line, amount, currency, signed, renewal_of in contract_rows
                 if rep in ids and line in margins]
    first = min((d.created_at.date() for d in deals), default=as_of)
    return History(as_of, sellers, deals, contracts, margins, max(first, as_of - timedelta(days=history_days - 1)))


def _value(amount: float | None, currency: str, rates: dict[str, float]) -> float:
    if currency not in rates:
        raise SandboxError(f"an amount in {currency} has no management.exchange_rates entry")
    return (amount or 0.0) * rates[currency]


def home_lines(history: History) -> dict[str, str]:
    """Seller -> the line of most of their contracts in the window (see the module docstring)."""
    count: dict[str, Counter] = defaultdict(Counter)
    value: dict[str, Counter] = defaultdict(Counter)
    for c in history.contracts:
        if c.signed_at >= history.window_start:
            count[c.rep_id][c.line] += 1
            value[c.rep_id][c.line] += c.value
    overall = Counter(c.line for c in history.contracts if c.signed_at >= history.window_start)
    fallback = min(history.margins, key=lambda line: (-overall[line], line))
    return {s.rep_id: min(count[s.rep_id], key=lambda line: (-count[s.rep_id][line], -value[s.rep_id][line], line))
            if count[s.rep_id] else fallback for s in history.sellers}


def won_margin(history: History) -> dict[str, float]:
    """Seller -> won margin of their new-business contracts in the window (what 'lowest' ranks by)."""
    totals = {s.rep_id: 0.0 for s in history.sellers}
    for c in history.contracts:
        if c.signed_at >= history.window_start and not c.renewal_of:
            totals[c.rep_id] += c.value * history.margins[c.line]
    return totals


def resolve_plan(history: History, scenario: Scenario) -> dict:
    """The staffing plan of the baseline and of the scenario, with who moves and who leaves."""
    unknown = sorted({scenario.from_line, scenario.to_line} - set(history.margins))
    if unknown:
        raise SandboxError(f"unknown product line(s) {unknown}; known: {', '.join(sorted(history.margins))}")
    baseline = home_lines(history)
    pool = sorted(rep for rep, line in baseline.items() if line == scenario.from_line)
    order = _order(pool, history, scenario)
    moved = order[:moved_count(scenario.move_share, len(pool))]
    removed = [rep for rep in order if rep not in moved][:scenario.remove]
    plan = {rep: (scenario.to_line if rep in moved else line) for rep, line in baseline.items() if rep not in removed}
    return {"baseline": baseline, "scenario": plan, "moved": moved, "removed": removed,
            "hires": {scenario.to_line: scenario.hire} if scenario.hire else {}, "from_line_reps": len(pool)}


def moved_count(share: float, reps: int) -> int:
    """round(share x reps), half up, and at least one rep when the share is above zero."""
    if share <= 0 or reps == 0:
        return 0
    return min(reps, max(1, math.floor(share * reps + 0.5)))


def _order(pool: list[str], history: History, scenario: Scenario) -> list[str]:
    if scenario.rule == "random":
        return [pool[i] for i in np.random.default_rng(scenario.seed).permutation(len(pool))]
    margin = won_margin(history)
    sign = 1 if scenario.rule == "lowest_margin" else -1
    return sorted(pool, key=lambda rep: (sign * margin[rep], rep))
