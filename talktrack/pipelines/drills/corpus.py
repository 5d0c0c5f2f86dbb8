"""What the drill bank reads from the catalog: objection episodes with the customer's reaction, and talk tracks.

:func:`read_corpus` reads every call with detected moments once: its objection episodes (via
the mining episode reader) and, per episode, how the customer took the answer, decided by the
first customer reply after it that says so (:class:`~talktrack.models.drills.ReplyReader`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Deal, Moment, Rep, TalkTrack, Utterance
from talktrack.models.drills import ReactionExample, ReplyReader
from talktrack.pipelines.mining.episodes import DealRecord, Episode, Line, find_episodes


@dataclass
class Corpus:
    """Calls with detected moments, read once: the episodes with the reactions that followed."""

    deals: dict[str, DealRecord]
    episodes: list[Episode]
    reactions: list[ReactionExample | None]  # per episode; None when the reply could not be read
    replies: list[tuple[str, Line, str]]  # (concede | push_back, the reply, call id) that decided a reaction


def read_corpus(catalog: Catalog, reader: ReplyReader, lookahead: int) -> Corpus:
    """Episodes of every call with moments, and each episode's customer reaction."""
    with catalog.session() as session:
        calls = session.execute(
            select(Call.id, Call.external_id, Call.language, Call.audio_path, Deal.external_id, Deal.status,
                   Deal.amount, Deal.created_at, Deal.closed_at, Rep.external_id)
            .join(Deal, Deal.id == Call.deal_id).join(Rep, Rep.id == Deal.rep_id)
            .where(Call.moments_model.is_not(None))
        ).all()
        lines = _lines_by_call(session, [c[0] for c in calls])
        moments = _moments_by_utterance(session, [c[0] for c in calls])
    deals: dict[str, DealRecord] = {}
    episodes, after = [], []
    for pk, call_id, language, audio, deal_id, status, amount, created, closed, rep_id in calls:
        deals.setdefault(deal_id, DealRecord(deal_id, rep_id, status, float(amount or 0.0), created, closed))
        found = find_episodes(lines.get(pk, []), moments, call_id=call_id, deal_id=deal_id, rep_id=rep_id,
                              language=language, audio_path=audio)
        episodes += found
        after += [_replies_after(e, lines.get(pk, []), lookahead) for e in found]
    labels = _read_replies(reader, [line for replies in after for line in replies])
    reactions, replies = [], []
    for episode, candidates in zip(episodes, after, strict=True):
        reaction, decided_by = _reaction(episode, candidates, moments, labels)
        reactions.append(reaction)
        if decided_by is not None:
            replies.append((reaction.reaction, decided_by, episode.call_id))
    return Corpus(deals, episodes, reactions, replies)


def _lines_by_call(session, call_ids: list[int]) -> dict[int, list[Line]]:
    out: dict[int, list[Line]] = defaultdict(list)
    for begin in range(0, len(call_ids), 900):
        rows = session.execute(
            select(Utterance.call_id, Utterance.id, Utterance.seq, Utterance.role, Utterance.start_s,
                   Utterance.end_s, Utterance.text, Utterance.language)
            .where(Utterance.call_id.in_(call_ids[begin : begin + 900])).order_by(Utterance.call_id, Utterance.seq)
        ).all()
        for call_id, *rest in rows:
            out[call_id].append(Line(*rest))
    return out


def _moments_by_utterance(session, call_ids: list[int]) -> dict[int, list[tuple[int, str, str, float]]]:
    """utterance id -> [(sentence, kind, label, score)] in sentence order (the episode reader's input)."""
    out: dict[int, list] = defaultdict(list)
    for begin in range(0, len(call_ids), 900):
        rows = session.execute(
            select(Moment.utterance_id, Moment.sentence, Moment.kind, Moment.label, Moment.score)
            .where(Moment.call_id.in_(call_ids[begin : begin + 900]), Moment.kind.in_(("objection", "move")))
        ).all()
        for utterance_id, *rest in rows:
            out[utterance_id].append(tuple(rest))
    for items in out.values():
        items.sort()
    return out


def _replies_after(episode: Episode, lines: list[Line], lookahead: int) -> list[Line]:
    """The first ``lookahead`` customer utterances after the answer began (none without an answer)."""
    if not episode.answer:
        return []
    first = episode.answer[0].seq
    return [line for line in lines if line.seq > first and line.role == "customer"][:lookahead]


def _read_replies(reader: ReplyReader, lines: list[Line]) -> dict[int, str]:
    """utterance id -> concede / push_back / neither (one batch)."""
    unique = list({line.utterance_id: line for line in lines}.values())
    labels = reader.predict([line.text for line in unique])
    return {line.utterance_id: label for line, label in zip(unique, labels, strict=True)}


def _objection_of(line: Line, moments: dict) -> str | None:
    found = [(score, label) for _, kind, label, score in moments.get(line.utterance_id, ()) if kind == "objection"]
    return max(found)[1] if found else None


def _reaction(episode: Episode, candidates: list[Line], moments: dict,
              labels: dict[int, str]) -> tuple[ReactionExample | None, Line | None]:
    """How the customer took the answer, and the reply that said so when it was read (not an objection).

    The first reply that raises an objection (same type: push back; another: new objection) or
    reads as concede/push back decides; listener tokens ("mm-hm") are skipped; (None, None) when
    no reply in the lookahead says."""
    for line in candidates:
        objection = _objection_of(line, moments)
        if objection is not None:
            same = objection == episode.objection_type
            return ReactionExample(episode.objection_type, episode.moves, "push_back" if same else "new_objection",
                                   None if same else objection), None
        reply = labels.get(line.utterance_id, "neither")
        if reply != "neither":
            return ReactionExample(episode.objection_type, episode.moves, reply), line
    return None, None


def tracks_stamp(catalog: Catalog) -> tuple:
    """Changes when a track is mined or reviewed: the bank's references are rebuilt then."""
    with catalog.session() as session:
        return tuple(session.execute(
            select(func.count(TalkTrack.id), func.max(TalkTrack.mined_at), func.max(TalkTrack.reviewed_at))
        ).one())


def read_tracks(catalog: Catalog) -> list[dict]:
    with catalog.session() as session:
        rows = session.scalars(select(TalkTrack).where(TalkTrack.active.is_(True))).all()
        return [{"key": t.key, "objection_type": t.objection_type, "moves": list(t.moves), "status": t.status,
                 "script": t.script, "lift": float((t.stats or {}).get("lift") or 0.0)} for t in rows]
