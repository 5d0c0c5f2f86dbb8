"""Deals: who sells what to whom, the planned stage timeline, which deals fake progress,
and, once the calls are planned, the outcome drawn from the true win model.

Every deal walks lead -> qualification -> needs_diagnosis -> solution_presentation ->
negotiation and is then won (-> contract_delivery) or lost. A deal whose planned
timeline runs past the world's end is open, in the stage it is in at the end.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

import numpy as np

from talktrack.evaluation.world import causal
from talktrack.evaluation.world.lexicon import lexicon
from talktrack.evaluation.world.records import Call, Customer, Deal, Rep
from talktrack.evaluation.world.spec import Taxonomy, WorldSpec, child_rng

STEP_DEALS, STEP_FAKE, STEP_OUTCOME, STEP_STICK = 10, 11, 12, 13
PAYMENT_TERMS = ((30, 0.30), (45, 0.20), (60, 0.25), (90, 0.15), (120, 0.07), (180, 0.03))
RECENT_SHARE, RECENT_DAYS = 0.15, 45


def month_index(spec: WorldSpec, moment: date | datetime) -> int:
    """Index into a rep's hidden levels for the month of ``moment`` (clamped to the world)."""
    months = (moment.year - spec.start.year) * 12 + moment.month - spec.start.month
    return min(max(months, 0), spec.months - 1)


def world_end(spec: WorldSpec) -> datetime:
    return datetime.combine(spec.end, time())


def business_time(rng: np.random.Generator, day: datetime) -> datetime:
    """That day (the Monday after, for a weekend) at an office time: 08:30-18:00 on a 5-minute grid."""
    minutes = 8 * 60 + 30 + 5 * int(rng.integers(0, 114))
    weekend_shift = (7 - day.weekday()) % 7 if day.weekday() >= 5 else 0
    return datetime.combine(day.date(), time()) + timedelta(days=weekend_shift, minutes=minutes)


def make_deals(spec: WorldSpec, taxonomy: Taxonomy, reps: list[Rep], customers: list[Customer]) -> list[Deal]:
    """Deals spread uniformly over the world's months, mostly owned by the account rep."""
    reps_by_id = {rep.rep_id: rep for rep in reps}
    sellers = [rep for rep in reps if rep.role == "rep"]
    width = max(5, len(str(spec.deals)))
    days = (spec.end - spec.start).days
    deals = []
    for index in range(spec.deals):
        rng = child_rng(spec.seed, STEP_DEALS, index)
        customer = customers[int(rng.integers(len(customers)))]
        owner = reps_by_id[customer.account_rep_id] if rng.random() < 0.85 else sellers[int(rng.integers(len(sellers)))]
        created = business_time(rng, datetime.combine(spec.start, time()) + timedelta(days=_created_day(rng, days)))
        deal_id = f"DEAL-{index + 1:0{width}d}"
        deals.append(_make_deal(spec, taxonomy, rng, deal_id, customer, owner, created))
    return deals


def _created_day(rng: np.random.Generator, days: int) -> int:
    """Day of creation: uniform over the world, except a RECENT_SHARE of deals opened in the
    last RECENT_DAYS, so the world ends with a live pipeline of open deals."""
    recent = rng.random() < RECENT_SHARE
    return int(rng.integers(max(0, days - RECENT_DAYS) if recent else 0, days))


def _make_deal(spec: WorldSpec, taxonomy: Taxonomy, rng: np.random.Generator, deal_id: str, customer: Customer,
               owner: Rep, created: datetime) -> Deal:
    lex = lexicon(customer.language)
    product = lex.PRODUCTS[int(rng.integers(len(lex.PRODUCTS)))]
    amount = customer.budget_value * rng.uniform(1.05, 1.6)
    terms = [days for days, _ in PAYMENT_TERMS]
    return Deal(
        deal_id=deal_id, customer_id=customer.customer_id, rep_id=owner.rep_id,
        title=_title(customer, product), product=product, amount=round(amount, -2 if customer.language == "en" else -3),
        currency="USD" if customer.language == "en" else "CNY", created_at=created,
        durations_days=_durations(spec, taxonomy, rng, customer, owner, created),
        payment_terms_days=int(rng.choice(terms, p=[share for _, share in PAYMENT_TERMS])),
        discount_pct=float(rng.choice((0, 0, 0, 2, 3, 5))), standard_contract=bool(rng.random() < 0.85),
    )


