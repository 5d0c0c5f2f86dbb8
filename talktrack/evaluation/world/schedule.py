"""When the calls happen: spread ``spec.calls`` over deals and over the stages each deal
has reached (qualification to negotiation), at office hours inside the stage.

Deals that fake progress get a quarter of the calls of an honest deal: their notes
claim conversations that mostly did not take place.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from talktrack.evaluation.world import causal
from talktrack.evaluation.world.deals import business_time, stage_windows, world_end
from talktrack.evaluation.world.records import Call, Customer, Deal
from talktrack.evaluation.world.spec import WorldSpec, child_rng

STEP_SCHEDULE = 20
CHANNELS = (("phone", 0.5), ("video", 0.35), ("visit", 0.15))
FAKE_DEAL_CALL_WEIGHT = 0.25


def call_windows(spec: WorldSpec, deal: Deal) -> list[tuple[str, datetime, datetime]]:
    """The (stage, from, to) intervals of a deal in which a call can take place."""
    end = world_end(spec)
    return [(stage, entered, min(left, end)) for stage, entered, left in stage_windows(deal)
            if stage in causal.CALL_STAGES and entered < end]


def schedule_calls(spec: WorldSpec, deals: list[Deal], customers: list[Customer]) -> list[Call]:
    """Calls with ids numbered in time order (CALL-000001 is the first call of the world)."""
    rng = child_rng(spec.seed, STEP_SCHEDULE)
    windows = [call_windows(spec, deal) for deal in deals]
    weights = np.array([_weight(deal, w) for deal, w in zip(deals, windows, strict=True)])
    if spec.calls == 0 or weights.sum() == 0:
        return []
    counts = np.bincount(rng.choice(len(deals), size=spec.calls, p=weights / weights.sum()), minlength=len(deals))
    language = {c.customer_id: c.language for c in customers}
    calls = []
    for deal, deal_windows, count in zip(deals, windows, counts, strict=True):
        for _ in range(int(count)):
            calls.append(_make_call(rng, deal, deal_windows, language[deal.customer_id]))
    calls.sort(key=lambda call: (call.started_at, call.deal_id, call.stage))
    width = max(6, len(str(len(calls))))
    for number, call in enumerate(calls, start=1):
        call.call_id = f"CALL-{number:0{width}d}"
    return calls


def _weight(deal: Deal, windows: list) -> float:
    if not windows:
        return 0.0
    return FAKE_DEAL_CALL_WEIGHT if deal.fake_progress else 1.0


def _make_call(rng: np.random.Generator, deal: Deal, windows: list, language: str) -> Call:
    """One call in a stage chosen by the time spent in it (plus a floor so short stages get calls)."""
    spans = np.array([(left - entered).total_seconds() / 86400.0 for _, entered, left in windows])
    stage, entered, left = windows[int(rng.choice(len(windows), p=(spans + 1.0) / (spans + 1.0).sum()))]
    started = _time_inside(rng, entered, left)
    channel = CHANNELS[int(rng.choice(len(CHANNELS), p=[share for _, share in CHANNELS]))][0]
    return Call("", deal.deal_id, deal.rep_id, deal.customer_id, started, stage, channel, language)


def _time_inside(rng: np.random.Generator, entered: datetime, left: datetime) -> datetime:
    """A moment in [entered, left): at office hours when that day allows, else the raw instant."""
    for _ in range(3):
        instant = entered + (left - entered) * float(rng.random())
        candidate = business_time(rng, instant)
        if entered <= candidate < left:
            return candidate
    return instant.replace(second=0, microsecond=0)  # entered is on the minute grid, so still inside
