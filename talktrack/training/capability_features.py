"""Per-rep-month features for the capability model, read straight from the catalog.

An interim aggregation: the shared per-call feature module (``talktrack.models.features``)
is being written; once it lands, :func:`call_features` is replaced by its per-call features
and this file keeps only the rep-month aggregation and the moment/deal parts.

Three groups, each used *when present* (a missing group is left NaN and imputed by the model;
``availability`` says which were there):

* conversation: talk ratio, longest monologue, question rate, open-question share, early small
  talk, interactivity, patience, interruptions, echoing the customer's words (listening);
* moments (objections and moves): per objection type, which moves the answers contain, how
  many moves, and how often an approved or mined talk track was used;
* deals created in the month: stage stalls beyond the stage's threshold, discount given, wins.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd
from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Deal, Moment, Rep, StageEvent, TalkTrack, Utterance
from talktrack.models.talk_cues import OPEN_EN, OPEN_ZH, QUESTION, echoes

EARLY_SHARE = 0.25  # rep questions in the first quarter of a call's turns count as small talk
TRACK_STATUSES = ("approved", "proposed")


def period_of(moment) -> str:
    return moment.strftime("%Y-%m")


# -- conversation ------------------------------------------------------------------------------
def load_utterances(catalog: Catalog) -> pd.DataFrame:
    """Every utterance of an imported call: call, rep, period, seq, role, start_s, end_s, text."""
    query = (select(Utterance.call_id, Rep.external_id, Call.started_at, Utterance.seq, Utterance.role,
                    Utterance.start_s, Utterance.end_s, Utterance.text)
             .join(Call, Call.id == Utterance.call_id).join(Rep, Rep.id == Call.rep_id)
             .where(Call.started_at.is_not(None)).order_by(Utterance.call_id, Utterance.seq))
    with catalog.session() as session:
        rows = session.execute(query).all()
    frame = pd.DataFrame(rows, columns=["call", "rep", "started_at", "seq", "role", "start_s", "end_s", "text"])
    frame["period"] = pd.to_datetime(frame["started_at"]).dt.strftime("%Y-%m")
    return frame.drop(columns="started_at")


def _turn_flags(frame: pd.DataFrame) -> pd.DataFrame:
    """Per utterance: question, open question, echo of the previous customer turn, gap, overlap."""
    text = frame["text"].fillna("")
    rep = frame["role"].eq("rep")
    same_call = frame["call"].eq(frame["call"].shift())
    prev_customer = same_call & frame["role"].shift().eq("customer")
    question = rep & text.str.contains(QUESTION)
    is_open = question & (text.str.contains(OPEN_EN) | text.str.contains(OPEN_ZH))
    previous_text = text.shift().fillna("")
    echo = [bool(r and p and echoes(t, pt)) for r, p, t, pt in zip(rep, prev_customer, text, previous_text,
                                                                    strict=True)]
    gap = (frame["start_s"] - frame["end_s"].shift()).where(rep & prev_customer)
    return frame.assign(is_rep=rep, question=question, open=is_open, echo=echo, reply_gap=gap.clip(lower=0),
                        interrupt=(gap < 0) & rep & prev_customer, after_customer=rep & prev_customer,
                        duration=(frame["end_s"] - frame["start_s"]).clip(lower=0),
                        position=frame.groupby("call").cumcount() / frame.groupby("call")["seq"].transform("size"))


def call_features(utterances: pd.DataFrame) -> pd.DataFrame:
    """One row per call (index: call; columns rep, period and the conversation features)."""
    flags = _turn_flags(utterances)
    grouped = flags.groupby("call")
    minutes = ((grouped["end_s"].max() - grouped["start_s"].min()) / 60.0).clip(lower=1e-3)
    rep_time = flags["duration"].where(flags["is_rep"], 0.0).groupby(flags["call"]).sum()
    rep_turns = grouped["is_rep"].sum().clip(lower=1)
    questions = grouped["question"].sum()
    switches = flags["role"].ne(flags["role"].shift()) & flags["call"].eq(flags["call"].shift())
    features = pd.DataFrame({
        "rep": grouped["rep"].first(), "period": grouped["period"].first(),
        "talk_ratio": rep_time / grouped["duration"].sum().clip(lower=1e-3),
        "longest_monologue_s": _longest_rep_run(flags),
        "questions_per_min": questions / minutes,
        "questions_per_turn": questions / rep_turns,
        "open_question_share": grouped["open"].sum() / questions.where(questions > 0),
        "early_questions": (flags["question"] & (flags["position"] < EARLY_SHARE)).groupby(flags["call"]).sum(),
        "switches_per_min": switches.groupby(flags["call"]).sum() / minutes,
        "reply_gap_s": grouped["reply_gap"].mean(),
        "interruption_share": grouped["interrupt"].sum() / grouped["after_customer"].sum().clip(lower=1),
        "echo_share": grouped["echo"].sum() / grouped["after_customer"].sum().clip(lower=1),
        "rep_turn_chars": flags["text"].str.len().where(flags["is_rep"]).groupby(flags["call"]).mean(),
        "minutes": minutes,
    })
    return features


def _longest_rep_run(flags: pd.DataFrame) -> pd.Series:
    """Longest stretch of consecutive rep turns per call, in seconds."""
    new_run = flags["role"].ne(flags["role"].shift()) | flags["call"].ne(flags["call"].shift())
    run_id = new_run.cumsum()
    runs = flags.groupby(run_id).agg(call=("call", "first"), rep=("is_rep", "first"), start=("start_s", "min"),
                                     end=("end_s", "max"))
    runs = runs[runs["rep"]]
    return (runs["end"] - runs["start"]).groupby(runs["call"]).max()


# -- moments and talk tracks ---------------------------------------------------------------------
def load_episodes(catalog: Catalog) -> pd.DataFrame:
    """Objection episodes from moments: call, objection type, the answer's moves in order."""
    query = (select(Moment.call_id, Utterance.seq, Moment.sentence, Moment.kind, Moment.label)
             .join(Utterance, Utterance.id == Moment.utterance_id).order_by(Moment.call_id, Utterance.seq,
                                                                           Moment.sentence))
    with catalog.session() as session:
        rows = session.execute(query).all()
    episodes: list[dict] = []
    for call, _seq, _sentence, kind, label in rows:
        if kind == "objection":
            episodes.append({"call": call, "objection": label, "moves": []})
        elif kind == "move" and episodes and episodes[-1]["call"] == call:
            episodes[-1]["moves"].append(label)
    return pd.DataFrame(episodes, columns=["call", "objection", "moves"])


