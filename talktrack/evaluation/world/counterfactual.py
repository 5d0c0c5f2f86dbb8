"""The world one quarter on: the generator's own causal model run forward from the world's last day,
under a staffing plan (which product line each rep sells, who is hired or gone). The decision
sandbox is graded against it: the same world and the same forward draw under the baseline plan and
under a scenario's plan is the counterfactual outcome of that scenario.

What moves a figure here is what moves it in the world (``causal.py``), nothing invented for the
sandbox: each seller opens deals at the rate the world gives them (deals per day x the chance that
a deal is theirs: 85 % of their accounts' deals plus 15 % spread over all sellers), with customers
drawn the same way; a deal's stage durations, stall and win chance follow ``DURATION_MODEL`` and the
win logit (the customer's quality, the rep's current skill, a stall, the language match, and the
talk features of a past deal of the same rep, whose habits carry over); its amount is the customer's
budget x U(1.05, 1.6); won value x the gross margin of the line the rep sells is its margin.
Deals open at the world's end close on their planned day with their drawn outcome and keep their
own product. A contract comes up for renewal a year after signing and renews with the generator's
probability for its region (``ltv.true_renewal_probability``) at 0.9-1.2x its amount.

So moving a rep from line A to B changes the margin of the deals they win next quarter by
(margin B - margin A) x won value, removing one drops their new deals, and a hire (general ability
~ N(0, general_sd), the average seller's rate, customers drawn uniformly) adds theirs; renewals and
churn do not depend on who sells which line (nothing in the world's causal model links them), which
the sandbox has to find out from history like everything else.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import numpy as np

from talktrack.evaluation.world import causal, contracts
from talktrack.evaluation.world.deals import planned_close
from talktrack.evaluation.world.ltv import true_renewal_probability
from talktrack.evaluation.world.management import default_policy
from talktrack.evaluation.world.people import hidden_levels
from talktrack.evaluation.world.records import Customer, Deal, Rep
from talktrack.evaluation.world.spec import Taxonomy, WorldSpec, child_rng
from talktrack.evaluation.world.truth import WorldRecords

STEP_FORWARD, STEP_HIRES, STEP_RENEW_FORWARD = 150, 151, 152
ACCOUNT_SHARE = 0.85  # as in deals.make_deals: the account rep owns 85 % of an account's deals
RENEWAL_TERM_DAYS = 365


@dataclass(frozen=True)
class Plan:
    """Who sells what next quarter: seller id -> product line, and new hires per line."""

    lines: dict[str, str]
    hires: dict[str, int] = field(default_factory=dict)


def forward_quarter(spec: WorldSpec, world: WorldRecords, plan: Plan, *, draw: int, horizon_days: int,
                    taxonomy: Taxonomy | None = None) -> dict:
    """The quarter after the world's end under ``plan`` in forward draw ``draw`` (same draw, same luck)."""
    taxonomy = taxonomy or Taxonomy.default()
    rates = default_policy().exchange_rates
    margins = dict(contracts.PRODUCT_LINES)
    sellers = sorted((r for r in world.reps if r.role == "rep"), key=lambda r: r.rep_id)
    unknown = sorted(set(plan.lines) - {r.rep_id for r in sellers})
    if unknown:
        raise ValueError(f"the plan names reps who are not sellers of this world: {unknown}")
    flow = _Flow(spec, world, sellers, taxonomy, horizon_days, rates)
    new_margin, per_rep = 0.0, {}
    for index, rep in enumerate(sellers):
        if rep.rep_id not in plan.lines:
            continue
        won = flow.rep_quarter(child_rng(spec.seed, STEP_FORWARD, draw, index), rep, rep.levels[-1], own=True)
        per_rep[rep.rep_id] = won * margins[plan.lines[rep.rep_id]]
        new_margin += per_rep[rep.rep_id]
    hires = 0
    for line_index, (line, _) in enumerate(contracts.PRODUCT_LINES):
        for k in range(plan.hires.get(line, 0)):
            rng = child_rng(spec.seed, STEP_HIRES, draw, line_index, k)
            general = rng.normal(0.0, causal.LEVEL_MODEL["general_sd"])
            levels = hidden_levels(rng, general, 1, len(taxonomy.capabilities))[-1]
            new_margin += flow.rep_quarter(rng, None, levels, own=False) * margins[line]
            hires += 1
    pipeline = flow.open_deals_margin(margins)
    renewal_margin, churn = _renewals(spec, world, draw, horizon_days, rates, margins)
    staff = len(plan.lines) + hires
    return {"gross_margin": new_margin + pipeline + renewal_margin, "new_business_margin": new_margin,
            "pipeline_margin": pipeline, "renewal_margin": renewal_margin, "churn": churn["rate"],
            "customers_due": churn["due"], "customers_lost": churn["lost"], "sellers": staff,
            "productivity": (new_margin + pipeline) / staff if staff else 0.0, "per_rep_new_margin": per_rep}


