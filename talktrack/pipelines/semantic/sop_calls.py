"""What an SOP check reads of a call: the rep's sentences with their times, from the catalog or a transcript.

A check scores sentences, not utterances: a rep turn often asks two things ("What's your
budget? And who signs?"), and each may cover a different step. Sentences keep the times of
their utterance. The last sentence of a rep turn carries the customer's turn that follows it as
its ``answer``: "would halving the manual work be a success?" is a vague question until the
customer says "if the team stops working weekends, that's success", and the two together are
what covers a key question. Catalog reads go in chunks of 500 ids, under SQLite's
bound-parameter limit.

Example::

    calls = load_calls(catalog, ["CALL-000001"])
    calls[0].sentences[0]       # RepSentence(seq=1, start_s=3.2, end_s=6.0, text="What's your budget?",
                                #             answer="About 40k.")
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, ChatConversation, ChatUtterance, Deal, Utterance

ID_CHUNK = 500              # ids per IN (...) query
_SENTENCE_END = re.compile(r"(?<=[?!。？！])|(?<=\.)(?=\s)")


class SopNotFoundError(LookupError):
    """A call or deal id that the catalog does not hold."""


@dataclass(frozen=True)
class RepSentence:
    """One sentence of a rep utterance; times are the utterance's. ``answer``: the customer's turn
    right after, on the last sentence of the rep's turn only (None elsewhere)."""

    seq: int
    start_s: float
    end_s: float
    text: str
    answer: str | None = None


@dataclass(frozen=True)
class CallInput:
    """What a check needs of a call, whether it comes from the catalog or a transcript file."""

    call_id: str | None
    deal_id: str | None
    stage: str
    channel: str | None
    language: str
    sentences: list[RepSentence]


def split_sentences(text: str) -> list[str]:
    """Split on . ? ! 。 ？ ！ (a period only before a space, so "7.5k" stays whole).

    >>> split_sentences("Budget is 7.5k. Who signs?好的。")
    ['Budget is 7.5k.', 'Who signs?', '好的。']
    """
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]


def rep_sentences(turns: Iterable[tuple[int, float, float, str, str]]) -> list[RepSentence]:
    """The rep sentences of a call's ``(seq, start_s, end_s, role, text)`` turns, in order; the last
    sentence of a rep turn gets the next turn as its answer when that turn is not the rep's.

    >>> [(s.text, s.answer) for s in rep_sentences([(0, 0, 2, "rep", "Hi. Budget?"), (1, 2, 3, "customer", "40k.")])]
    [('Hi.', None), ('Budget?', '40k.')]
    """
    turns = list(turns)
    out = []
    for i, (seq, start, end, role, text) in enumerate(turns):
        if role != "rep":
            continue
        following = turns[i + 1] if i + 1 < len(turns) else None
        answer = following[4] if following is not None and following[3] != "rep" and following[4].strip() else None
        parts = split_sentences(text)
        out += [RepSentence(seq, start, end, part, answer if k == len(parts) - 1 else None)
                for k, part in enumerate(parts)]
    return out


def load_calls(catalog: Catalog, call_ids: Sequence[str]) -> list[CallInput]:
    """The catalog calls ``call_ids`` as check inputs (rep sentences with their times)."""
    return call_inputs(catalog, call_rows(catalog, call_ids))


def call_rows(catalog: Catalog, call_ids: Sequence[str] | None) -> list[tuple]:
    """(pk, call id, deal id, stage, channel, language) of the calls asked for (all when None), in order."""
    query = (select(Call.id, Call.external_id, Deal.external_id, Call.stage, Call.channel, Call.language)
             .outerjoin(Deal, Call.deal_id == Deal.id))
    with catalog.session() as session:
        if call_ids is None:
            return [tuple(r) for r in session.execute(query.order_by(Call.id)).all()]
        found = {}
        for begin in range(0, len(call_ids), ID_CHUNK):
            chunk = list(call_ids[begin: begin + ID_CHUNK])
            found |= {r[1]: tuple(r) for r in session.execute(query.where(Call.external_id.in_(chunk))).all()}
    missing = [c for c in call_ids if c not in found]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise SopNotFoundError(f"unknown call id {missing[0]!r}{more}")
    return [found[c] for c in call_ids]