def _title(customer: Customer, product: str) -> str:
    if customer.language == "zh":
        return f"{customer.short_name}{product}项目"
    return f"{product} for {customer.name}"


def _durations(spec: WorldSpec, taxonomy: Taxonomy, rng: np.random.Generator, customer: Customer, owner: Rep,
               created: datetime) -> list[float]:
    """Planned days in each pipeline stage (see causal.DURATION_MODEL)."""
    model = causal.DURATION_MODEL
    levels = owner.levels[month_index(spec, created)]
    follow_up = float(levels[taxonomy.capabilities.index("follow_up")])
    speed = math.exp(model["speed_quality"] * customer.quality + model["speed_skill"] * float(levels.mean()))
    p_stall = causal.sigmoid(model["stall_intercept"] + model["stall_follow_up"] * follow_up
                             + model["stall_quality"] * customer.quality)
    durations = []
    for stage in causal.PIPELINE:
        days = model["median_days"][stage] * speed * math.exp(rng.normal(0.0, model["sigma"]))
        if rng.random() < p_stall:
            days = taxonomy.stage(stage).threshold_days * rng.uniform(model["stall_factor_low"],
                                                                     model["stall_factor_high"])
        durations.append(round(days, 3))
    return durations


def stage_windows(deal: Deal) -> list[tuple[str, datetime, datetime]]:
    """(stage, entered, left) for each pipeline stage of the planned timeline."""
    windows, entered = [], deal.created_at
    for stage, days in zip(causal.PIPELINE, deal.durations_days, strict=True):
        left = entered + timedelta(minutes=round(days * 1440))  # minute grid keeps timestamps clean
        windows.append((stage, entered, left))
        entered = left
    return windows


def planned_close(deal: Deal) -> datetime:
    return stage_windows(deal)[-1][2]


def stalled_stages(deal: Deal, taxonomy: Taxonomy) -> list[str]:
    """Stages whose planned duration exceeds the stage's threshold_days."""
    return [stage for stage, days in zip(causal.PIPELINE, deal.durations_days, strict=True)
            if days > taxonomy.stage(stage).threshold_days]


def mark_fake_progress(spec: WorldSpec, deals: list[Deal], reps: list[Rep], taxonomy: Taxonomy) -> None:
    """Pick the deals whose owner fakes progress: more often for weak follow-up/closing reps."""
    reps_by_id = {rep.rep_id: rep for rep in reps}
    dims = [taxonomy.capabilities.index(d) for d in causal.FAKE_PROGRESS["dimensions"]]
    for index, deal in enumerate(deals):
        rng = child_rng(spec.seed, STEP_FAKE, index)
        levels = reps_by_id[deal.rep_id].levels[month_index(spec, deal.created_at)]
        level = float(np.mean(levels[dims]))
        p_fake = causal.sigmoid(causal.FAKE_PROGRESS["intercept"] + causal.FAKE_PROGRESS["slope"] * level)
        if rng.random() < p_fake:
            deal.fake_progress = True
            deal.fake_mode = ("template", "copied", "mixed")[int(rng.choice(3, p=[0.4, 0.4, 0.2]))]


def settle_outcomes(spec: WorldSpec, taxonomy: Taxonomy, deals: list[Deal], calls: list[Call],
                    reps: list[Rep], customers: list[Customer]) -> None:
    """Compute each deal's true features and p_win, draw its outcome, and write its history."""
    reps_by_id = {rep.rep_id: rep for rep in reps}
    customers_by_id = {c.customer_id: c for c in customers}
    calls_by_deal = _calls_by_deal(calls)
    for index, deal in enumerate(deals):
        rep, customer = reps_by_id[deal.rep_id], customers_by_id[deal.customer_id]
        deal.features = _features(spec, taxonomy, deal, rep, customer, calls_by_deal.get(deal.deal_id, []))
        deal.tracks_used = [name.removeprefix("track:") for name, v in deal.features.items()
                            if name.startswith("track:") and v]
        deal.logit = round(causal.win_logit(deal.features), 6)
        deal.p_win = round(causal.sigmoid(deal.logit), 6)
        won = child_rng(spec.seed, STEP_OUTCOME, index).random() < deal.p_win
        deal.outcome_if_closed = "won" if won else "lost"
        _apply_discount(deal, calls_by_deal.get(deal.deal_id, []))
        _write_history(spec, deal)


