"""Stage gates: a stage change counts when the stages it leaves show their required evidence, verified.

Each stage lists ``required_evidence`` (``settings.stages``; an item that is a list is met by any of
its kinds). A change from stage A to a later stage C leaves A and every stage between (a skipped
stage's actions are owed all the same); closing as won leaves the last stage; a lost deal or a move
back leaves nothing. A requirement is met by a document of the deal of one of its kinds, submitted
by the change (or up to ``stage_gates.evidence_grace_h`` after it), that the evidence verifier
finds ``authentic`` (:mod:`talktrack.pipelines.semantic.evidence`: this customer's specifics, no
copy or template; a proposal/quote PDF by its watermark).

The answer (:class:`GateResult`) is ``verified``, ``unverified`` (accepted, listed for the manager)
or ``refused`` (``stage_gates.enforce``: the change is not recorded; 409), with what is missing.
One function decides for the API and for imported history (:func:`check_stage_change`); every
decision is kept in ``stage_gate_checks``.

    >>> verdicts = verifier_verdicts(open_verifier(catalog, settings, workspace))            # doctest: +SKIP
    >>> record_gated_stage_event(catalog, settings, "DEAL-00042", "solution_presentation",
    ...                          verdicts=verdicts)[2].status                                    # doctest: +SKIP
    'unverified'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select

from talktrack.core.catalog.schema import Deal, Rep, StageEvent, StageGateCheck, Team
from talktrack.core.clock import utcnow
from talktrack.pipelines import stage_timers
from talktrack.pipelines.quotes import QuoteError, check_quote
from talktrack.pipelines.semantic.evidence import check_row
from talktrack.pipelines.semantic.evidence.sources import EvidenceRow, load_evidence_rows
from talktrack.pipelines.semantic.evidence.screenshot import screenshot_file, screenshot_verdict
from talktrack.pipelines.semantic.evidence.watermark import watermarked_file

VERIFIED = "authentic"
# evidence id -> the verifier's verdict (authentic, suspicious, fabricated, or unreadable)
Verdicts = Callable[[list[EvidenceRow]], dict[str, str]]


class GateRefused(ValueError):
    """A stage change refused by an enforced gate; ``result`` says what is missing."""

    def __init__(self, result: GateResult) -> None:
        super().__init__(result.message())
        self.result = result


@dataclass(frozen=True)
class Missing:
    """A requirement not met: of which stage, the kinds that would meet it, and why it is not met."""

    stage: str
    kinds: tuple[str, ...]
    reason: str

    def to_dict(self) -> dict:
        return {"stage": self.stage, "evidence_kinds": list(self.kinds), "reason": self.reason}


@dataclass(frozen=True)
class GateResult:
    """The gate's answer on one stage change."""

    deal_id: str
    from_stage: str | None
    to_stage: str
    entered_at: datetime
    status: str
    missing: list[Missing] = field(default_factory=list)
    met: list[dict] = field(default_factory=list)  # {"stage", "evidence_kinds", "evidence_id"}

    @property
    def gated(self) -> bool:
        return bool(self.missing or self.met)

    def message(self) -> str:
        if not self.missing:
            return f"deal {self.deal_id}: the evidence of the stages left is present and verified"
        owed = "; ".join(f"{m.stage}: {' or '.join(m.kinds)} ({m.reason})" for m in self.missing)
        return f"deal {self.deal_id} leaves {self.from_stage} for {self.to_stage} without verified evidence: {owed}"

    def to_dict(self) -> dict:
        return {"deal_id": self.deal_id, "from_stage": self.from_stage, "to_stage": self.to_stage,
                "entered_at": self.entered_at.isoformat(timespec="seconds"), "status": self.status,
                "message": self.message(), "missing": [m.to_dict() for m in self.missing], "met": self.met}


# -- the decision ---------------------------------------------------------------------------------------
def stages_left(settings, from_stage: str | None, to_stage: str, outcome: str | None = None) -> list:
    """The stages a change leaves behind, whose requirements it owes (none for a first stage, a loss or a move back)."""
    order = list(settings.stage_keys)
    if from_stage is None or outcome == "lost":
        return []
    start = order.index(from_stage)
    stop = len(order) if outcome == "won" else order.index(to_stage)
    return list(settings.stages[start:stop])