def load_tracks(catalog: Catalog) -> dict[str, list[tuple[str, ...]]]:
    """Approved or proposed (mined, still active) talk tracks per objection type; rejected ones are not."""
    with catalog.session() as session:
        rows = session.execute(select(TalkTrack.objection_type, TalkTrack.moves, TalkTrack.status, TalkTrack.active)
                               ).all()
    tracks: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for objection, moves, status, active in rows:
        if status == "approved" or (status in TRACK_STATUSES and active):
            tracks[objection].append(tuple(moves))
    return dict(tracks)


def _uses(moves: list[str], track: tuple[str, ...]) -> bool:
    remaining = iter(moves)
    return all(move in remaining for move in track)


def episode_features(episodes: pd.DataFrame, calls: pd.DataFrame, tracks: dict, objection_types: list[str],
                     moves: list[str]) -> pd.DataFrame:
    """Per rep-month: for each objection type, share of answers containing each move, moves per
    answer, and (with tracks) share of answers using a track. NaN where a type never came up."""
    if episodes.empty:
        return pd.DataFrame(index=pd.MultiIndex.from_tuples([], names=["rep", "period"]))
    frame = episodes.join(calls[["rep", "period"]], on="call", how="inner")
    columns = {"n_moves": frame["moves"].map(len)}
    for move in moves:
        columns[f"move:{move}"] = frame["moves"].map(lambda ms, m=move: float(m in ms))
    if tracks:
        columns["track_used"] = [float(any(_uses(ms, t) for t in tracks.get(o, ())))
                                 for o, ms in zip(frame["objection"], frame["moves"], strict=True)]
    wide = pd.DataFrame(columns).assign(rep=frame["rep"], period=frame["period"], objection=frame["objection"])
    per_type = wide.groupby(["rep", "period", "objection"]).mean().unstack("objection")
    per_type.columns = [f"obj:{objection}:{name}" for name, objection in per_type.columns]
    keep = [c for c in per_type.columns if c.split(":")[1] in objection_types]
    counts = frame.groupby(["rep", "period"]).size().rename("objections")
    return per_type[keep].join(counts)