class _Flow:
    """Deal flow of the quarter: who opens how many deals with whom, and which they win in time."""

    def __init__(self, spec: WorldSpec, world: WorldRecords, sellers: list[Rep], taxonomy: Taxonomy,
                 horizon_days: int, rates: dict[str, float]) -> None:
        self.spec, self.taxonomy, self.horizon, self.rates = spec, taxonomy, horizon_days, rates
        self.customers = world.customers
        self.deals_per_day = spec.deals / (spec.end - spec.start).days
        self.n_sellers = len(sellers)
        self.accounts = defaultdict(list)
        for customer in self.customers:
            self.accounts[customer.account_rep_id].append(customer)
        self.habits = defaultdict(list)  # rep -> talk features of their past deals
        for deal in world.deals:
            self.habits[deal.rep_id].append({k: v for k, v in deal.features.items() if ":" in k})
        self.all_habits = [h for rows in self.habits.values() for h in rows]
        self.end = datetime.combine(spec.end, time())
        self.open_deals = [d for d in world.deals if d.status == "open"]
        self.customer_by_id = {c.customer_id: c for c in self.customers}

    def rep_quarter(self, rng: np.random.Generator, rep: Rep | None, levels: np.ndarray, own: bool) -> float:
        """Won value (reporting currency) of the deals this rep opens and wins within the quarter."""
        n_accounts = len(self.accounts[rep.rep_id]) if rep else 0
        if own:
            share = ACCOUNT_SHARE * n_accounts / len(self.customers) + (1 - ACCOUNT_SHARE) / self.n_sellers
        else:
            share = 1.0 / self.n_sellers
        count = int(rng.poisson(self.deals_per_day * share * self.horizon))
        habits = (self.habits.get(rep.rep_id) if rep else None) or self.all_habits
        won = 0.0
        for _ in range(count):
            customer = self._customer(rng, rep, n_accounts, own)
            opened = rng.uniform(0.0, self.horizon)
            days, stalled = self._cycle(rng, customer, levels)
            amount = round(customer.budget_value * rng.uniform(1.05, 1.6), contracts.grain(
                contracts.currency_of(customer.language)))
            habit = habits[int(rng.integers(len(habits)))]
            features = {"quality": customer.quality, "skill": float(levels.mean()), "stalled": float(stalled),
                        "language_match": float(rep is None or rep.language == customer.language)} | habit
            p_win = causal.sigmoid(causal.win_logit(features))
            if rng.random() < p_win and opened + days <= self.horizon:
                won += amount * self.rates[contracts.currency_of(customer.language)]
        return won

    def _customer(self, rng: np.random.Generator, rep: Rep | None, n_accounts: int, own: bool) -> Customer:
        """P(customer | owner) is proportional to 0.85 [own account] + 0.15 / sellers (uniform for a hire)."""
        if own and n_accounts:
            own_weight = ACCOUNT_SHARE * n_accounts
            spread = (1 - ACCOUNT_SHARE) * len(self.customers) / self.n_sellers
            if rng.random() < own_weight / (own_weight + spread):
                mine = self.accounts[rep.rep_id]
                return mine[int(rng.integers(len(mine)))]
        return self.customers[int(rng.integers(len(self.customers)))]

    def _cycle(self, rng: np.random.Generator, customer: Customer, levels: np.ndarray) -> tuple[float, bool]:
        """Days from lead to close and whether a stage ran over its threshold (causal.DURATION_MODEL)."""
        model = causal.DURATION_MODEL
        follow_up = float(levels[self.taxonomy.capabilities.index("follow_up")])
        speed = math.exp(model["speed_quality"] * customer.quality + model["speed_skill"] * float(levels.mean()))
        p_stall = causal.sigmoid(model["stall_intercept"] + model["stall_follow_up"] * follow_up
                                 + model["stall_quality"] * customer.quality)
        total, stalled = 0.0, False
        for stage in causal.PIPELINE:
            threshold = self.taxonomy.stage(stage).threshold_days
            days = model["median_days"][stage] * speed * math.exp(rng.normal(0.0, model["sigma"]))
            if rng.random() < p_stall:
                days = threshold * rng.uniform(model["stall_factor_low"], model["stall_factor_high"])
            stalled |= days > threshold
            total += days
        return total, stalled

    def open_deals_margin(self, margins: dict[str, float]) -> float:
        """Deals open at the end that close in the quarter: their planned day and drawn outcome."""
        horizon_end = self.end + timedelta(days=self.horizon)
        total = 0.0
        for deal in self.open_deals:
            if deal.outcome_if_closed == "won" and planned_close(deal) < horizon_end:
                total += deal.amount * self.rates[deal.currency] * margins[_line(deal, self.customer_by_id)]
        return total