def check_stage_change(catalog, settings, deal_id: str, to_stage: str, entered_at: datetime, verdicts: Verdicts, *,
                       outcome: str | None = None, from_stage: str | None = None,
                       rows: list[EvidenceRow] | None = None) -> GateResult:
    """Verified or unverified: is each requirement of the stages left met by authentic evidence?

    ``from_stage``: the stage before (default: the deal's last stage event before ``entered_at``);
    ``rows``: the deal's evidence when already loaded.
    """
    if from_stage is None:
        from_stage = _stage_before(catalog, deal_id, entered_at)
    owed = [(stage.key, group) for stage in stages_left(settings, from_stage, to_stage, outcome)
            for group in stage.required_groups()]
    if not owed:
        return GateResult(deal_id, from_stage, to_stage, entered_at, "verified")
    until = entered_at + timedelta(hours=settings.stage_gates.evidence_grace_h)
    wanted = {kind for _, group in owed for kind in group}
    rows = [r for r in (rows if rows is not None else load_evidence_rows(catalog, deal_id))
            if r.kind in wanted and r.submitted_at is not None and r.submitted_at <= until]
    labels = verdicts(rows)
    missing, met = [], []
    for stage, group in owed:
        candidates = [r for r in rows if r.kind in group]
        good = next((r for r in candidates if labels.get(r.evidence_id) == VERIFIED), None)
        if good is not None:
            met.append({"stage": stage, "evidence_kinds": list(group), "evidence_id": good.evidence_id})
        elif candidates:
            found = ", ".join(f"{r.evidence_id} ({r.kind}) {labels.get(r.evidence_id, 'unchecked')}" for r in candidates)
            missing.append(Missing(stage, group, f"not verified: {found}"))
        else:
            missing.append(Missing(stage, group, f"none submitted by {until.isoformat(timespec='minutes')}"))
    return GateResult(deal_id, from_stage, to_stage, entered_at, "unverified" if missing else "verified", missing, met)


def verifier_verdicts(verifier) -> Verdicts:
    """Verdicts from an evidence verifier, each document checked once; a document without text is judged by
    its file alone (a stamped PDF's watermark, a calendar screenshot read by OCR), else ``unreadable``."""
    cache: dict[str, str] = {}

    def verdicts(rows: list[EvidenceRow]) -> dict[str, str]:
        for row in rows:
            if row.evidence_id not in cache:
                cache[row.evidence_id] = _verdict(verifier, row)
        return {row.evidence_id: cache[row.evidence_id] for row in rows}

    return verdicts


def _verdict(verifier, row: EvidenceRow) -> str:
    if row.text.strip():
        return check_row(verifier, row).verdict
    shot = screenshot_file(row.kind, row.path)
    if shot is not None:  # a calendar screenshot alone: what OCR reads on it
        return screenshot_verdict(verifier, row, shot).verdict
    pdf = watermarked_file(row.kind, row.path)
    if pdf is None:
        return "unreadable"
    try:
        return VERIFIED if check_quote(verifier.catalog, row.deal_id, pdf).genuine else "fabricated"
    except QuoteError:
        return "unreadable"


def _stage_before(catalog, deal_id: str, entered_at: datetime) -> str | None:
    with catalog.session() as session:
        return session.scalar(select(StageEvent.stage).join(Deal, Deal.id == StageEvent.deal_id)
                              .where(Deal.external_id == deal_id, StageEvent.entered_at < entered_at)
                              .order_by(StageEvent.entered_at.desc(), StageEvent.id.desc()).limit(1))


# -- a change posted by the CRM ---------------------------------------------------------------------------
def record_gated_stage_event(catalog, settings, deal_id: str, stage: str, entered_at: datetime | None = None,
                             outcome: str | None = None, *, verdicts: Verdicts):
    """Check the gate, then record the change (:func:`stage_timers.record_stage_event`) unless refused.

    Returns ``(timeline, created, GateResult)``; raises :class:`GateRefused` when ``stage_gates.enforce``
    and the evidence is missing (a retry of an event recorded before is never refused).
    """
    entered_at = stage_timers.as_naive_utc(entered_at) if entered_at else utcnow()
    stage_timers.check_event(settings, stage, entered_at, outcome)
    stage_timers.deal_owner(catalog, deal_id)  # DealNotFound before any work
    result = check_stage_change(catalog, settings, deal_id, stage, entered_at, verdicts, outcome=outcome)
    if result.status != "verified" and settings.stage_gates.enforce and not _recorded(catalog, deal_id, stage,
                                                                                      entered_at):
        result = replace(result, status="refused")
        store_result(catalog, result, "api")
        raise GateRefused(result)
    timeline, created = stage_timers.record_stage_event(catalog, settings, deal_id, stage, entered_at, outcome)
    store_result(catalog, result, "api")
    return timeline, created, result


