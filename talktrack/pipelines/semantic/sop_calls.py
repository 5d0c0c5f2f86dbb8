"""What an SOP check reads of a call: the rep's sentences with their times, from the catalog or a transcript.

A check scores sentences, not utterances: a rep turn often asks two things ("What's your
budget? And who signs?"), and each may cover a different step. Sentences keep the times of
their utterance. Catalog reads go in chunks of 500 ids, under SQLite's bound-parameter limit.

Example::

    calls = load_calls(catalog, ["CALL-000001"])
    calls[0].sentences[0]       # RepSentence(seq=1, start_s=3.2, end_s=6.0, text="What's your budget?")
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Deal, Utterance

ID_CHUNK = 500              # ids per IN (...) query
_SENTENCE_END = re.compile(r"(?<=[?!。？！])|(?<=\.)(?=\s)")


class SopNotFoundError(LookupError):
    """A call or deal id that the catalog does not hold."""


@dataclass(frozen=True)
class RepSentence:
    """One sentence of a rep utterance; times are the utterance's."""

    seq: int
    start_s: float
    end_s: float
    text: str


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


def rep_sentences(utterances: Iterable[tuple[int, float, float, str]]) -> list[RepSentence]:
    """The sentences of ``(seq, start_s, end_s, text)`` rep utterances, in order."""
    return [RepSentence(seq, start, end, sentence)
            for seq, start, end, text in utterances for sentence in split_sentences(text)]


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
    utterances = rep_utterances(catalog, [r[0] for r in rows])
    out = []
    for pk, call_id, deal_id, stage, channel, language in rows:
        stage = stage or default_stage
        if stage is None:
            raise ValueError(f"call {call_id!r} has no stage; pass the stage to check it against")
        sentences = rep_sentences(utterances.get(pk, []))
        out.append(CallInput(call_id, deal_id, stage, channel, language or "en", sentences))
    return out


def rep_utterances(catalog: Catalog, call_pks: Sequence[int]) -> dict[int, list[tuple[int, float, float, str]]]:
    """Per call pk, its rep utterances as ``(seq, start_s, end_s, text)`` in order."""
    out: dict[int, list] = {}
    with catalog.session() as session:
        for begin in range(0, len(call_pks), ID_CHUNK):
            chunk = list(call_pks[begin: begin + ID_CHUNK])
            rows = session.execute(
                select(Utterance.call_id, Utterance.seq, Utterance.start_s, Utterance.end_s, Utterance.text)
                .where(Utterance.call_id.in_(chunk), Utterance.role == "rep")
                .order_by(Utterance.call_id, Utterance.seq)
            ).all()
            for call_pk, seq, start, end, text in rows:
                out.setdefault(call_pk, []).append((seq, start, end, text))
    return out


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
