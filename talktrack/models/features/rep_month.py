"""Per-rep-month features for the capability model (the 12-dimension radar).

The per-call facts are :mod:`talktrack.models.features.conversation`'s, the same ones the deal scorer
uses (one definition of a question, an open question, patience, an interruption, a talk-track use);
this module only aggregates them per rep and month and adds what is specific to a rep's month.
Three groups, each used *when present* (a missing group is left NaN and imputed by the model;
``availability`` says which were there):

* conversation: the mean per call of talk ratio, longest monologue, questions per minute and per
  turn, open-question share, early questions (small talk), interactivity, patience, interruptions,
  echoing the customer's words (listening), rep turn length and call minutes; ``calls`` per month;
* moments (objections and moves): per objection type, which moves the answers contain, how many
  moves, and how often an approved or mined talk track was used;
* deals created in the month: stage stalls beyond the stage's threshold, discount given, wins.

Example::

    table, availability = rep_month_features(catalog, settings)
    table.loc[("REP-001", "2025-03"), "questions_per_min"]
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Deal, Rep, StageEvent
from talktrack.models.features.conversation import (
    CALL_FEATURES,
    TURN_FEATURES,
    CallFrames,
    answers,
    call_features,
    load_calls,
    tracks_by_type,
    uses_track,
)

CONVERSATION = CALL_FEATURES[:7] + TURN_FEATURES   # the per-call features averaged per rep-month
TRACK_STATUSES = ("approved", "proposed")


def _empty() -> pd.DataFrame:
    return pd.DataFrame(index=pd.MultiIndex.from_tuples([], names=["rep", "period"]))


def calls_by_rep_month(frames: CallFrames) -> pd.DataFrame:
    """Calls with a start and a rep: index call_id; rep (external id) and period ("YYYY-MM")."""
    calls = frames.calls[frames.calls["started_at"].notna() & frames.calls["rep"].notna()]
    return pd.DataFrame({"rep": calls["rep"], "period": pd.to_datetime(calls["started_at"]).dt.strftime("%Y-%m")},
                        index=calls.index)


def conversation_features(frames: CallFrames, calls: pd.DataFrame) -> pd.DataFrame:
    """Per rep-month: the mean of each per-call feature over the month's calls, and ``calls``."""
    per_call = call_features(frames)[list(CONVERSATION)].join(calls, how="inner")
    grouped = per_call.groupby(["rep", "period"])
    table = grouped[list(CONVERSATION)].mean()
    table["calls"] = grouped.size()
    return table


def episodes(frames: CallFrames) -> pd.DataFrame:
    """Objection episodes: call, objection type, the answer's moves in order (from each call's moments)."""
    rows = [{"call": call_id, "objection": objection, "moves": list(moves)}
            for call_id, moments in frames.moments.groupby("call_id", sort=True)
            for objection, moves in answers(moments)] if frames.has_moments else []
    return pd.DataFrame(rows, columns=["call", "objection", "moves"])


def episode_features(found: pd.DataFrame, calls: pd.DataFrame, tracks: dict, objection_types: list[str],
                     moves: list[str]) -> pd.DataFrame:
    """Per rep-month: for each objection type, share of answers containing each move, moves per
    answer, and (with tracks) share of answers using a track. NaN where a type never came up."""
    if found.empty:
        return _empty()
    frame = found.join(calls[["rep", "period"]], on="call", how="inner")
    columns = {"n_moves": frame["moves"].map(len)}
    for move in moves:
        columns[f"move:{move}"] = frame["moves"].map(lambda ms, m=move: float(m in ms))
    if tracks:
        columns["track_used"] = [float(uses_track(o, ms, tracks))
                                 for o, ms in zip(frame["objection"], frame["moves"], strict=True)]
    wide = pd.DataFrame(columns).assign(rep=frame["rep"], period=frame["period"], objection=frame["objection"])
    per_type = wide.groupby(["rep", "period", "objection"]).mean().unstack("objection")
    per_type.columns = [f"obj:{objection}:{name}" for name, objection in per_type.columns]
    keep = [c for c in per_type.columns if c.split(":")[1] in objection_types]
    counts = frame.groupby(["rep", "period"]).size().rename("objections")
    return per_type[keep].join(counts)


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
        return _empty()
    frame["period"] = pd.to_datetime(frame["created_at"]).dt.strftime("%Y-%m")
    frame["stalled"] = frame["deal"].map(lambda d: float(d in stalled))
    closed = frame["status"].isin(["won", "lost"])
    frame["won"] = frame["status"].eq("won").astype(float).where(closed)
    return frame.groupby(["rep", "period"])[["stalled", "discount", "won"]].mean().add_prefix("deal_")


def _stalled_deals(events, thresholds: dict[str, float]) -> set[int]:
    """Deals that spent longer in a finished stage than its threshold (the rep's pace, after the fact)."""
    stalled, previous = set(), None
    for deal, stage, entered in events:
        if previous and previous[0] == deal and previous[1] in thresholds:
            days = (entered - previous[2]).total_seconds() / 86400.0
            if days > thresholds[previous[1]]:
                stalled.add(deal)
        previous = (deal, stage, entered)
    return stalled


def rep_month_features(catalog: Catalog, settings) -> tuple[pd.DataFrame, dict[str, bool]]:
    """The feature table (index rep, period; sorted) and which feature groups were available."""
    frames = load_calls(catalog)
    calls = calls_by_rep_month(frames)
    if frames.utterances.empty or not frames.utterances["call_id"].isin(calls.index).any():
        raise ValueError("capability features: the catalog has no calls with utterances; import calls first")
    conversation = conversation_features(frames, calls)
    found, tracks = episodes(frames), tracks_by_type(frames.tracks, TRACK_STATUSES)
    moments = episode_features(found, calls, tracks, [o.key for o in settings.objection_types],
                               [m.key for m in settings.moves])
    thresholds = {stage.key: stage.threshold_days for stage in settings.stages}
    deals = deal_features(catalog, thresholds)
    table = conversation.join(moments, how="left").join(deals, how="left").sort_index()
    table.index.names = ["rep", "period"]
    availability = {"conversation": True, "moments": not found.empty, "talk_tracks": bool(tracks),
                    "deals": not deals.empty, "sop": False}
    return table, availability
