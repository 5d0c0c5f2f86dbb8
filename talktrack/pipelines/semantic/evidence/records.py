"""What a check returns: a verdict per document, a report per deal. Plain data, JSON-ready."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from talktrack.pipelines.semantic.evidence.sources import Passage

VERDICTS = ("authentic", "suspicious", "fabricated")


class EvidenceError(ValueError):
    """Evidence that cannot be checked (unknown deal or document); the message says which and why."""


@dataclass(frozen=True)
class MatchedFact:
    """A specific of the evidence (``kind`` number|date|name) and where the customer's calls carry it."""

    kind: str
    value: str
    text: str
    passages: tuple[Passage, ...]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "value": self.value, "text": self.text,
                "passages": [p.to_dict() for p in self.passages]}


@dataclass(frozen=True)
class Reason:
    """One finding behind a score.

    ``code``: specific_facts | unsupported_facts | no_specific_facts | near_copy | template_cluster |
    no_call_nearby. ``effect``: ``support`` (speaks for authenticity) or ``against``.
    """

    code: str
    effect: str
    message: str
    passages: tuple[Passage, ...] = ()
    # The message without other customers' ids and words, for a reader who may not see them.
    public_message: str | None = None

    def to_dict(self) -> dict:
        return {"code": self.code, "effect": self.effect, "message": self.message,
                "passages": [p.to_dict() for p in self.passages]}

    def redacted(self, visible: Callable[[Passage], bool]) -> Reason:
        """Only the passages ``visible`` allows; the public message when any was withheld."""
        kept = tuple(p for p in self.passages if visible(p))
        if len(kept) == len(self.passages):
            return self
        return replace(self, passages=kept, message=self.public_message or self.message, public_message=None)


@dataclass
class EvidenceVerdict:
    """How authentic one evidence document looks: a 0-1 score, its verdict and the reasons.

    ``copy_of``: the other customer's evidence it was copied from (if so); ``specificity``: the
    share of its facts found in this customer's calls, 0 when it has none; ``options``: the
    thresholds that produced the verdict.
    """

    deal_id: str
    evidence_id: str | None
    kind: str | None
    language: str
    score: float
    verdict: str
    specificity: float
    reasons: list[Reason]
    matched_facts: list[MatchedFact]
    unmatched_facts: list[str]
    copy_of: str | None = None
    similar: list[tuple[str, float]] = field(default_factory=list)
    submitted_at: datetime | None = None
    options: dict = field(default_factory=dict)
    copy_hidden: bool = False  # copied from a document the reader may not see (``copy_of`` withheld)

    def to_dict(self) -> dict:
        return {
            "deal_id": self.deal_id, "evidence_id": self.evidence_id, "kind": self.kind, "language": self.language,
            "score": round(self.score, 4), "verdict": self.verdict, "specificity": round(self.specificity, 4),
            "copy_of": self.copy_of, "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
            "reasons": [r.to_dict() for r in self.reasons],
            "matched_facts": [f.to_dict() for f in self.matched_facts], "unmatched_facts": self.unmatched_facts,
            "similar": [{"evidence_id": e, "similarity": round(s, 4)} for e, s in self.similar],
            "copied_from_other_customer": self.copy_of is not None or self.copy_hidden,
            "options": self.options,
        }

    def redacted(self, readable_evidence: set[str], readable_calls: set[str]) -> EvidenceVerdict:
        """The verdict as a reader sees it who may read only ``readable_evidence`` and ``readable_calls``:
        another customer's copy is reported without its id, deal or passages; hidden neighbours are dropped."""
        def visible(passage: Passage) -> bool:
            if passage.source == "evidence":
                return passage.ref in readable_evidence
            if passage.source == "call":
                return passage.ref in readable_calls
            if passage.source in ("chat", "email"):  # this deal's own messages (the reader may read the deal)
                return passage.deal == self.deal_id
            return passage.ref == self.deal_id  # a CRM record: only this deal's own

        hidden_copy = self.copy_of is not None and self.copy_of not in readable_evidence
        return replace(
            self,
            reasons=[r.redacted(visible) for r in self.reasons],
            matched_facts=[replace(m, passages=tuple(p for p in m.passages if visible(p))) for m in self.matched_facts],
            copy_of=None if hidden_copy else self.copy_of,
            copy_hidden=self.copy_hidden or hidden_copy,
            similar=[(e, s) for e, s in self.similar if e in readable_evidence],
        )

    def referenced(self) -> tuple[set[str], set[str]]:
        """(evidence ids, call ids) this verdict names, to ask a reader's policy about."""
        passages = [p for r in self.reasons for p in r.passages] + [p for m in self.matched_facts for p in m.passages]
        evidence = {e for e, _ in self.similar} | {p.ref for p in passages if p.source == "evidence"}
        if self.copy_of:
            evidence.add(self.copy_of)
        return evidence, {p.ref for p in passages if p.source == "call"}


@dataclass
class DealEvidenceReport:
    """All evidence of one deal checked: is its claimed progress backed by authentic evidence?

    ``backed_progress_level``: the highest level that authentic items alone back;
    ``fake_progress``: the deal claims progress on evidence that looks fabricated.
    """

    deal_id: str
    claimed_progress_level: str | None
    backed_progress_level: str | None
    fake_progress: bool
    items: list[EvidenceVerdict]
    reasons: list[str]
    levels: list[dict] = field(default_factory=list)  # per progress level: backed | not_verified | no_evidence, why

    def to_dict(self) -> dict:
        return {"deal_id": self.deal_id, "claimed_progress_level": self.claimed_progress_level,
                "backed_progress_level": self.backed_progress_level, "fake_progress": self.fake_progress,
                "reasons": self.reasons, "levels": self.levels, "items": [i.to_dict() for i in self.items]}

    def counts(self) -> dict[str, int]:
        return {v: sum(i.verdict == v for i in self.items) for v in VERDICTS}