def _line(deal: Deal, customers: dict[str, Customer]) -> str:
    return contracts.product_line_of(deal, customers[deal.customer_id])


def _renewals(spec: WorldSpec, world: WorldRecords, draw: int, horizon_days: int, rates: dict[str, float],
              margins: dict[str, float]) -> tuple[float, dict]:
    """Contracts whose year ends in the quarter renew with their region's chance; churn = customers with a
    contract due and none renewed, over customers with a contract due."""
    team_of = {r.rep_id: r.team_id for r in world.reps}
    region_of = {t.team_id: t.region for t in world.teams}
    p_region = true_renewal_probability(world.management, team_of, region_of)
    first = spec.end - timedelta(days=RENEWAL_TERM_DAYS)
    last = first + timedelta(days=horizon_days)
    due: dict[str, bool] = {}
    margin = 0.0
    for index, contract in enumerate(world.management.contracts):
        if not first <= contract.signed_at < last:
            continue
        rng = child_rng(spec.seed, STEP_RENEW_FORWARD, draw, index)
        renewed = rng.random() < p_region[region_of[team_of[contract.rep_id]]]
        due[contract.customer_id] = due.get(contract.customer_id, False) or renewed
        if renewed:
            margin += contract.amount * rng.uniform(0.9, 1.2) * rates[contract.currency] * margins[contract.product_line]
    lost = sum(not renewed for renewed in due.values())
    return margin, {"due": len(due), "lost": lost, "rate": lost / len(due) if due else 0.0}


def model_card() -> dict:
    """The forward model as JSON-ready data, for truth.json (``sandbox_forward_model``)."""
    return {
        "horizon": "the days after the world's end (the sandbox's horizon_days)",
        "deal_rate_per_seller": "deals / world days x (0.85 x accounts / customers + 0.15 / sellers); a hire: 1 / sellers",
        "deal": "customer ~ 0.85 own accounts + 0.15 uniform; durations, stall and win logit as duration_model and "
                "outcome_model with the rep's last-month levels; talk features copied from a past deal of the rep",
        "margin": "won value (reporting currency) x gross margin of the line the rep sells in the plan",
        "open_deals": "close on their planned day with their drawn outcome, at their own product's margin",
        "renewals": "a contract signed 365 days before a day of the quarter renews with its region's probability "
                    "(management.ltv_cac.renewal_probability) at 0.9-1.2x; churn = customers due with none renewed",
        "reallocation_effect": "margin change = sum over moved reps' won value x (margin[to] - margin[from]); "
                               "no effect on renewals or churn",
        "hire": "general ~ N(0, general_sd), one month of hidden levels; removed reps open no deals",
    }
