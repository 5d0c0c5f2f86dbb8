"""Per-call conversation features: one definition shared by training and serving.

Every feature is computed from a call's utterances (role, start/end seconds, text) and,
when the semantic layer has run, its moments (objections, moves, key questions) and the
talk tracks mined/approved from top sellers. Missing inputs give NaN (unknown), never 0,
so a model can tell "no objection" from "not detected".

| feature | definition |
|---|---|
| ``talk_ratio`` | rep speaking seconds / all speaking seconds |
| ``longest_monologue_s`` | longest run of consecutive rep utterances (first start to last end) |
| ``questions_per_min`` | rep questions (question sentences, :func:`talk_cues.questions_in`) per minute of call |
| ``open_question_share`` | share of those questions that are open (:func:`talk_cues.is_open_sentence`) |
| ``interactivity`` | speaker switches per minute |
| ``patience_s`` | median pause between a customer's utterance end and the rep's next start (≥ 0) |
| ``interruptions_per_min`` | rep utterances starting before the customer's previous one ended, per minute |
| ``objections`` | objection moments raised by the customer (NaN without moments) |
| ``objections_answered`` | share of objections followed by at least one rep move before the next objection |
| ``approved_track_uses`` / ``mined_track_uses`` | answers whose moves contain an approved / proposed
  (still active) talk track of the objection's type as an ordered subsequence |
| ``discount_offers`` | ``offer_discount`` moves |
| ``key_question_coverage`` | share of the call's stage key questions with a key_question moment |

Turn features beside them (:data:`TURN_FEATURES`, used by the capability model, not by the deal scorer):
``questions_per_turn`` (rep questions per rep turn), ``early_questions`` (rep questions in the first
quarter of the call's turns: small talk), ``echo_share`` (rep turns right after a customer turn that
take up its words, :func:`talk_cues.echoes`), ``rep_turn_chars`` (mean length of a rep turn) and
``minutes``. What a question and an open question are is :mod:`talktrack.models.talk_cues`'s one
definition (a turn may ask several).

Example::

    frames = load_calls(catalog, call_ids=[1, 2])
    table = call_features(frames, key_questions={"negotiation": ["budget", ...]})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import and_, or_, select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Moment, Rep, TalkTrack, Utterance
from talktrack.models.talk_cues import echoes, is_open_sentence, is_subsequence, questions_in

CALL_FEATURES = (
    "talk_ratio", "longest_monologue_s", "questions_per_min", "open_question_share", "interactivity",
    "patience_s", "interruptions_per_min", "objections", "objections_answered", "approved_track_uses",
    "mined_track_uses", "discount_offers", "key_question_coverage",
)
TURN_FEATURES = ("questions_per_turn", "early_questions", "echo_share", "rep_turn_chars", "minutes")
TIMING_FEATURES = CALL_FEATURES[:7] + TURN_FEATURES   # what timing_features returns
EARLY_SHARE = 0.25   # rep questions in the first quarter of a call's turns count as small talk


@dataclass(frozen=True)
class CallFrames:
    """What the features are computed from, as tables (one row per utterance / moment / call).

    ``utterances``: call_id, seq, role, start_s, end_s, text.
    ``moments``: call_id, seq, kind, label (empty when the semantic layer has not run).
    ``calls``: call_id (index), deal_id, rep_id, rep (the rep's external id), started_at, stage, language.
    ``tracks``: objection_type, moves (tuple), status: approved tracks, and proposed (mined) ones that the
    latest mining run still found (``active``); rejected and retired ones are not read.
    """

    utterances: pd.DataFrame
    moments: pd.DataFrame
    calls: pd.DataFrame
    tracks: pd.DataFrame

    @property
    def has_moments(self) -> bool:
        return not self.moments.empty

    @property
    def has_tracks(self) -> bool:
        return not self.tracks.empty


def load_calls(catalog: Catalog, call_ids: Sequence[int] | None = None) -> CallFrames:
    """Read utterances, moments, calls and talk tracks from the catalog (all calls, or ``call_ids``)."""
    engine = catalog.engine
    calls_q = (select(Call.id.label("call_id"), Call.deal_id, Call.rep_id, Rep.external_id.label("rep"),
                      Call.started_at, Call.stage, Call.language).outerjoin(Rep, Rep.id == Call.rep_id))
    utts_q = select(Utterance.call_id, Utterance.seq, Utterance.role, Utterance.start_s, Utterance.end_s,
                    Utterance.text)
    moments_q = (select(Moment.call_id, Utterance.seq, Moment.kind, Moment.label)
                 .join(Utterance, Utterance.id == Moment.utterance_id))
    if call_ids is not None:
        ids = list(call_ids)
        calls_q, utts_q = calls_q.where(Call.id.in_(ids)), utts_q.where(Utterance.call_id.in_(ids))
        moments_q = moments_q.where(Moment.call_id.in_(ids))
    with engine.connect() as connection:
        calls = pd.read_sql(calls_q, connection).set_index("call_id")
        utterances = pd.read_sql(utts_q.order_by(Utterance.call_id, Utterance.seq), connection)
        moments = pd.read_sql(moments_q.order_by(Moment.call_id, Utterance.seq, Moment.sentence), connection)
        tracks = pd.read_sql(select(TalkTrack.objection_type, TalkTrack.moves, TalkTrack.status)
                             .where(or_(TalkTrack.status == "approved",
                                        and_(TalkTrack.status == "proposed", TalkTrack.active.is_(True))))
                             .order_by(TalkTrack.id), connection)
    tracks["moves"] = tracks["moves"].map(lambda moves: tuple(moves or ()))
    return CallFrames(utterances, moments, calls, tracks)


def timing_features(utterances: pd.DataFrame) -> dict[str, float]:
    """The features that need only who spoke when and what the rep's turns say (one call)."""
    if utterances.empty:
        return {name: float("nan") for name in TIMING_FEATURES}
    roles, texts = utterances["role"].to_numpy(), [str(text or "") for text in utterances["text"]]
    start, end = utterances["start_s"].to_numpy(float), utterances["end_s"].to_numpy(float)
    spoken = np.clip(end - start, 0, None)
    minutes = max((end.max() - start.min()) / 60.0, 1e-6)
    rep = roles == "rep"
    asked = [questions_in(text) if is_rep else [] for text, is_rep in zip(texts, rep, strict=True)]
    questions = [q for found in asked for q in found]
    total = spoken.sum()
    return {
        "talk_ratio": float(spoken[rep].sum() / total) if total > 0 else float("nan"),
        "longest_monologue_s": _longest_run(roles, start, end, "rep"),
        "questions_per_min": len(questions) / minutes,
        "open_question_share": (float(np.mean([is_open_sentence(q) for q in questions]))
                                if questions else float("nan")),
        "interactivity": float(np.sum(roles[1:] != roles[:-1])) / minutes,
        "patience_s": _patience(roles, start, end),
        "interruptions_per_min": float(np.sum(_after_customer(roles) & (start[1:] < end[:-1]))) / minutes,
    } | _turn_features(roles, texts, asked, (end.max() - start.min()) / 60.0)


def _after_customer(roles: np.ndarray) -> np.ndarray:
    """shape: (n - 1,); True where utterance i + 1 is the rep answering the customer's utterance i."""
    return (roles[1:] == "rep") & (roles[:-1] == "customer")


def _turn_features(roles: np.ndarray, texts: list[str], asked: list[list[str]], minutes: float) -> dict[str, float]:
    """:data:`TURN_FEATURES` of one call (``asked``: the question sentences of each rep turn)."""
    rep, replies = roles == "rep", np.flatnonzero(_after_customer(roles))
    early = np.arange(len(roles)) / len(roles) < EARLY_SHARE
    rep_chars = [len(text) for text, is_rep in zip(texts, rep, strict=True) if is_rep]
    return {
        "questions_per_turn": sum(map(len, asked)) / max(int(rep.sum()), 1),
        "early_questions": float(sum(len(found) for found, first in zip(asked, early, strict=True) if first)),
        "echo_share": sum(echoes(texts[i + 1], texts[i]) for i in replies) / max(len(replies), 1),
        "rep_turn_chars": float(np.mean(rep_chars)) if rep_chars else float("nan"),
        "minutes": float(minutes),
    }


def _longest_run(roles: np.ndarray, start: np.ndarray, end: np.ndarray, role: str) -> float:
    longest, run_start = 0.0, None
    for index, who in enumerate(roles):
        if who == role:
            run_start = start[index] if run_start is None else run_start
            longest = max(longest, end[index] - run_start)
        else:
            run_start = None
    return float(longest)


def _patience(roles: np.ndarray, start: np.ndarray, end: np.ndarray) -> float:
    turns = (roles[:-1] == "customer") & (roles[1:] == "rep")
    gaps = start[1:][turns] - end[:-1][turns]
    return float(np.median(np.clip(gaps, 0, None))) if gaps.size else float("nan")


def answers(moments: pd.DataFrame) -> list[tuple[str, tuple[str, ...]]]:
    """(objection type, the moves of the rep's answer) per objection, in call order: the moves
    between an objection and the next one."""
    found: list[tuple[str, list[str]]] = []
    for kind, label in zip(moments["kind"], moments["label"], strict=True):
        if kind == "objection":
            found.append((label, []))
        elif kind == "move" and found:
            found[-1][1].append(label)
    return [(objection, tuple(moves)) for objection, moves in found]


def tracks_by_type(tracks: pd.DataFrame, statuses: Iterable[str]) -> dict[str, list[tuple[str, ...]]]:
    """Objection type → the move sequences of its talk tracks of ``statuses``."""
    chosen = tracks[tracks["status"].isin(list(statuses))]
    by_type: dict[str, list[tuple[str, ...]]] = {}
    for objection, moves in zip(chosen["objection_type"], chosen["moves"], strict=True):
        by_type.setdefault(objection, []).append(tuple(moves))
    return by_type


def uses_track(objection: str, moves: Sequence[str], by_type: Mapping[str, list[tuple[str, ...]]]) -> bool:
    """Does this answer contain a talk track of its objection type, in order?"""
    return any(is_subsequence(track, moves) for track in by_type.get(objection, ()))


def track_uses(answered: Iterable[tuple[str, tuple[str, ...]]], tracks: pd.DataFrame, status: str) -> int:
    """Answers that contain a talk track of ``status`` for their objection type."""
    by_type = tracks_by_type(tracks, [status])
    return sum(uses_track(objection, moves, by_type) for objection, moves in answered)


def moment_features(moments: pd.DataFrame, tracks: pd.DataFrame | None, stage_questions: Sequence[str]) -> dict:
    """Objections, answers, track usage, discounts and key-question coverage of one call's moments."""
    answered = answers(moments)
    objections = len(answered)
    has_tracks = tracks is not None and not tracks.empty
    covered = set(moments.loc[moments["kind"] == "key_question", "label"])
    return {
        "objections": float(objections),
        "objections_answered": (float(np.mean([bool(moves) for _, moves in answered])) if objections
                                else float("nan")),
        "approved_track_uses": float(track_uses(answered, tracks, "approved")) if has_tracks else float("nan"),
        "mined_track_uses": float(track_uses(answered, tracks, "proposed")) if has_tracks else float("nan"),
        "discount_offers": float(((moments["kind"] == "move") & (moments["label"] == "offer_discount")).sum()),
        "key_question_coverage": (len(covered & set(stage_questions)) / len(stage_questions)
                                  if stage_questions and covered else float("nan")),
    }


def call_features(frames: CallFrames, key_questions: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """One row per call (index call_id) with :data:`CALL_FEATURES` and :data:`TURN_FEATURES`; NaN where
    the input is missing.

    ``key_questions``: stage → its key questions (``settings.stages``), for coverage.
    """
    key_questions = key_questions or {}
    moments_by_call = dict(tuple(frames.moments.groupby("call_id"))) if frames.has_moments else {}
    rows = {}
    for call_id, utterances in frames.utterances.groupby("call_id", sort=True):
        row = timing_features(utterances)
        call_moments = moments_by_call.get(call_id)
        if call_moments is not None:
            stage = frames.calls["stage"].get(call_id) if call_id in frames.calls.index else None
            row.update(moment_features(call_moments, frames.tracks, key_questions.get(stage or "", ())))
        rows[call_id] = row
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(CALL_FEATURES + TURN_FEATURES))
    if frames.has_moments:
        # with moments in the workspace, a call without any had zero objections, not unknown ones
        counts = ["objections", "discount_offers"]
        table[counts] = table[counts].fillna(0.0)
    table.index.name = "call_id"
    return table.astype(float)
