"""Is a deal's evidence real? Four signals, one score, reasons with the passages behind them.

1. *Specificity*: the document's facts (numbers, days, names) found in this customer's
   calls, chats, e-mails and deal records. ``specificity = matched/total * min(1, matched)`` (weights:
   days, names and numbers >= 10 count 1, small numbers 0.5), so one real fact is the
   least an authentic note carries and unsupported facts pull it down.
2. *Copy*: another customer's earlier evidence whose masked text is similar
   (>= ``copy_candidate_similarity``) and which holds most of this document's facts
   (>= ``copy_min_shared_facts`` of their weight), where at least one full fact was said
   in *that* customer's calls and never in ours, and their calls support the shared
   facts better than ours support the whole document (as well, for a near-duplicate
   >= ``near_copy_similarity``);
   a near-duplicate whose facts no call supports is a copy too. The original passes:
   its facts are in its own calls. Two real invites for the same day look alike but
   share only facts both customers said, so they pass too.
3. *Template*: no supported fact and near-identical to documents of at least
   ``template_min_customers`` other customers (``template_similarity``).
4. *Timing*: a 'communicated' note submitted with no call of the deal within
   ``no_call_window_days`` (a chat summary: no call or chat conversation of the deal).

Score: specificity; a copy caps it at 0.05 and a template at 0.1; a document with no
checkable fact at all gets 0.35 (nothing supports it, nothing proves it false);
bad timing halves it. Verdict: >= ``authentic_min_score`` authentic,
<= ``fabricated_max_score`` fabricated, else suspicious.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select

from talktrack.core.catalog.schema import Deal, EvidenceDocument
from talktrack.core.config import EvidenceSettings
from talktrack.pipelines.semantic.evidence.facts import Fact, extract_facts
from talktrack.pipelines.semantic.evidence.records import EvidenceError, EvidenceVerdict, MatchedFact, Reason
from talktrack.pipelines.semantic.evidence.sources import (
    CustomerFacts,
    EvidenceRow,
    Passage,
    load_customer_facts,
    load_evidence_rows,
)
from talktrack.pipelines.semantic.evidence.store import EvidenceIndex, Neighbour

COMMUNICATED_KINDS = frozenset({"meeting_notes", "call_summary", "chat_summary", "recording"})
CHAT_KINDS = frozenset({"chat_summary"})  # notes of a written conversation: a chat of the deal is as good as a call
COPY_SCORE, TEMPLATE_SCORE, NOTHING_CHECKABLE_SCORE, LATE_FACTOR = 0.05, 0.1, 0.35, 0.5
MAX_COPY_CANDIDATES = 5


@dataclass(frozen=True)
class Subject:
    """The document under check and what is known about it."""

    deal_id: str
    customer_pk: int
    customer_name: str
    text: str
    kind: str | None
    evidence_id: str | None
    submitted_at: datetime | None


@dataclass(frozen=True)
class CopyFinding:
    source: Neighbour
    shared: list[Fact]
    foreign: list[tuple[Fact, list[Passage]]]


class EvidenceVerifier:
    """Checks documents against the catalog; holds the evidence index and the customers' facts.

    Build it once for many checks (:func:`verify_all`); facts of a customer are loaded on
    first need, or for everybody at once with :meth:`load_all_facts`.
    """

    def __init__(self, catalog, settings: EvidenceSettings, index: EvidenceIndex, rows: list[EvidenceRow]) -> None:
        self.catalog = catalog
        self.settings = settings
        self.index = index
        self.rows = {row.evidence_id: row for row in rows}
        self._facts: dict[int, CustomerFacts] = {}
        self._doc_facts: dict[str, list[Fact]] = {}

    def load_all_facts(self) -> None:
        self._facts = load_customer_facts(self.catalog)

    def forget_facts(self) -> None:
        """Drop the cached call facts (calls were added or re-imported): each is reloaded on use."""
        self._facts = {}

    def facts_of(self, customer_pk: int) -> CustomerFacts:
        if customer_pk not in self._facts:
            self._facts.update(load_customer_facts(self.catalog, [customer_pk]))
        return self._facts[customer_pk]

    def subject(self, deal_id: str, text: str, *, kind: str | None = None, evidence_id: str | None = None,
                submitted_at: datetime | None = None) -> Subject:
        with self.catalog.session() as session:
            deal = session.execute(select(Deal.customer_id).where(Deal.external_id == deal_id)).first()
        if deal is None:
            raise EvidenceError(f"deal {deal_id!r} is not in the catalog")
        if not text or not text.strip():
            raise EvidenceError(f"the evidence for deal {deal_id!r} has no text to check")
        return Subject(deal_id, deal[0], self.facts_of(deal[0]).name, text, kind, evidence_id, submitted_at)

    def check(self, subject: Subject, vector: tuple[str, np.ndarray] | None = None) -> EvidenceVerdict:
        """The verdict on one document (``vector``: its space and embedding, if already known)."""
        own = self.facts_of(subject.customer_pk)
        facts = extract_facts(subject.text, ignore=(own.name,))
        matched, unmatched = _match(facts, own)
        specificity = _specificity(facts, matched)
        space, vec = vector or self.index.embed(subject.text, (own.name,))
        neighbours = self._others(self.index.search(space, vec, self.settings.neighbours), subject)
        copy = self._copy(subject, facts, matched, neighbours)
        cluster = [] if copy or matched else self._template_cluster(neighbours)
        late = self._late(subject, own)
        score, reasons = self._score(specificity, facts, matched, unmatched, copy, cluster, late)
        return EvidenceVerdict(
            subject.deal_id, subject.evidence_id, subject.kind, space, score, self._verdict(score), specificity,
            reasons, matched, [f.text for f in unmatched], copy.source.row.evidence_id if copy else None,
            [(n.row.evidence_id, n.similarity) for n in neighbours[:5]], subject.submitted_at,
            self.settings.model_dump())

    def _verdict(self, score: float) -> str:
        if score >= self.settings.authentic_min_score:
            return "authentic"
        return "fabricated" if score <= self.settings.fabricated_max_score else "suspicious"

    @staticmethod
    def _others(neighbours: list[Neighbour], subject: Subject) -> list[Neighbour]:
        """Other customers' documents (a customer may reuse its own notes)."""
        return [n for n in neighbours if n.row.evidence_id != subject.evidence_id
                and n.row.customer_pk != subject.customer_pk]

    def _copy(self, subject: Subject, facts: list[Fact], matched: list[MatchedFact],
              neighbours: list[Neighbour]) -> CopyFinding | None:
        """The first earlier, similar document of another customer whose facts these are."""
        total = sum(f.weight for f in facts)
        own_keys = {(m.kind, m.value) for m in matched}
        candidates = [n for n in neighbours if n.similarity >= self.settings.copy_candidate_similarity
                      and _earlier(n, subject.submitted_at)][:MAX_COPY_CANDIDATES]
        for neighbour in candidates:
            theirs = {f.key() for f in self._facts_of_document(neighbour.row.evidence_id)}
            shared = [f for f in facts if f.key() in theirs]
            if total == 0 or sum(f.weight for f in shared) < self.settings.copy_min_shared_facts * total:
                continue
            other = self.facts_of(neighbour.row.customer_pk)
            foreign = [(f, p) for f, p in ((f, other.find(f)) for f in shared) if p]
            own_support = sum(f.weight for f in facts if f.key() in own_keys)  # all of ours, not only shared
            theirs_only = sum(f.weight for f, _ in foreign if f.key() not in own_keys)
            near = neighbour.similarity >= self.settings.near_copy_similarity
            if _theirs(theirs_only, sum(f.weight for f, _ in foreign), own_support, near):
                return CopyFinding(neighbour, shared, foreign)
        return None

    def _facts_of_document(self, evidence_id: str) -> list[Fact]:
        if evidence_id not in self._doc_facts:
            row = self.rows.get(evidence_id) or _load_row(self.catalog, evidence_id)
            self._doc_facts[evidence_id] = extract_facts(row.text, ignore=(row.customer_name,)) if row else []
        return self._doc_facts[evidence_id]

    def _template_cluster(self, neighbours: list[Neighbour]) -> list[Neighbour]:
        close = [n for n in neighbours if n.similarity >= self.settings.template_similarity]
        customers = {n.row.customer_pk for n in close}
        return close if len(customers) >= self.settings.template_min_customers else []

    def _late(self, subject: Subject, own: CustomerFacts) -> Reason | None:
        """A 'communicated' note needs a call of this deal within the window (None: fine or not checkable)."""
        if subject.submitted_at is None or (subject.kind or "meeting_notes") not in COMMUNICATED_KINDS:
            return None
        window = timedelta(days=self.settings.no_call_window_days)
        chats = subject.kind in CHAT_KINDS
        talks = [("call", c) for c in own.calls_of_deal(subject.deal_id)]
        talks += [("chat", c) for c in own.chats_of_deal(subject.deal_id)] if chats else []
        source, nearest = min(talks, key=lambda t: abs(t[1].started_at - subject.submitted_at), default=(None, None))
        if nearest is not None and abs(nearest.started_at - subject.submitted_at) <= window:
            return None
        what = "call or chat" if chats else "call"
        passages = (Passage(source, nearest.call_id, f"nearest {source} of the deal: "
                            f"{nearest.started_at:%Y-%m-%d %H:%M}", at=nearest.started_at),) if nearest else ()
        return Reason("no_call_nearby", "against",
                      f"submitted {subject.submitted_at:%Y-%m-%d %H:%M} as notes of a conversation, but the deal has "
                      f"no {what} within {self.settings.no_call_window_days:g} days"
                      + ("" if nearest else f" (it has no {what}s at all)"), passages)

    def _score(self, specificity, facts, matched, unmatched, copy, cluster, late) -> tuple[float, list[Reason]]:
        reasons = _fact_reasons(facts, matched, unmatched)
        score = specificity if facts else NOTHING_CHECKABLE_SCORE
        if copy:
            score = min(score, COPY_SCORE)
            reasons.append(_copy_reason(copy))
        if cluster:
            score = min(score, TEMPLATE_SCORE)
            reasons.append(_template_reason(cluster))
        if late:
            score *= LATE_FACTOR
            reasons.append(late)
        return float(np.clip(score, 0.0, 1.0)), reasons