def _calls_by_deal(calls: list[Call]) -> dict[str, list[Call]]:
    grouped: dict[str, list[Call]] = {}
    for call in calls:
        grouped.setdefault(call.deal_id, []).append(call)
    return grouped


def _features(spec: WorldSpec, taxonomy: Taxonomy, deal: Deal, rep: Rep, customer: Customer,
              calls: list[Call]) -> dict[str, float]:
    """The true features of the outcome model (causal.FEATURE_DEFINITIONS), in a fixed order."""
    features = {
        "quality": customer.quality,
        "skill": round(float(rep.levels[month_index(spec, deal.created_at)].mean()), 6),
        "stalled": float(bool(stalled_stages(deal, taxonomy))),
        "language_match": float(rep.language == customer.language),
    }
    episodes = [episode for call in calls for episode in call.plan.episodes]
    for track in causal.PLANTED_TRACKS:
        features[f"track:{track.track_id}"] = float(any(track.track_id in e.tracks_used for e in episodes))
    for move in causal.MOVE_EFFECTS:
        features[f"move:{move}"] = float(any(move in e.moves for e in episodes))
    return features


def _apply_discount(deal: Deal, calls: list[Call]) -> None:
    """A discount offered in a call ends up in the deal's discount_pct."""
    offered = [call.plan.discount_offered for call in calls if call.plan.discount_offered]
    if offered:
        deal.discount_pct = float(max(offered))


def _write_history(spec: WorldSpec, deal: Deal) -> None:
    """Stage events up to the world's end, current stage, status and close time."""
    end = world_end(spec)
    deal.stage_events = [(stage, entered) for stage, entered, _ in stage_windows(deal) if entered < end]
    deal.stage = deal.stage_events[-1][0]
    close = planned_close(deal)
    if close >= end:
        deal.status, deal.closed_at = "open", None
        return
    deal.status, deal.closed_at = deal.outcome_if_closed, close
    if deal.status == "won":
        deal.stage_events.append((causal.WON_STAGE, close))
        deal.stage = causal.WON_STAGE


def stick_open_deals(spec: WorldSpec, taxonomy: Taxonomy, deals: list[Deal], share: float = 0.3) -> None:
    """Make about ``share`` of the deals still open at the end (at least 3) sit in their
    current stage past its threshold, so the world has live stage-timer alerts.

    The deal is moved earlier by the extra days and its current stage lengthened by as
    much, so every later planned date stays the same. Runs before outcomes are drawn,
    so the longer stage counts as a stall in the win model.
    """
    rng = child_rng(spec.seed, STEP_STICK)
    open_deals = [deal for deal in deals if planned_close(deal) >= world_end(spec)]
    target = min(len(open_deals), max(3, math.ceil(share * len(open_deals))))
    stuck = [deal for deal in open_deals if _overdue_at_end(spec, taxonomy, deal)]
    for index in rng.permutation(len(open_deals)):
        if len(stuck) >= target:
            return
        deal = open_deals[int(index)]
        if deal not in stuck and _stick(spec, taxonomy, deal, rng):
            stuck.append(deal)


def _current_window(spec: WorldSpec, deal: Deal) -> tuple[int, datetime]:
    """(pipeline index, entered) of the stage the deal is in at the world's end."""
    entered_before_end = [(i, entered) for i, (_, entered, _) in enumerate(stage_windows(deal))
                          if entered < world_end(spec)]
    return entered_before_end[-1]


def _overdue_at_end(spec: WorldSpec, taxonomy: Taxonomy, deal: Deal) -> bool:
    index, entered = _current_window(spec, deal)
    elapsed = (world_end(spec) - entered).total_seconds() / 86400.0
    return elapsed > taxonomy.stage(causal.PIPELINE[index]).threshold_days


def _stick(spec: WorldSpec, taxonomy: Taxonomy, deal: Deal, rng: np.random.Generator) -> bool:
    index, entered = _current_window(spec, deal)
    elapsed = (world_end(spec) - entered).total_seconds() / 86400.0
    overdue = taxonomy.stage(causal.PIPELINE[index]).threshold_days * rng.uniform(1.2, 2.5)
    shift = timedelta(minutes=round((overdue - elapsed) * 1440))
    if deal.created_at - shift < datetime.combine(spec.start, time()):
        return False
    deal.created_at -= shift
    deal.durations_days[index] = round(deal.durations_days[index] + shift.total_seconds() / 86400.0, 3)
    return True
