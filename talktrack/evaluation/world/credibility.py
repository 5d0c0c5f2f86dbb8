"""The truth of the monthly data-credibility report (``truth.json`` ``management.credibility``).

Counted straight from the generated records, without the catalog or the platform's report, so
``talktrack eval management`` can demand exact agreement. Per team and month:

- ``fields``: entity.field -> {hand, captured}, a value dated by its record (a deal's creation
  month, a contract's signing month);
- ``checks``: stage / visit / amount -> {checked, passed}, under the rules the README states:
  a stage change (any but the first stage) is backed by a call of the deal in that stage or a
  document of the deal submitted between entering it and the next change; a visit by a call of
  the same rep with the same customer that day or a calendar document of a deal of that customer
  dated that day; a deal's contract by the deal's amount and currency being the contract's.

What the world plants: each team's own habit of typing fields by hand (``activity.make_field_entries``),
padded visits logged by hand with no call behind them (``activity.make_visits``), and stage changes
of fake-progress deals whose documents are templates or copies (they still count as documents:
the check is whether *anything* in another system shows the stage, not whether it is authentic).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from talktrack.evaluation.world.records import Call, Contract, Deal, Evidence, FieldEntry, Rep, Visit


def _month(moment: date | datetime) -> str:
    return moment.strftime("%Y-%m")


def credibility_truth(first_stage: str, reps: list[Rep], deals: list[Deal], calls: list[Call],
                      evidence: list[Evidence], visits: list[Visit], contracts: list[Contract],
                      entries: list[FieldEntry]) -> dict:
    """team -> month -> {fields: {entity.field: {hand, captured}}, checks: {name: {checked, passed}}}."""
    team = {r.rep_id: r.team_id for r in reps}
    table: dict = defaultdict(lambda: defaultdict(lambda: {"fields": {}, "checks": {}}))

    def tick(team_id: str, month: str, check: str, passed: bool) -> None:
        cell = table[team_id][month]["checks"].setdefault(check, {"checked": 0, "passed": 0})
        cell["checked"] += 1
        cell["passed"] += int(passed)

    dated = {("deal", d.deal_id): (d.rep_id, d.created_at) for d in deals}
    dated |= {("contract", c.contract_id): (c.rep_id, c.signed_at) for c in contracts}
    for e in entries:
        rep, when = dated[(e.entity, e.record_id)]
        cell = table[team[rep]][_month(when)]["fields"].setdefault(f"{e.entity}.{e.field}", {"hand": 0, "captured": 0})
        cell[e.entry] += 1

    stages_called = {(c.deal_id, c.stage) for c in calls}
    documents = defaultdict(list)
    for e in evidence:
        documents[e.deal_id].append(e.submitted_at)
    for d in deals:
        events = sorted(d.stage_events, key=lambda item: item[1])
        for i, (stage, entered) in enumerate(events):
            if stage == first_stage:
                continue
            until = events[i + 1][1] if i + 1 < len(events) else None
            shown = any(entered <= t and (until is None or t < until) for t in documents[d.deal_id])
            tick(team[d.rep_id], _month(entered), "stage", (d.deal_id, stage) in stages_called or shown)

    customer_of = {d.deal_id: d.customer_id for d in deals}
    met = {(c.rep_id, c.customer_id, c.started_at.date()) for c in calls}
    booked = {(customer_of[e.deal_id], e.submitted_at.date()) for e in evidence if e.kind == "calendar"}
    for v in visits:
        tick(team[v.rep_id], _month(v.visited_on), "visit",
             (v.rep_id, v.customer_id, v.visited_on) in met or (v.customer_id, v.visited_on) in booked)

    deal_of = {d.deal_id: d for d in deals}
    for c in contracts:
        if c.deal_id:
            deal = deal_of[c.deal_id]
            tick(team[c.rep_id], _month(c.signed_at), "amount", (deal.amount, deal.currency) == (c.amount, c.currency))
    return {t: dict(sorted(months.items())) for t, months in sorted(table.items())}