def _theirs(theirs_only: float, theirs: float, own: float, near: bool) -> bool:
    """The shared facts are the other customer's: at least one full fact said in their calls and
    never in ours, and their calls support the shared facts at least as well as ours. With no
    support on either side, a near-duplicate is a copy all the same."""
    if theirs == 0 and own == 0:
        return near
    return theirs_only >= 1.0 and (theirs > own or (near and theirs >= own))


def _earlier(neighbour: Neighbour, submitted_at: datetime | None) -> bool:
    """Copies come after their source; unknown times do not rule a source out."""
    return submitted_at is None or neighbour.row.submitted_at is None or neighbour.row.submitted_at <= submitted_at


def _match(facts: list[Fact], own: CustomerFacts) -> tuple[list[MatchedFact], list[Fact]]:
    matched, unmatched = [], []
    for fact in facts:
        passages = own.find(fact)
        if passages:
            matched.append(MatchedFact(fact.kind, fact.value, fact.text, tuple(passages)))
        else:
            unmatched.append(fact)
    return matched, unmatched


def _specificity(facts: list[Fact], matched: list[MatchedFact]) -> float:
    total = sum(f.weight for f in facts)
    if total == 0:
        return 0.0
    weights = {f.key(): f.weight for f in facts}
    found = sum(weights[(m.kind, m.value)] for m in matched)
    return (found / total) * min(1.0, found)


