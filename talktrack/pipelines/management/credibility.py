"""The monthly data-credibility report: how much of the CRM a director can believe, per team and field.

A figure is only as good as the fields under it. A value typed by hand may be wishful; a value a call,
a chat, a document or the system itself captured is a record of something that happened; and a value
that agrees with another system has been checked. So, per team and month:

- **hand share** of a field = values typed by hand ÷ values entered (``field_entries``; a value is
  dated by its record: a deal's creation month, a contract's signing month). The rest were captured,
  split by source (call, chat, evidence, system).
- **captured share** of a team-month = captured values ÷ all values entered, over every field.
- **cross-system checks** (pass rate = passed ÷ checked), each dated by what it checks:

  - *stage*: a stage change in the CRM (every stage but the first, which a new deal gets by itself)
    passes when a call of the deal was held in that stage or a document of the deal was submitted
    while the deal was in it (from entering it until the deal's next stage change);
  - *visit*: a logged visit passes when the same rep has a call with the same customer that day, or a
    calendar document of a deal of that customer is dated that day;
  - *amount*: a contract signed for a deal passes when the deal's amount and currency in the CRM are
    the contract's.

- **pass rate** of a team-month = all checks passed ÷ all checked.
- **data quality** = the mean of captured share and pass rate (either alone when the other has
  nothing to measure); the **manager ranking** orders teams' managers by data quality over the
  report's months (counts pooled), best first.

Every number is a count from the catalog; the shares are quotients of those counts, so the world's
truth (``truth.json`` ``management.credibility``) can ask for exact agreement.

Example::

    report = credibility_report(catalog, settings, month="2026-11", team="TEAM-01")
    report["teams"][0]["months"][-1]["checks"]["visit"]["pass_rate"]
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import (
    Call, Contract, Deal, EvidenceDocument, FieldEntry, Rep, StageEvent, Team, Visit,
)
from talktrack.core.config import Settings

CHECKS = ("stage", "visit", "amount")
SOURCES = ("call", "chat", "evidence", "system")
TREND_MONTHS = 6
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
FORMULAS = {
    "hand_share": "values typed by hand / values entered (per field)",
    "captured_share": "values captured (call, chat, evidence, system) / values entered",
    "stage_pass_rate": "stage changes with a call in that stage or a document while in it / stage changes",
    "visit_pass_rate": "visits with a call of the rep and customer or a calendar item that day / visits",
    "amount_pass_rate": "contracts whose deal's CRM amount and currency equal the contract's / contracts with a deal",
    "pass_rate": "checks passed / checks made (all three)",
    "data_quality": "(captured share + pass rate) / 2",
}

# Which imported fields (``<import file>.<column>``) each figure reads (for the lineage graph).
LINEAGE: dict[str, tuple[str, ...]] = {
    "field_hand_share": ("field_entries.entity", "field_entries.record_id", "field_entries.field",
                         "field_entries.entry", "field_entries.captured_from", "deals.created_at",
                         "contracts.signed_at", "deals.rep_id", "contracts.rep_id", "reps.team_id"),
    "stage_check_pass_rate": ("stage_events.stage", "stage_events.entered_at", "calls.deal_id", "calls.stage",
                              "evidence.deal_id", "evidence.submitted_at", "deals.rep_id", "reps.team_id"),
    "visit_check_pass_rate": ("visits.rep_id", "visits.customer_id", "visits.visited_on", "calls.rep_id",
                              "calls.customer_id", "calls.started_at", "evidence.kind", "evidence.submitted_at",
                              "deals.customer_id", "reps.team_id"),
    "amount_check_pass_rate": ("contracts.deal_id", "contracts.amount", "contracts.currency", "contracts.signed_at",
                               "deals.amount", "deals.currency", "contracts.rep_id", "reps.team_id"),
    "data_quality": ("field_hand_share", "stage_check_pass_rate", "visit_check_pass_rate", "amount_check_pass_rate"),
}


class CredibilityError(ValueError):
    """A report asked for something that cannot be read (a malformed month)."""


@dataclass
class Cell:
    """The counts of one team-month; every rate of the report is a quotient of these."""

    fields: dict = field(default_factory=lambda: defaultdict(Counter))  # field -> {hand, captured, <source>}
    checks: dict = field(default_factory=lambda: {name: Counter() for name in CHECKS})  # -> {checked, passed}

    def add(self, other: Cell) -> None:
        for name, counts in other.fields.items():
            self.fields[name].update(counts)
        for name, counts in other.checks.items():
            self.checks[name].update(counts)


def month_of(moment: date | datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def previous_month(day: date) -> str:
    """The month before ``day``'s: a monthly report covers a closed month by default."""
    index = day.year * 12 + day.month - 2
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_range(last: str, count: int) -> list[str]:
    """``count`` months ending with ``last`` (YYYY-MM), oldest first."""
    if not MONTH.match(last or ""):
        raise CredibilityError(f"month {last!r}: expected YYYY-MM")
    index = int(last[:4]) * 12 + int(last[5:]) - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


