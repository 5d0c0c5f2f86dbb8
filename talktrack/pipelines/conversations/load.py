"""A customer's conversations on every channel, newest first, read from the catalog as one shape.

Calls (``calls`` + ``utterances``) and chat or e-mail conversations (``chat_conversations`` +
``chat_messages``) are stored differently but read the same way here: a list of turns with a role,
a text and where in the conversation it was said (seconds into a call, the time a message was
sent). A voice message in a chat keeps its transcript as its text and is marked ``voice`` on channel
``voice_note``, so a director sees that the customer *said* it.

A chat read by the analysis (``talktrack moments detect``: ``chat_utterances`` and ``chat_moments``, up
to date with its messages) is read from what was stored, as a call is: its utterances (quoted mail
stripped, long mails in parts) and its objection moments, so no request runs the detector again on it.
A conversation not analysed yet, or grown since, is read from its messages and left to the detector.

"Of the deal's customer": a director asking about a key account wants the account's last
conversations, not only those filed under one deal; which of them the caller may see is the
caller's ``readable`` predicate (the route's role scope), applied before taking the last N.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import (
    Call,
    ChatAnalysis,
    ChatConversation,
    ChatMessage,
    ChatMoment,
    ChatUtterance,
    Customer,
    Deal,
    Moment,
    Utterance,
)

TRANSCRIBED = ("transcribed", "imported")   # calls with words to search (pending/failed ones have none)


class ConversationsError(LookupError):
    """An unknown deal, or a request the catalog cannot answer."""


@dataclass(frozen=True)
class Turn:
    """One utterance or message: ``seq`` orders it in its conversation; ``start_s`` is set for calls,
    ``sent_at`` for messages."""

    seq: int
    role: str
    text: str
    language: str
    start_s: float | None = None
    end_s: float | None = None
    sent_at: datetime | None = None
    kind: str = "utterance"   # utterance | text | voice | email | mixed | file ...
    ref: str | None = None    # a message's msgid / Message-ID (None for a call's utterance)
    channel: str = "call"     # call | chat | email | voice_note (a voice message's transcript)


@dataclass
class Conversation:
    """A call, a chat conversation or an e-mail thread of one customer; ``moments`` are a call's
    stored objection moments as ``(turn seq, label, score, sentence)`` (None: never detected)."""

    id: str
    channel: str              # call | chat | email
    started_at: datetime | None
    deal_id: str | None
    stage: str | None
    language: str
    turns: list[Turn] = field(default_factory=list)
    moments: list[tuple[int, str, float, str]] | None = None
    source_channel: str | None = None   # a call's own channel (phone, video, ...)

    def summary(self) -> dict:
        return {"id": self.id, "channel": self.channel, "source_channel": self.source_channel,
                "started_at": self.started_at.isoformat() if self.started_at else None, "deal_id": self.deal_id,
                "stage": self.stage, "language": self.language, "turns": len(self.turns),
                "channels": sorted({t.channel for t in self.turns}),
                "voice_messages": len({t.ref for t in self.turns if t.kind == "voice"}),
                "analysed": self.moments is not None}


@dataclass(frozen=True)
class DealInfo:
    deal_id: str
    customer_id: str
    customer_name: str
    rep_id: int


def deal_info(catalog: Catalog, deal_id: str) -> DealInfo:
    with catalog.session() as session:
        row = session.execute(select(Deal.external_id, Customer.external_id, Customer.name, Deal.rep_id)
                              .join(Customer, Customer.id == Deal.customer_id)
                              .where(Deal.external_id == deal_id)).first()
    if row is None:
        raise ConversationsError(f"unknown deal id {deal_id!r}")
    return DealInfo(*row)


def customer_conversations(catalog: Catalog, deal_id: str, last: int,
                           readable: Callable[[str | None], bool] | None = None) -> tuple[DealInfo, list[Conversation]]:
    """The ``last`` newest conversations of the deal's customer that ``readable(deal id)`` allows,
    newest first, with their turns (and a call's stored moments)."""
    if last < 1:
        raise ValueError(f"last = {last}: ask for at least one conversation")
    info = deal_info(catalog, deal_id)
    heads = [h for h in _heads(catalog, info.customer_id) if readable is None or readable(h.deal_id)]
    heads.sort(key=lambda h: (h.started_at or datetime.min, h.id), reverse=True)
    chosen = heads[:last]
    _fill_calls(catalog, [c for c in chosen if c.channel == "call"])
    _fill_chats(catalog, [c for c in chosen if c.channel != "call"])
    return info, chosen


def _heads(catalog: Catalog, customer_id: str) -> list[Conversation]:
    """Every call and chat conversation of the customer, without turns (a call counts when the call or
    its deal names the customer)."""
    with catalog.session() as session:
        customer = session.scalar(select(Customer.id).where(Customer.external_id == customer_id))
        deal_ids = select(Deal.id).where(Deal.customer_id == customer)
        calls = session.execute(
            select(Call.external_id, Call.started_at, Deal.external_id, Call.stage, Call.language, Call.channel)
            .join(Deal, Deal.id == Call.deal_id, isouter=True)
            .where(or_(Call.customer_id == customer, Call.deal_id.in_(deal_ids)), Call.status.in_(TRANSCRIBED))).all()
        chats = session.execute(
            select(ChatConversation.external_id, ChatConversation.channel, ChatConversation.started_at,
                   Deal.external_id, ChatConversation.stage, ChatConversation.language)
            .join(Deal, Deal.id == ChatConversation.deal_id, isouter=True)
            .where(or_(ChatConversation.customer_id == customer, ChatConversation.deal_id.in_(deal_ids)))).all()
    out = [Conversation(cid, "call", at, deal, stage, lang or "en", source_channel=channel)
           for cid, at, deal, stage, lang, channel in calls]
    out += [Conversation(cid, channel, at, deal, stage, lang or "en") for cid, channel, at, deal, stage, lang in chats]
    return out


def _fill_calls(catalog: Catalog, calls: list[Conversation]) -> None:
    if not calls:
        return
    by_id = {c.id: c for c in calls}
    with catalog.session() as session:
        pks = dict(session.execute(select(Call.external_id, Call.id).where(Call.external_id.in_(by_id))).all())
        detected = set(session.scalars(select(Call.external_id).where(Call.external_id.in_(by_id),
                                                                      Call.moments_model.is_not(None))))
        rows = session.execute(
            select(Call.external_id, Utterance.seq, Utterance.role, Utterance.text, Utterance.language,
                   Utterance.start_s, Utterance.end_s)
            .join(Call, Call.id == Utterance.call_id).where(Utterance.call_id.in_(pks.values()))
            .order_by(Utterance.call_id, Utterance.seq)).all()
        moments = session.execute(
            select(Call.external_id, Utterance.seq, Moment.label, Moment.score, Moment.text)
            .join(Utterance, Utterance.id == Moment.utterance_id).join(Call, Call.id == Moment.call_id)
            .where(Moment.call_id.in_(pks.values()), Moment.kind == "objection")
            .order_by(Moment.call_id, Utterance.seq, Moment.sentence)).all()
    for call_id, seq, role, text, lang, start, end in rows:
        by_id[call_id].turns.append(Turn(seq, role or "unknown", text or "", lang or "en", start, end))
    for call_id in detected:
        by_id[call_id].moments = []
    for call_id, seq, label, score, text in moments:
        if by_id[call_id].moments is None:   # moments without a model stamp: still what was detected
            by_id[call_id].moments = []
        by_id[call_id].moments.append((seq, label, float(score), text or ""))


def all_chat_conversations(catalog: Catalog) -> list[Conversation]:
    """Every chat and e-mail conversation of the catalog with its turns (what an evaluation grades)."""
    with catalog.session() as session:
        rows = session.execute(
            select(ChatConversation.external_id, ChatConversation.channel, ChatConversation.started_at,
                   Deal.external_id, ChatConversation.stage, ChatConversation.language)
            .join(Deal, Deal.id == ChatConversation.deal_id, isouter=True)).all()
    out = [Conversation(cid, channel, at, deal, stage, lang or "en") for cid, channel, at, deal, stage, lang in rows]
    _fill_chats(catalog, out)
    return out


def _fill_chats(catalog: Catalog, chats: list[Conversation]) -> None:
    """Analysed conversations from their stored utterances and moments, the others from their messages."""
    if not chats:
        return
    by_id = {c.id: c for c in chats}
    with catalog.session() as session:
        fresh = set(session.scalars(
            select(ChatConversation.external_id).join(ChatAnalysis, ChatAnalysis.conversation_id == ChatConversation.id)
            .where(ChatConversation.external_id.in_(by_id),
                   ChatAnalysis.message_count == ChatConversation.message_count)))
        _fill_stored(session, {k: c for k, c in by_id.items() if k in fresh})
        _fill_messages(session, {k: c for k, c in by_id.items() if k not in fresh})


def _fill_stored(session, by_id: dict[str, Conversation]) -> None:
    if not by_id:
        return
    rows = session.execute(
        select(ChatConversation.external_id, ChatUtterance.seq, ChatUtterance.role, ChatUtterance.text,
               ChatUtterance.language, ChatUtterance.sent_at, ChatMessage.msgtype, ChatMessage.external_id,
               ChatUtterance.channel)
        .join(ChatConversation, ChatConversation.id == ChatUtterance.conversation_id)
        .join(ChatMessage, ChatMessage.id == ChatUtterance.message_id)
        .where(ChatConversation.external_id.in_(by_id)).order_by(ChatUtterance.conversation_id, ChatUtterance.seq)).all()
    moments = session.execute(
        select(ChatConversation.external_id, ChatUtterance.seq, ChatMoment.label, ChatMoment.score, ChatMoment.text)
        .join(ChatUtterance, ChatUtterance.id == ChatMoment.utterance_id)
        .join(ChatConversation, ChatConversation.id == ChatMoment.conversation_id)
        .where(ChatConversation.external_id.in_(by_id), ChatMoment.kind == "objection")
        .order_by(ChatMoment.conversation_id, ChatUtterance.seq, ChatMoment.sentence)).all()
    for conv in by_id.values():
        conv.moments = []
    for conv_id, seq, role, text, lang, sent_at, msgtype, ref, channel in rows:
        by_id[conv_id].turns.append(Turn(seq, role or "unknown", text, lang or "en", sent_at=sent_at, kind=msgtype,
                                         ref=ref, channel=channel))
    for conv_id, seq, label, score, text in moments:
        by_id[conv_id].moments.append((seq, label, float(score), text or ""))


def _fill_messages(session, by_id: dict[str, Conversation]) -> None:
    if not by_id:
        return
    rows = session.execute(
        select(ChatConversation.external_id, ChatMessage.role, ChatMessage.text, ChatMessage.subject,
               ChatMessage.language, ChatMessage.sent_at, ChatMessage.msgtype, ChatMessage.external_id,
               ChatMessage.channel)
        .join(ChatConversation, ChatConversation.id == ChatMessage.conversation_id)
        .where(ChatConversation.external_id.in_(by_id))
        .order_by(ChatMessage.conversation_id, ChatMessage.sent_at, ChatMessage.id)).all()
    for conv_id, role, text, subject, lang, sent_at, msgtype, ref, channel in rows:
        body = text or subject or ""
        if not body.strip():
            continue   # a file or image without words: nothing a topic can be found in
        turns = by_id[conv_id].turns
        turns.append(Turn(len(turns), role or "unknown", body, lang or "en", sent_at=sent_at, kind=msgtype,
                          ref=ref, channel="voice_note" if msgtype == "voice" else channel))
