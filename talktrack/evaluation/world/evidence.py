"""Evidence behind claimed progress: calendar invites, notes/summaries, proposals.

Honest deals get notes written from their own calls (this customer's pain points and
numbers, the objections raised, the agreed next step). Deals that fake progress get
notes dated when no call took place, written from a generic template or copied from
another customer's real notes with the name swapped (sometimes lightly paraphrased).
``truth.json`` records which is which and, for a copy, its source.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import datetime, timedelta

import numpy as np

from talktrack.evaluation.world.deals import business_time, stage_windows, world_end
from talktrack.evaluation.world.dialogue import call_slots, next_action_text, pain_note
from talktrack.evaluation.world.lexicon import lexicon
from talktrack.evaluation.world.records import Call, Customer, Deal, Evidence, Rep
from talktrack.evaluation.world.schedule import call_windows
from talktrack.evaluation.world.spec import WorldSpec, child_rng

STEP_AUTHENTIC, STEP_FAKE_NOTES = 50, 51
LEVEL_OF_KIND = {"calendar": "scheduled", "meeting_notes": "communicated", "call_summary": "communicated",
                 "proposal": "proposal_submitted"}
NOTE_KINDS = ("meeting_notes", "call_summary")
CALENDAR_SHARE, NOTES_SHARE = 0.5, 0.85
NO_CALL_MARGIN = timedelta(days=3)


class Lookup:
    """The records evidence is written from, by id."""

    def __init__(self, deals: list[Deal], calls: list[Call], customers: list[Customer], reps: list[Rep]) -> None:
        self.customers = {c.customer_id: c for c in customers}
        self.reps = {r.rep_id: r for r in reps}
        self.deals = {d.deal_id: d for d in deals}
        self.calls_by_deal: dict[str, list[Call]] = {}
        for call in calls:
            self.calls_by_deal.setdefault(call.deal_id, []).append(call)

    def customer_of(self, deal_id: str) -> Customer:
        return self.customers[self.deals[deal_id].customer_id]


def make_evidence(spec: WorldSpec, deals: list[Deal], calls: list[Call], customers: list[Customer],
                  reps: list[Rep]) -> list[Evidence]:
    """All evidence of the world, numbered EV-000001... in order of submission."""
    lookup = Lookup(deals, calls, customers, reps)
    items: list[Evidence] = []
    for index, deal in enumerate(deals):
        if not deal.fake_progress:
            items += authentic_evidence(spec, deal, lookup, child_rng(spec.seed, STEP_AUTHENTIC, index))
    sources = SourcePool([item for item in items if item.kind in NOTE_KINDS], lookup)
    for index, deal in enumerate(deals):
        if deal.fake_progress:
            items += fake_evidence(spec, deal, lookup, sources, child_rng(spec.seed, STEP_FAKE_NOTES, index))
    return _numbered(items)


class SourcePool:
    """Authentic notes a faker can copy from: same language, written before, another customer."""

    def __init__(self, notes: list[Evidence], lookup: Lookup) -> None:
        self.lookup = lookup
        self.by_language: dict[str, list[Evidence]] = {}
        for note in sorted(notes, key=lambda e: (e.submitted_at, e.evidence_id)):
            self.by_language.setdefault(lookup.customer_of(note.deal_id).language, []).append(note)
        self.times = {lang: [n.submitted_at for n in notes] for lang, notes in self.by_language.items()}

    def pick(self, language: str, before: datetime, customer_id: str, rng: np.random.Generator) -> Evidence | None:
        notes = self.by_language.get(language, [])
        count = bisect_left(self.times.get(language, []), before)
        for _ in range(10 if count else 0):
            note = notes[int(rng.integers(count))]
            if self.lookup.deals[note.deal_id].customer_id != customer_id:
                return note
        return None


def _numbered(items: list[Evidence]) -> list[Evidence]:
    """Sort by submission and give final ids; copies point at their source's final id."""
    items.sort(key=lambda e: (e.submitted_at, e.deal_id, e.kind, e.evidence_id))
    width = max(6, len(str(len(items))))
    final = {item.evidence_id: f"EV-{number:0{width}d}" for number, item in enumerate(items, start=1)}
    for item in items:
        item.evidence_id = final[item.evidence_id]
        item.source_evidence_id = final.get(item.source_evidence_id, "")
    return items


def _temp_id(deal: Deal, number: int) -> str:
    return f"{deal.deal_id}/{number:03d}"


def authentic_evidence(spec: WorldSpec, deal: Deal, lookup: Lookup, rng: np.random.Generator) -> list[Evidence]:
    """A calendar invite before some calls, notes after most calls, a proposal once presented."""
    end, items = world_end(spec), []
    for call in lookup.calls_by_deal.get(deal.deal_id, []):
        if rng.random() < CALENDAR_SHARE:
            items.append(_calendar(deal, call, lookup, rng, _temp_id(deal, len(items))))
        submitted = call.started_at + timedelta(seconds=call.duration_s) + timedelta(minutes=int(rng.integers(30, 2160)))
        if rng.random() < NOTES_SHARE and submitted < end:
            items.append(_notes(deal, call, lookup, rng, submitted, _temp_id(deal, len(items))))
    proposal = _proposal(spec, deal, lookup, rng, _temp_id(deal, len(items)))
    return items + ([proposal] if proposal else [])