def count_cells(catalog: Catalog, settings: Settings) -> dict[tuple[str, str], Cell]:
    """(team external id, month) -> the counts of that team-month, over the whole catalog."""
    rows = _load(catalog)
    cells: dict[tuple[str, str], Cell] = defaultdict(Cell)
    _count_fields(rows, cells)
    _count_stages(rows, cells, first_stage=settings.stage_keys[0])
    _count_visits(rows, cells)
    _count_amounts(rows, cells)
    return cells


@dataclass(frozen=True)
class Rows:
    team_of_rep: dict       # rep pk -> team external id
    deals: dict             # deal pk -> (external id, rep pk, customer pk, created_at, amount, currency)
    contracts: list         # (external id, deal pk, rep pk, amount, currency, signed_at)
    entries: list           # (entity, record external id, field, entry, captured_from)
    events: dict            # deal pk -> [(entered_at, stage)] in time order
    calls: list             # (deal pk, rep pk, customer pk, started_at, stage)
    evidence: list          # (deal pk, kind, submitted_at)
    visits: list            # (rep pk, customer pk, visited_on)


def _load(catalog: Catalog) -> Rows:
    with catalog.session() as s:
        team_of_rep = dict(s.execute(select(Rep.id, Team.external_id).join(Team, Team.id == Rep.team_id)).all())
        deals = {row[0]: tuple(row[1:]) for row in s.execute(select(
            Deal.id, Deal.external_id, Deal.rep_id, Deal.customer_id, Deal.created_at, Deal.amount, Deal.currency))}
        contracts = [tuple(r) for r in s.execute(select(
            Contract.external_id, Contract.deal_id, Contract.rep_id, Contract.amount, Contract.currency,
            Contract.signed_at))]
        entries = [tuple(r) for r in s.execute(select(
            FieldEntry.entity, FieldEntry.record_external_id, FieldEntry.field, FieldEntry.entry,
            FieldEntry.captured_from))]
        events: dict = defaultdict(list)
        for deal, stage, entered in s.execute(select(StageEvent.deal_id, StageEvent.stage, StageEvent.entered_at)
                                              .order_by(StageEvent.deal_id, StageEvent.entered_at, StageEvent.id)):
            events[deal].append((entered, stage))
        calls = [tuple(r) for r in s.execute(select(Call.deal_id, Call.rep_id, Call.customer_id, Call.started_at,
                                                    Call.stage))]
        evidence = [tuple(r) for r in s.execute(select(EvidenceDocument.deal_id, EvidenceDocument.kind,
                                                       EvidenceDocument.submitted_at))]
        visits = [tuple(r) for r in s.execute(select(Visit.rep_id, Visit.customer_id, Visit.visited_on))]
    return Rows(team_of_rep, deals, contracts, entries, dict(events), calls, evidence, visits)


def _count_fields(rows: Rows, cells: dict) -> None:
    owner = {("deal", ext): (rep, created) for ext, rep, _, created, _, _ in rows.deals.values()}
    owner |= {("contract", ext): (rep, signed) for ext, _, rep, _, _, signed in rows.contracts}
    for entity, record, name, entry, source in rows.entries:
        if (entity, record) not in owner:
            continue  # a field of a record the catalog does not hold: nothing to date it by
        rep, when = owner[(entity, record)]
        counts = cells[(rows.team_of_rep[rep], month_of(when))].fields[f"{entity}.{name}"]
        counts[entry] += 1
        if entry == "captured" and source:
            counts[source] += 1


def _count_stages(rows: Rows, cells: dict, first_stage: str) -> None:
    call_stages: dict = defaultdict(set)
    for deal, _, _, _, stage in rows.calls:
        call_stages[deal].add(stage)
    documents: dict = defaultdict(list)
    for deal, _, submitted in rows.evidence:
        documents[deal].append(submitted)
    for deal, events in rows.events.items():
        team = rows.team_of_rep[rows.deals[deal][1]]
        times = sorted(documents.get(deal, ()))
        for i, (entered, stage) in enumerate(events):
            if stage == first_stage:
                continue
            until = events[i + 1][0] if i + 1 < len(events) else None
            first = bisect.bisect_left(times, entered)
            backed = stage in call_stages[deal] or (first < len(times) and (until is None or times[first] < until))
            _tick(cells[(team, month_of(entered))], "stage", backed)


