"""What a customer really said: the facts of their calls, chats, e-mails and CRM records, with where each was said.

Evidence is checked against these. Every fact keeps its passages (call id and seconds into
the call, or chat/e-mail message id and the time it was sent; speaker role; the words) so a
verdict can show *why* a number counts as this customer's. Chats and e-mails count as calls
do: a budget typed in WeCom is as much the customer's as one said on the phone, and a chat
summary can only be checked against the chats it summarises. Loading is per customer for one
check, or all at once for a batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select

from talktrack.core.catalog.schema import (
    Call,
    ChatConversation,
    ChatMessage,
    Customer,
    Deal,
    EvidenceDocument,
    Utterance,
)
from talktrack.pipelines.chat_import.email_files import new_text
from talktrack.pipelines.semantic.evidence.facts import Fact, extract_facts, same_value


@dataclass(frozen=True)
class Passage:
    """Where a fact was found: ``source`` call|chat|email|crm|evidence, ``ref`` its id (a chat or e-mail's:
    the message id), the words themselves; ``deal`` the deal a chat or e-mail was filed under (who may see it)."""

    source: str
    ref: str
    text: str
    start_s: float | None = None
    end_s: float | None = None
    role: str | None = None
    at: datetime | None = None
    deal: str | None = None

    def to_dict(self) -> dict:
        out = {"source": self.source, "ref": self.ref, "text": self.text, "start_s": self.start_s,
               "end_s": self.end_s, "role": self.role, "at": self.at.isoformat() if self.at else None}
        return out | ({"deal_id": self.deal} if self.source in MESSAGE_SOURCES else {})


MESSAGE_SOURCES = ("chat", "email")
SOURCE_RANK = {"call": 0, "chat": 0, "email": 0}  # what was said comes before the CRM record


@dataclass
class CallRef:
    call_id: str
    deal_id: str | None
    started_at: datetime | None


@dataclass
class CustomerFacts:
    """The facts a customer's calls, chats and deals carry, by (kind, value), each with its passages;
    ``calls`` and ``chats`` (conversations, by their first message) say when the customer was talked to."""

    customer_id: str
    name: str
    language: str
    calls: list[CallRef] = field(default_factory=list)
    chats: list[CallRef] = field(default_factory=list)
    _exact: dict[tuple[str, str], list[Passage]] = field(default_factory=lambda: defaultdict(list))
    _large: list[tuple[Fact, Passage]] = field(default_factory=list)

    def add(self, fact: Fact, passage: Passage) -> None:
        if fact.kind == "number" and float(fact.value) >= 1000:
            self._large.append((fact, passage))
        else:
            bucket = self._exact[fact.key()]
            if len(bucket) < 3:  # a few passages are enough to show where it was said
                bucket.append(passage)

    def find(self, fact: Fact) -> list[Passage]:
        """Passages carrying ``fact`` (customer's own words first); empty if never said."""
        if fact.kind == "number" and float(fact.value) >= 1000:
            found = [p for f, p in self._large if same_value(f, fact)]
        else:
            found = list(self._exact.get(fact.key(), ()))
        return sorted(found, key=lambda p: (p.role != "customer", SOURCE_RANK.get(p.source, 1)))[:3]

    def calls_of_deal(self, deal_id: str) -> list[CallRef]:
        return [c for c in self.calls if c.deal_id == deal_id and c.started_at is not None]

    def chats_of_deal(self, deal_id: str) -> list[CallRef]:
        return [c for c in self.chats if c.deal_id == deal_id and c.started_at is not None]


def load_customer_facts(catalog, customer_ids: Iterable[int] | None = None) -> dict[int, CustomerFacts]:
    """Facts of the given customers (catalog primary keys), or of all customers when None."""
    wanted = None if customer_ids is None else sorted(set(customer_ids))
    with catalog.session() as session:
        customers = _customers(session, wanted)
        calls = _calls(session, wanted)
        deals = _deals(session, wanted)
        for customer_pk, ref in calls.values():
            customers[customer_pk].calls.append(ref)
            if ref.started_at is not None:
                day = ref.started_at.strftime("%m-%d")
                customers[customer_pk].add(Fact("date", day, day, 0),
                                           Passage("call", ref.call_id, f"call on {ref.started_at:%Y-%m-%d %H:%M}",
                                                   at=ref.started_at))
        for customer_pk, deal_ref, amount, terms, title in deals:
            _add_crm_facts(customers[customer_pk], deal_ref, amount, terms, title)
        _add_utterance_facts(session, customers, calls, wanted)
        _add_message_facts(session, customers, wanted)
    return customers


def _customers(session, wanted) -> dict[int, CustomerFacts]:
    query = select(Customer.id, Customer.external_id, Customer.name, Customer.language)
    if wanted is not None:
        query = query.where(Customer.id.in_(wanted))
    return {pk: CustomerFacts(ext, name, lang) for pk, ext, name, lang in session.execute(query)}


def _calls(session, wanted) -> dict[int, tuple[int, CallRef]]:
    query = (select(Call.id, Call.customer_id, Call.external_id, Deal.external_id, Call.started_at)
             .outerjoin(Deal, Deal.id == Call.deal_id).where(Call.customer_id.is_not(None)))
    if wanted is not None:
        query = query.where(Call.customer_id.in_(wanted))
    return {pk: (customer, CallRef(ext, deal, started)) for pk, customer, ext, deal, started in session.execute(query)}


def _deals(session, wanted) -> list[tuple]:
    query = select(Deal.customer_id, Deal.external_id, Deal.amount, Deal.payment_terms_days, Deal.title)
    if wanted is not None:
        query = query.where(Deal.customer_id.in_(wanted))
    return list(session.execute(query))


def _add_crm_facts(customer: CustomerFacts, deal_id: str, amount, terms, title) -> None:
    """The deal record: amount, payment terms and the words of its title (product, short name)."""
    record = Passage("crm", deal_id, f"deal {deal_id}: {title or ''}, amount {amount}, payment terms {terms} days")
    if amount:
        customer.add(Fact("number", f"{float(amount):.4f}".rstrip("0").rstrip("."), str(amount), 0), record)
    if terms:
        customer.add(Fact("number", str(int(terms)), str(terms), 0), record)
    for fact in extract_facts(title or ""):
        customer.add(fact, record)


def _add_utterance_facts(session, customers: dict[int, CustomerFacts], calls: dict, wanted) -> None:
    query = select(Utterance.call_id, Utterance.start_s, Utterance.end_s, Utterance.role, Utterance.text)
    if wanted is not None:
        query = query.join(Call, Call.id == Utterance.call_id).where(Call.customer_id.in_(wanted))
    for call_pk, start, end, role, text in session.execute(query.execution_options(yield_per=5000)):
        if call_pk not in calls or not text:
            continue
        customer_pk, ref = calls[call_pk]
        customer = customers[customer_pk]
        facts = extract_facts(text, ignore=(customer.name,))
        if facts:
            passage = Passage("call", ref.call_id, text, start, end, role, ref.started_at)
            for fact in facts:
                customer.add(fact, passage)


def _add_message_facts(session, customers: dict[int, CustomerFacts], wanted) -> None:
    """Chat and e-mail messages (a voice message by its transcript): their facts, and each conversation's
    day as a date fact, as a call's day is one. A message names its customer, or its deal does."""
    owner = func.coalesce(ChatMessage.customer_id, Deal.customer_id)
    query = (select(owner, ChatMessage.external_id, ChatMessage.channel, ChatMessage.role, ChatMessage.subject,
                    ChatMessage.text, ChatMessage.sent_at, Deal.external_id, ChatConversation.external_id)
             .outerjoin(Deal, Deal.id == ChatMessage.deal_id)
             .outerjoin(ChatConversation, ChatConversation.id == ChatMessage.conversation_id)
             .order_by(ChatMessage.sent_at, ChatMessage.id))
    if wanted is not None:  # by the indexed columns (a condition on the coalesce would scan every message)
        deals = select(Deal.id).where(Deal.customer_id.in_(wanted))
        query = query.where(or_(ChatMessage.customer_id.in_(wanted), ChatMessage.deal_id.in_(deals)))
    seen: set[str] = set()
    for customer_pk, ref, channel, role, subject, text, at, deal, conversation in session.execute(query):
        customer = customers.get(customer_pk)
        if customer is None:
            continue
        source = "email" if channel == "email" else "chat"
        if conversation is not None and conversation not in seen:  # its first message: when it happened
            seen.add(conversation)
            customer.chats.append(CallRef(ref, deal, at))  # by its first message's id
            day = at.strftime("%m-%d")
            customer.add(Fact("date", day, day, 0), Passage(source, ref, f"{source} on {at:%Y-%m-%d %H:%M}", at=at,
                                                            deal=deal))
        body = new_text(text or "") if channel == "email" else text  # quoted earlier mails: said before, by others
        words = "\n".join(part for part in (subject, body) if part)
        passage = Passage(source, ref, words, role=role, at=at, deal=deal)
        for fact in extract_facts(words, ignore=(customer.name,)):
            customer.add(fact, passage)


def evidence_customer_ids(catalog, deal_ids: Iterable[str]) -> dict[str, int]:
    """Deal external id → the customer's primary key, for the given deals."""
    with catalog.session() as session:
        rows = session.execute(select(Deal.external_id, Deal.customer_id).where(Deal.external_id.in_(list(deal_ids))))
        return {deal: customer for deal, customer in rows}


@dataclass(frozen=True)
class EvidenceRow:
    """One evidence document as the checks need it."""

    evidence_id: str
    deal_id: str
    customer_pk: int
    customer_name: str
    kind: str
    progress_level: str | None
    submitted_at: datetime | None
    title: str
    text: str
    path: str | None = None  # the submitted file, when there is one (a proposal PDF is checked by its watermark)


def load_evidence_rows(catalog, deal_id: str | None = None) -> list[EvidenceRow]:
    """All evidence with text (or one deal's), in order of submission."""
    query = (select(EvidenceDocument.external_id, Deal.external_id, Deal.customer_id, Customer.name,
                    EvidenceDocument.kind, EvidenceDocument.progress_level, EvidenceDocument.submitted_at,
                    EvidenceDocument.title, EvidenceDocument.text, EvidenceDocument.path)
             .join(Deal, Deal.id == EvidenceDocument.deal_id).join(Customer, Customer.id == Deal.customer_id)
             .order_by(EvidenceDocument.submitted_at, EvidenceDocument.external_id))
    if deal_id is not None:
        query = query.where(Deal.external_id == deal_id)
    with catalog.session() as session:
        return [EvidenceRow(e, d, c, n, k, level, at, title or "", text or "", path)
                for e, d, c, n, k, level, at, title, text, path in session.execute(query)]