def _calendar(deal: Deal, call: Call, lookup: Lookup, rng: np.random.Generator, temp_id: str) -> Evidence:
    lex, customer = lexicon(call.language), lookup.customer_of(deal.deal_id)
    booked = business_time(rng, call.started_at - timedelta(days=int(rng.integers(1, 5))))
    booked = min(max(booked, deal.created_at), call.started_at)
    text = lex.CALENDAR_STYLE[int(rng.integers(len(lex.CALENDAR_STYLE)))].format(
        contact=customer.contacts[0].name, customer=customer.name, channel=lex.CHANNELS[call.channel],
        day=lex.format_day(call.started_at.date()), vendor=lex.VENDOR)
    return Evidence(temp_id, deal.deal_id, "calendar", "scheduled", booked, text.split("\n")[0][:80], text,
                    "authentic", call_id=call.call_id)


def _notes(deal: Deal, call: Call, lookup: Lookup, rng: np.random.Generator, submitted: datetime,
           temp_id: str) -> Evidence:
    """Notes of one real call: its pain points with their numbers, objections, next step."""
    lex, customer = lexicon(call.language), lookup.customer_of(deal.deal_id)
    slots = call_slots(lex, call.plan, customer, deal, lookup.reps[deal.rep_id])
    pains = {pain.pain_id: pain for pain in customer.pains}
    style = int(rng.integers(len(lex.NOTE_STYLES)))
    text = lex.NOTE_STYLES[style].format(
        contact=customer.contacts[0].name, customer=customer.name, day=lex.format_day(call.started_at.date()),
        stage_name=lex.STAGE_NAMES[call.stage],
        pains=lex.LIST_JOINER.join(pain_note(lex, pains[p]) for p in call.plan.pains_mentioned),
        objections=_objection_notes(lex, call, slots),
        competitor_line=lex.COMPETITOR_LINE[style].format(competitor=customer.competitor)
        if call.plan.competitor_mentioned else "",
        next_step=lex.NEXT_STEP_NOTE.format(next_action=next_action_text(lex, call.plan, slots),
                                            day=slots["date"]),
    )
    kind = "call_summary" if call.channel == "phone" else "meeting_notes"
    return Evidence(temp_id, deal.deal_id, kind, "communicated", submitted, _note_title(lex, customer, call), text,
                    "authentic", call_id=call.call_id)


def _note_title(lex, customer: Customer, call: Call) -> str:
    return f"{customer.name} - {lex.STAGE_NAMES[call.stage]} ({call.started_at.date().isoformat()})"


def _objection_notes(lex, call: Call, slots: dict[str, str]) -> str:
    types = list(dict.fromkeys(e.objection_type for e in call.plan.episodes))
    if not types:
        return lex.NO_OBJECTIONS
    return lex.LIST_JOINER.join(lex.OBJECTION_NOTES[t].format_map(slots) for t in types)


def _proposal(spec: WorldSpec, deal: Deal, lookup: Lookup, rng: np.random.Generator,
              temp_id: str) -> Evidence | None:
    """A proposal built on the pain points heard in this deal's calls so far (none if none heard)."""
    submitted = _proposal_time(spec, deal, rng)
    calls = [c for c in lookup.calls_by_deal.get(deal.deal_id, []) if submitted and c.started_at < submitted]
    heard = list(dict.fromkeys(p for c in calls for p in c.plan.pains_mentioned))
    if not heard:
        return None
    customer = lookup.customer_of(deal.deal_id)
    lex = lexicon(customer.language)
    pains = {pain.pain_id: pain for pain in customer.pains}
    text = lex.PROPOSAL_STYLE[int(rng.integers(len(lex.PROPOSAL_STYLE)))].format(
        customer=customer.name, product=deal.product, users=customer.users, amount=lex.format_money(deal.amount),
        payment_terms=deal.payment_terms_days, deadline=customer.deadline,
        pains=lex.LIST_JOINER.join(pain_note(lex, pains[p]) for p in heard))
    return Evidence(temp_id, deal.deal_id, "proposal", "proposal_submitted", submitted,
                    f"{customer.name} - {deal.product}", text, "authentic")


def _proposal_time(spec: WorldSpec, deal: Deal, rng: np.random.Generator) -> datetime | None:
    """Shortly after the deal enters solution_presentation, if that happens before the end."""
    entered = dict((stage, start) for stage, start, _ in stage_windows(deal))["solution_presentation"]
    submitted = business_time(rng, entered + timedelta(days=float(rng.uniform(0.3, 3.0))))
    return submitted if entered <= submitted < world_end(spec) else None