def _recorded(catalog, deal_id: str, stage: str, entered_at: datetime) -> bool:
    with catalog.session() as session:
        return session.scalar(select(StageEvent.id).join(Deal, Deal.id == StageEvent.deal_id).where(
            Deal.external_id == deal_id, StageEvent.stage == stage, StageEvent.entered_at == entered_at)) is not None


def store_result(catalog, result: GateResult, source: str) -> None:
    """Keep the decision (one row per deal, stage and time: a later check replaces an earlier one)."""
    with catalog.session() as session:
        deal_pk = session.scalar(select(Deal.id).where(Deal.external_id == result.deal_id))
        event = session.scalar(select(StageEvent.id).where(StageEvent.deal_id == deal_pk,
                                                           StageEvent.stage == result.to_stage,
                                                           StageEvent.entered_at == result.entered_at))
        row = session.scalar(select(StageGateCheck).where(StageGateCheck.deal_id == deal_pk,
                                                          StageGateCheck.to_stage == result.to_stage,
                                                          StageGateCheck.entered_at == result.entered_at))
        if row is None:
            row = StageGateCheck(deal_id=deal_pk, to_stage=result.to_stage, entered_at=result.entered_at,
                                 source=source)
            session.add(row)
        row.stage_event_id, row.from_stage, row.status = event, result.from_stage, result.status
        row.missing, row.checked_at = [m.to_dict() for m in result.missing], utcnow()


# -- recorded history (imports) -------------------------------------------------------------------------
def check_recorded_events(catalog, settings, verdicts: Verdicts, *, recheck: bool = False,
                          deal_ids: list[str] | None = None) -> list[GateResult]:
    """Check every recorded stage change (imported ones included) that has no check yet, or all with
    ``recheck``; history is never refused, only marked unverified. Returns the results of this pass."""
    with catalog.session() as session:
        query = (select(Deal.external_id, StageEvent.stage, StageEvent.entered_at)
                 .join(Deal, Deal.id == StageEvent.deal_id).order_by(Deal.external_id, StageEvent.entered_at))
        if deal_ids is not None:
            query = query.where(Deal.external_id.in_(deal_ids))
        events = session.execute(query).all()
        done = set() if recheck else {(d, s, t) for d, s, t in session.execute(
            select(Deal.external_id, StageGateCheck.to_stage, StageGateCheck.entered_at)
            .join(Deal, Deal.id == StageGateCheck.deal_id).where(StageGateCheck.status != "unverified"))}
    results, previous, rows = [], None, None
    for deal_id, stage, entered_at in events:
        if previous is None or previous[0] != deal_id:
            previous, rows = (deal_id, None), load_evidence_rows(catalog, deal_id)
        if (deal_id, stage, entered_at) not in done:
            result = check_stage_change(catalog, settings, deal_id, stage, entered_at, verdicts,
                                        from_stage=previous[1], rows=rows)
            store_result(catalog, result, "import")
            results.append(result)
        previous = (deal_id, stage)
    return results


def gate_checks(catalog, *, status: str | None = "unverified", team: str | None = None, rep: str | None = None,
                deal: str | None = None, limit: int = 100, offset: int = 0) -> tuple[int, list[dict]]:
    """Gate checks for a manager's list (default: the unverified ones) or one deal's, newest change first."""
    query = (select(StageGateCheck, Deal.external_id, Rep.external_id, Team.external_id, Team.manager_external_id)
             .join(Deal, Deal.id == StageGateCheck.deal_id).join(Rep, Rep.id == Deal.rep_id)
             .outerjoin(Team, Team.id == Rep.team_id))
    if status is not None:
        query = query.where(StageGateCheck.status == status)
    if team is not None:
        query = query.where(Team.external_id == team)
    if rep is not None:
        query = query.where(Rep.external_id == rep)
    if deal is not None:
        query = query.where(Deal.external_id == deal)
    with catalog.session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.execute(query.order_by(StageGateCheck.entered_at.desc(), StageGateCheck.id.desc())
                               .limit(limit).offset(offset)).all()
    return total, [{"deal_id": deal, "rep": rep_id, "team": team_id, "manager": manager,
                    "from_stage": row.from_stage, "to_stage": row.to_stage,
                    "entered_at": row.entered_at.isoformat(timespec="seconds"), "status": row.status,
                    "missing": row.missing, "source": row.source,
                    "checked_at": row.checked_at.isoformat(timespec="seconds")}
                   for row, deal, rep_id, team_id, manager in rows]