def _fact_reasons(facts: list[Fact], matched: list[MatchedFact], unmatched: list[Fact]) -> list[Reason]:
    if not facts:
        return [Reason("no_specific_facts", "against",
                       "no number, date or name that could be checked against the customer's calls")]
    reasons = []
    if matched:
        passages = tuple(m.passages[0] for m in matched)
        reasons.append(Reason("specific_facts", "support",
                              f"{len(matched)} of {len(facts)} specifics found in this customer's calls, chats or "
                              f"deal records: {', '.join(m.text for m in matched)}", passages))
    if unmatched:
        reasons.append(Reason("unsupported_facts", "against",
                              f"{len(unmatched)} of {len(facts)} specifics never said in this customer's calls or chats: "
                              f"{', '.join(f.text for f in unmatched)}"))
    return reasons


def _copy_reason(copy: CopyFinding) -> Reason:
    row = copy.source.row
    source = Passage("evidence", row.evidence_id, f"evidence {row.evidence_id} of deal {row.deal_id} "
                     f"(similarity {copy.source.similarity:.2f})", at=row.submitted_at)
    foreign = ", ".join(f.text for f, _ in copy.foreign) or "none (not found in any calls)"
    return Reason("near_copy", "against",
                  f"copy of another customer's evidence {row.evidence_id} (deal {row.deal_id}, similarity "
                  f"{copy.source.similarity:.2f} with names masked): shares {len(copy.shared)} specifics; "
                  f"belonging to that customer's calls: {foreign}",
                  (source, *(p[0] for _, p in copy.foreign)),
                  public_message=f"copied from another customer's evidence (similarity {copy.source.similarity:.2f} "
                                 f"with names masked): shares {len(copy.shared)} specifics, "
                                 f"{len(copy.foreign)} of them said in that customer's calls")


def _template_reason(cluster: list[Neighbour]) -> Reason:
    customers = len({n.row.customer_pk for n in cluster})
    passages = tuple(Passage("evidence", n.row.evidence_id, f"evidence {n.row.evidence_id} of deal {n.row.deal_id} "
                             f"(similarity {n.similarity:.2f})", at=n.row.submitted_at) for n in cluster[:5])
    message = (f"generic text: near-identical to {len(cluster)} documents of {customers} other customers, "
               "and nothing in it is specific to this customer")
    return Reason("template_cluster", "against", message, passages, public_message=message)


def _load_row(catalog, evidence_id: str) -> EvidenceRow | None:
    with catalog.session() as session:
        deal = session.execute(select(Deal.external_id).join(EvidenceDocument, EvidenceDocument.deal_id == Deal.id)
                               .where(EvidenceDocument.external_id == evidence_id)).scalar()
    if deal is None:
        return None
    return next((r for r in load_evidence_rows(catalog, deal) if r.evidence_id == evidence_id), None)