def fake_evidence(spec: WorldSpec, deal: Deal, lookup: Lookup, sources: SourcePool,
                  rng: np.random.Generator) -> list[Evidence]:
    """1-3 notes at times with no call of this deal nearby (template or copied), sometimes a
    template proposal."""
    windows = call_windows(spec, deal)
    if not windows:
        return []
    items = []
    for _ in range(int(rng.integers(1, 4))):
        moment = _quiet_moment(deal, windows, lookup.calls_by_deal.get(deal.deal_id, []), rng)
        mode = deal.fake_mode if deal.fake_mode != "mixed" else ("template", "copied")[int(rng.integers(2))]
        items.append(_fake_note(deal, lookup, sources, rng, moment, mode, _temp_id(deal, len(items))))
    submitted = _proposal_time(spec, deal, rng)
    if submitted and rng.random() < 0.5:
        items.append(_template_proposal(deal, lookup, rng, submitted, _temp_id(deal, len(items))))
    return items


def _quiet_moment(deal: Deal, windows: list, calls: list[Call], rng: np.random.Generator) -> datetime:
    """A time inside the deal's active stages at least NO_CALL_MARGIN from any of its calls."""
    moment = windows[0][1]
    for _ in range(12):
        _, start, stop = windows[int(rng.integers(len(windows)))]
        moment = business_time(rng, start + (stop - start) * float(rng.random()))
        if start <= moment < stop and all(abs(moment - c.started_at) > NO_CALL_MARGIN for c in calls):
            return moment
    return moment


def _fake_note(deal: Deal, lookup: Lookup, sources: SourcePool, rng: np.random.Generator, moment: datetime,
               mode: str, temp_id: str) -> Evidence:
    customer = lookup.customer_of(deal.deal_id)
    lex = lexicon(customer.language)
    kind = NOTE_KINDS[int(rng.integers(2))]
    source = sources.pick(customer.language, moment, customer.customer_id, rng) if mode == "copied" else None
    if source is not None:
        text, title = copy_note(source, lookup.customer_of(source.deal_id), customer, lex, rng)
        return Evidence(temp_id, deal.deal_id, kind, "communicated", moment, title, text, "copied",
                        source_evidence_id=source.evidence_id)
    template = int(rng.integers(len(lex.FAKE_TEMPLATES)))
    text = lex.FAKE_TEMPLATES[template].format(customer=customer.name)
    title = f"{customer.name} ({moment.date().isoformat()})"
    return Evidence(temp_id, deal.deal_id, kind, "communicated", moment, title, text, "template",
                    template_id=f"{lex.LANGUAGE}-note-{template}")


def copy_note(source: Evidence, source_customer: Customer, target: Customer, lex,
              rng: np.random.Generator) -> tuple[str, str]:
    """Another customer's note with the names swapped; half the time lightly reworded."""
    swaps = [(source_customer.name, target.name), (source_customer.short_name, target.short_name)]
    if rng.random() < 0.6:  # sometimes the contact's name is left in by mistake
        swaps.append((source_customer.contacts[0].name, target.contacts[0].name))
    text, title = source.text, source.title
    for old, new in swaps:
        text, title = text.replace(old, new), title.replace(old, new)
    if rng.random() < 0.5:
        for old, new in lex.PARAPHRASE_SWAPS:
            if rng.random() < 0.6:
                text = text.replace(old, new)
    return text, title


def _template_proposal(deal: Deal, lookup: Lookup, rng: np.random.Generator, submitted: datetime,
                       temp_id: str) -> Evidence:
    customer = lookup.customer_of(deal.deal_id)
    lex = lexicon(customer.language)
    template = int(rng.integers(len(lex.PROPOSAL_TEMPLATES)))
    return Evidence(temp_id, deal.deal_id, "proposal", "proposal_submitted", submitted,
                    f"{customer.name} - {deal.product}", lex.PROPOSAL_TEMPLATES[template].format(customer=customer.name),
                    "template", template_id=f"{lex.LANGUAGE}-proposal-{template}")


def claim_progress(spec: WorldSpec, deals: list[Deal], evidence: list[Evidence], levels: tuple[str, ...]) -> None:
    """Open deals claim the highest level any of their evidence backs; record the level
    that authentic evidence alone backs (they differ for deals that fake progress)."""
    rank = {level: index for index, level in enumerate(levels)}
    by_deal: dict[str, list[Evidence]] = {}
    for item in evidence:
        by_deal.setdefault(item.deal_id, []).append(item)
    for deal in deals:
        items = by_deal.get(deal.deal_id, [])
        deal.backed_progress_level = _highest([e.progress_level for e in items if e.authenticity == "authentic"], rank)
        claimed = _highest([e.progress_level for e in items], rank)
        deal.progress_level = claimed if deal.status == "open" else ""


def _highest(levels: list[str], rank: dict[str, int]) -> str:
    known = [level for level in levels if level in rank]
    return max(known, key=rank.__getitem__) if known else ""