def call_inputs(catalog: Catalog, rows: Sequence[tuple], default_stage: str | None = None) -> list[CallInput]:
    """:func:`call_rows` rows as check inputs; a call with no stage (and no ``default_stage``) is a ValueError."""
    utterances = call_turns(catalog, [r[0] for r in rows])
    out = []
    for pk, call_id, deal_id, stage, channel, language in rows:
        stage = stage or default_stage
        if stage is None:
            raise ValueError(f"call {call_id!r} has no stage; pass the stage to check it against")
        sentences = rep_sentences(utterances.get(pk, []))
        out.append(CallInput(call_id, deal_id, stage, channel, language or "en", sentences))
    return out


def call_turns(catalog: Catalog, call_pks: Sequence[int]) -> dict[int, list[tuple[int, float, float, str, str]]]:
    """Per call pk, its utterances as ``(seq, start_s, end_s, role, text)`` in order (every role: a
    customer's turn is the answer to the rep sentence before it)."""
    out: dict[int, list] = {}
    with catalog.session() as session:
        for begin in range(0, len(call_pks), ID_CHUNK):
            chunk = list(call_pks[begin: begin + ID_CHUNK])
            rows = session.execute(
                select(Utterance.call_id, Utterance.seq, Utterance.start_s, Utterance.end_s, Utterance.role,
                       Utterance.text)
                .where(Utterance.call_id.in_(chunk))
                .order_by(Utterance.call_id, Utterance.seq)
            ).all()
            for call_pk, seq, start, end, role, text in rows:
                out.setdefault(call_pk, []).append((seq, start, end, role or "", text or ""))
    return out


def chat_inputs(catalog: Catalog, stages: Sequence[str], deal_pk: int | None = None) -> list[tuple[CallInput, int]]:
    """The chat and e-mail conversations in one of ``stages`` (of one deal, or all) as check inputs
    (``call_id``: the conversation id, ``channel``: chat or email), each with its message count, oldest first.

    A message is a turn: a rep's message is checked sentence by sentence, with the customer's next
    message as its answer, exactly as a rep's turn in a call is."""
    query = (select(ChatConversation.id, ChatConversation.external_id, Deal.external_id, ChatConversation.stage,
                    ChatConversation.channel, ChatConversation.language, ChatConversation.message_count)
             .outerjoin(Deal, Deal.id == ChatConversation.deal_id)
             .where(ChatConversation.stage.in_(list(stages)))
             .order_by(ChatConversation.started_at, ChatConversation.id))
    if deal_pk is not None:
        query = query.where(ChatConversation.deal_id == deal_pk)
    turns: dict[int, list] = {}
    with catalog.session() as session:
        convs = session.execute(query).all()
        for begin in range(0, len(convs), ID_CHUNK):
            chunk = [c[0] for c in convs[begin: begin + ID_CHUNK]]
            for conv, seq, role, text in session.execute(
                    select(ChatUtterance.conversation_id, ChatUtterance.seq, ChatUtterance.role, ChatUtterance.text)
                    .where(ChatUtterance.conversation_id.in_(chunk))
                    .order_by(ChatUtterance.conversation_id, ChatUtterance.seq)):
                turns.setdefault(conv, []).append((seq, 0.0, 0.0, role or "", text or ""))
    return [(CallInput(external, deal, stage, channel, language or "en", rep_sentences(turns.get(pk, []))), count)
            for pk, external, deal, stage, channel, language, count in convs]


def won_calls(catalog: Catalog, stage: str, limit: int) -> list[tuple[int, str, str, str]]:
    """(pk, call id, deal id, language) of the latest calls in ``stage`` of won deals."""
    with catalog.session() as session:
        rows = session.execute(
            select(Call.id, Call.external_id, Deal.external_id, Call.language)
            .join(Deal, Call.deal_id == Deal.id)
            .where(Deal.status == "won", Call.stage == stage)
            .order_by(Call.started_at.desc(), Call.id.desc()).limit(limit)
        ).all()
    return [tuple(row) for row in rows]