# -- deals ----------------------------------------------------------------------------------------
def deal_features(catalog: Catalog, thresholds: dict[str, float]) -> pd.DataFrame:
    """Per rep-month of deal creation: share of deals that stalled (a stage over its threshold),
    mean discount, share of closed deals won."""
    with catalog.session() as session:
        deals = session.execute(select(Deal.id, Rep.external_id, Deal.created_at, Deal.status, Deal.discount_pct)
                                .join(Rep, Rep.id == Deal.rep_id)).all()
        events = session.execute(select(StageEvent.deal_id, StageEvent.stage, StageEvent.entered_at)
                                 .order_by(StageEvent.deal_id, StageEvent.entered_at)).all()
    stalled = _stalled_deals(events, thresholds)
    frame = pd.DataFrame(deals, columns=["deal", "rep", "created_at", "status", "discount"])
    if frame.empty:
        return pd.DataFrame(index=pd.MultiIndex.from_tuples([], names=["rep", "period"]))
    frame["period"] = pd.to_datetime(frame["created_at"]).dt.strftime("%Y-%m")
    frame["stalled"] = frame["deal"].map(lambda d: float(d in stalled))
    closed = frame["status"].isin(["won", "lost"])
    frame["won"] = frame["status"].eq("won").astype(float).where(closed)
    return frame.groupby(["rep", "period"])[["stalled", "discount", "won"]].mean().add_prefix("deal_")


def _stalled_deals(events, thresholds: dict[str, float]) -> set[int]:
    stalled, previous = set(), None
    for deal, stage, entered in events:
        if previous and previous[0] == deal and previous[1] in thresholds:
            days = (entered - previous[2]).total_seconds() / 86400.0
            if days > thresholds[previous[1]]:
                stalled.add(deal)
        previous = (deal, stage, entered)
    return stalled


# -- rep-month table ----------------------------------------------------------------------------
def rep_month_features(catalog: Catalog, settings) -> tuple[pd.DataFrame, dict[str, bool]]:
    """The feature table (index rep, period; sorted) and which feature groups were available."""
    utterances = load_utterances(catalog)
    if utterances.empty:
        raise ValueError("capability features: the catalog has no calls with utterances; import calls first")
    calls = call_features(utterances)
    conversation = calls.drop(columns=["rep", "period"]).groupby([calls["rep"], calls["period"]]).mean()
    conversation["calls"] = calls.groupby(["rep", "period"]).size()
    episodes, tracks = load_episodes(catalog), load_tracks(catalog)
    moments = episode_features(episodes, calls, tracks, [o.key for o in settings.objection_types],
                               [m.key for m in settings.moves])
    thresholds = {stage.key: stage.threshold_days for stage in settings.stages}
    deals = deal_features(catalog, thresholds)
    table = conversation.join(moments, how="left").join(deals, how="left").sort_index()
    table.index.names = ["rep", "period"]
    availability = {"conversation": True, "moments": not episodes.empty, "talk_tracks": bool(tracks),
                    "deals": not deals.empty, "sop": False}
    return table, availability
