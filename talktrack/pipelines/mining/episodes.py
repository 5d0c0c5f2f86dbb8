"""Objection episodes read back from the catalog: a customer's objection and the rep's answer.

An episode is a customer utterance in which the moment detector found an objection,
followed by the rep's answer: the rep utterances that come next (at most
``MAX_ANSWER_UTTERANCES``), read through the customer's backchannels ("mm-hm", "对")
and up to the customer's next real turn. Its moves are the move moments
of the answer in speaking order, with immediate repeats folded (a move said over two
sentences counts once).

Chat and e-mail threads give episodes the same way, from their utterances and moments
(``chat_utterances``, ``chat_moments``): an objection a customer only ever wrote in WeCom,
and the rep's reply messages, count for the talk tracks as a call's would. Such an
episode's ``call_id`` is the conversation's id and its ``channel`` says which it is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, true

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import (
    Call, ChatAnalysis, ChatConversation, ChatMoment, ChatUtterance, Deal, Moment, Rep, Utterance,
)
from talktrack.pipelines.mining.context import deal_context

MAX_ANSWER_UTTERANCES = 3
BACKCHANNEL_MAX_WORDS = 4
BACKCHANNEL_MAX_ZH_CHARS = 6


@dataclass(frozen=True)
class Line:
    """One utterance as mining needs it."""

    utterance_id: int
    seq: int
    role: str
    start_s: float
    end_s: float
    text: str
    language: str


@dataclass
class Episode:
    call_id: str
    deal_id: str
    rep_id: str
    language: str
    objection_type: str
    objection: Line
    answer: list[Line]
    moves: tuple[str, ...]
    audio_path: str | None = None
    channel: str = "call"          # call | chat | email (a chat thread's episode has no audio)

    @property
    def answer_text(self) -> str:
        joiner = "" if self.language.startswith("zh") else " "
        return joiner.join(line.text for line in self.answer)


@dataclass
class DealRecord:
    deal_id: str
    rep_id: str
    status: str
    amount: float
    created_at: datetime
    closed_at: datetime | None
    episodes: list[Episode] = field(default_factory=list)
    context: dict[str, float] = field(default_factory=dict)  # see context.deal_context

    @property
    def closed(self) -> bool:
        return self.status in ("won", "lost")


def load_deals(catalog: Catalog, *, since: datetime | None = None,
               thresholds_days: dict[str, float] | None = None) -> dict[str, DealRecord]:
    """Every deal (created since ``since``) with the objection episodes of its calls and its context."""
    with catalog.session() as session:
        deal_rows = session.execute(
            select(Deal.id, Deal.external_id, Rep.external_id, Deal.status, Deal.amount, Deal.created_at,
                   Deal.closed_at).join(Rep, Deal.rep_id == Rep.id)
            .where(Deal.created_at >= since if since else true())
        ).all()
        deals = {row[0]: DealRecord(row[1], row[2], row[3], float(row[4] or 0.0), row[5], row[6]) for row in deal_rows}
        calls = session.execute(
            select(Call.id, Call.external_id, Call.deal_id, Call.language, Call.audio_path)
            .where(Call.deal_id.is_not(None), Call.moments_model.is_not(None))
        ).all()
        calls = [c for c in calls if c[2] in deals]
        call_ids = [c[0] for c in calls]
        lines = _lines_by_call(session, call_ids)
        moments = _moments_by_utterance(session, call_ids)
        chats = _chat_episodes(session, deals)
        context = deal_context(session, thresholds_days or {})
    for deal_pk, deal in deals.items():
        deal.context = context.get(deal_pk, {})
    for call_pk, call_external, deal_pk, language, audio in calls:
        deal = deals[deal_pk]
        deal.episodes += find_episodes(lines.get(call_pk, []), moments, call_id=call_external,
                                       deal_id=deal.deal_id, rep_id=deal.rep_id, language=language,
                                       audio_path=audio)
    for deal_pk, episodes in chats:
        deals[deal_pk].episodes += episodes
    return {deal.deal_id: deal for deal in deals.values()}


def _chat_episodes(session, deals: dict[int, DealRecord]) -> list[tuple[int, list[Episode]]]:
    """(deal pk, episodes) of every analysed chat or e-mail conversation of a loaded deal."""
    convs = session.execute(
        select(ChatConversation.id, ChatConversation.external_id, ChatConversation.deal_id, ChatConversation.language,
               ChatConversation.channel)
        .join(ChatAnalysis, ChatAnalysis.conversation_id == ChatConversation.id)
        .where(ChatConversation.deal_id.is_not(None))).all()
    convs = [c for c in convs if c[2] in deals]
    lines: dict[int, list[Line]] = defaultdict(list)
    moments: dict[int, list[tuple[int, str, str, float]]] = defaultdict(list)
    for chunk in _chunks([c[0] for c in convs], 900):
        for conv, *rest in session.execute(
                select(ChatUtterance.conversation_id, ChatUtterance.id, ChatUtterance.seq, ChatUtterance.role,
                       ChatUtterance.seq, ChatUtterance.seq, ChatUtterance.text, ChatUtterance.language)
                .where(ChatUtterance.conversation_id.in_(chunk)).order_by(ChatUtterance.conversation_id,
                                                                          ChatUtterance.seq)):
            lines[conv].append(Line(*rest))   # a message has no seconds: its place stands in for them
        for uid, sentence, kind, label, score in session.execute(
                select(ChatMoment.utterance_id, ChatMoment.sentence, ChatMoment.kind, ChatMoment.label, ChatMoment.score)
                .where(ChatMoment.conversation_id.in_(chunk))):
            moments[uid].append((sentence, kind, label, score))
    for items in moments.values():
        items.sort()
    out = []
    for pk, external, deal_pk, language, channel in convs:
        deal = deals[deal_pk]
        found = find_episodes(lines.get(pk, []), moments, call_id=external, deal_id=deal.deal_id, rep_id=deal.rep_id,
                              language=language or "en")
        for episode in found:
            episode.channel = channel
        out.append((deal_pk, found))
    return out


def _lines_by_call(session, call_ids: list[int]) -> dict[int, list[Line]]:
    lines: dict[int, list[Line]] = defaultdict(list)
    for chunk in _chunks(call_ids, 900):
        rows = session.execute(
            select(Utterance.call_id, Utterance.id, Utterance.seq, Utterance.role, Utterance.start_s, Utterance.end_s,
                   Utterance.text, Utterance.language)
            .where(Utterance.call_id.in_(chunk)).order_by(Utterance.call_id, Utterance.seq)
        ).all()
        for call_id, *rest in rows:
            lines[call_id].append(Line(*rest))
    return lines


def _moments_by_utterance(session, call_ids: list[int]) -> dict[int, list[tuple[int, str, str, float]]]:
    """utterance id -> [(sentence, kind, label, score)] in sentence order."""
    moments: dict[int, list[tuple[int, str, str, float]]] = defaultdict(list)
    for chunk in _chunks(call_ids, 900):
        rows = session.execute(
            select(Moment.utterance_id, Moment.sentence, Moment.kind, Moment.label, Moment.score)
            .where(Moment.call_id.in_(chunk), Moment.kind.in_(("objection", "move")))
        ).all()
        for utterance_id, sentence, kind, label, score in rows:
            moments[utterance_id].append((sentence, kind, label, score))
    for items in moments.values():
        items.sort()
    return moments


def find_episodes(lines: list[Line], moments: dict, *, call_id: str, deal_id: str, rep_id: str, language: str,
                  audio_path: str | None = None) -> list[Episode]:
    """The objection episodes of one call, in order."""
    episodes = []
    for position, line in enumerate(lines):
        objection = _objection_type(line, moments)
        if objection is None:
            continue
        answer = _answer_lines(lines, position, moments)
        moves = fold_repeats(label for a in answer for _, kind, label, _ in moments.get(a.utterance_id, ())
                             if kind == "move")
        episodes.append(Episode(call_id, deal_id, rep_id, language, objection, line, answer, moves, audio_path))
    return episodes


def _objection_type(line: Line, moments: dict) -> str | None:
    if line.role != "customer":
        return None
    found = [(score, label) for _, kind, label, score in moments.get(line.utterance_id, ()) if kind == "objection"]
    return max(found)[1] if found else None


def _answer_lines(lines: list[Line], position: int, moments: dict) -> list[Line]:
    answer = []
    for line in lines[position + 1 :]:
        if len(answer) == MAX_ANSWER_UTTERANCES:
            break
        if line.role == "rep":
            answer.append(line)
        elif not is_backchannel(line) or _objection_type(line, moments) is not None:
            break
    return answer


def is_backchannel(line: Line) -> bool:
    """A short listener token: at most 4 words, or 6 characters of Chinese."""
    text = line.text.strip()
    if any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff") <= BACKCHANNEL_MAX_ZH_CHARS
    return len(text.split()) <= BACKCHANNEL_MAX_WORDS


def fold_repeats(labels: Iterable[str]) -> tuple[str, ...]:
    """``a a b a`` -> ``a b a``: one move said over consecutive sentences counts once."""
    folded: list[str] = []
    for label in labels:
        if not folded or folded[-1] != label:
            folded.append(label)
    return tuple(folded)


def _chunks(items: list, size: int) -> Iterable[list]:
    for begin in range(0, len(items), size):
        yield items[begin : begin + size]