def _count_visits(rows: Rows, cells: dict) -> None:
    call_days = {(rep, customer, started.date()) for _, rep, customer, started, _ in rows.calls if started}
    calendar_days = {(rows.deals[deal][2], submitted.date()) for deal, kind, submitted in rows.evidence
                     if kind == "calendar"}
    for rep, customer, day in rows.visits:
        backed = customer is not None and ((rep, customer, day) in call_days or (customer, day) in calendar_days)
        _tick(cells[(rows.team_of_rep[rep], month_of(day))], "visit", backed)


def _count_amounts(rows: Rows, cells: dict) -> None:
    for _, deal, rep, amount, currency, signed in rows.contracts:
        if deal is None:
            continue  # a renewal or a contract older than the CRM history: no deal to compare with
        _, _, _, _, deal_amount, deal_currency = rows.deals[deal]
        _tick(cells[(rows.team_of_rep[rep], month_of(signed))], "amount",
              deal_amount == amount and deal_currency == currency)


def _tick(cell: Cell, check: str, passed: bool) -> None:
    cell.checks[check]["checked"] += 1
    cell.checks[check]["passed"] += passed


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def summarize(cell: Cell) -> dict:
    """The rates of one team-month (or of pooled months): each a quotient of the cell's counts."""
    fields = [{"field": name, "hand": c["hand"], "captured": c["captured"],
               "by_source": {s: c[s] for s in SOURCES if c[s]}, "hand_share": _rate(c["hand"], c["hand"] + c["captured"])}
              for name, c in sorted(cell.fields.items())]
    hand = sum(f["hand"] for f in fields)
    captured = sum(f["captured"] for f in fields)
    checks = {name: {"checked": c["checked"], "passed": c["passed"], "pass_rate": _rate(c["passed"], c["checked"])}
              for name, c in cell.checks.items()}
    captured_share = _rate(captured, hand + captured)
    pass_rate = _rate(sum(c["passed"] for c in checks.values()), sum(c["checked"] for c in checks.values()))
    known = [r for r in (captured_share, pass_rate) if r is not None]
    return {"fields": fields, "entered": {"hand": hand, "captured": captured, "captured_share": captured_share},
            "checks": checks, "pass_rate": pass_rate, "quality": sum(known) / len(known) if known else None}


def credibility_report(catalog: Catalog, settings: Settings, *, month: str, team: str | None = None,
                       months: int = TREND_MONTHS) -> dict:
    """The report for ``month`` (YYYY-MM) with the ``months`` months up to it as the trend; every team, or one."""
    if months < 1:
        raise CredibilityError(f"months {months}: expected at least 1")
    window = month_range(month, months)
    cells = count_cells(catalog, settings)
    teams = _teams(catalog, team)
    rows = []
    for t in teams:
        pooled = Cell()
        trend = []
        for m in window:
            cell = cells.get((t["team"], m), Cell())
            pooled.add(cell)
            trend.append({"month": m} | summarize(cell))
        rows.append(t | {"months": trend, "window": summarize(pooled)})
    ranking = sorted(rows, key=lambda r: (r["window"]["quality"] is None, -(r["window"]["quality"] or 0.0), r["team"]))
    return {"month": month, "months": window, "scope": {"team": team}, "formulas": FORMULAS,
            "teams": rows,
            "ranking": [{"rank": i + 1, "manager": r["manager"], "team": r["team"], "quality": r["window"]["quality"],
                         "captured_share": r["window"]["entered"]["captured_share"],
                         "pass_rate": r["window"]["pass_rate"]} for i, r in enumerate(ranking)]}


def _teams(catalog: Catalog, team: str | None) -> list[dict]:
    query = select(Team.external_id, Team.name, Team.region, Team.manager_external_id).order_by(Team.external_id)
    if team is not None:
        query = query.where(Team.external_id == team)
    with catalog.session() as s:
        teams = s.execute(query).all()
        names = dict(s.execute(select(Rep.external_id, Rep.name).where(
            Rep.external_id.in_([t[3] for t in teams if t[3]]))).all())
    return [{"team": ext, "name": name, "region": region,
             "manager": {"id": manager, "name": names.get(manager)} if manager else None}
            for ext, name, region, manager in teams]
